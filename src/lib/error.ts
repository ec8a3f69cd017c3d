/**
 * What an error of ours is: a stable code, a documented exit status, and words composed when it is shown (with the
 * CLI the person typed). The factories that make each one are in errors.ts; code that must tell errors apart asks
 * `errorIs` here, never compares code strings. docs/architecture.md, "Words".
 */
import {type Cli, commandLine, STANDALONE} from './cli.js'
import {EXIT, type ExitCode} from './exits.js'

/** Every error code this tool reports (a stable interface: scripts branch on them). */
export type ErrorCode = `SETUP_FLAG_${
  | 'BAD_DEVICE_ID' | 'BAD_FILE' | 'CANCELLED' | 'CLOUD_BAD_ANSWER' | 'CLOUD_MALFORMED' | 'CLOUD_REFUSED' | 'CLOUD_TOO_LARGE'
  | 'CLOUD_UNAVAILABLE' | 'CONFIRM' | 'DECLINED' | 'DEVICES_FILE' | 'DEVICES_FILE_WRITE' | 'DEVICE_ERROR' | 'DFU'
  | 'DISCONNECTED' | 'INTERRUPTED' | 'INVALID_TOKEN' | 'MULTIPLE_DEVICES' | 'NEED_DEVICE' | 'NOT_ALL_READ'
  | 'NOT_CONNECTED' | 'NOT_INTERACTIVE' | 'NOT_LOGGED_IN' | 'NOT_ONLINE' | 'NOT_RESPONDING' | 'NO_DEVICE' | 'NO_EVENT' | 'NO_PAGE'
  | 'NO_RETURN' | 'NO_USB' | 'NO_VERSION' | 'OFFLINE' | 'OFFLINE_DEVICE' | 'PORT_IN_USE' | 'PROTECTED' | 'PROTOCOL' | 'RESTORE_FAILED'
  | 'RESTORE_FILE' | 'SERIAL_LINE' | 'SETTINGS' | 'TIMEOUT' | 'UNEXPECTED' | 'UNKNOWN' | 'UNKNOWN_DEVICE' | 'UNKNOWN_PLATFORM'
  | 'UNKNOWN_PRODUCT' | 'USAGE' | 'USB_ACCESS' | 'USB_BUSY' | 'USB_DRIVER' | 'USB_STALL' | 'VERIFY' | 'VERSION_UNKNOWN'
  | 'VIRTUAL_CLOUD' | 'VIRTUAL_PRESS' | 'WATCH_ARGS' | 'WATCH_METHOD'}`

/** An error as `--json` carries it: the one shape, wherever it is printed. */
export interface ErrorJson {
  code: ErrorCode
  exit: ExitCode
  message: string
  suggestions: string[]
}

export interface Words {
  message: string
  suggestions: string[]
}

export type Compose = (cli: Cli) => Words

export class SetupFlagError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly exit: ExitCode,
    private readonly compose: Compose,
    cause?: unknown,
  ) {
    super(compose(STANDALONE).message, cause === undefined ? undefined : {cause})
    this.name = 'SetupFlagError'
  }

  /** The next steps, as the standalone bin would say them (`words(cli)` for the CLI the person typed). */
  get suggestions(): string[] {
    return this.compose(STANDALONE).suggestions
  }

  toJSON(cli: Cli = STANDALONE): ErrorJson {
    const w = this.compose(cli)
    return {code: this.code, exit: this.exit, message: w.message, suggestions: w.suggestions}
  }

  words(cli: Cli): Words {
    return this.compose(cli)
  }
}

/** The firmware accepted a control request and left it pending past its deadline: its system thread is busy. */
export class RequestPendingTimeout extends SetupFlagError {
  constructor(readonly requestType: number, compose: Compose) {
    super('SETUP_FLAG_NOT_RESPONDING', EXIT.DEVICE, compose)
  }
}

