/**
 * Control transfers on one WebUSB device, with a per-transfer timeout and our error mapping. A stall is a
 * normal answer in the Particle protocols (it is how a device refuses), so it is returned, not thrown: whether
 * the implementation resolves with status 'stall' (W3C WebUSB) or rejects "endpoint stalled" (the `usb`
 * package 3.1.0, what users run).
 */
import {hostSystem} from '../host.js'
import {isStall, mapUsbError} from './errors.js'

/** A control transfer's setup, as WebUSB spells it. */
export type Setup = USBControlTransferParameters

/** The `usb` package and our virtual device take a per-transfer timeout as a third argument (WebUSB has none). */
interface TimedUsbDevice extends USBDevice {
  controlTransferIn(setup: USBControlTransferParameters, length: number, timeout?: number): Promise<USBInTransferResult>
  controlTransferOut(setup: USBControlTransferParameters, data?: BufferSource, timeout?: number): Promise<USBOutTransferResult>
}

export const STALL = Symbol('stall')
export type Stall = typeof STALL

/** Default per-transfer timeout (particle-usb and dfu-util use 5000 ms). */
export const TRANSFER_TIMEOUT_MS = 5000

export class UsbIo {
  /** Number of control transfers issued (for wire-efficiency checks). */
  transfers = 0

  constructor(
    readonly device: USBDevice,
    readonly deviceId: string | undefined,
    readonly timeoutMs = TRANSFER_TIMEOUT_MS,
  ) {}

  async in(setup: Setup, length: number, what: string): Promise<Stall | Uint8Array> {
    this.transfers++
    let res: USBInTransferResult
    try {
      res = await (this.device as TimedUsbDevice).controlTransferIn(setup, length, this.timeoutMs)
    } catch (error) {
      if (isStall(error)) return STALL
      throw mapUsbError(error, what, this.deviceId)
    }
    if (res.status === 'stall') return STALL
    if (res.status !== 'ok') throw mapUsbError(new Error(`transfer status ${res.status}`), what, this.deviceId)
    const view = res.data
    // Copy out of the DataView: some implementations lend a view into a larger buffer.
    return view ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice() : new Uint8Array(0)
  }

  async out(setup: Setup, data: Uint8Array | undefined, what: string): Promise<Stall | 'ok'> {
    this.transfers++
    let res: USBOutTransferResult
    try {
      res = await (this.device as TimedUsbDevice).controlTransferOut(setup, (data ?? new Uint8Array(0)) as BufferSource, this.timeoutMs)
    } catch (error) {
      if (isStall(error)) return STALL
      throw mapUsbError(error, what, this.deviceId)
    }
    if (res.status === 'stall') return STALL
    if (res.status !== 'ok') throw mapUsbError(new Error(`transfer status ${res.status}`), what, this.deviceId)
    return 'ok'
  }
}

/**
 * Open a device for control requests. On Windows the `usb` package (3.x) has no WinUSB handle for a whole
 * composite device: it sends a device-recipient control transfer through a claimed interface, and with none
 * claimed rejects "controlTransferIn error: invalid state". Device OS gives its vendor control interface (class
 * 0xFF, interface 2) the WinUSB driver through its Microsoft OS descriptors (docs/protocol.md §1.3), so that one
 * is claimed there. DFU mode has no such interface (its DFU interface is claimed where DFU is spoken), and other
 * systems need no claim (control requests to the device recipient take nothing from a kernel driver).
 */
export async function openForControl(device: USBDevice, deviceId: string | undefined, system: string = hostSystem()): Promise<UsbIo> {
  try {
    await device.open()
  } catch (error) {
    throw mapUsbError(error, 'opening the device', deviceId, system)
  }
  const interfaces = device.configuration?.interfaces ?? []
  const control = interfaces.find((i) => i.alternate.interfaceClass === 0xff)
  if (system === 'win32' && control && !interfaces.some((i) => i.claimed)) {
    try {
      await device.claimInterface(control.interfaceNumber)
    } catch (error) {
      throw mapUsbError(error, 'claiming its control interface', deviceId, system)
    }
    releasedOnClose(device, control.interfaceNumber)
  }
  return new UsbIo(device, deviceId)
}

const RELEASES = Symbol('releases on close')

/**
 * W3C WebUSB's close() releases every claimed interface; the `usb` package's (3.1.0) keeps them claimed, and on
 * Windows a claimed interface keeps its WinUSB handle, which one program at a time may hold, until the object is
 * collected. So the control interface claimed above is released when the device is closed (once per object).
 */
function releasedOnClose(device: USBDevice, interfaceNumber: number): void {
  const marked = device as USBDevice & {[RELEASES]?: true}
  if (marked[RELEASES]) return
  marked[RELEASES] = true
  const close = device.close.bind(device)
  Object.defineProperty(device, 'close', {
    async value() {
      if (device.configuration?.interfaces.some((i) => i.interfaceNumber === interfaceNumber && i.claimed)) {
        await device.releaseInterface(interfaceNumber).catch(() => {}) // a device that went away has nothing to release
      }
      return close()
    },
  })
}
