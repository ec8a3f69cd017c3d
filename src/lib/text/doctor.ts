/**
 * The doctor's words: what each step found or did (events), what it says, asks and tells a person to do with
 * their hands, its progress lines and its summary. The doctor (src/lib/doctor/) records only these records.
 */
import {platforms as constantsPlatforms} from '@particle/device-constants'

import {type Cli, commandLine} from '../cli.js'
import {DFU_STEPS, SAFE_MODE_STEPS, udevInstallCommand} from '../instructions.js'
import {type Why} from '../setup-flag/policy.js'
import {type ReportedMode, type VersionSource, type WriteMethod} from '../setup-flag/report.js'
import {type Wait} from '../setup-flag/session.js'
import {byteText, type Nearby, nearbyLines, seconds} from '../words.js'
import {whyText} from './report.js'
import {perRequest, waitTitle} from './waits.js'

/** What the doctor asks a person to do with their hands; the command prints it, tests act it out. */
export type Instruction = 'connect' | 'dfu-buttons' | 'field-rescue' | 'replug' | 'run-command' | 'safe-mode-buttons'

export type DoctorEvent =
  | {device: string; kind: 'chose' | 'connected' | 'found'}
  | {connected?: Nearby[]; kind: 'not-on-usb'; who: string}
  | {kind: 'remote-plan'}
  | {byte: null | number; kind: 'firmware-reported'}
  | {kind: 'firmware-refuses'; message: string; platformName: string}
  | {kind: 'identified'; mode: ReportedMode; name: null | string; old?: boolean; platformName: string; source: null | VersionSource; version: null | string}
  | {kind: 'no-permission'}
  | {file: string; kind: 'rule-declined' | 'rule-installed' | 'rule-present'}
  | {command: string; kind: 'rule-needs-root'}
  | {kind: 'flag-not-set'; platformName: string}
  | {kind: 'not-applicable'; why: Why}
  | {kind: 'dfu-flag-set' | 'firmware-silent' | 'flag-set-listening' | 'nothing-to-fix' | 'no-control-requests'}
  | {kind: 'no-answer-even-safe' | 'safe-request-pending' | 'restarted-safe-mode'}
  | {kind: 'write-failed'; message: string}
  | {after: null | number; before: null | number; kind: 'wrote'}
  | {kind: 'already-held'}
  | {kind: 'restarted'; toLeave?: 'dfu' | 'safe'}
  | {kind: 'not-restarted' | 'listening-after-dfu' | 'cancelled' | 'declined'}
  | {kind: 'unconfirmed' | 'still-listening' | 'not-listening'; restarted: boolean}
  | {kind: 'stopped'; message: string}

const MODE: Record<ReportedMode, string> = {dfu: 'in DFU mode', listening: 'in Listening Mode', normal: 'running (normal or Safe Mode)', unknown: 'firmware not answering USB requests'}
const LED: Record<ReportedMode, string> = {
  dfu: 'blinking yellow',
  listening: 'blinking dark blue',
  normal: 'breathing cyan when connected (breathing magenta in Safe Mode)',
  unknown: 'as its application sets it',
}
const SOURCE: Record<VersionSource, string> = {cloud: 'the cloud', dfu: 'its firmware header', usb: 'the device'}

