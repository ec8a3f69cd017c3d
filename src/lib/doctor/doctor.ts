/**
 * The doctor: a guided fix for a device blinking dark blue, from plug-in to verified. A state machine over an
 * injected person (prompts and instructions), clock and USB backend, so every branch runs in tests with a scripted
 * person and a fake clock, and the command only renders. The flow, top to bottom:
 *
 *   find (remote: over the air, or in the field)
 *   -> identify (permissions: the udev rule, then a replug)
 *   -> diagnose
 *   -> fix: a control request -> Safe Mode by request 60 -> Safe Mode by the buttons -> DFU mode (leaveDfu)
 *   -> confirm
 *
 * Each state is a function in its own file that records what it found or did and returns the next state.
 */
import {type Cli} from '../cli.js'
import {asSetupFlagError, errors, type ErrorJson, isCancellation} from '../errors.js'
import {type FlagReport, flagJson} from '../text/report.js'
import {eventText, summaryLines} from '../text/doctor.js'
import {confirm} from './confirm.js'
import {fixByDfu, leaveDfu} from './dfu.js'
import {diagnose} from './diagnose.js'
import {find, remote} from './find.js'
import {fix, fixBySafeModeButtons, fixBySafeModeRequest} from './fix.js'
import {identify, permissions} from './identify.js'
import {type Cause, type DoctorOptions, DoctorRun, type Findings, type Outcome, type State, type StepId, type StepOutcome} from './state.js'

export type {Cause, DoctorOptions, DoctorPerson, Instruction, Outcome, StepId} from './state.js'
export {otherCauses} from '../text/doctor.js'

const STATES: Record<Exclude<State, 'done'>, (d: DoctorRun) => Promise<State>> = {
  confirm,
  diagnose,
  find,
  fix,
  fixByDfu,
  fixBySafeModeButtons,
  fixBySafeModeRequest,
  identify,
  leaveDfu,
  permissions,
  remote,
}

export interface DoctorStep {
  detail?: string
  outcome: StepOutcome
  step: StepId
}

/** The doctor's report, as `doctor --json` prints it (field names are an interface). */
export interface DoctorReport {
  cause: Cause | null
  device: FlagReport | null
  error?: ErrorJson
  outcome: Outcome
  steps: DoctorStep[]
  summary: string[]
  write?: Findings['write']
}

export class Doctor {
  private readonly run_: DoctorRun

  constructor(o: DoctorOptions) {
    this.run_ = new DoctorRun(o)
  }

  async run(): Promise<DoctorReport> {
    const d = this.run_
    let state: State = 'find'
    try {
      while (state !== 'done') {
        // After a Ctrl-C that let the device's work finish: stop here, and say what was done (a flag written and
        // read back is a fixed device, only not restarted or checked).
        if (d.o.signal?.aborted) state = stoppedEarly(d)
        else state = await STATES[state](d)
      }
    } catch (error) {
      this.stopped(error)
    }
    return doctorJson(d.findings, d.cli)
  }

  /** Whether the device is being worked on now (a Ctrl-C then lets that finish, instead of quitting at once). */
  get busy(): boolean {
    return this.run_.op?.busy === true
  }

  /** What had been done to the device so far (the command says it on Ctrl-C while the doctor waits). */
  whatWasDone(): ReturnType<DoctorRun['doneSoFar']> {
    return this.run_.doneSoFar()
  }

  /** How the run ended when a state threw: a cancellation at a question, or a failure said as one. */
  private stopped(error: unknown): void {
    const d = this.run_
    const f = d.findings
    d.end(isCancellation(error) ? 'cancelled' : 'failed')
    if (isCancellation(error)) {
      // Ctrl-C or end of input at a question: the person's choice, said with what had already been done.
      f.outcome = 'cancelled'
      f.error = errors.cancelled(d.doneSoFar(), error)
      f.records.push({event: {kind: 'cancelled'}, outcome: 'skipped', step: 'cancelled'})
      return
    }
    const e = asSetupFlagError(error)
    f.outcome = 'failed'
    f.error = e
    d.record('stopped', 'failed', {kind: 'stopped', message: e.message})
  }
}

/** Interrupted between states: fixed when the flag was written and read back, else cancelled with what was done. */
function stoppedEarly(d: DoctorRun): State {
  const f = d.findings
  const w = f.write
  if (!w?.changed || !f.device) throw errors.cancelled(d.doneSoFar())
  f.outcome = 'fixed'
  f.summary.push({after: w.after, before: w.before, kind: 'fixed', method: w.method, platformName: f.device.platform.displayName, restarted: d.restarted, version: f.device.deviceOsVersion})
  return 'done'
}

/** The findings as the report people and scripts read: every record and summary put into words. */
export function doctorJson(f: Findings, cli: Cli): DoctorReport {
  const w = f.error?.words(cli)
  const summary = f.summary.flatMap((s) => summaryLines(s, cli))
  if (w && f.summary.length === 0) summary.push(...(f.outcome === 'failed' ? [w.message] : []), ...w.suggestions)
  return {
    cause: f.cause,
    device: f.device ? flagJson(f.device, cli) : null,
    ...(f.error ? {error: f.error.toJSON(cli)} : {}),
    outcome: f.outcome,
    steps: f.records.map((r) => ({detail: eventText(r.event), outcome: r.outcome, step: r.step})),
    summary,
    ...(f.write ? {write: f.write} : {}),
  }
}
