/**
 * Manufacturing station mode (`set --watch`): keep running and set the flag of every device the moment it is
 * plugged in, each device once, until told to stop; then sum up.
 *
 * - Devices come from the USB layer's hot-plug `connect` events (the virtual bus emits them too, when a device is
 *   added to the devices file), from one scan at start (devices already plugged in) and from a slow re-scan that
 *   catches a missed event.
 * - A device is known by its ID from the moment it is taken on: it re-enumerates several times while it is
 *   written (DFU mode and back), and none of those appearances starts it again, nor does any later one once it
 *   is done. A device that failed is tried again when it is plugged in again (a hot-plug event, not a re-scan:
 *   the operator unplugged it, or put it in Safe Mode as its failure line asked), up to MAX_ATTEMPTS times.
 * - Memory stays bounded over any number of devices: counters, the devices in flight, and the last N device IDs
 *   (least recently seen forgotten first; a device still plugged in is seen again at every re-scan, so it is
 *   never forgotten while it is there).
 */
import type {Clock} from '../clock.js'

import {type CloudFacts} from '../cloud/facts.js'
import {asSetupFlagError, EXIT, type SetupFlagError} from '../errors.js'
import type {UsbBackend} from '../usb/backend.js'
import {findParticleDevices, type FoundDevice, type Identified, identifyParticle} from '../usb/discovery.js'
import {FlagOperation, type SetOptions} from './operation.js'
import {type DeviceReport, failed, type Outcome, outcomeOf, type SetSummary} from './report.js'

/** Device IDs remembered (the last ones seen). */
export const STATION_MEMORY = 10_000
/** Devices written at once; more wait their turn. */
export const STATION_PARALLEL = 32
/** Re-scan interval: a safety net for a missed hot-plug event. */
export const STATION_RESCAN_MS = 2000
/** Tries per device in one run (the first, and retries after it was plugged in again). */
export const MAX_ATTEMPTS = 3
export type {Outcome, SetSummary}

/** A Map that keeps at most `capacity` entries, forgetting the least recently used first. */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>()

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1')
  }

  get size(): number {
    return this.map.size
  }

  /** The value, marking the entry as just used. */
  get(key: K): undefined | V {
    const v = this.map.get(key)
    if (v === undefined) return undefined
    this.map.delete(key)
    this.map.set(key, v)
    return v
  }

  delete(key: K): void {
    this.map.delete(key)
  }

  values(): IterableIterator<V> {
    return this.map.values()
  }

  set(key: K, value: V): void {
    this.map.delete(key)
    this.map.set(key, value)
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K)
  }
}

/** A device that failed, as the summary lists it. */
export interface StationFailure {
  code: SetupFlagError['code']
  error: SetupFlagError
  id: string
}

export interface StationSummary {
  /** Exit status: 0 when none failed, else the first failure's. */
  exit: number
  failed: number
  /** The devices that failed (and were not fixed by a retry), first failure first. */
  failures: StationFailure[]
  fixed: number
  /** Devices still being written when a forced stop ended the run. */
  interrupted: number
  total: number
  unchanged: number
}

export interface StationOptions {
  backend: UsbBackend
  clock: Clock
  /** What the cloud knows (asked only where a device cannot tell its version). */
  cloud?: CloudFacts
  /** IDs remembered (default STATION_MEMORY). */
  memory?: number
  /** A device handled earlier in this run was plugged in again (it is not touched). */
  onRepeat?: (id: string, outcome: Outcome) => void
  /** A device that failed was plugged in again and is tried again (attempt 2 or later). */
  onRetry?: (id: string, attempt: number) => void
  /** A device is done: exactly once per device. */
  onReport?: (report: DeviceReport) => void
  /** A re-scan failed (the watch goes on). */
  onScanError?: (error: unknown) => void
  /** A Particle device was plugged in but its device ID (USB serial string) could not be read: it is left alone. */
  onUnreadable?: (platformName: string) => void
  /** Devices written at once (default STATION_PARALLEL). */
  parallel?: number
  /** Re-scan interval in ms (default STATION_RESCAN_MS). */
  rescanMs?: number
  /** How each device is set, as `set` does it for one device. */
  set: SetOptions & {timeoutMs: number}
}

/**
 * A Particle device from a hot-plug event (as discovery would list it); `unreadable` when it is a Particle
 * device whose serial string (its device ID) could not be read; undefined for any other USB device.
 */
function identify(usbDevice: USBDevice | undefined): Identified {
  return usbDevice ? identifyParticle(usbDevice) : undefined
}

export class Station {
  private cancelRescan: (() => void) | undefined
  private readonly attempts: BoundedMap<string, number>
  private readonly counts = {failed: 0, fixed: 0, unchanged: 0}
  /** Devices whose last try failed, in the order they failed (bounded like `seen`). */
  private readonly failures: BoundedMap<string, StationFailure>
  private forced = false
  /** Devices being written, by ID. */
  private readonly inFlight = new Map<string, Promise<void>>()
  private readonly queue: FoundDevice[] = []
  /** IDs in the queue (so a device is never queued twice, whatever the memory bound). */
  private readonly queued = new Set<string>()
  private scanAgain = false
  private scanning = false
  /** Every device taken on, by ID: 'active' while it is handled, then its outcome. */
  private readonly seen: BoundedMap<string, 'active' | Outcome>
  private watching = false

  constructor(private readonly opts: StationOptions) {
    this.seen = new BoundedMap(opts.memory ?? STATION_MEMORY)
    this.failures = new BoundedMap(opts.memory ?? STATION_MEMORY)
    this.attempts = new BoundedMap(opts.memory ?? STATION_MEMORY)
  }

