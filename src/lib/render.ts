/** Text rendering of reports for people: a table read at a glance, then one line of advice per device. */
import type {Clock} from './clock.js'
import type {FlagReport} from './setup-flag/read.js'
import type {SetReport} from './setup-flag/write.js'

import {openDevice} from './device/particle-device.js'
import {summaryOf} from './setup-flag/outcome.js'
import {hasStep, hex, MODE_CHANGES, stepsOf, WOULD} from './setup-flag/steps.js'
import {describeFound, type FoundDevice} from './usb/discovery.js'

const FLAG_TEXT: Record<FlagReport['flag'], string> = {
  done: 'done',
  'not-applicable': 'n/a',
  'not-done': 'NOT DONE',
  unknown: 'unknown',
}

/** A byte for people: 0x01, 0xFF (setup-flag/steps.ts's hex); null (request 74 said "not done" without the byte) is "not set". */
export function byteText(v: null | number): string {
  return v === null ? 'not set' : hex(v)
}

/** A flag cell's byte, after the flag's words: " (0x01)", nothing when the device did not say. */
function byteSuffix(v: null | number): string {
  return v === null ? '' : ` (${byteText(v)})`
}

function versionCell(r: FlagReport): string {
  if (r.deviceOsVersion) return `${r.deviceOsVersion} (${r.deviceOsVersionSource})`
  if (r.systemModuleVersion !== undefined) return `module ${r.systemModuleVersion} (dfu)`
  return '?'
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n')
}

export function deviceLabel(r: {id: string; name: null | string}): string {
  return r.name ? `${r.name} [${r.id}]` : r.id
}

/** A message followed by its suggestions, one per line, each behind an arrow. */
export function withSuggestions(message: string, suggestions: readonly string[], indent = '  '): string {
  return [message, ...suggestions.map((x) => `${indent}→ ${x}`)].join('\n')
}

/**
 * How to call one of our commands from where the user is: the standalone bin takes the shorthand
 * (`particle-setup-flag set`), any other oclif host needs the topic (`<host> setup-flag set`).
 */
export function commandLine(bin: string, command: string): string {
  return bin === 'particle-setup-flag' ? `${bin} ${command}` : `${bin} setup-flag ${command}`
}

/**
 * Texts name our commands as the standalone bin spells them (`particle-setup-flag set …`); inside another oclif
 * host the same command is `<host> setup-flag set …`. Applied where text leaves the program.
 */
export function forHost(text: string, bin: string): string {
  if (bin === 'particle-setup-flag') return text
  return text
    .replaceAll('particle-setup-flag setup-flag ', `${bin} setup-flag `)
    .replaceAll(/particle-setup-flag (?=audit\b|doctor\b|get\b|set\b|shell-init\b)/g, `${bin} setup-flag `)
}

/** What a person should do about one report, or undefined when nothing is needed. */
export function advice(r: FlagReport, bin: string): string | undefined {
  if (r.error) return withSuggestions(r.error.message, r.error.suggestions)
  switch (r.flag) {
    case 'not-done': {
      if (r.value === null) {
        // Read with request 74: only "not 0x01" is known; the boot outcome needs the byte (a DFU read).
        return `The setup-done byte is not 0x01 (request 74). If it is 0x00 or 0xFF (the usual case) this ${r.platformName} boots into Listening Mode (blinking dark blue); another value boots as set up, and only a DFU read tells which: put it in DFU mode (hold MODE, tap RESET, release MODE when the LED blinks yellow) and run ${commandLine(bin, `get ${r.id}`)} again. Setting it works whatever the byte holds. Fix it: ${commandLine(bin, `set ${r.id}`)}`
      }
      return `The setup-done flag is not set, so this ${r.platformName} boots into Listening Mode (blinking dark blue). Fix it: ${commandLine(bin, `set ${r.id}`)}`
    }
    case 'done': {
      return r.reason ?? (r.mode === 'listening' ? 'The flag is set; something else keeps the device in Listening Mode (Wi-Fi credentials or cellular settings missing, or the application asked for it).' : undefined)
    }
    default: {
      return r.reason ?? undefined
    }
  }
}

