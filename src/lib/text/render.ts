/** Reports for people: a table read at a glance, advice per device, the lines and summaries of `set`. */
import {type Cli, commandLine} from '../cli.js'
import {DFU_BUTTONS} from '../instructions.js'
import {type DeviceReport, summaryOf} from '../setup-flag/report.js'
import {hasStep, MODE_CHANGES, stepsOf, WOULD} from '../setup-flag/steps.js'
import {describeFound, type FoundDevice} from '../usb/discovery.js'
import {byteText, count} from '../words.js'
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

export function deviceLabel(r: {id: string; name: null | string}): string {
  return r.name ? `${r.name} [${r.id}]` : r.id
}

/** A message followed by its suggestions, one per line, each behind an arrow. */
export function withSuggestions(message: string, suggestions: readonly string[], indent = '  '): string {
  return [message, ...suggestions.map((x) => `${indent}→ ${x}`)].join('\n')
}

/** What a person should do about one report, or undefined when nothing is needed. */
export function advice(r: DeviceReport, cli: Cli): string | undefined {
  if (r.error) {
    const w = r.error.words(cli)
    return withSuggestions(w.message, w.suggestions)
  }
  const fix = commandLine(cli, `set ${r.id}`)
  if (r.flag === 'not-done' && r.value === null) {
    // Read with request 74: only "not 0x01" is known; the boot outcome needs the byte (a DFU read).
    return `The setup-done byte is not 0x01 (request 74). If it is 0x00 or 0xFF (the usual case) this ${r.platform.displayName} boots into Listening Mode (blinking dark blue); another value boots as set up, and only a DFU read tells which: put it in DFU mode (${DFU_BUTTONS}) and run ${commandLine(cli, `get ${r.id}`)} again. Setting it works whatever the byte holds. Fix it: ${fix}`
  }
  if (r.flag === 'not-done') return `The setup-done flag is not set, so this ${r.platform.displayName} boots into Listening Mode (blinking dark blue). Fix it: ${fix}`
  const reason = reasonText(r, cli)
  if (r.flag === 'done' && !reason && r.mode === 'listening') {
    return 'The flag is set; something else keeps the device in Listening Mode (Wi-Fi credentials or cellular settings missing, or the application asked for it).'
  }
  return reason ?? undefined
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

/** The closing line of `set` over several devices: its counts agree with each device's `changed`. */
export function setSummaryLine(reports: readonly DeviceReport[]): string {
  const {failed, fixed, total, unchanged} = summaryOf(reports)
  const would = reports.filter((r) => !r.error && hasStep(r.steps, WOULD)).length
  if (would > 0) return `${count(total, 'device')}: ${would} would be fixed (dry run: nothing was written), ${failed} failed.`
  return `${count(total, 'device')}: ${fixed} fixed, ${unchanged} unchanged, ${failed} failed.`
}

/** Rows laid out as columns, two spaces apart (the last column unpadded). */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n')
}

/** `get`'s table, then the advice for each device that needs any. */
export function renderReports(reports: readonly DeviceReport[], cli: Cli): string {
  const rows = [['DEVICE', 'PLATFORM', 'MODE', 'DEVICE OS', 'SETUP FLAG']]
  for (const r of reports) rows.push([deviceLabel(r), r.platform.displayName, r.mode, versionCell(r), flagCell(r)])
  const notes = reports.flatMap((r) => {
    const a = advice(r, cli)
    return a ? [`${r.id}: ${a}`] : []
  })
  return [table(rows), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')
}
