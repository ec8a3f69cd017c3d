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

import {errors, EXIT, isSetupFlagError, SetupFlagError, UDEV_RULE} from '../errors.js'
import type {UsbBackend} from '../usb/backend.js'
import {findParticleDevices, type FoundDevice, identifyParticle} from '../usb/discovery.js'
import {withError} from './read.js'
import {type Method, type SetOptions, type SetReport, setReport, setSetupFlag} from './write.js'

/** Device IDs remembered (the last ones seen). */
export const STATION_MEMORY = 10_000
/** Devices written at once; more wait their turn. */
export const STATION_PARALLEL = 32
/** Re-scan interval: a safety net for a missed hot-plug event. */
export const STATION_RESCAN_MS = 2000
/** Tries per device in one run (the first, and retries after it was plugged in again). */
export const MAX_ATTEMPTS = 3
/** Exit status after a second Ctrl-C (128 + SIGINT), when devices were still being written. */
export const EXIT_INTERRUPTED = 130

export type Outcome = 'failed' | 'fixed' | 'unchanged'

export function outcomeOf(r: SetReport): Outcome {
  if (r.error) return 'failed'
  // A forced write where the flag does not exist, or of the value already there, fixed nothing.
  const same = r.before !== null && r.before === r.after
  return r.changed && r.flag !== 'not-applicable' && !same ? 'fixed' : 'unchanged'
}

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
  code: string
  exit: number
  id: string
  message: string
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
  /** IDs remembered (default STATION_MEMORY). */
  memory?: number
  /** A device handled earlier in this run was plugged in again (it is not touched). */
  onRepeat?: (id: string, outcome: Outcome) => void
  /** A device that failed was plugged in again and is tried again (attempt 2 or later). */
  onRetry?: (id: string, attempt: number) => void
  /** A device is done: exactly once per device. */
  onReport?: (report: SetReport) => void
  /** A re-scan failed (the watch goes on). */
  onScanError?: (error: unknown) => void
  /** A Particle device was plugged in but its device ID (USB serial string) could not be read: it is left alone. */
  onUnreadable?: (platformName: string) => void
  /** Devices written at once (default STATION_PARALLEL). */
  parallel?: number
  /** Re-scan interval in ms (default STATION_RESCAN_MS). */
  rescanMs?: number
  /** How each device is set, as `set` does it for one device. */
  set: Omit<SetOptions, 'backend' | 'clock' | 'onWaiting'>
}

/**
 * A Particle device from a hot-plug event (as discovery would list it); `unreadable` when it is a Particle
 * device whose serial string (its device ID) could not be read; undefined for any other USB device.
 */
