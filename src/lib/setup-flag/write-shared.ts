/**
 * What the two ways of writing the flag share (write-control.ts: request 73; write-dfu.ts: DfuSe at DCT 8134):
 * the report and options, deciding whether to write, and waiting for a device that restarts.
 */
import type {Clock} from '../clock.js'

import {openDevice, type OpenDevice} from '../device/particle-device.js'
import {waitForReturn} from '../device/reboot.js'
import {isSetupFlagError, SetupFlagError} from '../errors.js'
import {SETUP_DONE, SETUP_NOT_DONE} from '../protocol/constants.js'
import {RequestPendingTimeout} from '../protocol/control-request.js'
import {type UsbBackend} from '../usb/backend.js'
import {type FoundDevice} from '../usb/discovery.js'
import {type Applicability} from './policy.js'
import {baseReport, type FlagReport} from './read.js'
import {step} from './steps.js'

export type Method = 'auto' | 'dfu' | 'firmware' | 'usb'

export interface SetReport extends FlagReport {
  /** The byte before, when known (raw over DFU; 1 when request 74 said done). */
  after: null | number
  before: null | number
  changed: boolean
  method: 'dfu' | 'firmware' | 'usb' | null
  /** What was done, step by step, in words. */
  steps: string[]
}

export interface SetOptions {
  backend: UsbBackend
  clock: Clock
  /** Set the flag (true) or clear it (--not-done). */
  done: boolean
  dryRun: boolean
  force: boolean
  method: Exclude<Method, 'firmware'>
  /** The Device OS version the cloud last saw, for a DFU device that cannot say (undefined: ask nobody). */
  cloudVersion?: (id: string) => Promise<string | undefined>
  /** Called when the device is about to be waited on (e.g. to show a spinner line). */
  onWaiting?: (what: string) => void
  /** Per-request deadline, ms. */
  timeoutMs: number
}

export function setReport(found: FoundDevice): SetReport {
  return {...baseReport(found), after: null, before: null, changed: false, method: null, steps: []}
}

/** Time allowed for a device to reset and enumerate again after a mode change. */
export function rebootTimeoutMs(timeoutMs: number): number {
  return Math.max(15_000, 3 * timeoutMs)
}

/** The USB objects a device had in one setSetupFlag() (it re-enumerates on every restart), closed at the end. */
export const seenObjects = new WeakMap<object, USBDevice[]>()

/**
 * How long to wait, after a timed-out 40, 50 or 60, for the restart it may still cause: the firmware runs a
 * cancelled request when its system thread frees up and then resets about a second later (docs/protocol.md,
 * "Cancelling does not stop a request").
 */
export function lateResetWaitMs(timeoutMs: number): number {
  return Math.max(5000, timeoutMs)
}

/**
 * A 40/50/60 timed out: rather than send another request on top of it, wait for the re-enumeration it may still
 * cause. Returns the device back in `mode`, or undefined when it did not restart within the allowance.
 */
export async function waitLateReset(old: FoundDevice, mode: 'dfu' | 'normal', opts: SetOptions, report: SetReport, what: string): Promise<FoundDevice | undefined> {
  step(report, {kind: 'late-reset-wait', what})
  opts.onWaiting?.(`Waiting for ${old.id}: it may still restart ${what}`)
  try {
    const back = await waitForReturn(old, mode, {backend: opts.backend, clock: opts.clock, timeoutMs: lateResetWaitMs(opts.timeoutMs)}, what)
    seenObjects.get(opts)?.push(back.usbDevice)
    return back
  } catch (error) {
    if (isSetupFlagError(error) && error.code === 'SETUP_FLAG_NO_RETURN') return undefined
    throw error
  }
}

/**
 * Send a request that restarts the device (40 `reset`, 50 `dfu`, 60 `safe`), close it, and wait for it to come back
 * in `mode`. With `resetPending`, requests still pending on the device are cancelled first (RESET), so the new one
 * gets a slot. A request the firmware left pending may still run once its system thread frees, so a timed-out request
 * is never followed by another: we wait for the restart it may still cause (waitLateReset) and return undefined when
 * it did not come. `asked` runs once the request is out, before the wait.
 */
