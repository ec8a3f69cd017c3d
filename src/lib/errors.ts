import {SAFE_MODE_BUTTONS, udevInstallCommand} from './instructions.js'
import {resultName} from './particle/results.js'
import {oneLine, showControl} from './redact.js'

/**
 * Every failure a user can meet, with a stable code, a documented exit status and the next step to take.
 * Commands never build error text inline; they throw one of these (or receive one per device).
 *
 * Exit statuses (documented in the README):
 *   0  success (every device answered; `get` reports the flag whatever its value)
 *   1  unexpected internal error (a bug: please report it with DEBUG=* output)
 *   2  bad input: unknown flag, malformed device ID, malformed devices file
 *   3  no device: nothing connected, the named device is not connected, several and none chosen
 *   4  no USB access at all: no USB subsystem on this machine
 *   5  USB permission denied (udev rules missing on Linux)
 *   6  the device did not answer properly: stall, timeout, unplugged mid-way, unexpected reply
 *   7  the Particle Cloud failed (not logged in, bad token, unknown name, unreachable)
 *   8  the write did not take: the device reported an error or the read-back differs
 *   9  Device Protection refuses the operation
 * 130  cancelled: Ctrl-C or end of input at a question, a declined fix (doctor), or a second Ctrl-C (station)
 * 141  the output was cut: the reader of stdout or stderr closed it early (bin/closed-pipe.js sets it)
 */
export const EXIT = {
  OK: 0,
  UNEXPECTED: 1,
  USAGE: 2,
  NO_DEVICE: 3,
  USB_UNAVAILABLE: 4,
  USB_ACCESS: 5,
  DEVICE: 6,
  CLOUD: 7,
  WRITE: 8,
  PROTECTED: 9,
  INTERRUPTED: 130,
  CLOSED_PIPE: 141,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** Every error code this tool reports (a stable interface: scripts branch on them). */
export type ErrorCode =
  | 'SETUP_FLAG_BAD_DEVICE_ID'
  | 'SETUP_FLAG_BAD_FILE'
  | 'SETUP_FLAG_CANCELLED'
  | 'SETUP_FLAG_CLOUD_BAD_ANSWER'
  | 'SETUP_FLAG_CLOUD_MALFORMED'
  | 'SETUP_FLAG_CLOUD_REFUSED'
  | 'SETUP_FLAG_CLOUD_TOO_LARGE'
  | 'SETUP_FLAG_CLOUD_UNAVAILABLE'
  | 'SETUP_FLAG_CONFIRM'
  | 'SETUP_FLAG_DECLINED'
  | 'SETUP_FLAG_DEVICES_FILE'
  | 'SETUP_FLAG_DEVICES_FILE_WRITE'
  | 'SETUP_FLAG_DEVICE_ERROR'
  | 'SETUP_FLAG_DFU'
  | 'SETUP_FLAG_DISCONNECTED'
  | 'SETUP_FLAG_INTERRUPTED'
  | 'SETUP_FLAG_INVALID_TOKEN'
  | 'SETUP_FLAG_MULTIPLE_DEVICES'
  | 'SETUP_FLAG_NEED_DEVICE'
  | 'SETUP_FLAG_NOT_ALL_READ'
  | 'SETUP_FLAG_NOT_CONNECTED'
  | 'SETUP_FLAG_NOT_INTERACTIVE'
  | 'SETUP_FLAG_NOT_LOGGED_IN'
  | 'SETUP_FLAG_NOT_ONLINE'
  | 'SETUP_FLAG_NOT_RESPONDING'
  | 'SETUP_FLAG_NO_DEVICE'
  | 'SETUP_FLAG_NO_EVENT'
  | 'SETUP_FLAG_NO_RETURN'
  | 'SETUP_FLAG_NO_USB'
  | 'SETUP_FLAG_NO_VERSION'
  | 'SETUP_FLAG_OFFLINE'
  | 'SETUP_FLAG_OFFLINE_DEVICE'
  | 'SETUP_FLAG_PROTECTED'
  | 'SETUP_FLAG_PROTOCOL'
  | 'SETUP_FLAG_RESTORE_FAILED'
  | 'SETUP_FLAG_RESTORE_FILE'
  | 'SETUP_FLAG_SETTINGS'
  | 'SETUP_FLAG_TIMEOUT'
  | 'SETUP_FLAG_UNEXPECTED'
  | 'SETUP_FLAG_UNKNOWN'
  | 'SETUP_FLAG_UNKNOWN_DEVICE'
  | 'SETUP_FLAG_UNKNOWN_PLATFORM'
  | 'SETUP_FLAG_UNKNOWN_PRODUCT'
  | 'SETUP_FLAG_USAGE'
  | 'SETUP_FLAG_USB_ACCESS'
  | 'SETUP_FLAG_USB_STALL'
  | 'SETUP_FLAG_VERIFY'
  | 'SETUP_FLAG_VERSION_UNKNOWN'
  | 'SETUP_FLAG_WATCH_ARGS'
  | 'SETUP_FLAG_WATCH_METHOD'

/** An error as reports and `--json` carry it: the one shape, wherever it is printed or stored. */
export interface ErrorJson {
  code: ErrorCode
  exit: ExitCode
  message: string
  suggestions: string[]
}

export interface ErrorDetails {
  cause?: unknown
  exit?: ExitCode
  suggestions?: string[]
}

export class SetupFlagError extends Error {
  readonly exit: ExitCode
  readonly suggestions: string[]

  constructor(
    readonly code: ErrorCode,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : {cause: details.cause})
    this.name = 'SetupFlagError'
    this.exit = details.exit ?? EXIT.UNEXPECTED
    this.suggestions = details.suggestions ?? []
  }

  toJSON(): ErrorJson {
    return {code: this.code, exit: this.exit, message: this.message, suggestions: this.suggestions}
  }
}

