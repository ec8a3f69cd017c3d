/**
 * The serial line of a Gen3 device whose firmware predates USB control requests (Device OS below 0.9.0,
 * docs/protocol.md §10): recognising it from its descriptors, and setting a line coding on its CDC ACM
 * communication interface, the one thing such firmware listens to over USB (14400 enters DFU mode, 28800
 * Listening Mode).
 *
 * How the line coding reaches the device, by system (docs/protocol.md §10.2):
 * - Linux: the kernel's cdc_acm driver holds the CDC pair and made a /dev/ttyACM* of it. We send the class request
 *   ourselves through the `usb` package: detach cdc_acm from the communication interface (the package's Linux
 *   extension `detachKernelDriver`), claim it, and send SET_LINE_CODING. This needs only the permission on the USB
 *   device node that our udev rule already grants (the tty is group dialout, which desktop users are usually not
 *   in), no native serial-port module, and it can send the same rate twice, which the firmware needs (the tty layer
 *   drops a line coding equal to the current one). Nothing re-attaches cdc_acm afterwards: the device resets.
 * - macOS and Windows: the system's own CDC driver (AppleUSBACM, usbser.sys) owns the interfaces and the `usb`
 *   package can neither detach nor reach them; the line coding goes through the serial port (/dev/cu.usbmodem*,
 *   COMx). That path is not built here: `sendLineCoding` says so with the serialLine error ('no-detach').
 */
import {errors, SetupFlagError} from '../errors.js'
import {identifyUsb} from '../particle/platforms.js'
import {isGone, isTimeout} from '../usb/errors.js'
import {STALL, UsbIo} from '../usb/io.js'
import {CdcRequest, SERIAL_LINE_RATE} from './constants.js'

/** The rates Device OS reacts to: the one copy is in constants.ts. */
export {SERIAL_LINE_RATE} from './constants.js'

const CDC_COMMUNICATION = 0x02
const CDC_ABSTRACT_CONTROL_MODEL = 0x02
const CDC_DATA = 0x0a
const VENDOR_SPECIFIC = 0xff

/** The 7-byte CDC line coding: dwDTERate (LE), one stop bit, no parity, 8 data bits. */
export function encodeLineCoding(rate: number): Uint8Array {
  return Uint8Array.of(rate & 0xff, (rate >>> 8) & 0xff, (rate >>> 16) & 0xff, (rate >>> 24) & 0xff, 0, 0, 8)
}

/** What recognition reads: the identity and the interfaces of the active configuration, as WebUSB shows them. */
export type DescribedDevice = Pick<USBDevice, 'configuration' | 'productId' | 'vendorId'>

/** The CDC ACM communication interface's number, when the configuration has one. */
export function cdcControlInterface(device: Pick<USBDevice, 'configuration'>): number | undefined {
  const comm = device.configuration?.interfaces.find(
    (i) => i.alternate.interfaceClass === CDC_COMMUNICATION && i.alternate.interfaceSubclass === CDC_ABSTRACT_CONTROL_MODEL,
  )
  return comm?.interfaceNumber
}

/**
 * A Gen3 (nRF52840) device in normal, listening or Safe Mode whose firmware has no USB control requests: its
 * configuration has the CDC ACM pair and no vendor-specific interface (Device OS below 0.9.0, docs/protocol.md
 * §10.1). Decided from the descriptors alone, so no request has to stall first. DFU mode (the bootloader) is never
 * this: there the module header tells the release.
 */
export function isGen3WithoutControlRequests(device: DescribedDevice): boolean {
  const match = identifyUsb(device.vendorId, device.productId)
  if (!match || match.mode !== 'normal' || match.platform.family !== 'nrf52840') return false
  const interfaces = device.configuration?.interfaces ?? []
  const hasData = interfaces.some((i) => i.alternate.interfaceClass === CDC_DATA)
  const hasVendor = interfaces.some((i) => i.alternates.some((a) => a.interfaceClass === VENDOR_SPECIFIC))
  return cdcControlInterface(device) !== undefined && hasData && !hasVendor
}

/** The `usb` package's Linux extension (absent in browsers and not usable on macOS and Windows). */
interface DetachableUsbDevice extends USBDevice {
  attachKernelDriver?(interfaceNumber: number): Promise<void>
  detachKernelDriver?(interfaceNumber: number): Promise<void>
}

function isBusy(e: unknown): boolean {
  return /interface is busy|resource busy|EBUSY|errno 16/i.test(String((e as Error)?.message ?? e))
}

export interface LineCodingOptions {
  deviceId: string
  /** Per-transfer timeout, ms. */
  timeoutMs?: number
}

/**
 * Set `rate` as the line coding of the device's CDC ACM communication interface so that the firmware sees it:
 * twice, because Device OS reads the line coding one SET_LINE_CODING late (docs/protocol.md §10.1). A device that
 * resets on the request it sees (14400) may end that transfer by vanishing: that counts as sent. Whether the
 * device did what the rate asks is for the caller to see (a re-enumeration in DFU mode, say).
 */
export async function sendLineCoding(usbDevice: USBDevice, rate: number, opts: LineCodingOptions): Promise<void> {
  const n = cdcControlInterface(usbDevice)
  if (n === undefined) throw errors.serialLine(opts.deviceId, 'no-cdc')
  const device = usbDevice as DetachableUsbDevice
  const io = new UsbIo(usbDevice, opts.deviceId, opts.timeoutMs)
  const what = `the line coding ${rate} (SET_LINE_CODING)`
  let detached = false
  try {
    if (!device.opened) await device.open()
    try {
      await device.claimInterface(n)
    } catch (error) {
      if (!isBusy(error)) throw error
      // cdc_acm holds the pair (Linux): let go of it, then claim.
      if (typeof device.detachKernelDriver !== 'function') throw errors.serialLine(opts.deviceId, 'no-detach', error)
      await device.detachKernelDriver(n)
      detached = true
      await device.claimInterface(n)
    }
  } catch (error) {
    if (isGone(error)) throw errors.disconnected(opts.deviceId, error)
    if (error instanceof SetupFlagError) throw error
    throw errors.serialLine(opts.deviceId, 'claim', error)
  }
  const setup: USBControlTransferParameters = {index: n, recipient: 'interface', request: CdcRequest.SET_LINE_CODING, requestType: 'class', value: 0}
  for (let i = 0; i < 2; i++) {
    try {
      if ((await io.out(setup, encodeLineCoding(rate), what)) === STALL) throw errors.stall(what)
    } catch (error) {
      // The firmware resets from its USB interrupt while the request is still on the wire: no status stage.
      if (isGone(error) || isGone((error as Error)?.cause) || isTimeout((error as Error)?.cause)) return
      // Refused: the device stays as it was, so leave the host as it was too (cdc_acm back on its pair).
      await device.releaseInterface(n).catch(() => {})
      if (detached) await device.attachKernelDriver?.(n).catch(() => {})
      throw error
    }
  }
}
