/**
 * The web doctor's words (the page in src/web/ draws them): its headings and buttons, what it says where it cannot
 * work, the second permission, the button steps with the LED to wait for, the virtual devices. What the doctor
 * found and did, and its summaries, are the CLI doctor's own words (text/doctor.ts), composed from the same records.
 */
import {commandLine, STANDALONE} from '../cli.js'
import {DFU_STEPS, SAFE_MODE_STEPS, UDEV_RULE, UDEV_RULES_DIR, UDEV_RULES_FILE, udevInstallCommand} from '../instructions.js'
import {type DeviceReport, type ReportedMode, type VersionSource} from '../setup-flag/report.js'
import {count, hex} from '../words.js'

// The page's records (the flows in src/lib/web/ hold these; the words below are made from them).

/** The status LED's colour and pattern. */
export type Led = 'blinking-dark-blue' | 'blinking-magenta' | 'blinking-yellow' | 'breathing-cyan' | 'breathing-green' | 'breathing-magenta' | 'off'
/** A browser without WebUSB, by name. */
export type Browser = 'firefox' | 'ios' | 'other' | 'safari'
/** Whether the page can reach USB devices here. */
export type Support = {kind: 'insecure'; origin: string} | {browser: Browser; kind: 'no-webusb'} | {kind: 'ok'}
export type Cause = 'not-applicable' | 'not-listening' | 'other' | 'setup-flag' | 'unknown'
export type Outcome = 'failed' | 'fixed' | 'not-the-flag' | 'nothing-to-fix'
/** A wait for the device in a mode whose product ID the page has not been granted: the person allows it. */
export interface Permission {
  mode: 'dfu' | 'normal'
  productId: number
}

export const PAGE = {
  allowTitle: 'Allow the device in its new mode',
  chooserEmpty: 'No matching device is plugged in.',
  chooserNote: 'These are the virtual devices; with real ones the browser shows its own list here.',
  chooserTitle: 'Choose a device to connect',
  cancel: 'Cancel',
  connect: 'Connect a device',
  connectHint: 'Plug the device in with a USB data cable (some cables carry power only), then connect it here. Several devices: connect each.',
  devices: 'Devices',
  done: 'What was done',
  fixAll: 'Fix all',
  fixIt: 'Fix it',
  intro:
    'For a Particle Gen3 device stuck blinking dark blue: this page reads its setup-done flag over USB, names the cause, and fixes it (one byte, read back), then restarts the device and checks. Nothing is sent anywhere but to the device: no login, no token, no network.',
  leaveDfu: 'Restart it out of DFU mode',
  noDevices: 'No device connected yet.',
  readAgain: 'Read it again',
  title: 'Particle setup-flag doctor',
  tryDfu: 'Try DFU mode',
  virtualIntro:
    'Try the whole fix without hardware: the simulator the command-line tool is tested with, in this page, behind the same WebUSB calls. Its buttons and cable are below; nothing real is touched.',
  virtualDocument: 'Or your own devices document (the shape of a PARTICLE_VIRTUAL_DEVICES file)',
  virtualExample: 'Example',
  virtualStartDocument: 'Start with this document',
  virtualStartExample: 'Start with this example',
  virtualStop: 'Stop the virtual devices',
  virtualTitle: 'Virtual devices',
  virtualOpen: 'Try it without hardware',
} as const

export const LED_WORDS: Record<Led, string> = {
  'blinking-dark-blue': 'blinking dark blue',
  'blinking-magenta': 'blinking magenta',
  'blinking-yellow': 'blinking yellow',
  'breathing-cyan': 'breathing cyan',
  'breathing-green': 'breathing green',
  'breathing-magenta': 'breathing magenta',
  off: 'off',
}

export const ledLabel = (led: Led) => `LED ${LED_WORDS[led]}`

export const MODE_WORDS: Record<ReportedMode, string> = {
  dfu: 'DFU mode',
  listening: 'Listening Mode',
  normal: 'running (normal or Safe Mode)',
  unknown: 'firmware not answering USB requests',
}