/** The udev rule: the one copy is in instructions.ts. */
export {UDEV_RULE} from './instructions.js'

export const errors = {
  badDeviceId: (arg: string) =>
    new SetupFlagError('SETUP_FLAG_BAD_DEVICE_ID', `"${oneLine(arg)}" is not a device ID: a device ID is 24 hexadecimal digits.`, {
      exit: EXIT.USAGE,
      suggestions: ['Run `particle-setup-flag get` with no argument to list the connected devices and their IDs.'],
    }),

  devicesFile: (file: string, problem: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_DEVICES_FILE', `The virtual devices file ${file} is not usable: ${problem}.`, {
      cause,
      exit: EXIT.USAGE,
      suggestions: [
        'Fix the file, or unset PARTICLE_VIRTUAL_DEVICES to use real USB.',
        'Its shape: {"devices": [{"id": "<24 hex>", "platform": "argon", "deviceOs": "3.3.1", "mode": "listening", "setupDone": 255, "faults": {}}]}',
      ],
    }),

  noDevices: () =>
    new SetupFlagError('SETUP_FLAG_NO_DEVICE', 'No Particle device is connected over USB.', {
      exit: EXIT.NO_DEVICE,
      suggestions: [
        'Connect the device with a USB data cable (some cables carry power only) and run the command again.',
        'On Linux, if `lsusb` lists a 2b04 device, check the udev rules (`particle usb configure`).',
      ],
    }),

  notConnected: (id: string) =>
    new SetupFlagError('SETUP_FLAG_NOT_CONNECTED', `Device ${id} is not connected over USB.`, {
      exit: EXIT.NO_DEVICE,
      suggestions: ['Connect it with a USB data cable, or run `particle-setup-flag get` to see what is connected.'],
    }),

  multipleDevices: (list: string[]) =>
    new SetupFlagError(
      'SETUP_FLAG_MULTIPLE_DEVICES',
      `Found ${list.length} Particle devices; name the one you mean:\n${list.map((l) => `  ${l}`).join('\n')}`,
      {
        exit: EXIT.NO_DEVICE,
        suggestions: ['Pass a device ID (or name), or --all for every connected device.'],
      },
    ),

  noUsbSubsystem: (cause?: unknown) =>
    new SetupFlagError(
      'SETUP_FLAG_NO_USB',
      'This machine has no USB subsystem that Node can reach (no /sys/bus/usb), so no device can be seen.',
      {
        cause,
        exit: EXIT.USB_UNAVAILABLE,
        suggestions: [
          'Run this on a machine with the device plugged in; in a container or VM, pass the USB bus through.',
          'To try the tool without hardware, on a bundled example: PARTICLE_VIRTUAL_DEVICES=stuck-argon particle-setup-flag get',
        ],
      },
    ),

  accessDenied: (id: string | undefined, cause?: unknown) =>
    new SetupFlagError(
      'SETUP_FLAG_USB_ACCESS',
      `Permission denied opening ${id ? `device ${id}` : 'the USB device'}: this user may not access Particle USB devices.`,
      {
        cause,
        exit: EXIT.USB_ACCESS,
        suggestions: [
          'Install the udev rule with `particle usb configure` (official CLI), or write it yourself:',
          udevInstallCommand(),
          'Then unplug the device and plug it in again.',
          // Seen through the kernel (usb-vm suite): Debian's 50-udev-default.rules sorts after 50-particle.rules
          // and sets MODE="0664" again, so access comes from the rule's GROUP="plugdev".
          'On Debian and Ubuntu the access comes through the plugdev group: if it still fails, run `sudo usermod -aG plugdev $USER` and log in again.',
        ],
      },
    ),

  stall: (what: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_USB_STALL', `The device refused ${what} (USB stall).`, {
      cause,
      exit: EXIT.DEVICE,
      suggestions: ['Reset the device (tap RESET) and run the command again.'],
    }),

  timeout: (what: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_TIMEOUT', `The device did not answer ${what} in time.`, {
      cause,
      exit: EXIT.DEVICE,
      suggestions: [
        `If its application keeps the system busy, put it in Safe Mode: ${SAFE_MODE_BUTTONS}, then run the command again.`,
      ],
    }),

  disconnected: (id: string | undefined, cause?: unknown) =>
    new SetupFlagError(
      'SETUP_FLAG_DISCONNECTED',
      `Device ${id ?? ''} disconnected during the operation.`.replace('  ', ' '),
      {
        cause,
        exit: EXIT.DEVICE,
        suggestions: ['Check the cable and connection, plug the device in again and rerun the command.'],
      },
    ),

  protocol: (what: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_PROTOCOL', `The device sent an unexpected reply to ${what}.`, {
      cause,
      exit: EXIT.DEVICE,
      suggestions: ['Reset the device and try again; if it persists, run with DEBUG=* (secrets are removed from its output) and report it.'],
    }),

  deviceResult: (what: string, result: number) =>
    new SetupFlagError('SETUP_FLAG_DEVICE_ERROR', `The device answered ${what} with error ${result} (${resultName(result)}).`, {
      exit: EXIT.DEVICE,
      suggestions: ['Reset the device and try again.'],
    }),

  protectedDevice: (id: string | undefined) =>
    new SetupFlagError(
      'SETUP_FLAG_PROTECTED',
      `Device ${id ?? ''} is protected (Device Protection): it refuses this over USB.`.replace('  ', ' '),
      {
        exit: EXIT.PROTECTED,
        suggestions: [
          'Protected devices run Device OS 6 or later, where the setup-done flag no longer exists; nothing needs fixing.',
        ],
      },
    ),

  notLoggedIn: (name: string) =>
    new SetupFlagError('SETUP_FLAG_NOT_LOGGED_IN', `"${oneLine(name)}" looks like a device name, and names need the Particle Cloud, but you are not logged in.`, {
      exit: EXIT.CLOUD,
      suggestions: ['Log in with `particle login`, or use the device ID (`particle-setup-flag get` lists the connected IDs).'],
    }),

  invalidToken: (cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_INVALID_TOKEN', 'The Particle Cloud rejected your access token: it is invalid or has expired.', {
      cause,
      exit: EXIT.CLOUD,
      suggestions: ['Log in again with `particle login`.'],
    }),

  cloudDeviceNotFound: (arg: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_UNKNOWN_DEVICE', `The Particle Cloud knows no device "${oneLine(arg)}" in your account (an unknown name, or someone else's device).`, {
      cause,
      exit: EXIT.CLOUD,
      suggestions: ['Check the name with `particle list`, or use the device ID.', 'Logged in to the right account? `particle whoami`'],
    }),

  cloudUnavailable: (detail: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_CLOUD_UNAVAILABLE', `The Particle Cloud is unavailable (${detail}).`, {
      cause,
      exit: EXIT.CLOUD,
      suggestions: ['Check the network connection (and HTTPS_PROXY), or use the device ID and --offline.'],
    }),

  /**
   * The cloud answered 429 (too many requests). `retryAfterSeconds` is its Retry-After header when it sent one;
   * `deadlineSeconds`, when given, is the request's deadline that wait would have passed. The same code as an
   * unavailable cloud (scripts branch on it), in words that say how long to wait.
   */
  cloudRateLimited: (retryAfterSeconds?: number, deadlineSeconds?: number) =>
    new SetupFlagError(
      'SETUP_FLAG_CLOUD_UNAVAILABLE',
      `The Particle Cloud is unavailable (rate limited: too many requests; ${
        retryAfterSeconds === undefined
          ? 'it did not say how long to wait'
          : `it asks to wait ${retryAfterSeconds} s${deadlineSeconds === undefined ? '' : `, longer than the ${deadlineSeconds} s this request may take`}`
      }).`,
      {
        exit: EXIT.CLOUD,
        suggestions: [
          `Run the command again ${retryAfterSeconds === undefined ? 'a little later' : `in ${retryAfterSeconds} s or later`}, or use the device ID and --offline.`,
        ],
      },
    ),

  /** A DfuSe step failed; a failed data write is "the write did not take" (exit 8), anything else exit 6. */
  dfu: (what: string, detail: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_DFU', `DFU ${what} failed: ${detail}.`, {
      cause,
      exit: what === 'write' ? EXIT.WRITE : EXIT.DEVICE,
      suggestions: ['Tap RESET to leave DFU mode, then run the command again.'],
    }),

  cloudMalformed: (what: string) =>
    new SetupFlagError('SETUP_FLAG_CLOUD_MALFORMED', `The Particle Cloud sent ${what}.`, {
      exit: EXIT.CLOUD,
      suggestions: ['Run the command again; if it persists, check the API URL of your profile (`particle config`).'],
    }),

  productNotFound: (product: string) =>
    new SetupFlagError('SETUP_FLAG_UNKNOWN_PRODUCT', `The Particle Cloud knows no product "${product}" that you may read (a wrong ID or slug, or you are not on its team).`, {
      exit: EXIT.CLOUD,
      suggestions: ['Check the product ID or slug in the console (console.particle.io), and that `particle whoami` is a member of its team.'],
    }),

  notAllRead: (count: number, exact: boolean, what: string[]) =>
    new SetupFlagError('SETUP_FLAG_NOT_ALL_READ', `${exact ? '' : 'Up to '}${count} device${count === 1 ? '' : 's'} could not be read (${what.join(', ')}); the counts cover only the devices read.`, {
      exit: EXIT.CLOUD,
      suggestions: ['Run the audit again later (the cloud may be busy), or narrow it with --product or device names.'],
    }),

  notOnlineInTime: (who: string, seconds: number) =>
    new SetupFlagError('SETUP_FLAG_NOT_ONLINE', `${who} did not come online within ${seconds} s; nothing was flashed.`, {
      exit: EXIT.DEVICE,
      suggestions: ['Check with the person on site that the device breathes magenta (Safe Mode) or cyan, then run the same command again (a longer --wait-online if needed).'],
    }),

  interrupted: (what: string) =>
    new SetupFlagError('SETUP_FLAG_INTERRUPTED', `Interrupted ${what}; nothing was flashed.`, {
      exit: EXIT.INTERRUPTED,
      suggestions: ['Run the same command again when the device can be brought online.'],
    }),

  /** Ctrl-C or end of input at a question: not a bug; `done` says what had already happened (one line each). */
  cancelled: (done: string[] = [], cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_CANCELLED', 'Cancelled.', {cause, exit: EXIT.INTERRUPTED, suggestions: done}),

  /** The person said no to a fix (doctor): not fixed, and said so by the exit status. */
  declined: (done: string[] = []) =>
    new SetupFlagError('SETUP_FLAG_DECLINED', 'Not fixed: you declined the fix.', {exit: EXIT.INTERRUPTED, suggestions: done}),

  /** The virtual devices file could not be written back: not a device fault, a problem of the file or its folder. */
  devicesFileWrite: (file: string, problem: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_DEVICES_FILE_WRITE', `The virtual devices file ${file} could not be written back (${problem}); the virtual devices' state is not saved.`, {
      cause,
      exit: EXIT.USAGE,
      suggestions: [
        'Make the file and its folder writable for this user (a temporary file and a .lock file are created beside it), or point PARTICLE_VIRTUAL_DEVICES at a copy in a writable folder.',
      ],
    }),

  /** The cloud answered, but not with what its API sends (not JSON, not a list): a proxy or portal in the way. */
  cloudBadAnswer: (what: string, detail: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_CLOUD_BAD_ANSWER', `The Particle Cloud sent an unexpected answer to ${what} (${detail}).`, {
      cause,
      exit: EXIT.CLOUD,
      suggestions: ['Check PARTICLE_API_URL / the profile\'s apiUrl and any proxy (HTTPS_PROXY): something other than the Particle API answered.'],
    }),

  /** A cloud answer longer than the bound every answer is read against (cloud/bounded.ts); reading stopped there. */
  cloudAnswerTooLarge: (what: string, limitBytes: number, cause?: unknown) =>
    new SetupFlagError(
      'SETUP_FLAG_CLOUD_TOO_LARGE',
      `The Particle Cloud's answer to ${oneLine(what)} was larger than ${Math.round(limitBytes / 1024 / 1024)} MiB, far more than its API sends, so it was not read further.`,
      {
        cause,
        exit: EXIT.CLOUD,
        suggestions: ["Check PARTICLE_API_URL / the profile's apiUrl and any proxy (HTTPS_PROXY): something other than the Particle API may have answered."],
      },
    ),

  /** A 403/404 on a request that is not about one device (compiling, downloading a binary). */
  cloudRefused: (what: string, status: number, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_CLOUD_REFUSED', `The Particle Cloud refused ${what} (HTTP ${status}).`, {
      cause,
      exit: EXIT.CLOUD,
      suggestions: ['Check that your account may compile for this platform (`particle whoami`), or use --method usb or --method dfu.'],
    }),

  /** A --restore firmware file that cannot be used (too big to be firmware, unreadable). */
  restoreFile: (file: string, problem: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_RESTORE_FILE', `The firmware file ${file} cannot be restored: ${problem}.`, {
      cause,
      exit: EXIT.USAGE,
      suggestions: ['Pass the application binary (.bin) the device ran before, as built for its platform.'],
    }),

  // --- Usage: flags and arguments that do not go together ---

  usage: (message: string, suggestions: string[], exit: ExitCode = EXIT.USAGE) =>
    new SetupFlagError('SETUP_FLAG_USAGE', message, {exit, suggestions}),

  /** An argument that is none of `choices` because of control characters in it (shown as \xNN, not removed). */
  notAChoice: (what: string, input: string, choices: readonly string[]) =>
    new SetupFlagError(
      'SETUP_FLAG_USAGE',
      `"${showControl(input)}" is not a ${what}: it holds control characters (shown as \\xNN). A ${what} is one of: ${choices.join(', ')}.`,
      {exit: EXIT.USAGE, suggestions: ['Type it again without them (a paste can carry characters that do not show).']},
    ),

  needDevice: () =>
    new SetupFlagError('SETUP_FLAG_NEED_DEVICE', 'The firmware method needs the device named (its ID or cloud name): it works over the air.', {
      exit: EXIT.USAGE,
      suggestions: ['particle-setup-flag set my-boron --method firmware'],
    }),

  /** Something needs the cloud and --offline (or PARTICLE_OFFLINE) turns it off; `what` opens the sentence. */
  offline: (what: string, suggestions: string[] = []) =>
    new SetupFlagError('SETUP_FLAG_OFFLINE', `${what}, which --offline turns off.`, {exit: EXIT.USAGE, suggestions}),

  /** Something works through the cloud and there is no token; `what` opens the sentence. */
  needsLogin: (what: string, suggestion: string) =>
    new SetupFlagError('SETUP_FLAG_NOT_LOGGED_IN', `${what}, and you are not logged in.`, {exit: EXIT.CLOUD, suggestions: [suggestion]}),

  notInteractive: () =>
    new SetupFlagError('SETUP_FLAG_NOT_INTERACTIVE', 'The doctor asks before it acts, and there is no terminal to ask in.', {
      exit: EXIT.USAGE,
      suggestions: ['Run it in a terminal, or pass --yes to take every recommended action (add --json for a report).'],
    }),

  needsYes: (who: string) =>
    new SetupFlagError('SETUP_FLAG_CONFIRM', `Flashing ${who} replaces its application, so it needs a yes.`, {
      exit: EXIT.USAGE,
      suggestions: ['Run it in a terminal to answer, or pass --yes.'],
    }),

  noFirmwareFile: (file: string) =>
    new SetupFlagError('SETUP_FLAG_BAD_FILE', `--restore: no firmware file at ${file}.`, {
      exit: EXIT.USAGE,
      suggestions: ['Give the path of your production firmware binary (.bin), e.g. from `particle compile`.'],
    }),

  watchArgs: (args: string[]) =>
    new SetupFlagError('SETUP_FLAG_WATCH_ARGS', `--watch takes every Particle device plugged in, so it takes no DEVICE (got ${args.join(' ')}).`, {
      exit: EXIT.USAGE,
      suggestions: ['Drop the DEVICE arguments: particle-setup-flag set --watch', 'To fix only named devices, leave out --watch.'],
    }),

  watchMethod: () =>
    new SetupFlagError('SETUP_FLAG_WATCH_METHOD', '--watch works over USB; the firmware method works over the air on named devices, so they do not go together.', {
      exit: EXIT.USAGE,
      suggestions: ['Use --method auto, usb or dfu with --watch.'],
    }),

  // --- The Particle CLI's settings ---

  settingsNotJson: (file: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_SETTINGS', `The Particle CLI settings file ${file} is not valid JSON.`, {
      cause,
      exit: EXIT.CLOUD,
      suggestions: ['Fix or delete the file, then log in again with `particle login`.'],
    }),

  badProfile: (profile: string) =>
    new SetupFlagError('SETUP_FLAG_SETTINGS', `"${profile}" is not a valid Particle CLI profile name.`, {exit: EXIT.CLOUD}),

  // --- Devices that do not answer, or answer wrong ---

  /** The device did not come back after a restart; `suggestion` says how to bring it back by hand. */
  noReturn: (id: string, what: string, timeoutMs: number, suggestion: string) =>
    new SetupFlagError('SETUP_FLAG_NO_RETURN', `Device ${id} did not come back ${what} within ${Math.round(timeoutMs / 1000)} s.`, {
      exit: EXIT.DEVICE,
      suggestions: [suggestion],
    }),

  noDeviceInTime: (what: string, timeoutMs: number) =>
    new SetupFlagError('SETUP_FLAG_NO_DEVICE', `No device was ${what} within ${Math.round(timeoutMs / 1000)} s.`, {
      exit: EXIT.NO_DEVICE,
      suggestions: ['Check the cable (a data cable, not a charging-only one) and run the doctor again.'],
    }),

  /** The device's application blocks the system: it does not answer USB requests. */
  notResponding: (message: string, suggestion: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_NOT_RESPONDING', message, {cause, exit: EXIT.DEVICE, suggestions: [suggestion]}),

  versionUnknown: (id: string) =>
    new SetupFlagError('SETUP_FLAG_VERSION_UNKNOWN', `Nothing written to ${id}: its Device OS version is unknown (no readable system part), and the flag matters only below 4.0.`, {
      exit: EXIT.DEVICE,
      suggestions: [
        'Log in with `particle login` so the cloud can tell the version it last saw, or pass --force to write anyway (on 4.0 and later the byte is ignored).',
      ],
    }),

  /** The write was accepted but the read-back differs (exit 8). */
  verify: (message: string, suggestion: string) =>
    new SetupFlagError('SETUP_FLAG_VERIFY', message, {exit: EXIT.WRITE, suggestions: [suggestion]}),

  // --- The firmware method (over the air) ---

  /** The cloud's platform ID of a device is not one we know, or (undefined) its record has no numeric platform_id. */
  unknownPlatform: (id: string, platformId: number | string | undefined) =>
    new SetupFlagError(
      'SETUP_FLAG_UNKNOWN_PLATFORM',
      platformId === undefined
        ? `The Particle Cloud's record of device ${id} does not say its platform (no numeric platform_id), so no firmware can be built for it.`
        : `Device ${id} has an unknown platform (${oneLine(String(platformId))}).`,
      {
        exit: EXIT.CLOUD,
        suggestions: platformId === undefined ? ['Run the command again later; or fix the device over USB (`particle-setup-flag set`), which reads the platform from the device.'] : [],
      },
    ),

  noVersion: (who: string) =>
    new SetupFlagError('SETUP_FLAG_NO_VERSION', `The cloud does not know which Device OS ${who} runs, so no firmware can be built for it.`, {
      exit: EXIT.CLOUD,
      suggestions: ['Let the device connect to the cloud once (it then reports its version), or fix it over USB.'],
    }),

  deviceOffline: (who: string) =>
    new SetupFlagError('SETUP_FLAG_OFFLINE_DEVICE', `${who} is not online, so nothing can be flashed to it over the air.`, {
      exit: EXIT.CLOUD,
      suggestions: ['Have someone near the device get it online (Wi-Fi credentials or cellular), or fix it over USB with `particle-setup-flag set`.'],
    }),

  noEvent: (waitMs: number) =>
    new SetupFlagError('SETUP_FLAG_NO_EVENT', `The device did not report back within ${Math.round(waitMs / 1000)} s after the flash.`, {
      exit: EXIT.DEVICE,
      suggestions: ['Check that it is online (`particle list`) and watch `particle subscribe setup-flag/result`; the flag may still have been set.'],
    }),

  restoreFailed: (message: string, suggestion: string, cause?: unknown) =>
    new SetupFlagError('SETUP_FLAG_RESTORE_FAILED', message, {cause, exit: EXIT.CLOUD, suggestions: [suggestion]}),

  // --- Errors made from other errors ---

  /** Anything that is not ours: a bug. `message` is the raw text; `bug` adds the report-it suggestion. */
  unexpected: (message: string, opts: {bug?: boolean; cause?: unknown; prefix?: boolean} = {}) =>
    new SetupFlagError('SETUP_FLAG_UNEXPECTED', opts.prefix === false ? message : `Unexpected error: ${message}`, {
      cause: opts.cause,
      exit: EXIT.UNEXPECTED,
      suggestions: opts.bug ? ['This is a bug: please report it with the output of the same command run with DEBUG=*.'] : [],
    }),

  /** The same error told differently: new words or next steps, same code and exit status. */
  reworded: (e: SetupFlagError, change: {message?: string; suggestions?: string[]}) =>
    new SetupFlagError(e.code, change.message ?? e.message, {cause: e.cause, exit: e.exit, suggestions: change.suggestions ?? e.suggestions}),

  /** An error back from a report's JSON (the doctor acts on what `read` recorded). */
  fromJson: (json: Partial<ErrorJson> | undefined, fallback: {exit: ExitCode; message: string}) =>
    new SetupFlagError(json?.code ?? 'SETUP_FLAG_UNKNOWN', json?.message ?? fallback.message, {
      exit: json?.exit ?? fallback.exit,
      suggestions: json?.suggestions ?? [],
    }),
}

/** Whether an error is a person cancelling a question (ours, or the prompt library's own). */
export function isCancellation(e: unknown): boolean {
  if (isSetupFlagError(e)) return e.code === 'SETUP_FLAG_CANCELLED'
  const name = (e as Error | undefined)?.name
  return name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError'
}

/** Device OS's name for a result code: the one table is in particle/results.ts. */
export {resultName} from './particle/results.js'

/** Whether an error (or its JSON in a report) has one of these codes; the codes are checked as we type them. */
export function hasCode(e: undefined | {code: ErrorCode}, ...codes: ErrorCode[]): boolean {
  return e !== undefined && codes.includes(e.code)
}

export function isSetupFlagError(e: unknown): e is SetupFlagError {
  return e instanceof SetupFlagError
}
