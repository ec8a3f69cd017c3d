/**
 * Every failure a person can meet: a stable code, a documented exit status, and words composed here from the data
 * the caller passes (callers never pass prose). Words that name one of our commands are composed when the error
 * is shown, with the CLI the person typed (`words(cli)`), so nothing rewrites them afterwards. Code that must tell
 * errors apart asks `errorIs`, never compares code strings. docs/architecture.md, "Words".
 */
import {commandLine} from './cli.js'
import {DfuNotPermitted, errorWords as words, makeError as make, RequestPendingTimeout, SetupFlagError, suggestRun as run} from './error.js'
import {EXIT, type ExitCode} from './exits.js'
import {DFU_BUTTONS, DFU_BY_HAND, DFU_STEPS, SAFE_MODE_BUTTONS, SAFE_MODE_BY_HAND, SAFE_MODE_STEPS, udevInstallCommand} from './instructions.js'
import {resultName} from './particle/results.js'
import {oneLine, showControl} from './redact.js'
import {BACK, type Back, count, dfuDetail, type DfuProblem, type DoneSoFar, doneText, hex, listText, connectedNow, type Nearby, nearbyLines, type OfflineBy, offlineWords, requestLabel, seconds} from './words.js'

export {type Back, BACK, type DfuProblem, type DoneSoFar, type Nearby, type OfflineBy, requestLabel} from './words.js'

export {EXIT, type ExitCode} from './exits.js'
export {type Compose, DfuNotPermitted, type ErrorCode, errorIs, type ErrorJson, isCancellation, isSetupFlagError, RequestPendingTimeout, SetupFlagError, type Words} from './error.js'

/** What a command needs the cloud for (names the sentence of the offline and not-logged-in errors). */
export type CloudNeed = 'audit' | 'firmware' | {name: string}

const NEEDS = {audit: 'The audit reads the Particle Cloud', firmware: 'The firmware method needs the Particle Cloud'}
const LOGIN = {
  audit: 'Log in with `particle login` (the same profile the official CLI uses), then run the command again.',
  firmware: 'Log in with `particle login`, then run the command again.',
}


