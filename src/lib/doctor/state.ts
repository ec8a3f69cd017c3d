/**
 * What every state of the doctor shares: its options, the person it talks to, the device as it is now (one
 * FlagOperation for the whole run), and the report it builds as typed records. The states (one file each, or a
 * small group) take this and return the next state; doctor.ts reads the flow top to bottom.
 */
import type {Clock} from '../clock.js'
import type {Cloud} from '../cloud/cloud.js'
import type {DeviceArg} from '../device/select.js'
import type {Prompter} from '../prompts.js'
import type {UsbBackend} from '../usb/backend.js'

import {type Cli, STANDALONE} from '../cli.js'
import {CloudFacts} from '../cloud/facts.js'
import {type Back, type DoneSoFar, type Nearby, type SetupFlagError} from '../errors.js'
import {FlagOperation} from '../setup-flag/operation.js'
import {type DeviceReport} from '../setup-flag/report.js'
import {type Ended, type OperationContext} from '../setup-flag/session.js'
import {type DoctorEvent, type DoctorSummary, eventText, type Instruction, type Question, questionText, type Say, sayText, waitingText, type Waiting} from '../text/doctor.js'
import {type FoundDevice} from '../usb/discovery.js'
import {type UdevTarget} from './udev.js'

export type {Instruction} from '../text/doctor.js'

export interface DoctorPerson {
  /** Show an instruction and return; the doctor then waits on the device, not on a key press. `device`: its ID, when known. */
  instruct(kind: Instruction, text: string, device?: string): void
  /** Ask a question; undefined means "no prompter": --yes takes the recommended answer. */
  prompter?: Prompter
  /** Narrate progress (one line). */
  say(text: string): void
  /** The doctor waited (or worked) for something and this is how it ended. */
  waited?(how: Ended): void
  /** Show that the doctor is waiting (a progress line); `waited` ends it. */
  waiting(text: string | undefined): void
}

export interface DoctorOptions {
  backend: UsbBackend
  /** The CLI the person typed, for commands named in the doctor's words. */
  cli?: Cli
  clock: Clock
  cloud?: Cloud
  /** DEVICE argument, if any. */
  device?: DeviceArg
  person: DoctorPerson
  /** Per-request deadline, ms. */
  timeoutMs: number
  /** Aborted by the first Ctrl-C while the device is being worked on: what is under way finishes, nothing new starts. */
  signal?: AbortSignal
  /** Where the udev rule for Particle devices goes (Linux), and whether this process may write it (root). */
  udev?: UdevTarget
  /** How long to wait for a person to plug in or press buttons, ms. */
  waitMs: number
  /** --yes: take every recommended action without asking. */
  yes: boolean
}

export type Cause = 'not-applicable' | 'not-listening' | 'other' | 'setup-flag' | 'unknown'
export type Outcome = 'cancelled' | 'failed' | 'fixed' | 'nothing-to-fix' | 'not-the-flag'

/** Stable step identifiers (scripts match on them). */
export type StepId =
  | 'cancelled' | 'confirm' | 'dfu' | 'diagnose' | 'find' | 'fix' | 'identify' | 'permissions' | 'remote'
  | 'restart' | 'safe-mode' | 'stopped' | 'write-dfu' | 'write-firmware' | 'write-safe-mode' | 'write-usb'

/** done: the step did what it set out to; found: it found a problem; failed; info; skipped. */
export type StepOutcome = 'done' | 'failed' | 'found' | 'info' | 'skipped'

export interface DoctorRecord {
  event: DoctorEvent
  outcome: StepOutcome
  step: StepId
}

/** The doctor's findings as data; doctor.ts turns them into the report people and scripts read. */
export interface Findings {
  cause: Cause | null
  device: DeviceReport | null
  error?: SetupFlagError
  outcome: Outcome
  records: DoctorRecord[]
  summary: DoctorSummary[]
  write?: Pick<DeviceReport, 'after' | 'before' | 'changed' | 'method'>
}