  /** Devices being written or waiting their turn. */
  get busy(): number {
    return this.inFlight.size + this.queue.length
  }

  /** Device IDs currently remembered (at most `memory`). */
  get remembered(): number {
    return this.seen.size
  }

  get summary(): StationSummary {
    const {failed, fixed, unchanged} = this.counts
    const interrupted = this.forced ? this.busy : 0
    const failures = [...this.failures.values()]
    return {
      exit: failures[0]?.error.exit ?? (interrupted > 0 ? EXIT.INTERRUPTED : EXIT.OK),
      failed,
      failures,
      fixed,
      interrupted,
      total: failed + fixed + unchanged + interrupted,
      unchanged,
    }
  }

  /**
   * Start watching: listen for hot-plug events first (so nothing plugged in during the first scan is missed),
   * then take on every device already connected. Fails as `set` would when the bus cannot be listed at all.
   */
  async start(): Promise<void> {
    this.opts.backend.usb.addEventListener('connect', this.onConnect)
    this.watching = true
    try {
      await this.scanOnce()
    } catch (error) {
      this.unwatch()
      throw error
    }
    this.scheduleRescan()
  }

  /**
   * Stop taking devices on. By default the devices already taken on are finished first (a write is never cut
   * in half); `force` returns at once and counts them as interrupted.
   */
  async stop(opts: {force?: boolean} = {}): Promise<StationSummary> {
    this.unwatch()
    if (opts.force) {
      this.forced = true
      return this.summary
    }
    this.pump() // a device offered in this same turn has not started yet (offer defers it)
    while (this.inFlight.size > 0 && !this.forced) await Promise.race(this.inFlight.values())
    return this.summary
  }

  private readonly onConnect = (event: USBConnectionEvent): void => {
    const found = identify(event.device)
    // In use: another listener of this event has begun on it; the next scan lists the device afresh.
    if (!found || 'inUse' in found) return
    if ('unreadable' in found) this.opts.onUnreadable?.(found.unreadable)
    else this.offer(found, true)
  }

  private offer(found: FoundDevice, plugged: boolean): void {
    if (!this.watching || this.inFlight.has(found.id) || this.queued.has(found.id)) return
    const state = this.seen.get(found.id)
    const attempt = (this.attempts.get(found.id) ?? 0) + 1
    if (state !== undefined) {
      // Re-enumerations of a device in hand are expected; a device done earlier and plugged in again is said,
      // and one that failed is tried again (the operator replugged it, or put it in Safe Mode as asked).
      if (plugged && state === 'failed' && attempt <= MAX_ATTEMPTS) {
        this.counts.failed--
        this.failures.delete(found.id)
        this.opts.onRetry?.(found.id, attempt)
      } else {
        if (plugged && state !== 'active') this.opts.onRepeat?.(found.id, state)
        return
      }
    }
    this.attempts.set(found.id, attempt)
    this.seen.set(found.id, 'active')
    this.queue.push(found)
    this.queued.add(found.id)
    // Not from inside the connect event that offered it: the `usb` package hands every listener of one event the
    // same object, and a device being opened here throws from the getters the listeners after this one read.
    queueMicrotask(() => this.pump())
  }

  private pump(): void {
    const parallel = this.opts.parallel ?? STATION_PARALLEL
    while (!this.forced && this.inFlight.size < parallel && this.queue.length > 0) {
      const found = this.queue.shift()!
      this.queued.delete(found.id)
      const job = this.handle(found).finally(() => {
        this.inFlight.delete(found.id)
        this.pump()
      })
      this.inFlight.set(found.id, job)
    }
  }

  private async handle(found: FoundDevice): Promise<void> {
    const op = new FlagOperation(found, {backend: this.opts.backend, clock: this.opts.clock, cloud: this.opts.cloud, timeoutMs: this.opts.set.timeoutMs})
    // The operation reports its failures in the report; this is the belt to those braces.
    const report = await op.set(this.opts.set).catch((error: unknown) => failed(op.notStarted(), asSetupFlagError(error)))
    if (this.forced) return // the summary is out; this one was counted as interrupted
    const outcome = outcomeOf(report)
    this.counts[outcome]++
    if (outcome === 'failed') this.failures.set(found.id, {code: report.error!.code, error: report.error!, id: found.id})
    this.seen.set(found.id, outcome)
    // Done with it before it is reported: a replug right after its failure line is a retry, not a re-enumeration.
    this.inFlight.delete(found.id)
    this.opts.onReport?.(report)
  }

  /** List the bus and take on every device not seen yet. */
  private async scanOnce(): Promise<void> {
    for (const d of await findParticleDevices(this.opts.backend)) this.offer(d, false)
  }

  private async rescan(): Promise<void> {
    if (this.scanning) {
      this.scanAgain = true
      return
    }
    this.scanning = true
    try {
      do {
        this.scanAgain = false
        try {
          await this.scanOnce()
        } catch (error) {
          if (this.watching) this.opts.onScanError?.(error)
        }
      } while (this.scanAgain && this.watching)
    } finally {
      this.scanning = false
    }
  }

  private scheduleRescan(): void {
    if (!this.watching) return
    this.cancelRescan = this.opts.clock.setTimer(this.opts.rescanMs ?? STATION_RESCAN_MS, () => {
      void this.rescan().then(() => this.scheduleRescan())
    })
  }

  private unwatch(): void {
    if (!this.watching) return
    this.watching = false
    this.opts.backend.usb.removeEventListener('connect', this.onConnect)
    this.cancelRescan?.()
    this.cancelRescan = undefined
  }
}