export function renderReports(reports: FlagReport[], bin: string): string {
  const rows = [['DEVICE', 'PLATFORM', 'MODE', 'DEVICE OS', 'SETUP FLAG']]
  for (const r of reports) {
    rows.push([deviceLabel(r), r.platformName, r.mode, versionCell(r), `${FLAG_TEXT[r.flag]}${r.flag === 'not-applicable' ? '' : byteSuffix(r.value)}`])
  }
  const notes = reports.flatMap((r) => {
    const a = advice(r, bin)
    return a ? [`${r.id}: ${a}`] : []
  })
  return [table(rows), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')
}

/** A device as discovery describes it, after its cloud name when it has one (lists of connected devices). */
export function namedDevice(d: FoundDevice, name?: null | string): string {
  return `${name ? `${name} ` : ''}${describeFound(d)}`
}

/**
 * Labels for a "which device?" list: each device's cloud name when `names` has one, the device as discovery
 * describes it, and whether it is in Listening Mode (request 72, one short request per device; a device that does
 * not answer is listed without it).
 */
export async function pickerLabels(
  devices: FoundDevice[],
  clock: Clock,
  timeoutMs: number,
  names: ReadonlyMap<string, {name?: null | string}> = new Map(),
): Promise<Map<string, string>> {
  const labels = new Map<string, string>()
  for (const d of devices) {
    let listening = false
    if (d.mode !== 'dfu') {
      // eslint-disable-next-line no-await-in-loop
      const dev = await openDevice(d, clock).catch(() => undefined)
      try {
        await dev?.resetPending()
        // eslint-disable-next-line no-await-in-loop
        listening = (await dev?.isListening({timeoutMs: Math.min(timeoutMs, 2000)})) ?? false
      } catch {
        // not answering: listed without its mode
      } finally {
        // eslint-disable-next-line no-await-in-loop
        await dev?.close()
      }
    }
    labels.set(d.id, `${namedDevice(d, names.get(d.id)?.name)}${listening ? ' – in Listening Mode (blinking dark blue)' : ''}`)
  }
  return labels
}

/** One device's line in `set` (and the station): what was done, or why not. */
export function progressLine(r: SetReport): string {
  const who = `${deviceLabel(r)} (${r.platformName})`
  if (r.error) return withSuggestions(`✖ ${who}: ${r.error.message}`, r.error.suggestions, '    ')
  // --force where the flag does not exist: the write went out, and nothing was set (never "✔ … set").
  if (r.changed && r.flag === 'not-applicable') return `⚠ ${who}: --force: the write was sent, and it has no effect on this device; nothing was set. ${r.reason ?? ''}`.trim()
  if (r.changed && r.before !== null && r.before === r.after) return `– ${who}: --force: the flag already held ${byteText(r.after)} and was written again with the same value.`
  if (r.changed) return `✔ ${who}: flag ${r.flag === 'not-done' ? 'cleared' : 'set'} by ${r.method} (${byteText(r.before)} → ${byteText(r.after)}). ${stepsOf(r, MODE_CHANGES).join(' ')}`.trim()
  if (r.flag === 'not-applicable') return `– ${who}: nothing to do. ${r.reason}`
  return `– ${who}: ${r.steps.at(-1) ?? 'nothing to do.'}`
}

/** The closing line of `set` over several devices. */
export function setSummaryLine(reports: SetReport[]): string {
  const {failed, fixed, total, unchanged} = summaryOf(reports)
  const would = reports.filter((r) => !r.error && hasStep(r, WOULD)).length
  if (would > 0) return `\n${total} devices: ${would} would be fixed (dry run: nothing was written), ${failed} failed.`
  return `\n${total} devices: ${fixed} fixed, ${unchanged} unchanged, ${failed} failed.`
}