export type State =
  | 'confirm' | 'diagnose' | 'done' | 'find' | 'fix' | 'fixByDfu' | 'fixBySafeModeButtons' | 'fixBySafeModeRequest'
  | 'identify' | 'leaveDfu' | 'permissions' | 'remote'

export class DoctorRun {
  buttonTries = 0
  readonly cli: Cli
  readonly findings: Findings = {cause: null, device: null, outcome: 'failed', records: [], summary: []}
  /** The device as it is now (it re-enumerates on every restart). */
  op?: FlagOperation
  permissionTries = 0
  /** The device named on the command line when it is not on USB (the remote state's subject), and those that are. */
  remote?: {connected: FoundDevice[]; id: string; nearby: Nearby[]}
  /** Whether the device restarted after the flag was written (what the last confirmation may claim). */
  restarted = false

  constructor(readonly o: DoctorOptions) {
    this.cli = o.cli ?? STANDALONE
  }

  get found(): FoundDevice {
    return this.op!.found
  }

  /** Work on this device from now on. */
  take(found: FoundDevice): void {
    this.op = new FlagOperation(found, this.context())
  }

  /** What an operation on the device needs; waits show as the person's progress lines. */
  context(): OperationContext {
    const facts = this.o.cloud ? new CloudFacts(this.o.cloud, this.op ? [this.op.found.id] : []) : undefined
    return {
      backend: this.o.backend,
      clock: this.o.clock,
      cloud: facts,
      signal: this.o.signal,
      progress: {
        waited: (how) => this.o.person.waited?.(how),
        waiting: (w, before) => {
          if (before) this.o.person.waited?.(before)
          this.o.person.waiting(waitingText({kind: 'wait', wait: w}))
        },
      },
      timeoutMs: this.o.timeoutMs,
    }
  }

  record(step: StepId, outcome: StepOutcome, event: DoctorEvent): void {
    this.findings.records.push({event, outcome, step})
    // ✔ only for a good outcome; a problem found is ⚠, a failure ✖.
    this.o.person.say(`${{done: '✔', failed: '✖', found: '⚠', info: '•', skipped: '•'}[outcome]} ${eventText(event)}`)
  }

  say(s: Say): void {
    this.o.person.say(sayText(s, this.cli))
  }

  /** A progress line for work the doctor does itself; `end` finishes it. */
  start(w: Waiting): void {
    this.o.person.waiting(waitingText(w))
  }

  end(how: Ended): void {
    this.o.person.waited?.(how)
  }

  async consent(q: Question, defaultAnswer = true): Promise<boolean> {
    if (this.o.yes || !this.o.person.prompter) return true
    return this.o.person.prompter.confirm(questionText(q), defaultAnswer)
  }

  /** What had been done to the device so far, for a cancellation or a declined fix. */
  doneSoFar(): DoneSoFar[] {
    const w = this.findings.write
    if (!w) return [{kind: 'nothing-written'}]
    if (!w.changed) return [{kind: 'already'}]
    return [{after: w.after, before: w.before, kind: 'written', restarted: this.restarted}]
  }

  /** Wait for the person to bring the device back (buttons, a replug) within --wait. */
  async personBringsBack(mode: 'dfu' | 'normal', back: Back, by: 'buttons' | 'replug'): Promise<FoundDevice> {
    return this.op!.comeBack(mode, back, {by, timeoutMs: this.o.waitMs})
  }

  /** A write, recorded; the device report takes its flag and what a person should know of it (nothing stale). */
  recordWrite(r: DeviceReport, step: 'write-dfu' | 'write-safe-mode' | 'write-usb'): void {
    this.findings.write = {after: r.after, before: r.before, changed: r.changed, method: r.method}
    const d = this.findings.device
    if (d) Object.assign(d, {flag: r.flag, mode: r.mode, note: r.note, value: r.value, why: r.why})
    this.record(step, 'done', r.changed ? {after: r.after, before: r.before, kind: 'wrote'} : {kind: 'already-held'})
  }
}