export function eventText(e: DoctorEvent): string {
  switch (e.kind) {
    case 'found': return `Found ${e.device} on USB.`
    case 'chose': return `Chose ${e.device}.`
    case 'connected': return `${e.device} was connected.`
    case 'not-on-usb': return `Device ${e.who} is not connected over USB.${e.connected?.length ? ` Connected now, closest first:\n${nearbyLines(e.connected).replaceAll(/^/gm, '  ')}` : ''}`
    case 'remote-plan': return 'The remote fix flashes a preparatory firmware, waits for it to report the flag, and then needs your production firmware back.'
    case 'firmware-reported': return `The preparatory firmware set the flag and reported ${byteText(e.byte)}.`
    case 'firmware-refuses': return `${e.platformName}: ${e.message}`
    case 'identified': {
      const version = e.version ? `Device OS ${e.version} (from ${SOURCE[e.source ?? 'usb']})` : e.old ? 'Device OS below 0.9.0 (from its USB descriptors)' : 'Device OS version unknown'
      return `${e.name ? `${e.name}, ` : ''}${e.platformName}, ${MODE[e.mode]}, LED ${LED[e.mode]}; ${version}.`
    }
    case 'no-permission': return 'This user may not open the device: USB permission denied (the udev rule for Particle devices is missing).'
    case 'rule-present': return `The rule is already in ${e.file}; it applies once the device is plugged in again.`
    case 'rule-installed': return `Installed the udev rule at ${e.file}.`
    case 'rule-declined': return `The udev rule was not installed (${e.file} left as it was).`
    case 'rule-needs-root': return `Needs root: ${e.command}`
    case 'flag-not-set': return `The setup-done flag is not set: this is why the ${e.platformName} boots into Listening Mode.`
    case 'not-applicable': return whyText(e.why)
    case 'dfu-flag-set': return 'The setup-done flag is set; in DFU mode the device cannot say whether it would listen.'
    case 'flag-set-listening': return 'The setup-done flag is set, so something else keeps the device in Listening Mode.'
    case 'nothing-to-fix': return 'The setup-done flag is set and the device is not in Listening Mode: nothing to fix.'
    case 'no-control-requests':
      return 'Device OS below 0.9.0 has no USB control requests: the fix goes through DFU mode, which its serial line reaches without buttons (a factory-fresh device boots into Listening Mode until the flag is set).'
    case 'firmware-silent': return 'The device firmware does not answer USB requests, so the flag cannot be read as it runs.'
    case 'no-answer-even-safe': return 'The device firmware does not answer, not even the request to restart in Safe Mode.'
    case 'safe-request-pending': return 'The firmware did not carry out the request to restart in Safe Mode (60): its application keeps the system busy.'
    case 'restarted-safe-mode': return 'The device restarted in Safe Mode.'
    case 'write-failed': return e.message
    case 'wrote': return `Wrote the flag (${byteText(e.before)} → ${byteText(e.after)}) and read it back.`
    case 'already-held': return 'The flag already held the wanted value.'
    case 'restarted': return e.toLeave === 'safe' ? 'Restarted the device to leave Safe Mode (request 40).' : e.toLeave === 'dfu' ? 'Left DFU mode.' : 'Restarted the device (request 40).'
    case 'not-restarted': return 'Not restarted.'
    case 'listening-after-dfu': return 'The flag is set, but the device restarted into Listening Mode again.'
    case 'unconfirmed': return `The flag is verified; ${e.restarted ? 'the device restarted, but ' : ''}its application does not answer USB requests, so its mode cannot be checked.`
    case 'still-listening': return `${e.restarted ? 'The device restarted and' : 'The device was not restarted; it'} is still in Listening Mode.`
    case 'not-listening': return `${e.restarted ? 'The device restarted and' : 'The device was not restarted; it'} is not in Listening Mode.`
    case 'cancelled': return 'Cancelled at a question.'
    case 'declined': return 'Not fixed: you declined.'
    case 'stopped': return e.message
  }
}

export type Question =
  | {kind: 'fix-control' | 'fix-safe-mode' | 'leave-dfu' | 'restart' | 'try-dfu' | 'write-dfu'}
  | {file: string; kind: 'install-rule'}
  | {caveat: string; kind: 'flash'; who: string}

export function questionText(q: Question): string {
  switch (q.kind) {
    case 'fix-control': return 'Set the setup-done flag now over USB (control request 73)?'
    case 'fix-safe-mode':
      return 'Fix it in Safe Mode (the doctor asks the device to restart in Safe Mode, or you press two buttons; it then reads the flag, sets it if needed, and restarts the device)?'
    case 'write-dfu': return 'The device is in DFU mode. Write the flag with DFU (one byte at DCT 8134), then restart it?'
    case 'try-dfu': return 'Try DFU mode instead (the device restarts into its bootloader, one byte is written, and it restarts)?'
    case 'leave-dfu': return 'Restart the device out of DFU mode to see whether it still listens?'
    case 'restart': return 'Restart the device now to check that it boots normally?'
    case 'install-rule': return `Install the udev rule for Particle devices (vendor 2b04) in ${q.file}?`
    case 'flash': return `${q.caveat}\nFlash the preparatory firmware to ${q.who} now?`
  }
}

/** The doctor's choices: which device, and how to reach one that is not on USB. */
export function selectText(q: {kind: 'instead' | 'offline' | 'online'; who: string} | {kind: 'which'}): string {
  if (q.kind === 'which') return 'Several Particle devices are connected. Which one blinks dark blue?'
  if (q.kind === 'instead') return `${q.who} is not connected, but these are (closest first). Which one do you mean?`
  return q.kind === 'offline' ? `${q.who} is offline. How do you want to fix it?` : `${q.who} is online in the cloud. How do you want to fix it?`
}

