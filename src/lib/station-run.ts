/**
 * The command side of `set --watch`: checks, one line per device (or NDJSON) through the output port, signals and
 * the exit status around a Station (setup-flag/station.ts, the engine).
 */
import type {Clock} from './clock.js'
import type {UsbBackend} from './usb/backend.js'

import {type CloudFacts} from './cloud/facts.js'
import {errors, isSetupFlagError, type SetupFlagError} from './errors.js'
import {type Output} from './output.js'
import {type Method} from './setup-flag/operation.js'
import {type DeviceReport} from './setup-flag/report.js'
import {MAX_ATTEMPTS, Station, type StationOptions, type StationSummary} from './setup-flag/station.js'
import {stationLine, stationNote, summaryText} from './text/station.js'
import {setJson} from './text/report.js'

export interface StationRunOptions {
  /** DEVICE arguments given (--watch takes none). */
  args: string[]
  clock: Clock
  cloud?: () => CloudFacts
  done: boolean
  dryRun: boolean
  force: boolean
  method: Method
  openBackend: () => Promise<UsbBackend>
  out: Output
  /** Overrides for tests. */
  process?: StationProcess
  station?: Partial<Pick<StationOptions, 'memory' | 'parallel' | 'rescanMs'>>
  timeoutMs: number
}

/** What the station needs of the process: signals, its exit status, a hard exit. */
export interface StationProcess {
  exit(code: number): void
  /** Set the exit status the process ends with (not ending it). */
  exitCode(code: number): void
  off(signal: NodeJS.Signals, fn: () => void): void
  on(signal: NodeJS.Signals, fn: () => void): void
}

const realProcess: StationProcess = {
  exit: (code) => process.exit(code),
  exitCode(code) {
    process.exitCode = code
  },
  off: (signal, fn) => process.off(signal, fn),
  on: (signal, fn) => process.on(signal, fn),
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

export function stationUsageError(args: string[], method: Method): SetupFlagError | undefined {
  if (args.length > 0) return errors.watchArgs(args)
  if (method === 'firmware') return errors.watchMethod()
  return undefined
}

/**
 * `set --watch`: run a station until SIGINT or SIGTERM, one line per device on stdout (NDJSON under --json),
 * then the summary; the exit status is 0 when none failed, else the first failure's status. A second signal
 * while devices are being written quits at once (exit 130). Returns when the station has stopped.
 */
export async function runStation(o: StationRunOptions): Promise<void> {
  const proc = o.process ?? realProcess
  let backend: UsbBackend
  try {
    const usage = stationUsageError(o.args, o.method)
    if (usage) throw usage
    backend = await o.openBackend()
  } catch (error) {
    return fail(o, proc, error)
  }
  const station = new Station(stationOptions(o, backend))
  const signals = stopOnSignals(station, backend, o, proc)
  // Hot-plug listeners alone do not keep Node running.
  const keepAlive = setInterval(() => {}, 1 << 30)
  try {
    try {
      await station.start()
    } catch (error) {
      signals.state = 'done'
      return fail(o, proc, error)
    }
    if (signals.state === 'watching') o.out.item(stationNote({description: backend.description, kind: 'watching'}, o.out.cli), 'stderr')
    const s = await signals.finished
    if (signals.state === 'stopping') {
      signals.state = 'done'
      printSummary(o, s)
      proc.exitCode(s.exit)
    }
  } finally {
    clearInterval(keepAlive)
    signals.release()
  }
}

/** Under --json the output is one JSON object per line, errors included; otherwise the command renders it. */
function fail(o: StationRunOptions, proc: StationProcess, error: unknown): void {
  if (!o.out.json || !isSetupFlagError(error)) throw error
  o.out.jsonLine({error: error.toJSON(o.out.cli)})
  proc.exitCode(error.exit)
}

function printSummary(o: StationRunOptions, summary: StationSummary): void {
  // Lines came as devices were plugged in; the summary lists the failed ones in ID order.
  const s = {...summary, failures: [...summary.failures].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))}
  if (!o.out.json) return o.out.item(`\n${summaryText(s, o.out.cli)}`)
  const failures = s.failures.map((f) => ({code: f.error.code, id: f.id, message: f.error.words(o.out.cli).message}))
  o.out.jsonLine({summary: {failed: s.failed, failures, fixed: s.fixed, interrupted: s.interrupted, total: s.total, unchanged: s.unchanged}})
}

/** The station's options from the command's: what it does with each device, and the lines it prints. */
function stationOptions(o: StationRunOptions, backend: UsbBackend): StationOptions {
  const {out} = o
  return {
    ...o.station,
    backend,
    clock: o.clock,
    cloud: o.cloud?.(),
    onRepeat: (id, outcome) => out.item(stationNote({id, kind: 'repeat', max: MAX_ATTEMPTS, outcome}, out.cli), 'stderr'),
    onReport: (r: DeviceReport) => (out.json ? out.jsonLine(setJson(r, out.cli)) : out.item(stationLine(r, out.cli))),
    onRetry: (id, attempt) => out.item(stationNote({attempt, id, kind: 'retry', max: MAX_ATTEMPTS}, out.cli), 'stderr'),
    onScanError: (error) => out.always(stationNote({kind: 'scan-error', message: (error as Error).message}, out.cli)),
    onUnreadable: (platformName) => out.always(stationNote({kind: 'unreadable', platformName}, out.cli)),
    set: {done: o.done, dryRun: o.dryRun, force: o.force, method: o.method === 'firmware' ? 'auto' : o.method, timeoutMs: o.timeoutMs},
  }
}

/**
 * Signals are ours from before the first device is touched: a Ctrl-C never cuts a write in half unasked. The
 * first stops taking devices and finishes those in flight; a second quits now.
 */
function stopOnSignals(station: Station, backend: UsbBackend, o: StationRunOptions, proc: StationProcess) {
  let finish!: (s: StationSummary) => void
  const control = {
    finished: new Promise<StationSummary>((resolve) => {
      finish = resolve
    }),
    release() {
      for (const signal of SIGNALS) proc.off(signal, onSignal)
    },
    state: 'watching' as 'done' | 'stopping' | 'watching',
  }
  const onSignal = () => {
    if (control.state === 'watching') {
      control.state = 'stopping'
      // On stderr in every output mode (stdout stays NDJSON under --json): the person pressed a key and waits.
      // After the terminal's own "^C" echo, on a line of its own.
      o.out.always(`${process.stderr.isTTY ? '\n' : ''}${stationNote({busy: station.busy, kind: 'stopping'}, o.out.cli)}`)
      void station.stop().then(finish)
    } else if (control.state === 'stopping') {
      // A second signal: quit now, whatever is in flight (the virtual bus settles its state on close).
      control.state = 'done'
      void station.stop({force: true}).then((s) => {
        printSummary(o, s)
        backend.close()
        proc.exit(s.exit)
      })
    }
  }
  for (const signal of SIGNALS) proc.on(signal, onSignal)
  return control
}
