/**
 * Waiting for a device to (re)appear: after a mode change the old USBDevice goes away and a new one enumerates
 * with another product ID and the same serial number. We wait on the bus's `connect` events, not on a timer;
 * a slow re-check of the device list guards against a missed hot-plug event, and the deadline comes from the
 * injected clock.
 */
import type {Clock} from '../clock.js'
import type {UsbBackend} from './backend.js'

import {findParticleDevices, type FoundDevice} from './discovery.js'

export interface WaitOptions {
  clock: Clock
  /** Called once when the wait starts and has not been satisfied immediately (e.g. to start a spinner). */
  onWaiting?: () => void
  /** Re-list devices at this interval too, in case a hot-plug event is missed (default 1000 ms). */
  recheckMs?: number
  signal?: AbortSignal
  timeoutMs: number
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
  const first = (await findParticleDevices(backend)).find((d) => match(d))
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
          const d = (await findParticleDevices(backend)).find((x) => match(x))
          if (d) return finish(undefined, d)
        } while (again && !done)
      } catch (error) {
        finish(error as Error)
      } finally {
        checking = false
      }
    }

    const onConnect = () => void check()
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
