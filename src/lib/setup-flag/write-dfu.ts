/**
 * Writing the flag over DFU: from normal mode send DFU_MODE (50) and wait for the DFU product ID; then read the
 * byte, write it if needed (one byte at DCT 8134 on alt 1, no erase), read it back, leave, and wait.
 */
import {openDevice, openUsb} from '../device/particle-device.js'
import {errors} from '../errors.js'
import {DFU_BY_HAND} from '../instructions.js'
import {DfuAlt, SETUP_DONE, SETUP_DONE_OFFSET, SETUP_NOT_DONE} from '../protocol/constants.js'
import {DfuNotPermitted, DfuseClient} from '../protocol/dfuse.js'
import {type FoundDevice} from '../usb/discovery.js'
import {type Applicability, flagApplies, interpretFlag, PROTECTED_REASON, verdictOfByte} from './policy.js'
import {explainDowngrade, readSystemVersionOverDfu} from './read.js'
import {hex, step} from './steps.js'
import {confirmNotListening, decide, restartBy, type SetOptions, type SetReport, waitBack} from './write-shared.js'

/**
 * DFU: from normal mode send DFU_MODE (50) and wait for the DFU product ID; then read the byte, write it if
 * needed (one byte at DCT 8134 on alt 1, no erase), read it back, leave, and wait for normal mode.
 */
export async function setOverDfu(found: FoundDevice, opts: SetOptions, report: SetReport): Promise<void> {
  // Platforms that never had the flag (Gen2, Realtek) need no DFU traffic: their memory map has no system-part
  // header where nRF52840 has one, so reading it would fail as a DFU addressing error.
  const byPlatform = flagApplies(found.platform, {})
  if (found.mode === 'dfu' && byPlatform.applies === false && !opts.force) {
    Object.assign(report, interpretFlag(byPlatform, undefined))
    step(report, {kind: 'not-applicable'})
    return
  }
  const dfuDevice = found.mode === 'dfu' ? found : await intoDfu(found, opts, report)
  if (!dfuDevice) return

  const io = await openUsb(dfuDevice)
  const dfu = new DfuseClient(dfuDevice.usbDevice, io, opts.clock)
  let left = false
  try {
    const applicability = await versionOverDfu(dfu, found, byPlatform, opts, report)
    await dfu.open(DfuAlt.DCT)
    if (!(await writeOverDfu(dfu, found, applicability, opts, report))) return

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

/** From normal mode: decide by the version it reports, then restart it in DFU mode (50); undefined: nothing to do. */
async function intoDfu(found: FoundDevice, opts: SetOptions, report: SetReport): Promise<FoundDevice | undefined> {
  const dev = await openDevice(found, opts.clock)
  const version = await dev.systemVersion({timeoutMs: opts.timeoutMs})
  report.deviceOsVersion = version
  report.deviceOsVersionSource = 'usb'
  const applicability = flagApplies(found.platform, {version})
  if (applicability.applies !== true && !opts.force) {
    Object.assign(report, interpretFlag(applicability, undefined))
    step(report, {kind: applicability.applies === false && found.platform.family === 'nrf52840' ? 'not-applicable-downgrade' : 'not-applicable'})
    await dev.close()
    return undefined
  }
  if (opts.dryRun) {
    step(report, {byte: opts.done ? SETUP_DONE : SETUP_NOT_DONE, kind: 'would-enter-dfu'})
    await dev.close()
    return undefined
  }
  const dfuDevice = await restartBy(dev, 'dfu', found, opts, report, {
    asked: () => step(report, {kind: 'asked-dfu'}),
    back: 'in DFU mode',
    late: 'in DFU mode',
    resetPending: true,
    waiting: `Waiting for ${found.id} to restart in DFU mode`,
  })
  if (!dfuDevice) {
    throw errors.notResponding(
      `Device ${found.id} does not answer the request to restart in DFU mode: its application is blocking the system. It may still restart in DFU mode on its own if it frees up.`,
      DFU_BY_HAND,
    )
  }
  report.mode = 'dfu'
  return dfuDevice
}

/** The Device OS version as the device says it (system-part header) or the cloud last heard; whether the flag applies. */
async function versionOverDfu(dfu: DfuseClient, found: FoundDevice, byPlatform: Applicability, opts: SetOptions, report: SetReport): Promise<Applicability> {
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
  return flagApplies(found.platform, {
    moduleVersion: report.systemModuleVersion,
    version: cloudNamesOnly ? undefined : (report.deviceOsVersion ?? undefined),
  })
}

/** Read the byte, decide, write it and read it back; false when the flow stops here (protected, dry run). */
async function writeOverDfu(dfu: DfuseClient, found: FoundDevice, applicability: Applicability, opts: SetOptions, report: SetReport): Promise<boolean> {
  let before: number
  try {
    ;[before] = await dfu.read(SETUP_DONE_OFFSET, 1)
  } catch (error) {
    if (!(error instanceof DfuNotPermitted) || opts.force) throw error
    // Device Protection (Device OS 6+): the DCT is closed, and the flag does not exist there anyway.
    report.protected = true
    Object.assign(report, interpretFlag({applies: false, reason: PROTECTED_REASON}, undefined))
    step(report, {kind: 'not-applicable-protected'})
    return false
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
    return false
  }
  if (!write) {
    report.after = before
    return true
  }
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
  return true
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

