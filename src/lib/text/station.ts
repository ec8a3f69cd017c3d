/** The station's words (`set --watch`): each device's line, its notes to the operator, and the summary. */
import {type Cli, commandLine} from '../cli.js'
import {isCancellation} from '../errors.js'
import {UDEV_RULE, UDEV_RULES_DIR, UDEV_RULES_FILE} from '../instructions.js'
import {type DeviceReport, type Outcome} from '../setup-flag/report.js'
import {type StationSummary} from '../setup-flag/station.js'
import {count} from '../words.js'
import {progressLine} from './render.js'

/** One device's line: `set`'s line on one line, and for a failure how to try again. */
export function stationLine(r: DeviceReport, cli: Cli): string {
  const retry = r.error ? ' (Once done, or to try again, unplug it and plug it in again: the station tries it again.)' : ''
  return progressLine(r, cli).replaceAll(/\n\s*/g, ' ') + retry
}

export type StationNote =
  | {attempt: number; id: string; kind: 'retry'; max: number}
  | {busy: number; kind: 'stopping'}
  | {description: string; kind: 'watching'}
  | {id: string; kind: 'repeat'; max: number; outcome: Outcome}
  | {kind: 'scan-error'; message: string}
  | {kind: 'unreadable'; platformName: string}

export function stationNote(n: StationNote, cli: Cli): string {
  switch (n.kind) {
    case 'watching': {
      return `Watching ${n.description} for Particle devices: each is set once, the moment it is plugged in. Ctrl-C stops and sums up.`
    }
    case 'repeat': {
      return n.outcome === 'failed'
        ? `${n.id}: failed ${n.max} times in this run; not touched again (to try it on its own: ${commandLine(cli, `set ${n.id}`)}).`
        : `${n.id}: already handled in this run (${n.outcome}); not touched again.`
    }
    case 'retry': {
      return `${n.id}: plugged in again after failing; trying again (attempt ${n.attempt} of ${n.max}).`
    }
    case 'scan-error': {
      return `Warning: listing USB devices failed (${n.message}); still watching for hot-plug events.`
    }
    case 'unreadable': {
      return `Warning: a ${n.platformName} was plugged in, but its device ID (USB serial number) cannot be read, so it is left alone. On Linux this is usually a missing udev rule: ${UDEV_RULE} (in ${UDEV_RULES_DIR}/${UDEV_RULES_FILE}, or run \`particle usb configure\`); then plug it in again.`
    }
    case 'stopping': {
      return n.busy > 0 ? `Stopping: finishing ${count(n.busy, 'device')} in progress (Ctrl-C again to quit now).` : 'Stopping.'
    }
  }
}

export function summaryText(s: StationSummary, cli: Cli): string {
  const interrupted = s.interrupted > 0 ? `, ${s.interrupted} interrupted while being written` : ''
  const failed = s.failures.map((f) => `  ✖ ${f.id}: ${f.error.words(cli).message}`)
  return [`Stopped. ${count(s.total, 'device')}: ${s.fixed} fixed, ${s.unchanged} unchanged, ${s.failed} failed${interrupted}.`, ...(failed.length > 0 ? ['Failed:', ...failed] : [])].join('\n')
}

/** After the first Ctrl-C of `set`: what the lines above mean. */
export function interruptedText(reports: readonly DeviceReport[]): string {
  const notStarted = reports.filter((r) => isCancellation(r.error) && r.steps.length === 0).length
  return `Interrupted: ${notStarted > 0 ? `${count(notStarted, 'device')} not started (nothing written); ` : ''}every device that was under way was left in a safe state, as its line above says.`
}

/** After a second Ctrl-C: the devices that may be left half-way. */
export function quitNowText(ids: readonly string[]): string {
  if (ids.length === 0) return 'Quitting now.'
  return `Quitting now. Still being worked on, so possibly left in DFU mode (blinking yellow) or with the write unconfirmed: ${ids.join(', ')}. Tap RESET on each, then run \`get\` on it.`
}