/** The choice to wait for the device named rather than take one of those connected. */
export const waitChoiceText = (who: string) => `None of these: wait for ${who} to be connected`

/** Each way to fix a device that is not on USB, as a choice. */
export function wayText(way: 'field' | 'remote' | 'usb'): {description: string; name: string} {
  return {
    field: {description: 'Someone next to it starts it in Safe Mode; it is flashed over the air the moment it connects', name: 'In the field, the moment it comes online'},
    remote: {description: 'Flash a small preparatory firmware over the air, then your production firmware back', name: 'Remotely, with the preparatory firmware'},
    usb: {description: 'Connect it to this computer with a USB cable', name: 'Over USB (plug it in now)'},
  }[way]
}

export type Say =
  | {kind: 'busy-firmware' | 'not-in-safe-mode'}
  | {kind: 'field-hint'; who: string}
  | {diff: string; file: string; kind: 'rule-diff'; newFile: boolean}

export function sayText(s: Say, cli: Cli): string {
  switch (s.kind) {
    case 'busy-firmware': return 'Its firmware is busy (its application, or a connection attempt, holds the system), so the fix continues in Safe Mode.'
    case 'not-in-safe-mode': return 'The device still does not answer: it does not seem to be in Safe Mode (the LED should breathe magenta). Once more:'
    case 'field-hint': return `In the field? ${commandLine(cli, `set ${s.who} --method firmware --wait-online`)} flashes it the moment someone on site brings it online.`
    case 'rule-diff': return `The udev rule for Particle devices (vendor 2b04) would be added${s.newFile ? '' : `; the lines already in ${s.file} stay as they are`}:\n${s.diff}`
  }
}

export type Telling = {kind: 'connect'; waitMs?: number; who?: string} | {kind: 'dfu-buttons' | 'replug' | 'safe-mode-buttons'} | {file: string; kind: 'run-command'}

export function instructionText(t: Telling): string {
  switch (t.kind) {
    case 'connect': {
      const waiting = t.waitMs === undefined ? 'Waiting for it...' : `Waiting up to ${seconds(t.waitMs)} for it...`
      return t.who
        ? `Connect ${t.who} to this computer with a USB data cable. ${waiting}`
        : `No Particle device is connected. Connect it to this computer with a USB data cable (some cables only carry power). ${waiting}`
    }
    case 'dfu-buttons': return DFU_STEPS
    case 'safe-mode-buttons': return SAFE_MODE_STEPS
    case 'replug': return 'Now unplug the device and plug it in again.'
    case 'run-command':
      return `Install the udev rule (this needs root; the doctor never runs sudo itself):\n\n    ${udevInstallCommand(t.file)}\n\n(\`tee -a\` adds the line and removes nothing; \`particle usb configure\` from the official CLI installs its own rules instead.)`
  }
}

export type Waiting =
  | {id: string; kind: 'reading' | 'setting' | 'writing-dfu' | 'asking-safe-mode' | 'checking'; timeoutMs: number}
  | {kind: 'connect'; timeoutMs: number}
  | {kind: 'flashing' | 'online'; upToMs?: number; who: string}
  | {kind: 'wait'; wait: Wait}

export function waitingText(w: Waiting): string {
  switch (w.kind) {
    case 'reading': return `Reading ${w.id} (${perRequest(w.timeoutMs)})`
    case 'setting': return `Setting the flag (${perRequest(w.timeoutMs)})`
    case 'writing-dfu': return `Writing the flag over DFU (${perRequest(w.timeoutMs)})`
    case 'asking-safe-mode': return `Asking the device to restart in Safe Mode (request 60; ${perRequest(w.timeoutMs)})`
    case 'checking': return `Checking whether the device listens (${perRequest(w.timeoutMs)})`
    case 'connect': return `Waiting for the device to be connected (up to ${seconds(w.timeoutMs)})`
    case 'flashing': return `Compiling and flashing the preparatory firmware to ${w.who}`
    case 'online': return `Waiting for ${w.who} to come online (at most ${Math.round((w.upToMs ?? 0) / 60_000)} minutes)`
    case 'wait': return waitTitle(w.wait)
  }
}

