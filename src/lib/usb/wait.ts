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

export async function waitForDevice(backend: UsbBackend, match: (d: FoundDevice) => boolean, opts: WaitOptions): Promise<FoundDevice> {
  const first = (await findParticleDevices(backend)).find((d) => match(d))
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
    const onConnect = () => void this.check()
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
        const d = (await findParticleDevices(this.backend)).find((x) => this.match(x))
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
