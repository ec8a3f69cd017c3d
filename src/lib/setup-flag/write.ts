/**
 * Writing the setup-done flag: exactly one byte, read before and read back after, by control request 73 or by
 * DfuSe at DCT 8134 on alt 1. Never erases, never writes where the flag does not apply (unless forced), never
 * writes a byte that already holds the wanted value (unless forced).
 */
import type {Clock} from '../clock.js'

import {openDevice, openUsb, type OpenDevice} from '../device/particle-device.js'
import {waitForReturn} from '../device/reboot.js'
import {hasRawOutRequests} from '../particle/versions.js'
import {errors, isSetupFlagError, SetupFlagError} from '../errors.js'
import {DfuAlt, RequestType, SETUP_DONE, SETUP_DONE_OFFSET, SETUP_NOT_DONE} from '../protocol/constants.js'
import {RequestPendingTimeout} from '../protocol/control-request.js'
import {DfuNotPermitted, DfuseClient} from '../protocol/dfuse.js'
import {type UsbBackend} from '../usb/backend.js'
import {type FoundDevice} from '../usb/discovery.js'
import {type Applicability, flagApplies, interpretFlag, PROTECTED_REASON, verdictOfByte} from './policy.js'
import {baseReport, explainDowngrade, type FlagReport, readSystemVersionOverDfu, withError} from './read.js'
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

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0').toUpperCase()}`

export function setReport(found: FoundDevice): SetReport {
  return {...baseReport(found), after: null, before: null, changed: false, method: null, steps: []}
}

/** Time allowed for a device to reset and enumerate again after a mode change. */
export function rebootTimeoutMs(timeoutMs: number): number {
  return Math.max(15_000, 3 * timeoutMs)
}

