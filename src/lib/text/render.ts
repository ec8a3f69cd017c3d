/** Reports for people: a table read at a glance, notes by cause, the lines and summaries of `set`. */
import {type Cli, commandLine} from '../cli.js'
import {type DeviceReport, summaryOf} from '../setup-flag/report.js'
import {hasStep, MODE_CHANGES, stepsOf, WOULD} from '../setup-flag/steps.js'
import {describeFound, type FoundDevice} from '../usb/discovery.js'
import {byteText, count} from '../words.js'
import {deviceLabel, someDevices, withSuggestions} from './labels.js'
import {fitTable} from './layout.js'
import {groupedNotes} from './notes.js'
import {reasonText} from './report.js'
import {stepText} from './steps.js'

const FLAG_TEXT: Record<DeviceReport['flag'], string> = {done: 'done', 'not-applicable': 'n/a', 'not-done': 'NOT DONE', unknown: 'unknown'}

/** A flag cell's byte, after the flag's words: " (0x01)", nothing when the device did not say. */
const byteSuffix = (v: null | number) => (v === null ? '' : ` (${byteText(v)})`)

export function versionCell(r: Pick<DeviceReport, 'deviceOsVersion' | 'deviceOsVersionSource' | 'note' | 'systemModuleVersion'>): string {
  if (r.deviceOsVersion) return `${r.deviceOsVersion} (${r.deviceOsVersionSource})`
  if (r.note?.kind === 'no-control-requests') return '< 0.9.0 (usb)'
  if (r.systemModuleVersion !== undefined) return `module ${r.systemModuleVersion} (dfu)`
  return '?'
}

export function flagCell(r: Pick<DeviceReport, 'flag' | 'value'>): string {
  return `${FLAG_TEXT[r.flag]}${r.flag === 'not-applicable' ? '' : byteSuffix(r.value)}`
}

/** A device as discovery describes it, after its cloud name when it has one (lists of connected devices). */
export function namedDevice(d: FoundDevice, name?: null | string): string {
  return `${name ? `${name} ` : ''}${describeFound(d)}`
}

/** A "which device?" choice: its cloud name, the device, and whether it listens (undefined: it did not say). */
export function pickerLabel(d: FoundDevice, name: null | string | undefined, listening: boolean | undefined): string {
  return `${namedDevice(d, name)}${listening ? ' – in Listening Mode (blinking dark blue)' : ''}`
}

/** One device's line in `set` (and the station): what was done, or why not. */
export function progressLine(r: DeviceReport, cli: Cli): string {
  const who = `${deviceLabel(r)} (${r.platform.displayName})`
  if (r.error) {
    const w = r.error.words(cli)
    return withSuggestions(`✖ ${who}: ${w.message}`, w.suggestions, '    ')
  }
  const modes = stepsOf(r.steps, MODE_CHANGES).map((s) => stepText(s)).join(' ')
  const reason = reasonText(r, cli)
  // --force where the flag does not exist: the write went out, and nothing was set (never "✔ … set").
  if (r.method !== null && r.flag === 'not-applicable' && !r.changed) return `⚠ ${who}: --force: the write was sent, and it has no effect on this device; nothing was set. ${reason ?? ''}`.trim()
  if (r.method !== null && !r.changed && r.before !== null && r.before === r.after) return `– ${who}: --force: the flag already held ${byteText(r.after)} and was written again with the same value. ${modes}`.trim()
  if (r.changed) return `✔ ${who}: flag ${r.flag === 'not-done' ? 'cleared' : 'set'} by ${r.method} (${byteText(r.before)} → ${byteText(r.after)}). ${modes}`.trim()
  if (r.flag === 'not-applicable') return `– ${who}: nothing to do. ${reason}`
  const last = r.steps.at(-1)
  return `– ${who}: ${last ? stepText(last) : 'nothing to do.'}`
}

/**
 * The closing line of `set` over several devices: its counts agree with each device's `changed`. Each device's line
 * is printed as it finishes (what a person at the bench watches); the devices that failed are named here in the
 * order of the reports (ID order, or the order asked), as in the JSON.
 */
export function setSummaryLine(reports: readonly DeviceReport[]): string {
  const {failed, fixed, total, unchanged} = summaryOf(reports)
  const would = reports.filter((r) => !r.error && hasStep(r.steps, WOULD)).length
  const which = failed > 0 ? ` (${someDevices(reports.filter((r) => r.error).slice(0, 10).map((r) => deviceLabel(r)), failed)})` : ''
  if (would > 0) return `${count(total, 'device')}: ${would} would be fixed (dry run: nothing was written), ${failed} failed${which}.`
  return `${count(total, 'device')}: ${fixed} fixed, ${unchanged} unchanged, ${failed} failed${which}.`
}

/** `get`'s table in at most `room` columns (layout.ts), then its notes: one per cause (notes.ts). */
export function renderReports(reports: readonly DeviceReport[], cli: Cli, room = Number.POSITIVE_INFINITY): string {
  const rows = [['DEVICE', 'PLATFORM', 'MODE', 'DEVICE OS', 'SETUP FLAG']]
  for (const r of reports) rows.push([deviceLabel(r), r.platform.displayName, r.mode, versionCell(r), flagCell(r)])
  const notes = groupedNotes(reports, cli)
  return [fitTable(rows, room), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')
}