export type DoctorSummary =
  | {kind: 'already-set'; platform: string}
  | {kind: 'declined' | 'cancelled'; lines: string[]}
  | {kind: 'failed'; lines: string[]}
  | {after: null | number; before: null | number; kind: 'fixed'; method: null | WriteMethod; platformName: string; restarted: boolean; version: null | string}
  | {kind: 'left-in-dfu' | 'nothing-to-fix'}
  | {kind: 'not-applicable'; listening: boolean; platform: string; why: Why | null}
  | {kind: 'set-not-the-cause' | 'still-listening'; platform: string}
  | {kind: 'remote-fixed'; platformName: string; version: null | string; who: string}
  | {kind: 'remote-declined'; who: string}

export function summaryLines(s: DoctorSummary, cli: Cli): string[] {
  switch (s.kind) {
    case 'not-applicable': {
      const reason = s.why ? whyText(s.why) : 'The setup-done flag does not exist on this device.'
      return s.listening ? [reason, 'What usually keeps it listening:', ...otherCauses(s.platform)] : [reason]
    }
    case 'already-set': return ['The setup-done flag is set. What else keeps a device in Listening Mode:', ...otherCauses(s.platform)]
    case 'set-not-the-cause': return ['The setup-done flag was already set, so it is not the cause. What else keeps a device in Listening Mode:', ...otherCauses(s.platform)]
    case 'still-listening': return ['The setup-done flag is now set, but the device still listens, so something else keeps it there:', ...otherCauses(s.platform)]
    case 'nothing-to-fix': return ['The setup-done flag is set and the device is not in Listening Mode. If it blinks dark blue again later, run the doctor then.']
    case 'left-in-dfu': return ['The setup-done flag is set. The device was left in DFU mode; tap RESET to restart it.']
    case 'fixed': return fixedLines(s)
    case 'remote-fixed':
      return [
        `What was done: a preparatory firmware, compiled for ${s.platformName} on Device OS ${s.version}, was flashed over the air, set the flag and reported it back.`,
        `Now flash your production firmware back (the device runs only the preparatory firmware until then): particle flash ${s.who} <your-production-firmware.bin>`,
      ]
    case 'remote-declined': return ['Nothing was flashed.', `Fix it over the air later: ${commandLine(cli, `set ${s.who} --method firmware --restore <your-production-firmware.bin>`)}`]
    case 'declined':
    case 'cancelled':
    case 'failed': return s.lines
  }
}

function fixedLines(s: Extract<DoctorSummary, {kind: 'fixed'}>): string[] {
  const by = s.method === 'dfu' ? 'DFU' : 'a USB control request'
  return [
    `What was wrong: the setup-done flag of this ${s.platformName} was not set, so Device OS ${s.version ?? ''} sent it to Listening Mode (blinking dark blue) at every boot.`.replace(' ,', ','),
    `What was done: the flag was written (${byteText(s.before)} → ${byteText(s.after)}) by ${by} and read back.${s.restarted ? '' : ' The device was not restarted: its next restart runs the boot check with the flag set.'}`,
    "If it happens again: on Device OS below 4.0, a full settings reset (holding MODE through a reset until the LED blinks white) wipes the configuration flash and unsets the flag, and Particle's guide says clearing credentials does too; run this doctor again. Upgrading to Device OS 4.0 or later removes the flag for good.",
  ]
}

/** What else keeps a device in Listening Mode, by the platform's radios (from @particle/device-constants). */
export function otherCauses(platform: string): string[] {
  const features: string[] = Object.values(constantsPlatforms).find((p) => p.name === platform)?.features ?? []
  return [
    ...(features.includes('wifi') ? ['- No Wi-Fi credentials: add them with `particle wifi add` (or `particle serial wifi`) or the Particle setup at setup.particle.io.'] : []),
    ...(features.includes('cellular') || !features.includes('wifi')
      ? ['- No cellular connection settings, or an inactive SIM: check the SIM in the console (console.particle.io) and the antenna.']
      : []),
    '- The credentials were cleared (holding MODE for 10 s in Listening Mode does that): add them again as above.',
    '- The application asks for Listening Mode (WiFi.listen() / Cellular.listen(), or a SEMI_AUTOMATIC app that never connects): check its code, or run it in Safe Mode to compare.',
  ]
}

/** After a first Ctrl-C while the device is being worked on. */
export const stoppingText = () => 'Stopping: letting the device finish what it is doing, then saying what was done (Ctrl-C again to quit now).'
