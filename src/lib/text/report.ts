/**
 * A device's report in words: the JSON fields scripts read (their names are an interface), the reason a person
 * reads, and the remarks `get` shows as warnings. Composed from the typed report (setup-flag/report.ts) with the
 * CLI the person typed.
 */
import {type Cli, commandLine} from '../cli.js'
import {type ErrorJson} from '../errors.js'
import {type FlagState, type Note, type Why} from '../setup-flag/policy.js'
import {type DeviceReport, type Remark, type ReportedMode, type VersionSource} from '../setup-flag/report.js'
import {hex} from '../words.js'
import {stepText} from './steps.js'

/** One device as `get --json` prints it. */
export interface FlagReport {
  /** On nRF52840 with Device OS 4.0 or later, read over DFU: what the byte would mean after a downgrade below 4.0. */
  afterDowngrade?: 'done' | 'not-done'
  /** What the cloud last heard the device report, when the cloud was asked and knows it. */
  cloudDeviceOsVersion?: null | string
  /** True when this read sent raw request 302 (`get --unstick`): the device is off the cloud until it restarts. */
  cloudDisconnected?: boolean
  deviceOsVersion: null | string
  deviceOsVersionSource: null | VersionSource
  error?: ErrorJson
  flag: FlagState
  id: string
  mode: ReportedMode
  name: null | string
  platform: string
  platformId: number
  platformName: string
  protected?: boolean
  reason: null | string
  /** Module version number of the system part, when read from its header in DFU mode. */
  systemModuleVersion?: number
  value: null | number
}

/** One device as `set --json` prints it. */
export interface SetReport extends FlagReport {
  /** The byte after, when known (raw over DFU; 1 when request 74 said done). */
  after: null | number
  before: null | number
  /** The byte changed (a forced write of the byte already there changed nothing). */
  changed: boolean
  method: 'dfu' | 'firmware' | 'usb' | null
  /** What was done, step by step, in words. */
  steps: string[]
}

/** Why the flag does not apply (or why that is not known), in words a person can act on. */
export function whyText(why: Why): string {
  switch (why.kind) {
    case 'flagless': {
      return `Device OS ${why.version} (4.0 or later) has no setup-done flag, so it cannot be what keeps this device in Listening Mode.`
    }
    case 'protected': {
      return 'The device is protected (Device Protection, Device OS 6 or later), where the setup-done flag no longer exists.'
    }
    case 'version-unknown': {
      return `The Device OS version of this ${why.platform.displayName} is unknown, and the flag matters only below Device OS 4.0.`
    }
    case 'platform': {
      const p = why.platform
      if (p.family === 'gen2') {
        return p.name === 'electron'
          ? 'Electron and E Series (Gen2) have no setup-done flag: on an Electron, Listening Mode has another cause (often the SIM or cellular settings); for an E Series module, contact Particle support.'
          : `${p.displayName} (Gen2) has no setup-done flag: blinking dark blue means it has no Wi-Fi credentials; add them with \`particle wifi add\` or \`particle serial wifi\`.`
      }
      if (p.family === 'realtek') {
        return `${p.displayName} never had the setup-done flag: Listening Mode there means it lacks Wi-Fi credentials or network settings (\`particle wifi add\`, or setup.particle.io).`
      }
      return `${p.displayName} has no setup-done flag.`
    }
  }
}

/** Request 74's "not done", said as what it is: the byte is not 0x01; how the device boots needs the byte itself. */
export const REQUEST_NOT_DONE_REASON =
  'Request 74 says the setup-done byte is not 0x01. With 0x00 or 0xFF (the usual case) the device boots into Listening Mode; with any other value it boots as set up. Only a read in DFU mode shows the byte.'

export function noteText(note: Note): string {
  if (note.kind === 'not-read') return 'The flag could not be read.'
  if (note.kind === 'no-control-requests') {
    return 'Device OS older than 0.9.0: no USB control requests, so the flag cannot be read while it runs (a factory-fresh device boots into Listening Mode until it is set). `set` fixes it through its serial line and DFU mode, no buttons needed; in DFU mode, `get` reads the byte and names the release.'
  }
  if (note.kind === 'request-not-done') return REQUEST_NOT_DONE_REASON
  return `The byte holds the unusual value 0x${note.byte.toString(16).padStart(2, '0')}: the device boots as set up, but request 74 reports "not done"; \`set\` would write 0x01.`
}

/** The `reason` field: the error, or why the flag does not apply, or what to know of the reading; then what follows. */
export function reasonText(r: DeviceReport, cli: Cli): null | string {
  let text = r.error && r.flag !== 'not-applicable' ? r.error.words(cli).message : r.why ? whyText(r.why) : r.note ? noteText(r.note) : null
  if (r.afterDowngrade) {
    const then = r.afterDowngrade.setUp ? 'count as set up' : 'boot into Listening Mode (blinking dark blue); `set --force --method dfu` writes 0x01 now'
    text = `${text ?? ''} The byte holds ${hex(r.afterDowngrade.byte)}: after a downgrade below 4.0 the device would ${then}.`.trim()
  }
  if (r.writeUnknown) text = `${text} The byte's state after the write is unknown.`
  return text
}

/** A report as `get --json` prints it. */
export function flagJson(r: DeviceReport, cli: Cli): FlagReport {
  const json: FlagReport = {
    deviceOsVersion: r.deviceOsVersion,
    deviceOsVersionSource: r.deviceOsVersionSource,
    flag: r.flag,
    id: r.id,
    mode: r.mode,
    name: r.name,
    platform: r.platform.name,
    platformId: r.platform.id,
    platformName: r.platform.displayName,
    reason: reasonText(r, cli),
    value: r.value,
  }
  if (r.afterDowngrade) json.afterDowngrade = r.afterDowngrade.setUp ? 'done' : 'not-done'
  if (r.cloudDeviceOsVersion !== undefined) json.cloudDeviceOsVersion = r.cloudDeviceOsVersion
  if (r.cloudDisconnected) json.cloudDisconnected = true
  if (r.error) json.error = r.error.toJSON(cli)
  if (r.protected) json.protected = true
  if (r.systemModuleVersion !== undefined) json.systemModuleVersion = r.systemModuleVersion
  return json
}

/** A report as `set --json` prints it. */
export function setJson(r: DeviceReport, cli: Cli): SetReport {
  return {...flagJson(r, cli), after: r.after, before: r.before, changed: r.changed, method: r.method, steps: r.steps.map((s) => stepText(s))}
}

/** What `get` tells beside a report, as a warning. */
export function remarkText(id: string, remark: Remark): string {
  if (remark.kind === 'unstuck') return `${id}: --unstick aborted its connection attempt (raw request 302); it stays off the cloud until it restarts (tap RESET).`
  if (remark.kind === 'version-differs') return `${id}: the device runs Device OS ${remark.device}, but the cloud last saw ${remark.cloud}; using what the device reports.`
  return `${id}: its system part carries module version ${remark.module}, which is not a Device OS release this tool knows; using the version the cloud last saw (${remark.cloud}).`
}

/** "Fix it: particle-setup-flag set <id>" and the like: our commands as the person runs them. */
export const runText = (cli: Cli, command: string) => commandLine(cli, command)