/** The USB objects a device had in one setSetupFlag() (it re-enumerates on every restart), closed at the end. */
const seenObjects = new WeakMap<object, USBDevice[]>()

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
async function waitLateReset(old: FoundDevice, mode: 'dfu' | 'normal', opts: SetOptions, report: SetReport, what: string): Promise<FoundDevice | undefined> {
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

/** Wait for a device we restarted to come back in `mode`, within the reboot allowance. */
async function waitBack(old: FoundDevice, mode: 'dfu' | 'normal', opts: Pick<SetOptions, 'backend' | 'clock' | 'timeoutMs'>, what: string): Promise<FoundDevice> {
  const back = await waitForReturn(old, mode, {backend: opts.backend, clock: opts.clock, timeoutMs: rebootTimeoutMs(opts.timeoutMs)}, what)
  seenObjects.get(opts)?.push(back.usbDevice)
  return back
}

export async function setSetupFlag(found: FoundDevice, givenOpts: SetOptions): Promise<SetReport> {
  const report = setReport(found)
  const opts = {...givenOpts}
  const objects: USBDevice[] = [found.usbDevice]
  seenObjects.set(opts, objects)
  try {
    const method = opts.method === 'auto' ? (found.mode === 'dfu' ? 'dfu' : 'usb') : opts.method
    let target = found
    if (method === 'usb' && found.mode === 'dfu') {
      if (opts.dryRun) {
        step(report, {kind: 'would-leave-dfu'})
        return report
      }
      target = await leaveDfu(found, opts)
      step(report, {kind: 'left-dfu-for-control'})
    }
    await (method === 'dfu' ? setOverDfu(found, opts, report) : setOverControl(target, opts, report, 'first'))
  } catch (error) {
    withError(report, error)
    if (offCloud.has(report)) step(report, {kind: 'off-cloud'})
    // A write was under way (request 73 or the DFU download went out): say the byte's state is unknown.
    if (report.method !== null && report.after === null) report.reason = `${report.reason} The byte's state after the write is unknown.`
  } finally {
    // Close whatever USB objects this device had on the way (it may have re-enumerated several times). Not by
    // listing the bus: with many devices set at once that made `set --all` quadratic.
    for (const d of objects) if (d.opened) await d.close().catch(() => {})
  }
  return report
}


/** Reports whose write request (73) timed out: the device may still have carried it out (docs/protocol.md). */
const writeMayLand = new WeakSet<SetReport>()

/** Decide whether to write; fills the report when nothing will be written. Returns true to write. */
function decide(report: SetReport, applicability: Applicability, current: null | number | undefined, opts: SetOptions): boolean {
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

/**
 * How far we have gone to get a device's firmware to serve requests: first as it is; then after aborting a
 * connection attempt that may hold its system thread (raw 302); then in Safe Mode (request 60), where the
 * application does not run. Past that only the buttons help.
 */
type Stage = 'after-abort' | 'first' | 'safe'

/**
 * Normal, listening or safe mode: request 73, read back with 74, then STOP_LISTENING (71) when the device is
 * listening, as `particle usb setup-done` does.
 */
async function setOverControl(found: FoundDevice, opts: SetOptions, report: SetReport, stage: Stage): Promise<void> {
  const dev = await openDevice(found, opts.clock)
  const ro = {timeoutMs: opts.timeoutMs}
  const version = await dev.systemVersion(ro)
  report.deviceOsVersion = version
  report.deviceOsVersionSource = 'usb'
  const applicability = flagApplies(found.platform, {version})
  await dev.resetPending()

  let listening: boolean
  let current: null | number | undefined
  try {
    try {
      listening = await dev.isListening(ro)
    } catch (error) {
      // Device Protection (Device OS 6+) refuses request 72; the flag does not exist there, so nothing to do.
      if (isSetupFlagError(error) && error.code === 'SETUP_FLAG_PROTECTED' && applicability.applies === false && !opts.force) {
        report.protected = true
        Object.assign(report, interpretFlag(applicability, undefined))
        step(report, {kind: 'not-applicable'})
        return
      }
      throw error
    }
    report.mode = listening ? 'listening' : 'normal'
    if (applicability.applies === true) {
      const done = await dev.isSetupDone(ro)
      current = done ? SETUP_DONE : null
      report.before = current
      Object.assign(report, interpretFlag(applicability, {done, kind: 'request'}))
    } else {
      Object.assign(report, interpretFlag(applicability, undefined))
    }

    if (!decide(report, applicability, current, opts)) {
      report.after = report.before
      return
    }
    if (opts.dryRun) {
      step(report, {byte: opts.done ? SETUP_DONE : SETUP_NOT_DONE, kind: 'would-write-control', stopListening: opts.done && listening})
      return
    }
    report.method = 'usb'
    await dev.setSetupDone(opts.done, ro)
    report.changed = true
  } catch (error) {
    if (!(error instanceof RequestPendingTimeout) || opts.dryRun) throw error
    if (error.requestType === RequestType.SET_DEVICE_SETUP_DONE) {
      // Cancelling does not stop it: the firmware still runs a 73 it has queued (docs/protocol.md).
      writeMayLand.add(report)
      step(report, {kind: 'write-pending'})
    }
    if (stage === 'first' && hasRawOutRequests(version)) {
      step(report, {kind: 'aborting-connection'})
      await dev.abortConnection()
      offCloud.add(report)
      await setOverControl(found, opts, report, 'after-abort')
      // Still off the cloud unless Safe Mode restarted it on the way: restart it so it connects again.
      if (offCloud.has(report)) await restartOnline(found, opts, report)
      return
    }
    if (stage === 'safe') throw safeModeByHand(found.id, error)
    await viaSafeMode(dev, found, opts, report, error)
    return
  }

  // Read back. On 4.0+ request 74 always says done, so there is nothing to verify.
  if (applicability.applies === true) {
    const done = await dev.isSetupDone(ro)
    if (done !== opts.done) {
      throw errors.verify(
        `Device ${found.id} accepted the write, but reading the flag back says it is ${done ? 'set' : 'not set'}.`,
        'Try --method dfu: hold MODE, tap RESET, release MODE when the LED blinks yellow, then run the command again.',
      )
    }
    report.after = opts.done ? SETUP_DONE : SETUP_NOT_DONE
    Object.assign(report, interpretFlag(applicability, {done, kind: 'request'}))
    report.value = report.after
    step(report, {done, kind: 'read-back'})
  } else {
    step(report, {kind: 'no-effect'})
  }

  if (opts.done && listening) {
    await dev.stopListening(ro)
    report.mode = 'normal'
    step(report, {kind: 'stopped-listening'})
  } else if (!opts.done) {
    step(report, {kind: 'listening-at-reset'})
  }
}

/** Reports whose device we took off the cloud with raw 302 and have not restarted since (docs/protocol.md). */
const offCloud = new WeakSet<SetReport>()

/** After raw 302: restart the device (request 40) so it leaves the cloud-disconnect state, and wait for it. */
async function restartOnline(found: FoundDevice, opts: SetOptions, report: SetReport): Promise<void> {
  const now = (await opts.backend.usb.getDevices().catch(() => [] as USBDevice[])).find((d) => d.serialNumber?.toLowerCase() === found.id)
  const current = now && now !== found.usbDevice ? {...found, usbDevice: now} : found
  const dev = await openDevice(current, opts.clock)
  let late = false
  try {
    await dev.resetPending()
    await dev.reset({timeoutMs: opts.timeoutMs})
  } catch (error) {
    if (!(error instanceof RequestPendingTimeout)) throw error
    late = true
  } finally {
    await dev.close()
  }
  const back = late ? await waitLateReset(current, 'normal', opts, report, 'to reconnect to the cloud') : await waitBack(current, 'normal', opts, 'after the restart')
  if (!back) {
    step(report, {kind: 'not-restarted-off-cloud'})
    return
  }
  offCloud.delete(report)
  step(report, {kind: 'restarted-online'})
  if (opts.done) await confirmNotListening(back, opts, report)
  else report.mode = 'unknown' // cleared flag: it boots into Listening Mode
}

/** The firmware did not complete a request: ask for Safe Mode (60) and redo the write there. */
async function viaSafeMode(dev: OpenDevice, found: FoundDevice, opts: SetOptions, report: SetReport, cause: RequestPendingTimeout): Promise<void> {
  step(report, {kind: 'asking-safe-mode'})
  let back: FoundDevice | undefined
  try {
    await dev.enterSafeMode({timeoutMs: opts.timeoutMs})
  } catch (error) {
    if (!(error instanceof RequestPendingTimeout)) throw error
    await dev.close()
    back = await waitLateReset(found, 'normal', opts, report, 'in Safe Mode')
    if (!back) throw safeModeByHand(found.id, cause)
  }
  if (!back) {
    await dev.close()
    opts.onWaiting?.(`Waiting for ${found.id} to restart in Safe Mode`)
    back = await waitBack(found, 'normal', opts, 'in Safe Mode')
  }
  step(report, {kind: 'restarted-safe-mode'})
  const safe = await openDevice(back, opts.clock)
  try {
    await setOverControl(back, opts, report, 'safe')
    // Back to the application (the boot check now finds the flag set).
    await safe.reset({timeoutMs: opts.timeoutMs})
  } finally {
    await safe.close()
  }
  opts.onWaiting?.(`Waiting for ${found.id} to restart its application`)
  await waitBack(back, 'normal', opts, 'from Safe Mode')
  offCloud.delete(report) // a reset clears the cloud-disconnect flag
  report.mode = 'normal'
  step(report, {kind: 'left-safe-mode'})
}

function safeModeByHand(id: string, cause: RequestPendingTimeout): SetupFlagError {
  return errors.notResponding(
    `Device ${id} does not answer USB requests, not even the request to enter Safe Mode: its application is blocking the system. The requests it accepted may still run if it frees up (it may then restart in Safe Mode on its own).`,
    'Put it in Safe Mode by hand: hold MODE and RESET, release RESET, release MODE when the LED blinks magenta, then run the command again.',
    cause,
  )
}

/**
 * DFU: from normal mode send DFU_MODE (50) and wait for the DFU product ID; then read the byte, write it if
 * needed (one byte at DCT 8134 on alt 1, no erase), read it back, leave, and wait for normal mode.
 */
async function setOverDfu(found: FoundDevice, opts: SetOptions, report: SetReport): Promise<void> {
  let dfuDevice = found
  // Platforms that never had the flag (Gen2, Realtek) need no DFU traffic: their memory map has no system-part
  // header where nRF52840 has one, so reading it would fail as a DFU addressing error.
  const byPlatform = flagApplies(found.platform, {})
  if (found.mode === 'dfu' && byPlatform.applies === false && !opts.force) {
    Object.assign(report, interpretFlag(byPlatform, undefined))
    step(report, {kind: 'not-applicable'})
    return
  }
  if (found.mode !== 'dfu') {
    const dev = await openDevice(found, opts.clock)
    const version = await dev.systemVersion({timeoutMs: opts.timeoutMs})
    report.deviceOsVersion = version
    report.deviceOsVersionSource = 'usb'
    const applicability = flagApplies(found.platform, {version})
    if (applicability.applies !== true && !opts.force) {
      Object.assign(report, interpretFlag(applicability, undefined))
      step(report, {kind: applicability.applies === false && found.platform.family === 'nrf52840' ? 'not-applicable-downgrade' : 'not-applicable'})
      await dev.close()
      return
    }
    if (opts.dryRun) {
      step(report, {byte: opts.done ? SETUP_DONE : SETUP_NOT_DONE, kind: 'would-enter-dfu'})
      await dev.close()
      return
    }
    await dev.resetPending()
    let late: FoundDevice | undefined
    try {
      await dev.enterDfu({timeoutMs: opts.timeoutMs})
    } catch (error) {
      if (!(error instanceof RequestPendingTimeout)) throw error
      await dev.close()
      step(report, {kind: 'asked-dfu'})
      late = await waitLateReset(found, 'dfu', opts, report, 'in DFU mode')
      if (!late) {
        throw errors.notResponding(
          `Device ${found.id} does not answer the request to restart in DFU mode: its application is blocking the system. It may still restart in DFU mode on its own if it frees up.`,
          'Put it in DFU mode by hand: hold MODE, tap RESET, release MODE when the LED blinks yellow; then run the command again.',
          error,
        )
      }
    }
    if (late) {
      dfuDevice = late
    } else {
      await dev.close()
      step(report, {kind: 'asked-dfu'})
      opts.onWaiting?.(`Waiting for ${found.id} to restart in DFU mode`)
      dfuDevice = await waitBack(found, 'dfu', opts, 'in DFU mode')
    }
    report.mode = 'dfu'
  }

  const io = await openUsb(dfuDevice)
  const dfu = new DfuseClient(dfuDevice.usbDevice, io, opts.clock)
  let left = false
  try {
    if (report.deviceOsVersionSource === null && byPlatform.applies !== false) {
      const v = await readSystemVersionOverDfu(dfu, found.platform.id)
      if (v.moduleVersion !== undefined) {
        report.systemModuleVersion = v.moduleVersion
        report.deviceOsVersion = v.version ?? null
        report.deviceOsVersionSource = 'dfu'
      }
    }
    if (report.deviceOsVersion === null && opts.cloudVersion) {
      // The device cannot say (no readable system-part header, or a module number not in our table): the cloud
      // names the release (what it last heard); a module number read from the device still decides the flag.
      const v = await opts.cloudVersion(found.id)
      if (v) {
        report.deviceOsVersion = v
        report.deviceOsVersionSource = 'cloud'
      }
    }
    const cloudNamesOnly = report.systemModuleVersion !== undefined && report.deviceOsVersionSource === 'cloud'
    const applicability = flagApplies(found.platform, {
      moduleVersion: report.systemModuleVersion,
      version: cloudNamesOnly ? undefined : (report.deviceOsVersion ?? undefined),
    })

    await dfu.open(DfuAlt.DCT)
    let before: number
    try {
      ;[before] = await dfu.read(SETUP_DONE_OFFSET, 1)
    } catch (error) {
      if (!(error instanceof DfuNotPermitted) || opts.force) throw error
      // Device Protection (Device OS 6+): the DCT is closed, and the flag does not exist there anyway.
      report.protected = true
      Object.assign(report, interpretFlag({applies: false, reason: PROTECTED_REASON}, undefined))
      step(report, {kind: 'not-applicable-protected'})
      return
    }
    if (applicability.applies === undefined && !opts.force) {
      Object.assign(report, interpretFlag(applicability, {byte: before, kind: 'byte'}))
      throw errors.versionUnknown(found.id)
    }
    report.before = before
    Object.assign(report, interpretFlag(applicability, {byte: before, kind: 'byte'}))
    if (applicability.applies === false && found.platform.family === 'nrf52840') explainDowngrade(report, found.platform, before)

    const write = decide(report, applicability, before, opts)
    if (write && opts.dryRun) {
      step(report, {byte: opts.done ? SETUP_DONE : SETUP_NOT_DONE, kind: 'would-write-dfu'})
      report.after = before
      return
    }
    if (write) {
      const wanted = opts.done ? SETUP_DONE : SETUP_NOT_DONE
      report.method = 'dfu'
      report.changed = true
      await dfu.write(SETUP_DONE_OFFSET, Uint8Array.of(wanted))
      const [after] = await dfu.read(SETUP_DONE_OFFSET, 1)
      report.after = after
      report.value = after
      if (after !== wanted) {
        throw errors.verify(
          `Device ${found.id}: wrote ${hex(wanted)} at DCT 8134 but read back ${hex(after)}.`,
          'Tap RESET and run the command again; if it persists, the DCT may be damaged: contact Particle support.',
        )
      }
      Object.assign(report, applicability.applies === true ? verdictOfByte(after) : interpretFlag(applicability, {byte: after, kind: 'byte'}))
      step(report, {byte: after, kind: 'read-back-byte'})
      if (applicability.applies === false && !report.protected && found.platform.family === 'nrf52840') {
        explainDowngrade(report, found.platform, after)
        step(report, {kind: 'downgrade-written'})
      }
    } else {
      report.after = before
    }

    // Leave DFU mode when we put the device there, or when we changed something (so it boots with it).
    if (found.mode !== 'dfu' || report.changed) {
      await dfu.leave(SETUP_DONE_OFFSET)
      left = true
      step(report, {kind: 'left-dfu'})
    }
  } finally {
    await dfu.close()
  }

  if (left) {
    await dfuDevice.usbDevice.close().catch(() => {})
    opts.onWaiting?.(`Waiting for ${found.id} to restart`)
    const back = await waitBack(dfuDevice, 'normal', opts, 'in normal mode')
    report.mode = 'normal'
    await confirmNotListening(back, opts, report)
  }
}

/** Leave DFU mode (writes nothing) and wait for Device OS to come up; the device as it is then. */
export async function leaveDfu(found: FoundDevice, opts: Pick<SetOptions, 'backend' | 'clock' | 'onWaiting' | 'timeoutMs'>): Promise<FoundDevice> {
  const io = await openUsb(found)
  const dfu = new DfuseClient(found.usbDevice, io, opts.clock)
  try {
    await dfu.open(DfuAlt.DCT)
    await dfu.ensureIdle()
    await dfu.leave(SETUP_DONE_OFFSET)
  } finally {
    await dfu.close()
    await found.usbDevice.close().catch(() => {})
  }
  opts.onWaiting?.(`Waiting for ${found.id} to restart`)
  return waitBack(found, 'normal', opts, 'in normal mode')
}

/** After a restart: is the device out of Listening Mode? Best effort; a busy application is not an error here. */
async function confirmNotListening(back: FoundDevice, opts: SetOptions, report: SetReport): Promise<void> {
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

