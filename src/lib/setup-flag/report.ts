/**
 * What is known of one device after an operation, as data: the typed outcome every command renders (text/report.ts
 * turns it into the JSON fields and the words people read). Also the outcome of a set and the counts over many.
 */
import type {FoundDevice} from '../usb/discovery.js'

import {type SetupFlagError} from '../errors.js'
import {type Platform} from '../particle/platforms.js'
import {type Applicability, type FlagReading, type FlagState, type FlagVerdict, interpretFlag, type Note, type Why} from './policy.js'
import {type Step} from './steps.js'

export type ReportedMode = 'dfu' | 'listening' | 'normal' | 'unknown'
export type VersionSource = 'cloud' | 'dfu' | 'usb'
export type WriteMethod = 'dfu' | 'firmware' | 'usb'

/** What a person should be told beside a report (the text layer says it; `get` shows it as a warning). */
export type Remark =
  | {cloud: string; device: string; kind: 'version-differs'}
  | {cloud: string; kind: 'module-unknown'; module: number}
  | {kind: 'unstuck'}

export interface DeviceReport {
  /** On nRF52840 with Device OS 4.0 or later, read over DFU: what the byte would mean after a downgrade below 4.0. */
  afterDowngrade?: {byte: number; setUp: boolean}
  after: null | number
  before: null | number
  changed: boolean
  /** True when this run sent raw request 302: the device is off the cloud until it restarts (docs/protocol.md §2.8). */
  cloudDisconnected?: boolean
  /** What the cloud last heard the device report, when the cloud was asked and knows it. */
  cloudDeviceOsVersion?: null | string
  deviceOsVersion: null | string
  deviceOsVersionSource: null | VersionSource
  error?: SetupFlagError
  flag: FlagState
  id: string
  method: null | WriteMethod
  mode: ReportedMode
  name: null | string
  note: Note | null
  platform: Platform
  protected?: boolean
  remarks: Remark[]
  steps: Step[]
  /** Module version number of the system part, when read from its header in DFU mode. */
  systemModuleVersion?: number
  value: null | number
  why: null | Why
  /** A write went out and failed before it was read back: the byte's state is unknown. */
  writeUnknown?: boolean
}

export function newReport(d: Pick<FoundDevice, 'id' | 'mode' | 'platform'>): DeviceReport {
  return {
    after: null,
    before: null,
    changed: false,
    deviceOsVersion: null,
    deviceOsVersionSource: null,
    flag: 'unknown',
    id: d.id,
    method: null,
    mode: d.mode === 'dfu' ? 'dfu' : 'unknown',
    name: null,
    note: null,
    platform: d.platform,
    remarks: [],
    steps: [],
    value: null,
    why: null,
  }
}

/** Take what was read into the report: the flag, the byte when known, and what a person should know of it. */
export function judge(report: DeviceReport, applicability: Applicability, reading: FlagReading | undefined): void {
  verdict(report, interpretFlag(applicability, reading))
}

/** Take a verdict into the report. */
export function verdict(report: DeviceReport, verdict: FlagVerdict): void {
  report.flag = verdict.flag
  report.value = verdict.value
  report.note = verdict.note
  report.why = verdict.why
}

/** Record a failure: the flag becomes unknown (unless it does not apply at all), and the error says why. */
export function failed(report: DeviceReport, error: SetupFlagError): DeviceReport {
  report.error = error
  if (report.flag !== 'not-applicable') {
    report.flag = 'unknown'
    report.value = null
    report.note = null
    report.why = null
  }
  return report
}

export type Outcome = 'failed' | 'fixed' | 'unchanged'

/** What a set did to one device: `changed` means the byte changed (a forced write of the same byte changed nothing). */
export function outcomeOf(r: Pick<DeviceReport, 'after' | 'before' | 'changed' | 'error' | 'flag'>): Outcome {
  if (r.error) return 'failed'
  return r.changed && r.flag !== 'not-applicable' ? 'fixed' : 'unchanged'
}

export interface SetSummary {
  failed: number
  fixed: number
  total: number
  unchanged: number
}

export function summaryOf(reports: readonly DeviceReport[]): SetSummary {
  const n = (o: Outcome) => reports.filter((r) => outcomeOf(r) === o).length
  return {failed: n('failed'), fixed: n('fixed'), total: reports.length, unchanged: n('unchanged')}
}
