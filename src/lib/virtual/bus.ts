/**
 * The virtual USB bus: a W3C WebUSB `USB` object listing virtual devices, emitting 'connect' / 'disconnect' as
 * they are plugged, unplugged and re-enumerated, plus the test extras (exchange log, write-guard violations,
 * state snapshots, "button presses").
 */
import {type Clock, realClock} from '../clock.js'
import {type DevicePort, VirtualDevice} from './device.js'
import {checkDeviceList, checkDeviceSpec, SpecProblem} from './spec.js'
import {
  type ButtonPress,
  DEFAULT_TIMING,
  type ExchangeRecord,
  type Violation,
  type VirtualDeviceSpec,
  type VirtualMode,
  type VirtualTiming,
  type VirtualUsbOptions,
} from './types.js'
import type {VirtualUsbDevice} from './usb-device.js'

/** `USBConnectionEvent` is not a global in Node; this is the same shape. */
class VirtualConnectionEvent extends Event {
  constructor(
    type: 'connect' | 'disconnect',
    readonly device: USBDevice,
  ) {
    super(type)
  }
}

function invalid(error: unknown): never {
  if (error instanceof SpecProblem) throw new TypeError(`Invalid virtual device: ${error.message}`)
  throw error
}

/** Does `device` match a WebUSB filter (as the `usb` package matches them)? */
function matches(device: USBDevice, filter: USBDeviceFilter): boolean {
  if (filter.vendorId !== undefined && filter.vendorId !== device.vendorId) return false
  if (filter.productId !== undefined && filter.productId !== device.productId) return false
  if (filter.serialNumber !== undefined && filter.serialNumber.toLowerCase() !== device.serialNumber?.toLowerCase()) return false
  if (filter.classCode === undefined) return true
  const classMatch = (c: number, s: number, p: number) =>
    c === filter.classCode &&
    (filter.subclassCode === undefined || s === filter.subclassCode) &&
    (filter.protocolCode === undefined || p === filter.protocolCode)
  if (classMatch(device.deviceClass, device.deviceSubclass, device.deviceProtocol)) return true
  return (device.configuration?.interfaces ?? []).some((i) =>
    classMatch(i.alternate.interfaceClass, i.alternate.interfaceSubclass, i.alternate.interfaceProtocol),
  )
}

export class VirtualUsb extends EventTarget implements USB {
  onconnect: ((this: USB, ev: USBConnectionEvent) => unknown) | null = null
  ondisconnect: ((this: USB, ev: USBConnectionEvent) => unknown) | null = null
  /** Every control transfer, in order. */
  readonly log: ExchangeRecord[] = []
  /** Every write-guard violation (what a correct host never does), in order. */
  readonly violations: Violation[] = []
  readonly clock: Clock
  readonly timing: VirtualTiming
  private readonly models = new Map<string, VirtualDevice>()
  private readonly stateListeners = new Set<(deviceId?: string) => void>()
  private readonly port: DevicePort

  constructor(options: VirtualUsbOptions) {
    super()
    this.clock = options.clock ?? realClock
    this.timing = {...DEFAULT_TIMING, ...options.timing}
    this.port = {
      borrowRules: options.borrowRules !== false,
      clock: this.clock,
      connected: (_d, usb) => this.emit('connect', usb),
      disconnected: (_d, usb) => this.emit('disconnect', usb),
      log: options.keepLog === false ? () => {} : (record) => this.log.push(record),
      stateChanged: () => this.changed(),
      timing: this.timing,
      violation: (deviceId, message) => {
        this.violations.push({deviceId, message})
        this.changed()
      },
    }
    // WebUSB event handler attributes behave as listeners registered first.
    this.addEventListener('connect', (ev) => this.onconnect?.call(this, ev as USBConnectionEvent))
    this.addEventListener('disconnect', (ev) => this.ondisconnect?.call(this, ev as USBConnectionEvent))
    let specs: VirtualDeviceSpec[]
    try {
      specs = checkDeviceList(options.devices)
    } catch (error) {
      invalid(error)
    }
    // Devices given at creation were plugged in before anyone listened: no 'connect' events.
    for (const spec of specs) this.plug(spec, false)
  }