function identify(usbDevice: USBDevice | undefined): FoundDevice | undefined | {unreadable: string} {
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
      exit: failures[0]?.exit ?? (interrupted > 0 ? EXIT_INTERRUPTED : EXIT.OK),
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
    while (this.inFlight.size > 0 && !this.forced) await Promise.race(this.inFlight.values())
    return this.summary
  }

  private readonly onConnect = (event: USBConnectionEvent): void => {
    const found = identify(event.device)
    if (found && 'unreadable' in found) this.opts.onUnreadable?.(found.unreadable)
    else if (found) this.offer(found, true)
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
    this.pump()
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
    let report: SetReport
    try {
      report = await setSetupFlag(found, {...this.opts.set, backend: this.opts.backend, clock: this.opts.clock})
    } catch (error) {
      // setSetupFlag reports its failures in the report; this is the belt to those braces.
      report = withError(setReport(found), error) as SetReport
    }
    if (this.forced) return // the summary is out; this one was counted as interrupted
    const outcome = outcomeOf(report)
    this.counts[outcome]++
    if (outcome === 'failed') {
      const e = report.error
      this.failures.set(found.id, {code: e?.code ?? 'SETUP_FLAG_UNEXPECTED', exit: e?.exit ?? EXIT.UNEXPECTED, id: found.id, message: e?.message ?? 'failed'})
    }
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

// ---------------------------------------------------------------------------------------------------------------
// The command side: checks, output, signals.

export interface StationRunOptions {
  /** DEVICE arguments given (--watch takes none). */
  args: string[]
  clock: Clock
  done: boolean
  dryRun: boolean
  force: boolean
  /** --json: one JSON object per line (NDJSON), then a summary line. */
  json: boolean
  /** The text line for a device (the same as `set` prints). */
  line: (report: SetReport) => string
  method: Method
  openBackend: () => Promise<UsbBackend>
  /** Overrides for tests. */
  process?: StationProcess
  station?: Partial<Pick<StationOptions, 'memory' | 'parallel' | 'rescanMs'>>
  timeoutMs: number
}

/** What the station needs of the process: output, signals, a hard exit. */
export interface StationProcess {
  exit(code: number): void
  off(signal: NodeJS.Signals, fn: () => void): void
  on(signal: NodeJS.Signals, fn: () => void): void
  stderr(text: string): void
  stdout(text: string): void
}

const realProcess: StationProcess = {
  exit: (code) => process.exit(code),
  off: (signal, fn) => process.off(signal, fn),
  on: (signal, fn) => process.on(signal, fn),
  stderr: (text) => process.stderr.write(text),
  stdout: (text) => process.stdout.write(text),
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

export function stationUsageError(args: string[], method: Method): SetupFlagError | undefined {
  if (args.length > 0) {
    return errors.watchArgs(args)
  }
  if (method === 'firmware') {
    return errors.watchMethod()
  }
  return undefined
}

export function summaryText(s: StationSummary): string {
  const interrupted = s.interrupted > 0 ? `, ${s.interrupted} interrupted while being written` : ''
  const failed = s.failures.map((f) => `  ✖ ${f.id}: ${f.message}`)
  return [`Stopped. ${s.total} device${s.total === 1 ? '' : 's'}: ${s.fixed} fixed, ${s.unchanged} unchanged, ${s.failed} failed${interrupted}.`, ...(failed.length > 0 ? ['Failed:', ...failed] : [])].join('\n')
}

/**
 * `set --watch`: run a station until SIGINT or SIGTERM, one line per device on stdout (NDJSON under --json),
 * then the summary; process.exitCode is 0 when none failed, else the first failure's status. A second signal
 * while devices are being written quits at once (exit 130). Returns when the station has stopped.
 */
export async function runStation(o: StationRunOptions): Promise<void> {
  const proc = o.process ?? realProcess
  const out = (text: string) => proc.stdout(`${text}\n`)
  const note = (text: string) => {
    if (!o.json) proc.stderr(`${text}\n`)
  }

  let backend: UsbBackend
  try {
    const usage = stationUsageError(o.args, o.method)
    if (usage) throw usage
    backend = await o.openBackend()
  } catch (error) {
    return fail(error)
  }

  const station = new Station({
    ...o.station,
    backend,
    clock: o.clock,
    onRepeat: (id, outcome) =>
      note(
        outcome === 'failed'
          ? `${id}: failed ${MAX_ATTEMPTS} times in this run; not touched again (to try it on its own: particle-setup-flag set ${id}).`
          : `${id}: already handled in this run (${outcome}); not touched again.`,
      ),
    onReport: (r) => {
      if (o.json) return out(JSON.stringify(r))
      const retry = r.error ? ' (Once done, or to try again, unplug it and plug it in again: the station tries it again.)' : ''
      out(o.line(r).replaceAll(/\n\s*/g, ' ') + retry)
    },
    onRetry: (id, attempt) => note(`${id}: plugged in again after failing; trying again (attempt ${attempt} of ${MAX_ATTEMPTS}).`),
    onScanError: (error) => proc.stderr(`Warning: listing USB devices failed (${(error as Error).message}); still watching for hot-plug events.\n`),
    onUnreadable: (platformName) =>
      proc.stderr(
        `Warning: a ${platformName} was plugged in, but its device ID (USB serial number) cannot be read, so it is left alone. On Linux this is usually a missing udev rule: ${UDEV_RULE} (in /etc/udev/rules.d/50-particle.rules, or run \`particle usb configure\`); then plug it in again.\n`,
      ),
    set: {done: o.done, dryRun: o.dryRun, force: o.force, method: o.method === 'firmware' ? 'auto' : o.method, timeoutMs: o.timeoutMs},
  })

  const printSummary = (s: StationSummary) => {
    if (o.json) {
      const failures = s.failures.map((f) => ({code: f.code, id: f.id, message: f.message}))
      out(JSON.stringify({summary: {failed: s.failed, failures, fixed: s.fixed, interrupted: s.interrupted, total: s.total, unchanged: s.unchanged}}))
    }
    else out(`\n${summaryText(s)}`)
  }

  // Signals are ours from before the first device is touched: a Ctrl-C never cuts a write in half unasked.
  let state = 'watching' as 'done' | 'stopping' | 'watching'
  let finish!: (s: StationSummary) => void
  const finished = new Promise<StationSummary>((resolve) => {
    finish = resolve
  })
  const onSignal = () => {
    if (state === 'watching') {
      state = 'stopping'
      // On stderr in every output mode (stdout stays NDJSON under --json): the person pressed a key and waits.
      proc.stderr(
        station.busy > 0
          ? `Stopping: finishing ${station.busy} device${station.busy === 1 ? '' : 's'} in progress (Ctrl-C again to quit now).\n`
          : 'Stopping.\n',
      )
      void station.stop().then(finish)
    } else if (state === 'stopping') {
      // A second signal: quit now, whatever is in flight (the virtual bus settles its state on close).
      state = 'done'
      void station.stop({force: true}).then((s) => {
        printSummary(s)
        backend.close()
        proc.exit(s.exit)
      })
    }
  }

  for (const signal of SIGNALS) proc.on(signal, onSignal)
  // Hot-plug listeners alone do not keep Node running.
  const keepAlive = setInterval(() => {}, 1 << 30)
  try {
    try {
      await station.start()
    } catch (error) {
      state = 'done'
      return fail(error)
    }
    if (state === 'watching') note(`Watching ${backend.description} for Particle devices: each is set once, the moment it is plugged in. Ctrl-C stops and sums up.`)
    const s = await finished
    if (state === 'stopping') {
      state = 'done'
      printSummary(s)
      process.exitCode = s.exit
    }
  } finally {
    clearInterval(keepAlive)
    for (const signal of SIGNALS) proc.off(signal, onSignal)
  }

  /** Under --json the output is one JSON object per line, errors included; otherwise the command renders it. */
  function fail(error: unknown): void {
    if (!o.json || !isSetupFlagError(error)) throw error
    out(JSON.stringify({error: error.toJSON()}))
    process.exitCode = error.exit
  }
}
