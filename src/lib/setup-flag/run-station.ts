/**
 * The command side of `set --watch`: checks, output lines (or NDJSON), signals and the exit status around a
 * Station (station.ts, the engine).
 */
import type {Clock} from '../clock.js'

import {errors, isSetupFlagError, SetupFlagError} from '../errors.js'
import {UDEV_RULE, UDEV_RULES_DIR, UDEV_RULES_FILE} from '../instructions.js'
import type {UsbBackend} from '../usb/backend.js'
import {MAX_ATTEMPTS, Station, type StationOptions, type StationSummary} from './station.js'
import {type Method, type SetReport} from './write.js'

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

/** What the station needs of the process: output, signals, its exit status, a hard exit. */
export interface StationProcess {
  exit(code: number): void
  /** Set the exit status the process ends with (not ending it). */
  exitCode(code: number): void
  off(signal: NodeJS.Signals, fn: () => void): void
  on(signal: NodeJS.Signals, fn: () => void): void
  stderr(text: string): void
  stdout(text: string): void
}

const realProcess: StationProcess = {
  exit: (code) => process.exit(code),
  exitCode(code) {
    process.exitCode = code
  },
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
 * then the summary; the exit status is 0 when none failed, else the first failure's status. A second signal
 * while devices are being written quits at once (exit 130). Returns when the station has stopped.
 */
export async function runStation(o: StationRunOptions): Promise<void> {
  const io = outputs(o)
  let backend: UsbBackend
  try {
    const usage = stationUsageError(o.args, o.method)
    if (usage) throw usage
    backend = await o.openBackend()
  } catch (error) {
    return io.fail(error)
  }

  const station = new Station(stationOptions(o, backend, io))
  const signals = stopOnSignals(station, backend, io)
  // Hot-plug listeners alone do not keep Node running.
  const keepAlive = setInterval(() => {}, 1 << 30)
  try {
    try {
      await station.start()
    } catch (error) {
      signals.state = 'done'
      return io.fail(error)
    }
    if (signals.state === 'watching') io.note(`Watching ${backend.description} for Particle devices: each is set once, the moment it is plugged in. Ctrl-C stops and sums up.`)
    const s = await signals.finished
    if (signals.state === 'stopping') {
      signals.state = 'done'
      io.printSummary(s)
      io.proc.exitCode(s.exit)
    }
  } finally {
    clearInterval(keepAlive)
    signals.release()
  }
}

interface StationOutput {
  /** Under --json the output is one JSON object per line, errors included; otherwise the command renders it. */
  fail(error: unknown): void
  /** A line for the person (stderr), left out under --json. */
  note(text: string): void
  out(text: string): void
  printSummary(s: StationSummary): void
  proc: StationProcess
}

function outputs(o: StationRunOptions): StationOutput {
  const proc = o.process ?? realProcess
  const out = (text: string) => proc.stdout(`${text}\n`)
  return {
    fail(error) {
      if (!o.json || !isSetupFlagError(error)) throw error
      out(JSON.stringify({error: error.toJSON()}))
      proc.exitCode(error.exit)
    },
    note(text) {
      if (!o.json) proc.stderr(`${text}\n`)
    },
    out,
    printSummary(s) {
      if (o.json) {
        const failures = s.failures.map((f) => ({code: f.code, id: f.id, message: f.message}))
        out(JSON.stringify({summary: {failed: s.failed, failures, fixed: s.fixed, interrupted: s.interrupted, total: s.total, unchanged: s.unchanged}}))
      } else out(`\n${summaryText(s)}`)
    },
    proc,
  }
}

/** The station's options from the command's: what it does with each device, and the lines it prints. */
function stationOptions(o: StationRunOptions, backend: UsbBackend, io: StationOutput): StationOptions {
  return {
    ...o.station,
    backend,
    clock: o.clock,
    onRepeat: (id, outcome) =>
      io.note(
        outcome === 'failed'
          ? `${id}: failed ${MAX_ATTEMPTS} times in this run; not touched again (to try it on its own: particle-setup-flag set ${id}).`
          : `${id}: already handled in this run (${outcome}); not touched again.`,
      ),
    onReport: (r) => {
      if (o.json) return io.out(JSON.stringify(r))
      const retry = r.error ? ' (Once done, or to try again, unplug it and plug it in again: the station tries it again.)' : ''
      io.out(o.line(r).replaceAll(/\n\s*/g, ' ') + retry)
    },
    onRetry: (id, attempt) => io.note(`${id}: plugged in again after failing; trying again (attempt ${attempt} of ${MAX_ATTEMPTS}).`),
    onScanError: (error) => io.proc.stderr(`Warning: listing USB devices failed (${(error as Error).message}); still watching for hot-plug events.\n`),
    onUnreadable: (platformName) =>
      io.proc.stderr(
        `Warning: a ${platformName} was plugged in, but its device ID (USB serial number) cannot be read, so it is left alone. On Linux this is usually a missing udev rule: ${UDEV_RULE} (in ${UDEV_RULES_DIR}/${UDEV_RULES_FILE}, or run \`particle usb configure\`); then plug it in again.\n`,
      ),
    set: {done: o.done, dryRun: o.dryRun, force: o.force, method: o.method === 'firmware' ? 'auto' : o.method, timeoutMs: o.timeoutMs},
  }
}

/**
 * Signals are ours from before the first device is touched: a Ctrl-C never cuts a write in half unasked. The
 * first stops taking devices and finishes those in flight; a second quits now.
 */
function stopOnSignals(station: Station, backend: UsbBackend, io: StationOutput) {
  let finish!: (s: StationSummary) => void
  const control = {
    finished: new Promise<StationSummary>((resolve) => {
      finish = resolve
    }),
    release() {
      for (const signal of SIGNALS) io.proc.off(signal, onSignal)
    },
    state: 'watching' as 'done' | 'stopping' | 'watching',
  }
  const onSignal = () => {
    if (control.state === 'watching') {
      control.state = 'stopping'
      // On stderr in every output mode (stdout stays NDJSON under --json): the person pressed a key and waits.
      io.proc.stderr(
        station.busy > 0
          ? `Stopping: finishing ${station.busy} device${station.busy === 1 ? '' : 's'} in progress (Ctrl-C again to quit now).\n`
          : 'Stopping.\n',
      )
      void station.stop().then(finish)
    } else if (control.state === 'stopping') {
      // A second signal: quit now, whatever is in flight (the virtual bus settles its state on close).
      control.state = 'done'
      void station.stop({force: true}).then((s) => {
        io.printSummary(s)
        backend.close()
        io.proc.exit(s.exit)
      })
    }
  }
  for (const signal of SIGNALS) io.proc.on(signal, onSignal)
  return control
}
