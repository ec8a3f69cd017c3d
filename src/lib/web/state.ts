/**
 * What the page holds for one device: the device as it is now (one FlagOperation for its whole life on the page),
 * what was read, the cause, what was done (the doctor's event records, put into words by text/doctor.ts as in the
 * CLI), what the page waits for (a restart, the buttons, a replug, a grant), and the outcome. Records only, never
 * English: the view composes the words (text/web.ts, text/doctor.ts).
 */
import {type Clock} from '../clock.js'
import {asSetupFlagError, errorIs, type SetupFlagError} from '../errors.js'
import {FlagOperation} from '../setup-flag/operation.js'
import {type DeviceReport} from '../setup-flag/report.js'
import {type OperationContext, type Wait} from '../setup-flag/session.js'
import {type DoctorEvent, type DoctorSummary, type Say, type Waiting} from '../text/doctor.js'
import {type Cause, type Outcome, type Permission} from '../text/web.js'
import {type UsbBackend} from '../usb/backend.js'
import {type FoundDevice} from '../usb/discovery.js'
import {type Stage} from './buttons.js'
import {type Grants} from './grants.js'

export interface FlowContext {
  backend: UsbBackend
  /** The flow's state changed: the view draws it again. */
  changed: () => void
  clock: Clock
  grants: Grants
  /** Per-request deadline, ms. */
  timeoutMs: number
  /** How long to wait for a person to press the buttons or plug the device in again, ms. */
  waitMs: number
}

export type {Cause, Outcome, Permission} from '../text/web.js'
/** done: did what it set out to; found: a problem found; failed; info; skipped (as the doctor marks its steps). */
export type Mark = 'done' | 'failed' | 'found' | 'info' | 'skipped'
/** What "Fix it" does next: write by the method auto (DFU in DFU mode), Safe Mode first, or DFU mode. */
export type Plan = 'dfu' | 'safe-mode' | 'write'

export type Entry = {event: DoctorEvent; mark: Mark} | {say: Say}

export type Phase =
  | {kind: 'buttons'; stage: Stage}
  | {kind: 'idle'}
  | {kind: 'replug'; why: 'udev' | 'unplugged'}
  | {kind: 'working'; what: Waiting}

export class FlowState {
  cause: Cause | null = null
  readonly entries: Entry[] = []
  error: null | SetupFlagError = null
  /** Whether the device is being worked on (its actions are not offered meanwhile). */
  busy = false
  buttonTries = 0
  /** The device in DFU mode with its flag set: "Restart it" is offered (it writes nothing). */
  leaveDfuOffered = false
  readonly op: FlagOperation
  outcome: null | Outcome = null
  permission: null | Permission = null
  phase: Phase = {kind: 'idle'}
  plan: null | Plan = null
  report: DeviceReport | null = null
  restarted = false
  readonly summary: DoctorSummary[] = []
  write: null | Pick<DeviceReport, 'after' | 'before' | 'changed' | 'method'> = null
  /** A write went out and failed before it was read back: the byte's state is unknown. */
  writeUnknown = false
  /** The run whose write is said already (recordWrite). */
  private writeSaid: DeviceReport | undefined

  constructor(
    found: FoundDevice,
    readonly ctx: FlowContext,
  ) {
    this.op = new FlagOperation(found, this.context())
  }

  get found(): FoundDevice {
    return this.op.found
  }

  /** Begin again on the device as found now (after a replug): what was read and done before is kept below. */
  reset(): void {
    Object.assign(this, {buttonTries: 0, cause: null, error: null, leaveDfuOffered: false, outcome: null, permission: null, plan: null, restarted: false, write: null, writeUnknown: false})
    this.summary.length = 0
  }

  record(mark: Mark, event: DoctorEvent): void {
    this.entries.push({event, mark})
    this.ctx.changed()
  }

  say(say: Say): void {
    this.entries.push({say})
    this.ctx.changed()
  }

  /** Work under way, shown as the doctor's progress line. */
  step(what: Waiting): void {
    this.phase = {kind: 'working', what}
    this.ctx.changed()
  }

  /**
   * A write, recorded; the report takes its flag (nothing stale), as the doctor's does. Said once per run: when
   * the restart after it begins (the byte was read back), and brought up to date when the run ends.
   */
  recordWrite(r: DeviceReport): void {
    this.write = {after: r.after, before: r.before, changed: r.changed, method: r.method}
    if (this.report) Object.assign(this.report, {flag: r.flag, mode: r.mode, note: r.note, value: r.value, why: r.why})
    if (this.writeSaid === r) return this.ctx.changed()
    this.writeSaid = r
    this.record('done', r.changed ? {after: r.after, before: r.before, kind: 'wrote'} : {kind: 'already-held'})
  }

  /** The run on this device stopped on an error: said as it is, and what the page waits for next. */
  fail(error: unknown): void {
    const e = asSetupFlagError(error)
    this.error = e
    this.outcome = 'failed'
    this.plan = null
    this.record('failed', {kind: 'stopped', message: e.message})
    if (errorIs.accessDenied(e)) this.phase = {kind: 'replug', why: 'udev'}
    else if (errorIs.disconnected(e) || errorIs.noReturn(e)) this.phase = {kind: 'replug', why: 'unplugged'}
  }

  /** What each operation on the device needs; a wait for a mode not granted yet asks the person to allow it. */
  private context(): OperationContext {
    return {
      backend: this.ctx.backend,
      clock: this.ctx.clock,
      progress: {
        waited: () => {
          this.permission = null
          this.ctx.changed()
        },
        waiting: (w) => {
          this.permission = w.kind === 'restart' ? this.permissionFor(w) : null
          // A restart after a write that was read back: the card says the byte now, not once the device is back.
          const live = this.op.underWay
          if (w.kind === 'restart' && live && live.method !== null && live.after !== null && !live.error) this.recordWrite(live)
          if (this.phase.kind !== 'buttons') this.phase = {kind: 'working', what: {kind: 'wait', wait: w}}
          this.ctx.changed()
        },
      },
      timeoutMs: this.ctx.timeoutMs,
    }
  }

  private permissionFor(w: Extract<Wait, {kind: 'restart'}>): null | Permission {
    const mode = w.back === 'dfu' || w.back === 'dfu-buttons' ? 'dfu' : 'normal'
    const p = this.found.platform
    const productId = mode === 'dfu' ? p.dfuProductId : p.productId
    if (productId === undefined || this.ctx.grants.has(this.found.id, productId)) return null
    return {mode, productId}
  }
}