/** The mode fact while the device restarts: what it was read in, which it is leaving. */
export const restartingFrom = (mode: ReportedMode) => `restarting (was in ${MODE_WORDS[mode]})`

export const FACTS = {deviceOs: 'Device OS', flag: 'Setup-done flag', mode: 'Mode'} as const

const SOURCE: Record<VersionSource, string> = {cloud: 'as the cloud last saw it', dfu: "from its system part's header", usb: 'from the device'}

/** The Device OS version and where it was read (the device first; the module table in DFU mode). */
export function versionText(r: Pick<DeviceReport, 'deviceOsVersion' | 'deviceOsVersionSource' | 'note' | 'systemModuleVersion'>): string {
  if (r.deviceOsVersion) return `${r.deviceOsVersion} (${SOURCE[r.deviceOsVersionSource ?? 'usb']})`
  if (r.note?.kind === 'no-control-requests') return 'below 0.9.0 (from its USB descriptors)'
  if (r.systemModuleVersion !== undefined) return `unknown (system module ${r.systemModuleVersion})`
  return 'unknown'
}

/** The flag as read: set, not set (with the byte when the device told it), absent, or unknown. */
export function flagText(r: Pick<DeviceReport, 'flag' | 'value'>): string {
  const byte = r.value === null ? '' : ` (${hex(r.value)})`
  return {done: `set${byte}`, 'not-applicable': 'does not exist on this device', 'not-done': `not set${byte}`, unknown: 'unknown'}[r.flag]
}

export const CAUSE: Record<Cause, string> = {
  'not-applicable': 'Not the flag: it does not exist on this device',
  'not-listening': 'Nothing to fix',
  other: 'Not the flag: something else keeps it listening',
  'setup-flag': 'The cause: the setup-done flag',
  unknown: 'The flag cannot be read as the device runs',
}

export const OUTCOME: Record<Outcome, string> = {
  failed: 'Not fixed',
  fixed: 'Fixed',
  'not-the-flag': 'The flag is not the cause',
  'nothing-to-fix': 'Nothing to fix',
}

const BROWSER: Record<Browser, string> = {
  firefox: 'Firefox does not offer WebUSB',
  ios: 'No browser on iPhone or iPad offers WebUSB',
  other: 'This browser does not offer WebUSB',
  safari: 'Safari does not offer WebUSB',
}

/** Where the page cannot reach a device, said with the way out. */
export function supportText(s: Exclude<Support, {kind: 'ok'}>): {heading: string; lines: string[]} {
  const cli = `Or use the command-line doctor on this computer: ${commandLine(STANDALONE, 'doctor')}.`
  if (s.kind === 'insecure') {
    return {
      heading: 'This page is not in a secure context',
      lines: [
        `Browsers let only secure pages use USB, and ${s.origin} is not one (plain http from another machine).`,
        `Open it over https, or on this computer at http://127.0.0.1 (${commandLine(STANDALONE, 'web')} serves it there).`,
        cli,
      ],
    }
  }
  return {
    heading: 'This browser cannot reach USB devices',
    lines: [`${BROWSER[s.browser]}, so this page cannot talk to your device.`, 'Open it in Chrome or Edge on Windows, macOS, Linux, ChromeOS or Android.', cli],
  }
}

export const virtualStillText = () => 'You can still try the whole fix on virtual devices below.'

/** Linux without the udev rule: the browser may not open the device. */
export function udevText(): {command: string; heading: string; lines: string[]; rule: string} {
  return {
    command: udevInstallCommand(),
    heading: 'Linux does not let this browser open the device',
    lines: [
      `The udev rule for Particle devices (vendor 2b04) is missing. Install it in ${UDEV_RULES_DIR}/${UDEV_RULES_FILE} (this needs root; \`particle usb configure\` from the official CLI installs an equivalent file), then unplug the device and plug it in again: the page reads it again by itself.`,
      'If it still fails on Debian or Ubuntu, add yourself to the plugdev group (`sudo usermod -aG plugdev $USER`) and log in again.',
    ],
    rule: UDEV_RULE,
  }
}