export async function restartBy(
  dev: OpenDevice,
  request: 'dfu' | 'reset' | 'safe',
  found: FoundDevice,
  opts: SetOptions,
  report: SetReport,
  what: {asked?: () => void; back: string; late: string; resetPending?: boolean; waiting?: string},
): Promise<FoundDevice | undefined> {
  const mode = request === 'dfu' ? 'dfu' : 'normal'
  let pending = false
  try {
    if (what.resetPending) await dev.resetPending()
    const o = {timeoutMs: opts.timeoutMs}
    await (request === 'dfu' ? dev.enterDfu(o) : request === 'safe' ? dev.enterSafeMode(o) : dev.reset(o))
  } catch (error) {
    if (!(error instanceof RequestPendingTimeout)) throw error
    pending = true
  } finally {
    await dev.close()
  }
  what.asked?.()
  if (pending) return waitLateReset(found, mode, opts, report, what.late)
  if (what.waiting) opts.onWaiting?.(what.waiting)
  return waitBack(found, mode, opts, what.back)
}

/** Wait for a device we restarted to come back in `mode`, within the reboot allowance. */
export async function waitBack(old: FoundDevice, mode: 'dfu' | 'normal', opts: Pick<SetOptions, 'backend' | 'clock' | 'timeoutMs'>, what: string): Promise<FoundDevice> {
  const back = await waitForReturn(old, mode, {backend: opts.backend, clock: opts.clock, timeoutMs: rebootTimeoutMs(opts.timeoutMs)}, what)
  seenObjects.get(opts)?.push(back.usbDevice)
  return back
}

/** Reports whose device we took off the cloud with raw 302 and have not restarted since (docs/protocol.md). */
export const offCloud = new WeakSet<SetReport>()

/** Reports whose write request (73) timed out: the device may still have carried it out (docs/protocol.md). */
export const writeMayLand = new WeakSet<SetReport>()

/** Decide whether to write; fills the report when nothing will be written. Returns true to write. */
export function decide(report: SetReport, applicability: Applicability, current: null | number | undefined, opts: SetOptions): boolean {
  const wanted = opts.done ? SETUP_DONE : SETUP_NOT_DONE
  if (applicability.applies !== true) {
    if (!opts.force) {
      step(report, {kind: 'not-applicable'})
      return false
    }
    step(report, {kind: 'forced', noEffect: applicability.applies === false})
    return true
  }
  // Request 74's "not done" (current null) only says the byte is not 0x01: it may be a value the boot treats as
  // done, so --not-done writes 0xFF unless the byte is known to be 0xFF or 0x00.
  const alreadyThere = current !== undefined && (opts.done ? current === SETUP_DONE : current === 0xff || current === 0x00)
  if (alreadyThere && writeMayLand.has(report)) {
    step(report, {kind: 'late-write-landed'})
    report.changed = true
    return false
  }
  if (alreadyThere && !opts.force) {
    step(report, {done: opts.done, kind: 'already'})
    return false
  }
  if (opts.dryRun) return true
  step(report, {byte: wanted, kind: 'writing'})
  return true
}

/** After a restart: is the device out of Listening Mode? Best effort; a busy application is not an error here. */
export async function confirmNotListening(back: FoundDevice, opts: SetOptions, report: SetReport): Promise<void> {
  let dev: OpenDevice | undefined
  try {
    dev = await openDevice(back, opts.clock)
    await dev.resetPending()
    const listening = await dev.isListening({timeoutMs: opts.timeoutMs})
    report.mode = listening ? 'listening' : 'normal'
    step(report, {kind: listening ? 'restarted-listening' : 'restarted-normal'})
  } catch (error) {
    if (error instanceof RequestPendingTimeout || error instanceof SetupFlagError) {
      report.mode = 'unknown'
      step(report, {kind: 'restarted-unconfirmed'})
      return
    }
    throw error
  } finally {
    await dev?.close()
  }
}

