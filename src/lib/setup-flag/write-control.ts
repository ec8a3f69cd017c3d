/**
 * Writing the flag with control requests in normal, listening or safe mode: request 73, read back with 74, then
 * STOP_LISTENING (71); getting a busy firmware to answer (raw 302, Safe Mode) on the way.
 */
import {openDevice, type OpenDevice} from '../device/particle-device.js'
import {errors, isSetupFlagError, SetupFlagError} from '../errors.js'
import {DFU_BUTTONS, SAFE_MODE_BY_HAND} from '../instructions.js'
import {hasRawOutRequests} from '../particle/versions.js'
import {RequestType, SETUP_DONE, SETUP_NOT_DONE} from '../protocol/constants.js'
import {RequestPendingTimeout} from '../protocol/control-request.js'
import {type FoundDevice} from '../usb/discovery.js'
import {type Applicability, flagApplies, interpretFlag} from './policy.js'
import {step} from './steps.js'
import {confirmNotListening, decide, offCloud, restartBy, type SetOptions, type SetReport, waitBack, writeMayLand} from './write-shared.js'

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
export async function setOverControl(found: FoundDevice, opts: SetOptions, report: SetReport, stage: Stage): Promise<void> {
  const dev = await openDevice(found, opts.clock)
  const ro = {timeoutMs: opts.timeoutMs}
  const version = await dev.systemVersion(ro)
  report.deviceOsVersion = version
  report.deviceOsVersionSource = 'usb'
  const applicability = flagApplies(found.platform, {version})
  await dev.resetPending()

  let wrote: undefined | {listening: boolean}
  try {
    wrote = await writeOverControl(dev, applicability, opts, report)
  } catch (error) {
    if (!(error instanceof RequestPendingTimeout) || opts.dryRun) throw error
    await whenPending(error, {dev, found, stage, version}, opts, report)
    return
  }
  if (wrote) await readBackOverControl(dev, found, applicability, wrote.listening, opts, report)
}

/** Read the mode and the flag, decide, and send request 73; undefined when nothing was (or would be) written. */
async function writeOverControl(dev: OpenDevice, applicability: Applicability, opts: SetOptions, report: SetReport): Promise<undefined | {listening: boolean}> {
  const ro = {timeoutMs: opts.timeoutMs}
  let listening: boolean
  let current: null | number | undefined
  try {
    listening = await dev.isListening(ro)
  } catch (error) {
    // Device Protection (Device OS 6+) refuses request 72; the flag does not exist there, so nothing to do.
    if (isSetupFlagError(error) && error.code === 'SETUP_FLAG_PROTECTED' && applicability.applies === false && !opts.force) {
      report.protected = true
      Object.assign(report, interpretFlag(applicability, undefined))
      step(report, {kind: 'not-applicable'})
      return undefined
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
    return undefined
  }
  if (opts.dryRun) {
    step(report, {byte: opts.done ? SETUP_DONE : SETUP_NOT_DONE, kind: 'would-write-control', stopListening: opts.done && listening})
    return undefined
  }
  report.method = 'usb'
  await dev.setSetupDone(opts.done, ro)
  report.changed = true
  return {listening}
}

/**
 * A request did not complete: the firmware is busy. Abort its connection attempt (raw 302) and try again, then
 * Safe Mode; past that only the buttons help.
 */
async function whenPending(
  error: RequestPendingTimeout,
  at: {dev: OpenDevice; found: FoundDevice; stage: Stage; version: string},
  opts: SetOptions,
  report: SetReport,
): Promise<void> {
  const {dev, found, stage, version} = at
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
}

/** Read back (on 4.0+ request 74 always says done, so there is nothing to verify), then leave Listening Mode. */
async function readBackOverControl(
  dev: OpenDevice,
  found: FoundDevice,
  applicability: Applicability,
  listening: boolean,
  opts: SetOptions,
  report: SetReport,
): Promise<void> {
  const ro = {timeoutMs: opts.timeoutMs}
  if (applicability.applies === true) {
    const done = await dev.isSetupDone(ro)
    if (done !== opts.done) {
      throw errors.verify(
        `Device ${found.id} accepted the write, but reading the flag back says it is ${done ? 'set' : 'not set'}.`,
        `Try --method dfu: ${DFU_BUTTONS}, then run the command again.`,
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

/** After raw 302: restart the device (request 40) so it leaves the cloud-disconnect state, and wait for it. */
async function restartOnline(found: FoundDevice, opts: SetOptions, report: SetReport): Promise<void> {
  const now = (await opts.backend.usb.getDevices().catch(() => [] as USBDevice[])).find((d) => d.serialNumber?.toLowerCase() === found.id)
  const current = now && now !== found.usbDevice ? {...found, usbDevice: now} : found
  const dev = await openDevice(current, opts.clock)
  const back = await restartBy(dev, 'reset', current, opts, report, {back: 'after the restart', late: 'to reconnect to the cloud', resetPending: true})
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
  const back = await restartBy(dev, 'safe', found, opts, report, {
    back: 'in Safe Mode',
    late: 'in Safe Mode',
    waiting: `Waiting for ${found.id} to restart in Safe Mode`,
  })
  if (!back) throw safeModeByHand(found.id, cause)
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
    SAFE_MODE_BY_HAND,
    cause,
  )
}