  // The typed 'connect' / 'disconnect' overloads of the WebUSB USB interface.
  override addEventListener(
    type: 'connect' | 'disconnect',
    listener: (this: this, ev: USBConnectionEvent) => unknown,
    options?: AddEventListenerOptions | boolean,
  ): void
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean): void
  override addEventListener(type: string, listener: unknown, options?: AddEventListenerOptions | boolean): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options)
  }

  override removeEventListener(
    type: 'connect' | 'disconnect',
    listener: (this: this, ev: USBConnectionEvent) => unknown,
    options?: EventListenerOptions | boolean,
  ): void
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: EventListenerOptions | boolean): void
  override removeEventListener(type: string, listener: unknown, options?: EventListenerOptions | boolean): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options)
  }

  async getDevices(): Promise<USBDevice[]> {
    const list: USBDevice[] = []
    for (const m of this.models.values()) if (m.usbDevice) list.push(m.usbDevice)
    return list
  }

  /** The first device matching any filter (WebUSB has a chooser; here the first one wins). */
  async requestDevice(options?: USBDeviceRequestOptions): Promise<USBDevice> {
    if (!options || !Array.isArray(options.filters)) throw new TypeError('requestDevice needs options with a filters array')
    const devices = await this.getDevices()
    const found = devices.find(
      (d) =>
        (options.filters.length === 0 || options.filters.some((f) => matches(d, f))) &&
        !(options.exclusionFilters ?? []).some((f) => matches(d, f)),
    )
    if (!found) {
      const error = new Error("Failed to execute 'requestDevice' on 'USB': No device selected.")
      error.name = 'NotFoundError'
      throw error
    }
    return found
  }

  /** The device model (its state), whatever its current USBDevice object. */
  device(id: string): VirtualDevice | undefined {
    return this.models.get(id.toLowerCase())
  }

  /** Every known device's current state as specs (what a devices file write-back stores). */
  specs(): VirtualDeviceSpec[] {
    return [...this.models.values()].map((m) => m.spec())
  }

  /** Plug a device in: 'connect' fires now. */
  addDevice(spec: VirtualDeviceSpec): void {
    let checked: VirtualDeviceSpec
    try {
      checked = checkDeviceSpec(spec, 'device')
    } catch (error) {
      invalid(error)
    }
    if (this.models.has(checked.id)) throw new Error(`A virtual device with id ${checked.id} is already on the bus`)
    this.plug(checked, true)
    this.changed()
  }

  /** Unplug a device: 'disconnect' fires now (if it was enumerated) and it is forgotten. */
  removeDevice(id: string): void {
    const m = this.require(id)
    m.unplug()
    this.models.delete(m.id)
    this.changed()
  }

  /**
   * "Press the buttons": the device resets into `mode` now (disconnect) and re-appears bootMs later. Booting into
   * 'normal' applies the boot rule (docs/protocol.md §3.1), as does 'safe' unless `opts.listening` is given.
   */
  setMode(id: string, mode: VirtualMode, opts?: {listening?: boolean}): void {
    this.require(id).reboot(mode, opts?.listening)
  }

  /** "Hold MODE and tap RESET": the device resets and waits in its bootloader; setMode() is the release of MODE. */
  holdInReset(id: string): void {
    this.require(id).holdInReset()
  }

  /** Pull the cable: 'disconnect' fires (if it was enumerated); the device keeps its state for plugIn(). */
  unplug(id: string): void {
    this.require(id).pullOut()
  }

  /** Plug the cable in again: it boots as after a reset and 'connect' fires bootMs later. */
  plugIn(id: string): void {
    this.require(id).plugIn()
  }

  /**
   * What hands do (buttons.ts): the buttons restart the device into Safe Mode, DFU mode or the boot check, or its
   * cable is pulled or put back. Returns whether anything happened (an unplugged device's buttons do nothing, a
   * plugged-in one cannot be plugged in). The devices file records each press, so other processes act it out too.
   */
  press(id: string, press: ButtonPress): boolean {
    return this.require(id).press(press)
  }

  /**
   * Called whenever persistent state changes (DCT byte, mode, presence, violations), with the device's ID when one
   * device's state changed (undefined: any may have). Returns an unsubscribe.
   */
  onStateChange(fn: (deviceId?: string) => void): () => void {
    this.stateListeners.add(fn)
    return () => this.stateListeners.delete(fn)
  }

  /** Cancel every timer. A reset already under way completes in the state (not on the bus), so nothing is lost. */
  close(): void {
    for (const m of this.models.values()) m.settle()
  }

  private plug(spec: VirtualDeviceSpec, announce: boolean): void {
    // Each device's port names it when its state changes, so a write-back can look at the devices that changed.
    const id = spec.id.toLowerCase()
    const port: DevicePort = Object.create(this.port)
    port.stateChanged = () => this.changed(id)
    const model = new VirtualDevice(spec, port)
    this.models.set(model.id, model)
    model.enumerate(announce)
  }

  private require(id: string): VirtualDevice {
    const m = this.device(id)
    if (!m) throw new Error(`No virtual device with id ${id}`)
    return m
  }

  private emit(type: 'connect' | 'disconnect', device: VirtualUsbDevice): void {
    this.dispatchEvent(new VirtualConnectionEvent(type, device))
  }

  protected changed(deviceId?: string): void {
    for (const fn of [...this.stateListeners]) fn(deviceId)
  }
}

export function createVirtualUsb(options: VirtualUsbOptions): VirtualUsb {
  return new VirtualUsb(options)
}
