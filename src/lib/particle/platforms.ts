/**
 * Platform facts, all taken from @particle/device-constants (names, ids, MCU, USB and DFU IDs, quirks).
 * The only knowledge added here is which families ever used the setup-done flag (docs/protocol.md §1.2),
 * which device-constants does not record.
 */
import {type DeviceConstantsPlatform, platforms} from '@particle/device-constants'

export type UsbMode = 'dfu' | 'normal'

/** How the setup-done flag relates to a platform family. */
export type FlagFamily =
  | 'gen2' // STM32F2 (Photon, P1, Electron / E Series): never had it; requests 73/74 answer NOT_SUPPORTED
  | 'nrf52840' // Gen3 nRF52840: the flag exists below Device OS 4.0
  | 'other' // everything else (Core, Tachyon, Linux, virtual platforms)
  | 'realtek' // RTL872x (P2 / Photon 2, M SoM, Tracker M, Sulu): never used it; 4.x-style stubs

export interface Platform {
  baseMcu: string
  displayName: string
  dfuProductId?: number
  family: FlagFamily
  generation: number
  id: number
  name: string
  /** Realtek devices need a 1-byte data stage on host-to-device control requests without data. */
  outNeedsDataStage: boolean
  productId?: number
  vendorId?: number
}

function familyOf(p: DeviceConstantsPlatform): FlagFamily {
  if (p.baseMcu === 'nrf52840') return 'nrf52840'
  if (p.baseMcu === 'rtl872x') return 'realtek'
  if (p.baseMcu === 'stm32f2xx' && p.generation === 2) return 'gen2'
  return 'other'
}

function hex(s: string | undefined): number | undefined {
  if (!s) return undefined
  const n = Number.parseInt(s, 16)
  return n > 0 ? n : undefined
}

const ALL: Platform[] = Object.values(platforms).map((p) => ({
  baseMcu: p.baseMcu,
  dfuProductId: hex(p.dfu?.productId),
  displayName: p.displayName,
  family: familyOf(p),
  generation: p.generation,
  id: p.id,
  name: p.name,
  outNeedsDataStage: Boolean(p.usb?.quirks?.controlOutTransfersRequireDataStage),
  productId: hex(p.usb?.productId),
  vendorId: hex(p.usb?.vendorId),
}))

const BY_NAME = new Map(ALL.map((p) => [p.name, p]))
const BY_ID = new Map(ALL.map((p) => [p.id, p]))
/** By vendor ID × 65536 + product ID (a number key: every device on a bus is looked up, at every listing). */
const BY_USB = new Map<number, {mode: UsbMode; platform: Platform}>()
const usbKey = (vendorId: number, productId: number) => vendorId * 0x10000 + productId
for (const p of ALL) {
  if (p.vendorId === undefined) continue
  if (p.productId !== undefined) BY_USB.set(usbKey(p.vendorId, p.productId), {mode: 'normal', platform: p})
  if (p.dfuProductId !== undefined) BY_USB.set(usbKey(p.vendorId, p.dfuProductId), {mode: 'dfu', platform: p})
}

export const PARTICLE_VENDOR_ID = 0x2b04

export function platformByName(name: string): Platform | undefined {
  return BY_NAME.get(name.toLowerCase())
}

export function platformById(id: number): Platform | undefined {
  return BY_ID.get(id)
}

/** Platform and mode from a USB vendor/product ID pair, or undefined for anything that is not a Particle device. */
export function identifyUsb(vendorId: number, productId: number): {mode: UsbMode; platform: Platform} | undefined {
  return BY_USB.get(usbKey(vendorId, productId))
}