export const heldText = () => 'Close the other program that uses the device (the Particle CLI, Particle Workbench, dfu-util, another tab with this page), then read it again.'
export const unpluggedText = () => 'The device is unplugged, or it did not come back. Plug it in again (a data cable, straight into this computer): the page reads it again by itself.'

/** The second permission: the device comes back with another product ID, which is another device to the browser. */
export function permissionText(p: Permission, platformName: string): {button: string; line: string} {
  const mode = p.mode === 'dfu' ? 'DFU mode' : 'normal mode'
  return {
    button: `Allow the ${platformName} in ${mode}`,
    line: `In ${mode} the ${platformName} has another USB product ID (${hex4(p.productId)}), so the browser asks once more before this page may open it. ${p.mode === 'dfu' ? 'When its LED blinks yellow' : 'When it has restarted'}, allow it here.`,
  }
}

const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`

/** The button steps, with the LED to wait for. */
export function buttonsText(stage: 'dfu' | 'safe'): {heading: string; steps: string; waitFor: string} {
  return stage === 'safe'
    ? {heading: 'Its firmware does not answer: put it in Safe Mode', steps: SAFE_MODE_STEPS, waitFor: 'Release MODE when the LED blinks magenta. The page waits for the device to come back.'}
    : {heading: 'Put it in DFU mode', steps: DFU_STEPS, waitFor: 'Release MODE when the LED blinks yellow. The page waits for the device to come back.'}
}

export const deviceTitle = (platformName: string, id: string) => `${platformName} ${id}`

/** The log's heading, with how many steps it holds. */
export const doneText = (n: number) => `${PAGE.done} (${count(n, 'step')})`

export const fixAllText = (n: number) => `${PAGE.fixAll} (${count(n, 'device')})`

/** A virtual device's buttons and state, as on its picture. */
export const VIRTUAL = {
  byte: (b: number) => `DCT byte 8134: ${hex(b)}`,
  guardClean: 'Write guard: nothing was written anywhere but DCT 8134.',
  guardViolations: (messages: readonly string[]) => `Write guard: ${count(messages.length, 'violation')}: ${messages.join('; ')}`,
  mode: (held: boolean) => (held ? 'MODE (held: press again to release)' : 'MODE'),
  plugIn: 'Plug in',
  reset: 'RESET',
  unplug: 'Unplug',
  unplugged: 'unplugged',
}

export const documentProblemText = (problem: string) => `That document cannot be used: ${problem}.`

/** A device in the page's chooser (the virtual devices'): its USB product name and serial number, as browsers list them. */
export const chooserItem = (productName: string | undefined, serial: string | undefined) => `${productName ?? 'USB device'} (${serial ?? '?'})`

/** Said after a failure whose write went out but was not read back. */
export const writeUnknownText = () => "The byte's state after the write is unknown: read it again once the device is back."

/** The note at the foot of the page. */
export const privacyText = () =>
  `This page sends nothing anywhere: it talks only to the USB devices you connect. It is a static page: publish dist/web on any HTTPS host, or run it on this computer with ${commandLine(STANDALONE, 'web')}.`

/** What `web` prints while it serves the page. */
export const SERVE = {
  opened: 'Opened it in your browser (it needs Chrome or Edge). Ctrl-C stops the server.',
  open: 'Open it in Chrome or Edge. Ctrl-C stops the server.',
  serving: (url: string) => `The web doctor is served at ${url}`,
  stopped: 'Stopped serving the web doctor.',
}

/** What the page's live region says of a device (screen readers hear it when it changes). */
export function announceText(d: {outcome: null | Outcome; platformName: string; stage?: 'dfu' | 'safe'; waiting: boolean}): string {
  if (d.stage) return `${d.platformName}: ${buttonsText(d.stage).heading}.`
  if (d.waiting) return `${d.platformName}: ${PAGE.allowTitle}.`
  return d.outcome ? `${d.platformName}: ${OUTCOME[d.outcome]}.` : ''
}