export const errors = {
  /** `prefix`: hex digits that could start an ID (6 to 23), matched in vain against the `connected` devices. */
  badDeviceId: (arg: string, o: {connected?: Nearby[]; prefix?: boolean} = {}) => {
    const none = o.connected?.length ? ` No connected device's ID starts with it (the first 6 or more digits of a connected device's ID also name it).${connectedNow(o.connected)}` : ' No device is connected whose ID could start with it.'
    return make('SETUP_FLAG_BAD_DEVICE_ID', EXIT.USAGE, `"${oneLine(arg)}" is not a device ID: a device ID is 24 hexadecimal digits.${o.prefix ? none : ''}`, [
      run('Run `', 'get', '` with no argument to list the connected devices and their IDs.'),
    ])
  },
  /** Hex digits that start the ID of several connected devices (`matches`). */
  ambiguousPrefix: (arg: string, matches: Nearby[]) =>
    make('SETUP_FLAG_MULTIPLE_DEVICES', EXIT.NO_DEVICE, `"${oneLine(arg)}" starts the ID of ${matches.length} connected devices:\n${nearbyLines(matches.map((m) => ({...m, off: 0})))}`, [
      'Give more of the ID, enough digits for one device (or all 24).',
    ]),
  noDevices: () =>
    make('SETUP_FLAG_NO_DEVICE', EXIT.NO_DEVICE, 'No Particle device is connected over USB.', [
      'Connect the device with a USB data cable (some cables carry power only) and run the command again.',
      'On Linux, if `lsusb` lists a 2b04 device, check the udev rules (`particle usb configure`).',
    ]),
  /** A device named is not on USB; `online`: the cloud says it is (fix it over the air); `connected`: those on USB, closest first. */
  notConnected: (d: {connected?: Nearby[]; id: string; name?: string; online?: boolean}) => {
    const who = d.name ? `${d.name} (${d.id})` : d.id
    const usb = run('Connect it with a USB data cable, or run `', 'get', '` to see what is connected.')
    if (!d.online) return make('SETUP_FLAG_NOT_CONNECTED', EXIT.NO_DEVICE, `Device ${who} is not connected over USB.${connectedNow(d.connected)}`, [usb])
    return make('SETUP_FLAG_NOT_CONNECTED', EXIT.NO_DEVICE, `Device ${who} is not connected over USB, but it is online in the Particle Cloud.${connectedNow(d.connected, 'Connected over USB now')}`, [
      run('Fix it over the air: ', `set ${d.name ?? d.id} --method firmware --restore <your-production-firmware.bin>`),
      usb,
    ])
  },
  /** Several devices and none chosen; `all` when the command takes --all. */
  multipleDevices: (list: string[], o: {all: boolean; command: string}) =>
    make('SETUP_FLAG_MULTIPLE_DEVICES', EXIT.NO_DEVICE, `Found ${list.length} Particle devices; name the one you mean:\n${list.map((l) => `  ${l}`).join('\n')}`, [
      o.all ? 'Pass a device ID (or name), or --all for every connected device.' : run('Pass its device ID (or name): `', `${o.command} <device>`, '`.'),
    ]),
  noUsbSubsystem: (cause?: unknown) =>
    make('SETUP_FLAG_NO_USB', EXIT.USB_UNAVAILABLE, 'This machine has no USB subsystem that Node can reach (no /sys/bus/usb), so no device can be seen.', [
      'Run this on a machine with the device plugged in; in a container or VM, pass the USB bus through.',
      run('To try the tool without hardware, on a bundled example: PARTICLE_VIRTUAL_DEVICES=stuck-argon ', 'get'),
    ], {cause}),
  accessDenied: (id: string | undefined, cause?: unknown) =>
    make('SETUP_FLAG_USB_ACCESS', EXIT.USB_ACCESS, `Permission denied opening ${id ? `device ${id}` : 'the USB device'}: this user may not access Particle USB devices.`, [
      'Install the udev rule with `particle usb configure` (official CLI), or write it yourself:',
      udevInstallCommand(),
      'Then unplug the device and plug it in again.',
      // Seen through the kernel (docs/protocol.md §7): Debian's 50-udev-default.rules sorts after 50-particle.rules
      // and sets MODE="0664" again, so access comes from the rule's GROUP="plugdev".
      'On Debian and Ubuntu the access comes through the plugdev group: if it still fails, run `sudo usermod -aG plugdev $USER` and log in again.',
    ], {cause}),
  stall: (what: string, cause?: unknown) =>
    make('SETUP_FLAG_USB_STALL', EXIT.DEVICE, `The device refused ${what} (USB stall).`, ['Reset the device (tap RESET) and run the command again.'], {cause}),
  timeout: (what: string, cause?: unknown) =>
    make('SETUP_FLAG_TIMEOUT', EXIT.DEVICE, `The device did not answer ${what} in time.`, [`If its application keeps the system busy, put it in Safe Mode: ${SAFE_MODE_BUTTONS}, then run the command again.`], {cause}),
  /** The firmware accepted a request and left it pending past its deadline: its system thread is busy. */
  requestPending: (type: number, o: {unstick?: boolean} = {}) =>
    new RequestPendingTimeout(type, words(`The device accepted ${requestLabel(type)} but never completed it: its firmware is not serving USB requests.`, [
      `If its application keeps the system busy, put it in Safe Mode: ${SAFE_MODE_BUTTONS}, then run the command again.`,
      ...(o.unstick ? [run('If it is stuck trying to connect, `', 'get --unstick', '` aborts the attempt (raw request 302); that takes it off the cloud until it restarts.')] : []),
    ])),
  disconnected: (id: string | undefined, cause?: unknown) =>
    make('SETUP_FLAG_DISCONNECTED', EXIT.DEVICE, id ? `Device ${id} disconnected during the operation.` : 'Device disconnected during the operation.', [
      'Check the cable and connection, plug the device in again and rerun the command.',
    ], {cause}),
  protocol: (what: string, cause?: unknown) =>
    make('SETUP_FLAG_PROTOCOL', EXIT.DEVICE, `The device sent an unexpected reply to ${what}.`, [
      'Reset the device and try again; if it persists, run with DEBUG=* (secrets are removed from its output) and report it.',
    ], {cause}),
  deviceResult: (type: number, result: number) =>
    make('SETUP_FLAG_DEVICE_ERROR', EXIT.DEVICE, `The device answered ${requestLabel(type)} with error ${result} (${resultName(result)}).`, ['Reset the device and try again.']),
  protectedDevice: (id: string | undefined) =>
    make('SETUP_FLAG_PROTECTED', EXIT.PROTECTED, id ? `Device ${id} is protected (Device Protection): it refuses this over USB.` : 'Device is protected (Device Protection): it refuses this over USB.', [
      'Protected devices run Device OS 6 or later, where the setup-done flag no longer exists; nothing needs fixing.',
    ]),
  /** The bootloader refused a DFU operation: Device Protection, or a read-only region. */
  dfuNotPermitted: (what: string, alt: number) =>
    new DfuNotPermitted(words(`The bootloader does not permit ${what} on alt setting ${alt} (Device Protection or a read-only region).`, [
      'Protected devices run Device OS 6 or later, where the setup-done flag no longer exists; nothing needs fixing.',
    ])),
  /** A DfuSe step failed; a failed data write is "the write did not take" (exit 8), anything else exit 6. */
  dfu: (step: string, problem: DfuProblem, cause?: unknown) =>
    make('SETUP_FLAG_DFU', step === 'write' ? EXIT.WRITE : EXIT.DEVICE, `DFU ${step} failed: ${(dfuDetail[problem.kind] as (p: DfuProblem, s: string) => string)(problem, step)}.`, [
      'Tap RESET to leave DFU mode, then run the command again.',
    ], {cause}),
  /** `connected`: the devices on USB, closest first to the name (a short piece of an ID looks like a name). */
  notLoggedIn: (name: string, connected?: Nearby[]) =>
    make('SETUP_FLAG_NOT_LOGGED_IN', EXIT.CLOUD, `"${oneLine(name)}" looks like a device name, and names need the Particle Cloud, but you are not logged in.${connectedNow(connected, 'Connected over USB now')}`, [
      run('Log in with `particle login`, or use the device ID (`', 'get', '` lists the connected IDs).'),
    ]),
  invalidToken: (cause?: unknown) =>
    make('SETUP_FLAG_INVALID_TOKEN', EXIT.CLOUD, 'The Particle Cloud rejected your access token: it is invalid or has expired.', ['Log in again with `particle login`.'], {cause}),
  cloudDeviceNotFound: (arg: string, cause?: unknown, connected?: Nearby[]) =>
    make('SETUP_FLAG_UNKNOWN_DEVICE', EXIT.CLOUD, `The Particle Cloud knows no device "${oneLine(arg)}" in your account (an unknown name, or someone else's device).${connectedNow(connected, 'Connected over USB now')}`, [
      'Check the name with `particle list`, or use the device ID.',
      'Logged in to the right account? `particle whoami`',
    ], {cause}),
  cloudUnavailable: (detail: string, cause?: unknown) =>
    make('SETUP_FLAG_CLOUD_UNAVAILABLE', EXIT.CLOUD, `The Particle Cloud is unavailable (${detail}).`, ['Check the network connection (and HTTPS_PROXY), or use the device ID and --offline.'], {cause}),
  /** A 429 whose Retry-After does not fit in the request's deadline (or says nothing): the wait in seconds, from the header. */
  cloudRateLimited: (retryAfterSeconds?: number, deadlineSeconds?: number) =>
    make('SETUP_FLAG_CLOUD_UNAVAILABLE', EXIT.CLOUD, `The Particle Cloud is unavailable (rate limited: too many requests; ${
      retryAfterSeconds === undefined ? 'it did not say how long to wait' : `it asks to wait ${retryAfterSeconds} s${deadlineSeconds === undefined ? '' : `, longer than the ${deadlineSeconds} s this request may take`}`
    }).`, [`Run the command again ${retryAfterSeconds === undefined ? 'a little later' : `in ${retryAfterSeconds} s or later`}, or use the device ID and --offline.`]),
  /** An answer past the bound every cloud answer is read against (cloud/bounded.ts). */
  cloudAnswerTooLarge: (what: string, limitBytes: number, cause?: unknown) =>
    make('SETUP_FLAG_CLOUD_TOO_LARGE', EXIT.CLOUD, `The Particle Cloud's answer to ${oneLine(what)} was larger than ${Math.round(limitBytes / 1024 / 1024)} MiB, far more than its API sends, so it was not read further.`, [
      "Check PARTICLE_API_URL / the profile's apiUrl and any proxy (HTTPS_PROXY): something other than the Particle API may have answered.",
    ], {cause}),
  cloudMalformed: (what: string) =>
    make('SETUP_FLAG_CLOUD_MALFORMED', EXIT.CLOUD, `The Particle Cloud sent ${what}.`, ['Run the command again; if it persists, check the API URL of your profile (`particle config`).']),
  /** The cloud answered, but not with what its API sends (not JSON, not a list): a proxy or portal in the way. */
  cloudBadAnswer: (what: string, detail: string, cause?: unknown) =>
    make('SETUP_FLAG_CLOUD_BAD_ANSWER', EXIT.CLOUD, `The Particle Cloud sent an unexpected answer to ${what} (${detail}).`, [
      "Check PARTICLE_API_URL / the profile's apiUrl and any proxy (HTTPS_PROXY): something other than the Particle API answered.",
    ], {cause}),
  /** A 403/404 on a request that is not about one device (compiling, downloading a binary). */
  cloudRefused: (what: string, status: number, cause?: unknown) =>
    make('SETUP_FLAG_CLOUD_REFUSED', EXIT.CLOUD, `The Particle Cloud refused ${what} (HTTP ${status}).`, [
      'Check that your account may compile for this platform (`particle whoami`), or use --method usb or --method dfu.',
    ], {cause}),
  productNotFound: (product: string) =>
    make('SETUP_FLAG_UNKNOWN_PRODUCT', EXIT.CLOUD, `The Particle Cloud knows no product "${product}" that you may read (a wrong ID or slug, or you are not on its team).`, [
      'Check the product ID or slug in the console (console.particle.io), and that `particle whoami` is a member of its team.',
    ]),
  /** Some of an audit's pages or named devices could not be read; `unknown` of them the cloud does not know at all. */
  notAllRead: (o: {count: number; exact: boolean; unknown: string[]; what: string[]}) => {
    const busy = o.what.length > o.unknown.length
    return make('SETUP_FLAG_NOT_ALL_READ', EXIT.CLOUD, `${o.exact ? '' : 'Up to '}${count(o.count, 'device')} could not be read (${o.what.join(', ')}); the counts cover only the devices read.`, [
      ...(o.unknown.length > 0 ? [`Not found in the Particle Cloud: ${listText(o.unknown)}. Check the names with \`particle list\`, or use device IDs.`] : []),
      ...(busy ? ['Run the audit again later (the cloud may be busy), or narrow it with --product or device names.'] : []),
    ])
  },
  notOnlineInTime: (who: string, timeoutMs: number) =>
    make('SETUP_FLAG_NOT_ONLINE', EXIT.DEVICE, `${who} did not come online within ${seconds(timeoutMs)}; nothing was flashed.`, [
      'Check with the person on site that the device breathes magenta (Safe Mode) or cyan, then run the same command again (a longer --wait-online if needed).',
    ]),
  /** Ctrl-C while waiting for a device in the field to come online. */
  interrupted: (who: string) =>
    make('SETUP_FLAG_INTERRUPTED', EXIT.INTERRUPTED, `Interrupted before ${who} came online; nothing was flashed.`, ['Run the same command again when the device can be brought online.']),
  /** Ctrl-C or the end of input at a question, or a signal: not a bug; `done` says what had already happened. */
  cancelled: (done: DoneSoFar[] = [], cause?: unknown) => make('SETUP_FLAG_CANCELLED', EXIT.INTERRUPTED, 'Cancelled.', done.map((d) => doneText(d)), {cause}),
  /** The person said no to a fix (doctor): not fixed; `later` is the command that fixes it. */
  declined: (done: DoneSoFar[], later: string) =>
    make('SETUP_FLAG_DECLINED', EXIT.DECLINED, 'Not fixed: you declined the fix.', [...done.map((d) => doneText(d)), run('To fix it later: ', later)]),
  restoreFile: (file: string, problem: string, cause?: unknown) =>
    make('SETUP_FLAG_RESTORE_FILE', EXIT.USAGE, `The firmware file ${file} cannot be restored: ${problem}.`, ['Pass the application binary (.bin) the device ran before, as built for its platform.'], {cause}),
  /** Flags that do not go together (oclif cannot say these). */
  flags: (kind: 'all-with-devices' | 'restore-needs-firmware' | 'wait-online') => {
    if (kind === 'restore-needs-firmware') return make('SETUP_FLAG_USAGE', EXIT.USAGE, '--restore goes with --method firmware: it flashes production firmware back over the air.', ['Add --method firmware, or drop --restore.'])
    if (kind === 'wait-online') {
      return make('SETUP_FLAG_USAGE', EXIT.USAGE, '--wait-online goes with --method firmware and one device named: it waits for that device to come online in the field.', [run('', 'set my-boron --method firmware --wait-online')])
    }
    return make('SETUP_FLAG_USAGE', EXIT.USAGE, '--all means every connected device; it does not go with DEVICE arguments.', ['Drop --all to fix the devices named, or drop the names to fix every connected device.'])
  },
  /** An oclif parse error (bad flag value, missing or unknown argument), its text made one line; `command` for its help. */
  parse: (message: string, command: string | undefined, exit: ExitCode = EXIT.USAGE) =>
    make('SETUP_FLAG_USAGE', exit, message, [(cli) => `See \`${command ? commandLine(cli, `${command} --help`) : `${cli.bin} --help`}\`.`]),
  /** A word that is none of our commands (`gett`), with the closest of them when one is near. */
  unknownCommand: (typed: readonly string[], closest?: string) =>
    new SetupFlagError('SETUP_FLAG_USAGE', EXIT.USAGE, (cli) => ({
      message: `${oneLine(typed.join(' '))} is not a ${cli.bin} command.`,
      suggestions: [...(closest ? [`Did you mean \`${commandLine(cli, closest)}\`?`] : []), `Run \`${commandLine(cli, '--help')}\` for the list of commands.`],
    })),
  /** --json with no command: nothing to answer in JSON. */
  jsonWithoutCommand: (commands: readonly string[]) =>
    make('SETUP_FLAG_USAGE', EXIT.USAGE, `--json goes with a command: ${commands.join(', ')}.`, [run('Run `', '--help', '` for the list of commands.')]),
  /** An argument that holds control characters where one of a few words is expected (shown as \xNN). */
  notAChoice: (what: string, input: string, choices: readonly string[]) =>
    make('SETUP_FLAG_USAGE', EXIT.USAGE, `"${showControl(input)}" is not a ${what}: it holds control characters (shown as \\xNN). A ${what} is one of: ${choices.join(', ')}.`, [
      'Type it again without them (a paste can carry characters that do not show).',
    ]),
  needDevice: () =>
    make('SETUP_FLAG_NEED_DEVICE', EXIT.USAGE, 'The firmware method needs the device named (its ID or cloud name): it works over the air.', [run('', 'set my-boron --method firmware')]),
  /** Something needs the cloud, and --offline (or PARTICLE_OFFLINE) turns it off. */
  offline: (need: CloudNeed, by: OfflineBy, connected?: Nearby[]) => {
    const o = offlineWords(by)
    if (typeof need === 'object') {
      return make('SETUP_FLAG_OFFLINE', EXIT.USAGE, `"${oneLine(need.name)}" is a device name, and names need the Particle Cloud, which ${o.name} turns off.${connectedNow(connected, 'Connected over USB now')}`, [`Use the device ID instead, or ${o.drop.toLowerCase()}.`])
    }
    if (need === 'audit') {
      return make('SETUP_FLAG_OFFLINE', EXIT.USAGE, `The audit reads the Particle Cloud and nothing else, which ${o.name} turns off, so there is nothing to audit.`, [
        `${o.drop}: the audit only reads (GET requests) and changes nothing on a device or in the cloud.`,
        run('To try it without a Particle account, on the bundled virtual cloud: PARTICLE_VIRTUAL_CLOUD=fleet ', 'audit --product pumps'),
      ])
    }
    return make('SETUP_FLAG_OFFLINE', EXIT.USAGE, `${NEEDS[need]}, which ${o.name} turns off.`, [`${o.drop}.`])
  },
  /** Something works through the cloud and there is no token. */
  needsLogin: (need: 'audit' | 'firmware') =>
    make('SETUP_FLAG_NOT_LOGGED_IN', EXIT.CLOUD, `${need === 'audit' ? 'The audit reads the Particle Cloud' : 'The firmware method works through the Particle Cloud'}, and you are not logged in.`, [LOGIN[need]]),
  notInteractive: () =>
    make('SETUP_FLAG_NOT_INTERACTIVE', EXIT.USAGE, 'The doctor asks before it acts, and there is no terminal to ask in.', [
      'Run it in a terminal, or pass --yes to take every recommended action (add --json for a report).',
    ]),
  needsYes: (who: string) => make('SETUP_FLAG_CONFIRM', EXIT.USAGE, `Flashing ${who} replaces its application, so it needs a yes.`, ['Run it in a terminal to answer, or pass --yes.']),
  noFirmwareFile: (file: string) =>
    make('SETUP_FLAG_BAD_FILE', EXIT.USAGE, `--restore: no firmware file at ${file}.`, ['Give the path of your production firmware binary (.bin), e.g. from `particle compile`.']),
  watchArgs: (args: string[]) =>
    make('SETUP_FLAG_WATCH_ARGS', EXIT.USAGE, `--watch takes every Particle device plugged in, so it takes no DEVICE (got ${args.join(' ')}).`, [
      run('Drop the DEVICE arguments: ', 'set --watch'),
      'To fix only named devices, leave out --watch.',
    ]),
  watchMethod: () =>
    make('SETUP_FLAG_WATCH_METHOD', EXIT.USAGE, '--watch works over USB; the firmware method works over the air on named devices, so they do not go together.', ['Use --method auto, usb or dfu with --watch.']),
  settingsNotJson: (file: string, cause?: unknown) =>
    make('SETUP_FLAG_SETTINGS', EXIT.CLOUD, `The Particle CLI settings file ${file} is not valid JSON.`, ['Fix or delete the file, then log in again with `particle login`.'], {cause}),
  badProfile: (profile: string) => make('SETUP_FLAG_SETTINGS', EXIT.CLOUD, `"${profile}" is not a valid Particle CLI profile name.`),
  /**
   * The device did not come back in time: after our own request (`by: 'request'`), after the person was asked for
   * buttons (`'buttons'`), or after a replug the person was asked for (`'replug'`); each is told its own way back.
   */
  noReturn: (o: {back: Back; by: 'buttons' | 'replug' | 'request'; id: string; timeoutMs: number}) => {
    const dfu = o.back === 'dfu' || o.back === 'dfu-buttons'
    const next =
      o.by === 'replug'
        ? ['Unplug the device and plug it in again (a data cable, straight into this computer), then run the doctor again.']
        : o.by === 'buttons'
          ? [dfu ? DFU_STEPS : SAFE_MODE_STEPS, 'Then run the doctor again.']
          : [dfu ? DFU_BY_HAND : 'Check the cable, tap RESET, and run the command again.']
    return make('SETUP_FLAG_NO_RETURN', EXIT.DEVICE, `Device ${o.id} did not come back ${BACK[o.back]} within ${seconds(o.timeoutMs)}.`, next)
  },
  noDeviceInTime: (timeoutMs: number) =>
    make('SETUP_FLAG_NO_DEVICE', EXIT.NO_DEVICE, `No device was connected within ${seconds(timeoutMs)}.`, ['Check the cable (a data cable, not a charging-only one) and run the doctor again.']),
  /** The firmware does not carry out our requests, not even the one that would get round it (`asked`). */
  notResponding: (o: {asked: 'dfu' | 'retries' | 'safe-mode'; id?: string}, cause?: unknown) => {
    if (o.asked === 'dfu') {
      return make('SETUP_FLAG_NOT_RESPONDING', EXIT.DEVICE, `Device ${o.id} does not answer the request to restart in DFU mode: its application is blocking the system. It may still restart in DFU mode on its own if it frees up.`, [DFU_BY_HAND], {cause})
    }
    if (o.asked === 'retries') return make('SETUP_FLAG_NOT_RESPONDING', EXIT.DEVICE, 'The device still does not answer USB requests after restarting.', [DFU_STEPS, run('Then run `', 'set', '`.')], {cause})
    return make('SETUP_FLAG_NOT_RESPONDING', EXIT.DEVICE, `Device ${o.id} does not answer USB requests, not even the request to enter Safe Mode: its application is blocking the system. The requests it accepted may still run if it frees up (it may then restart in Safe Mode on its own).`, [SAFE_MODE_BY_HAND], {cause})
  },
  versionUnknown: (id: string, o: {failed?: boolean; loggedIn: boolean; offline: boolean}) =>
    make('SETUP_FLAG_VERSION_UNKNOWN', EXIT.DEVICE, `Nothing written to ${id}: its Device OS version is unknown (no readable system part), and the flag matters only below 4.0.`, [
      o.offline
        ? 'Drop --offline (or unset PARTICLE_OFFLINE): logged in, the cloud tells the version it last saw. Or pass --force to write anyway (on 4.0 and later the byte is ignored).'
        : !o.loggedIn
          ? 'Log in with `particle login` so the cloud can tell the version it last saw, or pass --force to write anyway (on 4.0 and later the byte is ignored).'
          : o.failed
            ? 'The Particle Cloud, asked for the version it last saw, did not answer: run the command again when it does, or pass --force to write anyway (on 4.0 and later the byte is ignored).'
            : 'The cloud does not know its version either: let it run Device OS and connect once, or pass --force to write anyway (on 4.0 and later the byte is ignored).',
    ]),
  /** The write was accepted but what was read back (or reported) differs (exit 8). */
  verify: (o: {done: boolean; id: string; method: 'usb'} | {got: number; id: string; method: 'dfu'; wanted: number} | {method: 'firmware'; reported: string; wanted: number}) => {
    if (o.method === 'usb') {
      return make('SETUP_FLAG_VERIFY', EXIT.WRITE, `Device ${o.id} accepted the write, but reading the flag back says it is ${o.done ? 'set' : 'not set'}.`, [`Try --method dfu: ${DFU_BUTTONS}, then run the command again.`])
    }
    if (o.method === 'dfu') {
      return make('SETUP_FLAG_VERIFY', EXIT.WRITE, `Device ${o.id}: wrote ${hex(o.wanted)} at DCT 8134 but read back ${hex(o.got)}.`, [
        'Tap RESET and run the command again; if it persists, the DCT may be damaged: contact Particle support.',
      ])
    }
    return make('SETUP_FLAG_VERIFY', EXIT.WRITE, `The device reported the setup-done byte as "${oneLine(o.reported).slice(0, 40)}", not ${o.wanted.toString(16).padStart(2, '0')}.`, [
      'Flash your production firmware back, and fix the device over USB when you can.',
    ])
  },
  unknownPlatform: (id: string, platformId: unknown) =>
    platformId === undefined
      ? make('SETUP_FLAG_UNKNOWN_PLATFORM', EXIT.CLOUD, `The Particle Cloud's record of device ${id} does not say its platform (no numeric platform_id), so no firmware can be built for it.`, [
          run('Run the command again later; or fix the device over USB (`', 'set', '`), which reads the platform from the device.'),
        ])
      : make('SETUP_FLAG_UNKNOWN_PLATFORM', EXIT.CLOUD, `Device ${id} has an unknown platform (${oneLine(String(platformId))}).`),
  noVersion: (who: string) =>
    make('SETUP_FLAG_NO_VERSION', EXIT.CLOUD, `The cloud does not know which Device OS ${who} runs, so no firmware can be built for it.`, [
      'Let the device connect to the cloud once (it then reports its version), or fix it over USB.',
    ]),
  deviceOffline: (who: string) =>
    make('SETUP_FLAG_OFFLINE_DEVICE', EXIT.CLOUD, `${who} is not online, so nothing can be flashed to it over the air.`, [
      run('Have someone near the device get it online (Wi-Fi credentials or cellular), or fix it over USB with `', 'set', '`.'),
    ]),
  noEvent: (waitMs: number) =>
    make('SETUP_FLAG_NO_EVENT', EXIT.DEVICE, `The device did not report back within ${seconds(waitMs)} after the flash.`, [
      'Check that it is online (`particle list`) and watch `particle subscribe setup-flag/result`; the flag may still have been set.',
    ]),
  /** The flag is set (the device reported `byte`), but flashing the production firmware back (`file`, as given) failed. */
  restoreFailed: (o: {byte: null | number; file: string; who: string}, cause?: SetupFlagError) =>
    make('SETUP_FLAG_RESTORE_FAILED', EXIT.CLOUD, `The flag is set (the device reported ${o.byte === null ? 'it' : o.byte.toString(16).padStart(2, '0')}), but flashing ${o.file.split(/[\\/]/).pop()} back failed${cause ? `: ${cause.message.replace(/\.+$/, '')}` : ''}. The device still runs the preparatory firmware.`, [
      `Flash your production firmware back: \`particle flash ${o.who} ${shellWord(o.file)}\`.`,
    ], {cause}),
  /** Anything that is not ours: a bug. `message` is the raw text. */
  unexpected: (message: string, o: {bug?: boolean; cause?: unknown} = {}) =>
    make('SETUP_FLAG_UNEXPECTED', EXIT.UNEXPECTED, `Unexpected error: ${message}`, o.bug ? ['This is a bug: please report it with the output of the same command run with DEBUG=*.'] : [], {cause: o.cause}),
  // --- USB on Windows and macOS (docs/platforms.md) ---
  /** The device's interface has no driver the `usb` package can use; on Windows ("win32") the control interface lacks WinUSB. */
  usbDriver: (o: {deviceId?: string; system: string}, cause?: unknown) =>
    make('SETUP_FLAG_USB_DRIVER', EXIT.USB_ACCESS, `${o.deviceId ? `Device ${o.deviceId}` : 'The device'} cannot be used: ${o.system === 'win32' ? 'Windows has not given its USB control interface the WinUSB driver' : 'its USB interface has a driver this tool cannot use'}.`, o.system === 'win32' ? [
      'Windows 10 and 11 install WinUSB for it by themselves (Device OS asks for it): unplug the device, plug it in again, wait until Windows has set it up, and run the command again.',
      'If another driver was installed for it (Zadig with libusbK or libusb-win32, or the old Particle driver package): in Device Manager, on its "Control Interface" (or "DFU Mode") entry, choose Uninstall device with "Delete the driver software for this device", then plug it in again.',
      'Windows 7 and 8 do not install it by themselves: install WinUSB for its "Control Interface" (and its "DFU Mode") with Zadig. See docs/platforms.md in the repository.',
    ] : ['Unplug the device and plug it in again; if it persists, run with DEBUG=* and report it (docs/platforms.md in the repository).'], {cause}),
  /** Another program holds the device (or Windows or macOS refused access, which means the same there). */
  usbBusy: (o: {deviceId?: string; system: string}, cause?: unknown) =>
    make('SETUP_FLAG_USB_BUSY', EXIT.USB_ACCESS, `${o.deviceId ? `Device ${o.deviceId}` : 'The device'} is in use by another program, so it cannot be opened here.`, [
      'Close the other programs that talk to it over USB (the official Particle CLI, Particle Workbench, dfu-util, another run of this tool), then run the command again.',
      o.system === 'win32'
        ? 'On Windows one program at a time can use a WinUSB device; the next gets "access denied" (error 5). If no other program runs, unplug the device and plug it in again.'
        : o.system === 'darwin'
          ? 'On macOS a program that opened it for exclusive access keeps it until it quits (kIOReturnExclusiveAccess); unplugging and plugging it in again frees it too.'
          : 'On Linux, `sudo lsof /dev/bus/usb/*/*` names the program that holds it.',
    ], {cause}),
  /**
   * The serial line of a device (its CDC ACM interface, docs/protocol.md §10) cannot be used: it has none ('no-cdc'),
   * this system's USB library cannot take it from the system's serial driver ('no-detach': macOS, Windows, a
   * browser), or claiming it failed ('claim').
   */
  serialLine: (id: string, reason: 'claim' | 'no-cdc' | 'no-detach', cause?: unknown) =>
    make('SETUP_FLAG_SERIAL_LINE', EXIT.DEVICE, {
      claim: `Device ${id}'s USB serial interface could not be claimed.`,
      'no-cdc': `Device ${id} has no USB serial interface to set a line coding on.`,
      'no-detach': `Device ${id}'s USB serial interface belongs to this system's serial driver, which this tool cannot reach here.`,
    }[reason], [DFU_BY_HAND], {cause}),
  /** `web`: the page was not built into the package (a clone that skipped `npm run build`). */
  pageNotBuilt: (dir: string) =>
    make('SETUP_FLAG_NO_PAGE', EXIT.UNEXPECTED, `The web doctor's page is not built: ${oneLine(dir)} has no index.html.`, [
      'In a clone, run `npm run build` first; an installed package ships the page, so install it again.',
    ]),
  /** `web --port`: another program listens on that port of 127.0.0.1. */
  portInUse: (port: number, cause?: unknown) =>
    make('SETUP_FLAG_PORT_IN_USE', EXIT.USAGE, `Port ${port} of 127.0.0.1 is in use by another program.`, [
      run('Pick another port (`', `web --port ${port + 1}`, '`), or leave --port out for a free one.'),
    ], {cause}),
}

/** Anything thrown, as one of ours (what is not ours is unexpected). */
export function asSetupFlagError(e: unknown): SetupFlagError {
  if (e instanceof SetupFlagError) return e
  return errors.unexpected(String((e as Error)?.message ?? e), {cause: e})
}


/** The udev rule and result-code names: the one copies are in instructions.ts and particle/results.ts. */
export {UDEV_RULE} from './instructions.js'
export {resultName} from './particle/results.js'

/** A path as one word of a shell command to copy: as it is when it is plain, else in single quotes. */
function shellWord(path: string): string {
  const shown = oneLine(path)
  return /^[\w@%+=:,./-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", "'\\''")}'`
}