/** The bootloader refused a DFU operation: Device Protection, or a read-only region. */
export class DfuNotPermitted extends SetupFlagError {
  constructor(compose: Compose) {
    super('SETUP_FLAG_PROTECTED', EXIT.PROTECTED, compose)
  }
}


/** Whether an error is a person cancelling a question (ours, or the prompt library's own). */
export function isCancellation(e: unknown): boolean {
  if (e instanceof SetupFlagError) return e.code === 'SETUP_FLAG_CANCELLED'
  const name = (e as Error | undefined)?.name
  return name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError'
}

export function isSetupFlagError(e: unknown): e is SetupFlagError {
  return e instanceof SetupFlagError
}

const has = (e: unknown, ...codes: ErrorCode[]) => e instanceof SetupFlagError && codes.includes(e.code)

/** What code may ask of an error: each question is answered here, so no caller compares code strings. */
export const errorIs = {
  /** USB permission denied: the udev rule is missing (Linux). */
  accessDenied: (e: unknown) => has(e, 'SETUP_FLAG_USB_ACCESS'),
  /** The firmware does not complete requests: its system thread is busy (a pending request, or none answered at all). */
  busyFirmware: (e: unknown) => has(e, 'SETUP_FLAG_NOT_RESPONDING'),
  /** The firmware answers, but refuses or garbles control requests: the bootloader does not depend on it. */
  firmwareRefuses: (e: unknown) => has(e, 'SETUP_FLAG_DEVICE_ERROR', 'SETUP_FLAG_PROTOCOL', 'SETUP_FLAG_USB_STALL'),
  /** The device went away during the operation (unplugged, or a cable that came loose). */
  disconnected: (e: unknown) => has(e, 'SETUP_FLAG_DISCONNECTED'),
  /** Another program holds the device, so it cannot be opened here. */
  heldElsewhere: (e: unknown) => has(e, 'SETUP_FLAG_USB_BUSY'),
  /** A device did not come back in time after a restart. */
  noReturn: (e: unknown) => has(e, 'SETUP_FLAG_NO_RETURN'),
  /** The device is not on USB (named, or none). */
  notConnected: (e: unknown) => has(e, 'SETUP_FLAG_NOT_CONNECTED'),
  /** Device Protection (request refused, or DFU refused). */
  protected: (e: unknown) => has(e, 'SETUP_FLAG_PROTECTED'),
  /** Nothing more can be tried on this device in this run: it left, it may not be opened, or it is protected. */
  final: (e: unknown) => has(e, 'SETUP_FLAG_DISCONNECTED', 'SETUP_FLAG_USB_ACCESS', 'SETUP_FLAG_PROTECTED'),
  /** Ctrl-C ended a wait for a device in the field (nothing flashed). */
  interrupted: (e: unknown) => has(e, 'SETUP_FLAG_INTERRUPTED'),
  /** The cloud does not know this device (a name or ID not in the account). */
  unknownDevice: (e: unknown) => has(e, 'SETUP_FLAG_UNKNOWN_DEVICE'),
}

/** A suggestion: its words, or words that name one of our commands, composed for the CLI the person typed. */
export type Suggestion = ((cli: Cli) => string) | string

/** An error made by a factory (errors.ts, virtual-errors.ts): its message and suggestions composed when shown. */
export const makeError = (code: ErrorCode, exit: ExitCode, message: string, suggestions: Suggestion[] = [], o: {cause?: unknown} = {}) =>
  new SetupFlagError(code, exit, errorWords(message, suggestions), o.cause)

/** A message and its suggestions, composed when shown. */
export const errorWords = (message: string, suggestions: Suggestion[]): Compose => (cli) => ({message, suggestions: suggestions.map((x) => (typeof x === 'string' ? x : x(cli)))})

/** A suggestion that names one of our commands (`before`, the command, `after`), composed for the CLI the person typed. */
export const suggestRun = (before: string, command: string, after = '') => (cli: Cli) => `${before}${commandLine(cli, command)}${after}`
