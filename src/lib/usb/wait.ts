/**
 * Waiting for a device to (re)appear: after a mode change the old USBDevice goes away and a new one enumerates
 * with another product ID and the same serial number. We wait on the bus's `connect` events, not on a timer;
 * a slow re-check of the device list guards against a missed hot-plug event, and the deadline comes from the
 * injected clock.
 */
import type {Clock} from '../clock.js'
import {listUsbDevices, type UsbBackend} from './backend.js'

import {findParticleDevices, type FoundDevice, identifyParticle} from './discovery.js'

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
    if (!sameSerial(usbDevice.serialNumber, serial)) continue
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

export async function waitForDevice(
  backend: UsbBackend,
  match: (d: FoundDevice) => boolean,
  opts: WaitOptions,
): Promise<FoundDevice> {
  const serial = opts.serialNumber?.toLowerCase()
  const first = await findMatch(backend, match, serial)
  if (first) return first
  opts.onWaiting?.()

  return new Promise<FoundDevice>((resolve, reject) => {
    let done = false
    let checking = false
    let again = false
    const cancelers: Array<() => void> = []
    const finish = (err: Error | undefined, d?: FoundDevice) => {
      if (done) return
      done = true
      for (const c of cancelers) c()
      if (err) reject(err)
      else resolve(d!)
    }

    const check = async () => {
      if (done) return
      if (checking) {
        again = true
        return
      }
      checking = true
      try {
        do {
          again = false
          const d = await findMatch(backend, match, serial)
          if (d) return finish(undefined, d)
        } while (again && !done)
      } catch (error) {
        finish(error as Error)
      } finally {
        checking = false
      }
    }

    // A connect event names the device that came: that one is checked, not the whole bus again (with many devices
    // restarting at once, a listing per event and per waiter made a run quadratic in the number of devices).
    // An event without its device, or one missed, is caught by the re-check below.
    const onConnect = (event: Event) => {
      const usbDevice = (event as Partial<USBConnectionEvent>).device
      if (!usbDevice) return void check()
      const d = identifyParticle(usbDevice)
      if (d && 'id' in d && match(d)) finish(undefined, d)
    }
    backend.usb.addEventListener('connect', onConnect)
    cancelers.push(() => backend.usb.removeEventListener('connect', onConnect))

    const recheckMs = opts.recheckMs ?? 1000
    const schedule = () => {
      cancelers.push(
        opts.clock.setTimer(recheckMs, () => {
          void check().then(() => {
            if (!done) schedule()
          })
        }),
      )
    }
    schedule()

    cancelers.push(opts.clock.setTimer(opts.timeoutMs, () => finish(new WaitTimeout())))
    if (opts.signal) {
      const onAbort = () => finish(opts.signal!.reason as Error)
      opts.signal.addEventListener('abort', onAbort, {once: true})
      cancelers.push(() => opts.signal!.removeEventListener('abort', onAbort))
    }
  })
}
