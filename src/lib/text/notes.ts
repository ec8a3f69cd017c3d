/**
 * `get`'s notes after its table: one per cause, naming its devices in the table's order, then what the cause means
 * and, where `set` fixes it, one command for all of them. Causes come from the typed reports; an error is a cause
 * by its words.
 */
import {type Cli, commandLine} from '../cli.js'
import {DFU_BUTTONS} from '../instructions.js'
import {type Why} from '../setup-flag/policy.js'
import {type DeviceReport} from '../setup-flag/report.js'
import {listText} from '../words.js'
import {deviceLabel, withSuggestions} from './labels.js'
import {reasonText, whyText} from './report.js'

type Group = readonly DeviceReport[]

interface Cause {
  /** `set` fixes it: the note ends with the command for the whole group. */
  fix?: true
  key: string
  text: (group: Group) => string
}

const ids = (g: Group) => g.map((r) => r.id).join(' ')
const them = (g: Group) => (g.length > 1 ? 'these devices' : 'this device')
const platforms = (g: Group) => listText([...new Set(g.map((r) => r.platform.displayName))])

/** What one report needs said, as a cause other reports may share; undefined when nothing needs saying. */
function causeOf(r: DeviceReport, cli: Cli): Cause | undefined {
  if (r.error) {
    const w = r.error.words(cli)
    const text = withSuggestions(w.message, w.suggestions)
    return {key: `error ${text}`, text: () => text}
  }
  if (r.flag === 'not-done' && r.value === null) {
    // Read with request 74: only "not 0x01" is known; the boot outcome needs the byte (a DFU read).
    return {
      fix: true,
      key: 'request-74',
      text: (g) =>
        `The setup-done byte is not 0x01 (request 74). If it is 0x00 or 0xFF (the usual case) the device boots into Listening Mode (blinking dark blue); another value boots as set up, and only a DFU read tells which: put ${g.length > 1 ? 'each' : 'it'} in DFU mode (${DFU_BUTTONS}) and run ${commandLine(cli, `get ${ids(g)}`)} again. Setting it works whatever the byte holds.`,
    }
  }
  if (r.flag === 'not-done') {
    return {fix: true, key: 'not-done', text: (g) => `The setup-done flag is not set, so ${g.length > 1 ? 'each' : 'it'} boots into Listening Mode (blinking dark blue).`}
  }
  const reason = reasonText(r, cli)
  if (r.flag === 'done' && !reason && r.mode === 'listening') {
    return {key: 'listening', text: (g) => `The flag is set; something else keeps ${them(g)} in Listening Mode (Wi-Fi credentials or cellular settings missing, or the application asked for it).`}
  }
  if (!reason) return undefined
  // A reason with more than why the flag does not apply (what a downgrade would do, a write's unknown end) is its own.
  const why = r.why && !r.afterDowngrade && !r.writeUnknown ? r.why : undefined
  return why ? {key: whyKey(why), text: (g) => (g.length === 1 ? reason : whyGroupText(why, g))} : {key: `reason ${reason}`, text: () => reason}
}

/** Devices share a note when their flag is absent for the same cause: any 4.x or later, a Realtek platform, the same other platform. */
function whyKey(why: Why): string {
  if (why.kind !== 'platform') return why.kind
  return why.platform.family === 'realtek' ? 'platform realtek' : `platform ${why.platform.name}`
}

function whyGroupText(why: Why, g: Group): string {
  switch (why.kind) {
    case 'flagless': {
      const versions = listText([...new Set(g.map((r) => (r.why?.kind === 'flagless' ? r.why.version : '?')))])
      return `Device OS 4.0 or later (here ${versions}) has no setup-done flag, so it cannot be what keeps these devices in Listening Mode.`
    }
    case 'protected': {
      return 'These devices are protected (Device Protection, Device OS 6 or later), where the setup-done flag no longer exists.'
    }
    case 'version-unknown': {
      return `The Device OS version of these devices (${platforms(g)}) is unknown, and the flag matters only below Device OS 4.0.`
    }
    case 'platform': {
      return whyText(why).replace(why.platform.displayName, platforms(g))
    }
  }
}

/** The notes, one per cause, in the order of each cause's first device. */
export function groupedNotes(reports: readonly DeviceReport[], cli: Cli): string[] {
  const groups = new Map<string, {cause: Cause; devices: DeviceReport[]}>()
  for (const r of reports) {
    const cause = causeOf(r, cli)
    if (!cause) continue
    const group = groups.get(cause.key)
    if (group) group.devices.push(r)
    else groups.set(cause.key, {cause, devices: [r]})
  }
  return [...groups.values()].map(({cause, devices}) => {
    // The table above says each device's platform; a long list wraps between devices.
    const who = devices.map((r) => deviceLabel(r)).join(', ')
    const fix = cause.fix ? [`Fix ${devices.length > 1 ? 'them' : 'it'}: ${commandLine(cli, `set ${ids(devices)}`)}`] : []
    // "- devices: what it means", its lines hanging under it (the output port wraps them there).
    const [first, ...rest] = cause.text(devices).split('\n')
    return [`- ${who}: ${first}`, ...[...rest, ...fix].map((l) => `  ${l}`)].join('\n')
  })
}
