/**
 * The expectations of the fault matrix, shared by the in-process matrix (faults.test.ts) and its subset through the
 * built binary (cli.test.ts): what `set` should end with for every virtual-device fault, method and starting mode.
 * Derived from README (exit statuses) and docs/protocol.md, not from what the code does; where the two
 * differ the case is in KNOWN_BUGS.
 */
import type {Method} from '../../src/lib/flag.js'
import type {VirtualDeviceSpec, VirtualFaults, VirtualMode} from '../../src/lib/virtual/index.js'

export const ID = 'e00fce681a2b3c4d5e6f7a8b'
export const MODES: VirtualMode[] = ['normal', 'listening', 'safe', 'dfu']
export const METHODS: Array<Exclude<Method, 'firmware'>> = ['auto', 'usb', 'dfu']
export const DONE = 0x01
export const NOT_DONE = 0xff

export interface Fault {
  faults: VirtualFaults
  name: string
  /** A device where the fault can exist (Device Protection needs 6.x). */
  spec?: Partial<VirtualDeviceSpec>
}

export const FAULTS: Fault[] = [
  {faults: {blockedSystemThread: true}, name: 'blockedSystemThread: true'},
  {faults: {blockedSystemThread: 'connecting'}, name: "blockedSystemThread: 'connecting'"},
  {faults: {stallControl: true}, name: 'stallControl'},
  {faults: {busy: 3}, name: 'busy: 3'},
  {faults: {busy: 1000}, name: 'busy: 1000 (always busy)'},
  {faults: {dfuWriteError: true}, name: 'dfuWriteError'},
  {faults: {accessDenied: true}, name: 'accessDenied'},
  {faults: {protected: true}, name: 'protected', spec: {deviceOs: '6.2.0', platform: 'bsom'}},
  {faults: {noSystemPart: true}, name: 'noSystemPart'},
]

export function device(mode: VirtualMode, fault: Fault | undefined): VirtualDeviceSpec {
  return {deviceOs: '3.3.1', faults: fault?.faults ?? {}, id: ID, mode, platform: 'argon', setupDone: NOT_DONE, ...fault?.spec}
}

/** What `set` should end with. `exit` 0 = no error in the report. */
export interface Outcome {
  code?: string
  dct: number
  exit: number
  flag?: string
  /** A phrase the error message (or, on success, the steps and reason) must contain. */
  phrase?: RegExp
  /** The words of the error's suggestions must contain this. */
  suggestion?: RegExp
}

export const fixed: Outcome = {dct: DONE, exit: 0, flag: 'done'}
export const resolve = (method: Exclude<Method, 'firmware'>, mode: VirtualMode) => (method === 'auto' ? (mode === 'dfu' ? 'dfu' : 'usb') : method)

/** Cases where the tool is known to differ from the expectation (none at present). */
export const KNOWN_BUGS: Array<{fault: string; method?: string; mode?: string; why: string}> = []

export function knownBug(fault: string, method: string, mode: string): string | undefined {
  return KNOWN_BUGS.find((b) => b.fault === fault && (b.method === undefined || b.method === method) && (b.mode === undefined || b.mode === mode))?.why
}

export function expected(fault: string, method: Exclude<Method, 'firmware'>, mode: VirtualMode): Outcome {
  const r = resolve(method, mode)
  switch (fault) {
    case 'blockedSystemThread: true': {
      // The application holds the system thread outside Safe Mode; raw requests still answer, requests never complete.
      if (mode === 'safe' || (r === 'dfu' && mode === 'dfu')) return fixed
      if (r === 'dfu') return {code: 'SETUP_FLAG_NOT_RESPONDING', dct: NOT_DONE, exit: 6, phrase: /restart in DFU mode/, suggestion: /release MODE when the LED blinks yellow/}
      return {code: 'SETUP_FLAG_NOT_RESPONDING', dct: NOT_DONE, exit: 6, phrase: /not even the request to enter Safe Mode/, suggestion: /blinks magenta/}
    }
    case "blockedSystemThread: 'connecting'": {
      // A connection attempt holds the system thread: raw 302 (usb) or the INIT of 50 (dfu) aborts it.
      return fixed
    }
    case 'stallControl': {
      // Every vendor request stalls: nothing works over control requests; DFU is not affected.
      if (r === 'dfu' && mode === 'dfu') return fixed
      return {code: 'SETUP_FLAG_USB_STALL', dct: NOT_DONE, exit: 6, phrase: /refused .*\(USB stall\)/}
    }
    case 'busy: 3': {
      return fixed
    }
    case 'busy: 1000 (always busy)': {
      if (r === 'dfu' && mode === 'dfu') return fixed // the bootloader has no request slots to be busy
      return {code: 'SETUP_FLAG_TIMEOUT', dct: NOT_DONE, exit: 6, phrase: /did not answer .* in time/}
    }
    case 'dfuWriteError': {
      if (r === 'usb') return fixed // leaving DFU (usb from DFU mode) writes no data
      return {code: 'SETUP_FLAG_DFU', dct: NOT_DONE, exit: 8, phrase: /DFU write failed/}
    }
    case 'accessDenied': {
      return {code: 'SETUP_FLAG_USB_ACCESS', dct: NOT_DONE, exit: 5, phrase: /Permission denied/, suggestion: /ATTRS\{idVendor\}=="2b04"/}
    }
    case 'protected': {
      // Device Protection exists only on Device OS 6+, where the flag does not: nothing to do, nothing written.
      return {dct: NOT_DONE, exit: 0, flag: 'not-applicable'}
    }
    case 'noSystemPart': {
      // Nobody can tell the version (no header, no cloud here): refuse, say why, and how to decide (--force, login).
      if (r === 'dfu' && mode === 'dfu') return {code: 'SETUP_FLAG_VERSION_UNKNOWN', dct: NOT_DONE, exit: 6, flag: 'unknown', phrase: /version is unknown/, suggestion: /--force/}
      return fixed // the header only matters in DFU mode when no running Device OS can tell the version
    }
  }
  throw new Error(`no expectation for ${fault}`)
}

