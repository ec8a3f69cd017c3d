/**
 * Waiting for a device to (re)appear: after a mode change the old USBDevice goes away and a new one enumerates
 * with another product ID and the same serial number. We wait on the bus's `connect` events, not on a timer;
 * a slow re-check of the device list guards against a missed hot-plug event, and the deadline comes from the
 * injected clock.
 */
import type {Clock} from '../clock.js'
import {listUsbDevices, type UsbBackend} from './backend.js'

import {findParticleDevices, type FoundDevice, identifyParticle, isParticleUsb, serialOf} from './discovery.js'

export interface WaitOptions {
  clock: Clock
  /** Called once when the wait starts and has not been satisfied immediately (e.g. to start a spinner). */
  onWaiting?: () => void
  /** Re-list devices at this interval too, in case a hot-plug event is missed (default 1000 ms). */
  recheckMs?: number
  /**
   * The serial number (device ID) of the one device that can match, when the caller knows it: the bus is then
   * searched for that device alone, instead of every device on it being identified at each look (a run that
   * restarts thousands of devices one after the other made that quadratic).
   */
  serialNumber?: string
  signal?: AbortSignal
  timeoutMs: number
}

/** `serial` equals `lower` but for case, compared without making a new string (it runs for every device listed). */
function sameSerial(serial: null | string | undefined, lower: string): boolean {
  if (serial === lower) return true
  if (!serial || serial.length !== lower.length) return false
  for (let i = 0; i < serial.length; i++) {
    const c = serial.charCodeAt(i)
    if ((c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== lower.charCodeAt(i)) return false
  }
  return true
}

/** The first device matching: among those with `serial` only when given, else in ID order (findParticleDevices). */
async function findMatch(backend: UsbBackend, match: (d: FoundDevice) => boolean, serial: string | undefined): Promise<FoundDevice | undefined> {
  if (serial === undefined) return (await findParticleDevices(backend)).find((d) => match(d))
  for (const usbDevice of await listUsbDevices(backend)) {
    if (!isParticleUsb(usbDevice) || !sameSerial(serialOf(usbDevice), serial)) continue
    const d = identifyParticle(usbDevice)
    if (d && 'id' in d && match(d)) return d
  }
  return undefined
}

export class WaitTimeout extends Error {
  constructor() {
    super('timed out waiting for the device')
    this.name = 'WaitTimeout'
  }
}

export async function waitForDevice(backend: UsbBackend, match: (d: FoundDevice) => boolean, opts: WaitOptions): Promise<FoundDevice> {
  const first = await findMatch(backend, match, opts.serialNumber?.toLowerCase())
  if (first) return first
  opts.onWaiting?.()
  return new Promise<FoundDevice>((resolve, reject) => new Waiter(backend, match, opts, resolve, reject).start())
}

/** One wait: hot-plug events and a slow re-check look for the device; the deadline and an abort end it. */
class Waiter {
  private again = false
  private readonly cancelers: Array<() => void> = []
  private checking = false
  private done = false

  constructor(
    private readonly backend: UsbBackend,
    private readonly match: (d: FoundDevice) => boolean,
    private readonly opts: WaitOptions,
    private readonly resolve: (d: FoundDevice) => void,
    private readonly reject: (e: Error) => void,
  ) {}

  start(): void {
    // A connect event names the device that came: that one is checked, not the whole bus again (with many devices
    // restarting at once, a listing per event and per waiter made a run quadratic in the number of devices). An
    // event without its device, or one missed, is caught by the re-check.
    const onConnect = (event: Event) => {
      const usbDevice = (event as Partial<USBConnectionEvent>).device
      if (!usbDevice) return void this.check()
      const d = identifyParticle(usbDevice)
      // An object another listener of this event has begun to use: the bus lists the device afresh.
      if (d && 'inUse' in d) return void this.check()
      if (d && 'id' in d && this.match(d)) this.finish(undefined, d)
    }
    this.backend.usb.addEventListener('connect', onConnect)
    this.cancelers.push(() => this.backend.usb.removeEventListener('connect', onConnect))
    this.schedule()
    this.cancelers.push(this.opts.clock.setTimer(this.opts.timeoutMs, () => this.finish(new WaitTimeout())))
    const {signal} = this.opts
    if (signal) {
      const onAbort = () => this.finish(signal.reason as Error)
      signal.addEventListener('abort', onAbort, {once: true})
      this.cancelers.push(() => signal.removeEventListener('abort', onAbort))
    }
  }

  /** List the bus; a check asked for while one runs makes it list once more. */
  private async check(): Promise<void> {
    if (this.done) return
    if (this.checking) {
      this.again = true
      return
    }
    this.checking = true
    try {
      do {
        this.again = false
        const d = await findMatch(this.backend, this.match, this.opts.serialNumber?.toLowerCase())
        if (d) return this.finish(undefined, d)
      } while (this.again && !this.done)
    } catch (error) {
      this.finish(error as Error)
    } finally {
      this.checking = false
    }
  }

  private finish(err: Error | undefined, d?: FoundDevice): void {
    if (this.done) return
    this.done = true
    for (const c of this.cancelers) c()
    if (err) this.reject(err)
    else this.resolve(d!)
  }

  /** The safety net for a missed hot-plug event: re-list at `recheckMs` (default 1000 ms). */
  private schedule(): void {
    this.cancelers.push(
      this.opts.clock.setTimer(this.opts.recheckMs ?? 1000, () => {
        void this.check().then(() => {
          if (!this.done) this.schedule()
        })
      }),
    )
  }
}
