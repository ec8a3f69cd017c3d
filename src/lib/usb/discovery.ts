/** Finding Particle devices on a bus: platform and mode from the USB IDs, device ID from the serial string. */
import {identifyUsb, type Platform, type UsbMode} from '../particle/platforms.js'
import {type UsbBackend, listUsbDevices} from './backend.js'

export const DEVICE_ID_PATTERN = /^[\da-f]{24}$/i

export interface FoundDevice {
  /** 24 lowercase hex digits, from the USB serial number string. */
  id: string
  mode: UsbMode
  platform: Platform
  usbDevice: USBDevice
}

export function describeFound(d: FoundDevice): string {
  return `${d.id} (${d.platform.displayName}${d.mode === 'dfu' ? ', DFU' : ''})`
}

/**
 * Whether a device's USB IDs are a Particle device's: asked before its serial string, which the `usb` package
 * (3.x) reads by opening the device and asking it when the system has none (a keyboard or hub without a serial
 * number): a look for one Particle device must not open, or send requests to, anything else on the bus.
 */
export function isParticleUsb(usbDevice: USBDevice): boolean {
  try {
    return identifyUsb(usbDevice.vendorId, usbDevice.productId) !== undefined
  } catch {
    return false // in use (see identifyParticle)
  }
}

/** A device's serial string, or undefined when it has none or its object is in use (see identifyParticle). */
export function serialOf(usbDevice: USBDevice): string | undefined {
  try {
    return usbDevice.serialNumber ?? undefined
  } catch {
    return undefined
  }
}

/** What identifyParticle makes of one USB device. */
export type Identified = FoundDevice | undefined | {inUse: true} | {unreadable: string}

/**
 * One USB device as a Particle device: platform and mode from its IDs, device ID from its serial string.
 * Undefined for anything that is not a Particle device; `{unreadable}` (the platform's name) for a Particle
 * device whose serial string is not a device ID (very old Gen2 bootloaders); `{inUse}` for an object another
 * part of this process is using at this moment: the `usb` package (3.x) then throws from its getters (a borrow
 * conflict, docs/architecture.md "USB objects in use"), as when one listener of a connect event has begun to
 * open the device the event names before the next listener looks at it. Never throws: it runs in event listeners,
 * where a throw would end the process.
 */
export function identifyParticle(usbDevice: USBDevice): Identified {
  let match: ReturnType<typeof identifyUsb>
  let serial: string
  try {
    match = identifyUsb(usbDevice.vendorId, usbDevice.productId)
    if (!match) return undefined
    serial = usbDevice.serialNumber ?? ''
  } catch {
    return {inUse: true}
  }
  if (!DEVICE_ID_PATTERN.test(serial)) return {unreadable: match.platform.displayName}
  return {id: serial.toLowerCase(), mode: match.mode, platform: match.platform, usbDevice}
}

/**
 * Whether two USBDevice objects stand for the same enumeration of a device. W3C WebUSB (and our virtual bus)
 * keep one object per enumeration, but the `usb` package (3.1.0) hands out a new object on every getDevices();
 * its objects carry the bus and the address the kernel gave that enumeration (a re-enumeration gets a new one).
 */
export function sameEnumeration(a: USBDevice, b: USBDevice): boolean {
  if (a === b) return true
  const x = a as Partial<{address: number; bus: string}>
  const y = b as Partial<{address: number; bus: string}>
  return x.address !== undefined && x.bus !== undefined && x.address === y.address && x.bus === y.bus
}

/**
 * Every Particle device on the bus, sorted by ID so output is stable. Devices whose serial string is not a
 * device ID are left out: nothing this tool does applies to them.
 */
export async function findParticleDevices(backend: UsbBackend): Promise<FoundDevice[]> {
  const found: FoundDevice[] = []
  for (const usbDevice of await listUsbDevices(backend)) {
    const d = identifyParticle(usbDevice)
    if (d && 'id' in d) found.push(d)
  }
  // IDs are lower-case hex, so code-unit order is their order (localeCompare would load ICU's collator: ~6 ms).
  return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
