/**
 * Reading one device's setup-done flag, in whatever mode it is: over control requests when Device OS runs
 * (normal, listening, safe), over DfuSe in DFU mode. Returns a report; never writes anything.
 */
import type {Clock} from '../clock.js'

import {openDevice, openUsb, type OpenDevice} from '../device/particle-device.js'
import {parseModuleHeader, runningSystemHeader} from '../particle/module-header.js'
import {hasRawOutRequests, versionOfModule} from '../particle/versions.js'
import {RequestPendingTimeout} from '../protocol/control-request.js'
import {type ErrorJson, errors, isSetupFlagError} from '../errors.js'
import {DfuAlt, SETUP_DONE_OFFSET, SYSTEM_MODULE_HEADER} from '../protocol/constants.js'
import {DfuNotPermitted, DfuseClient} from '../protocol/dfuse.js'
import {type CloudDevice} from '../cloud/cloud.js'
import {type Platform, platformById} from '../particle/platforms.js'
import {type FoundDevice} from '../usb/discovery.js'
import {flagApplies, type FlagReading, type FlagState, interpretFlag, PROTECTED_REASON, verdictOfByte, type VersionInfo} from './policy.js'
import {hex} from './steps.js'

export type ReportedMode = 'dfu' | 'listening' | 'normal' | 'unknown'
export type VersionSource = 'cloud' | 'dfu' | 'usb'

export interface FlagReport {
  /** What the cloud last heard the device report, when the cloud was asked and knows it. */
  cloudDeviceOsVersion?: null | string
  deviceOsVersion: null | string
  deviceOsVersionSource: null | VersionSource
  error?: ErrorJson
  flag: FlagState
  id: string
  mode: ReportedMode
  name: null | string
  platform: string
  platformId: number
  platformName: string
  protected?: boolean
  reason: null | string
  /**
   * On nRF52840 with Device OS 4.0 or later, read over DFU: what the byte would mean after a downgrade below 4.0
   * (the byte survives upgrades and matters again then).
   */
  afterDowngrade?: 'done' | 'not-done'
  /** Module version number of the system part, when read from its header in DFU mode. */
  systemModuleVersion?: number
  /**
   * True when this read sent raw request 302 (`get --unstick`): the device is off the cloud until it restarts
   * (docs/protocol.md "Raw requests").
   */
  cloudDisconnected?: boolean
  value: null | number
}

export interface ReadContext {
  clock: Clock
  /** Per-request deadline for control requests, ms. */
  timeoutMs: number
  /**
   * When the firmware does not complete a request, abort its connection attempt with raw request 302 and ask
   * again. This takes the device off the cloud until it restarts, so only on request (`get --unstick`).
   */
  unstick?: boolean
}

export function baseReport(found: FoundDevice): FlagReport {
  return {
    deviceOsVersion: null,
    deviceOsVersionSource: null,
    flag: 'unknown',
    id: found.id,
    mode: found.mode === 'dfu' ? 'dfu' : 'unknown',
    name: null,
    platform: found.platform.name,
    platformId: found.platform.id,
    platformName: found.platform.displayName,
    reason: null,
    value: null,
  }
}

/** Record a failure in a report: the flag is unknown and the error says why and what to do. */
export function withError(report: FlagReport, error: unknown): FlagReport {
  const e = isSetupFlagError(error) ? error : errors.unexpected(String((error as Error)?.message ?? error), {prefix: false})
  report.error = e.toJSON()
  if (report.flag !== 'not-applicable') {
    report.flag = 'unknown'
    report.value = null
    report.reason = e.message
  }
  return report
}

/**
 * On an nRF52840 device whose Device OS (4.0+) ignores the byte: say what it would mean after a downgrade below
 * 4.0, where the boot check reads it again (docs/protocol.md "Downgrades").
 */
export function explainDowngrade(report: FlagReport, platform: Platform, byte: number): void {
  if (platform.family !== 'nrf52840') return
  const verdict = verdictOfByte(byte)
  report.afterDowngrade = verdict.flag === 'done' ? 'done' : 'not-done'
  report.reason = `${report.reason ?? ''} The byte holds ${hex(byte)}: after a downgrade below 4.0 the device would ${
    report.afterDowngrade === 'done' ? 'count as set up' : 'boot into Listening Mode (blinking dark blue); `set --force --method dfu` writes 0x01 now'
  }.`.trim()
}

export async function readSetupFlag(found: FoundDevice, ctx: ReadContext): Promise<FlagReport> {
  const report = baseReport(found)
  try {
    if (found.mode === 'dfu') await readOverDfu(found, ctx, report)
    else await readOverControl(found, ctx, report)
  } catch (error) {
    withError(report, error)
  } finally {
    try {
      if (found.usbDevice.opened) await found.usbDevice.close()
    } catch {
      // a device that went away cannot be closed; the error above already says so
    }
  }
  return report
}

async function readOverControl(found: FoundDevice, ctx: ReadContext, report: FlagReport): Promise<void> {
  const dev: OpenDevice = await openDevice(found, ctx.clock)
  const opts = {timeoutMs: ctx.timeoutMs}
  // The raw version request needs no request slot and is answered even when the system thread is busy.
  const version = await dev.systemVersion(opts)
  report.deviceOsVersion = version
  report.deviceOsVersionSource = 'usb'
  const applicability = flagApplies(found.platform, {version})
  if (applicability.applies === false) {
    report.flag = 'not-applicable'
    report.reason = applicability.reason
  }

  await dev.resetPending()
  try {
    report.mode = (await isListeningFreeingThread(dev, version, opts, ctx.unstick === true, report)) ? 'listening' : 'normal'
  } catch (error) {
    if (isSetupFlagError(error) && error.code === 'SETUP_FLAG_PROTECTED') {
      report.protected = true
      if (applicability.applies !== false) throw error
      return
    }
    throw error
  }
  if (applicability.applies !== true) {
    Object.assign(report, interpretFlag(applicability, undefined))
    return
  }

  const reading: FlagReading = {done: await dev.isSetupDone(opts), kind: 'request'}
  Object.assign(report, interpretFlag(applicability, reading))
}

async function readOverDfu(found: FoundDevice, ctx: ReadContext, report: FlagReport): Promise<void> {
  // Platforms that never had the flag need no DFU traffic at all.
  const byPlatform = flagApplies(found.platform, {})
  if (byPlatform.applies === false) {
    Object.assign(report, interpretFlag(byPlatform, undefined))
    return
  }

  const io = await openUsb(found)
  const dfu = new DfuseClient(found.usbDevice, io, ctx.clock)
  try {
    const version = await readSystemVersionOverDfu(dfu, found.platform.id)
    if (version.moduleVersion !== undefined) {
      report.systemModuleVersion = version.moduleVersion
      report.deviceOsVersion = version.version ?? null
      report.deviceOsVersionSource = 'dfu'
    }

    let reading: FlagReading | undefined
    try {
      await dfu.open(DfuAlt.DCT)
      const [byte] = await dfu.read(SETUP_DONE_OFFSET, 1)
      reading = {byte, kind: 'byte'}
    } catch (error) {
      if (!(error instanceof DfuNotPermitted)) throw error
      // Device Protection (Device OS 6+): the DCT cannot be read, and the flag does not exist there anyway.
      report.protected = true
    }

    const applicability = report.protected
      ? {applies: false as const, reason: PROTECTED_REASON}
      : flagApplies(found.platform, version)
    Object.assign(report, interpretFlag(applicability, reading))
    if (reading?.kind === 'byte' && !report.protected && applicability.applies === false) explainDowngrade(report, found.platform, reading.byte)
  } finally {
    await dfu.close()
  }
}

/**
 * The Device OS version from the system part's module header in internal flash: 0x28200 on 6.2.0+, 0x30200
 * before. Both are read and the one that belongs to the running system part wins (a downgrade from 6.2.0 can
 * leave a stale header at 0x28200; see runningSystemHeader and docs/protocol.md).
 */
export async function readSystemVersionOverDfu(dfu: DfuseClient, platformId: number): Promise<VersionInfo> {
  try {
    await dfu.open(DfuAlt.INTERNAL_FLASH)
    const primary = parseModuleHeader(await dfu.read(SYSTEM_MODULE_HEADER.v620, SYSTEM_MODULE_HEADER.length))
    const legacy = parseModuleHeader(await dfu.read(SYSTEM_MODULE_HEADER.legacy, SYSTEM_MODULE_HEADER.length))
    const header = runningSystemHeader(primary, legacy, platformId, {legacy: SYSTEM_MODULE_HEADER.legacy, primary: SYSTEM_MODULE_HEADER.v620})
    if (header) return {moduleVersion: header.version, version: versionOfModule(header.version)}
  } catch (error) {
    // A protected device refuses internal-flash reads; the version then stays unknown.
    if (!(error instanceof DfuNotPermitted)) throw error
  }
  return {}
}

/**
 * Merge what the cloud knows into a report read over USB: the device's name, and its Device OS version. The
 * device's own report wins; the cloud decides only when the device gave no version (DFU mode without a
 * readable system-part header). A disagreement is said in `reason`-free terms through cloudDeviceOsVersion and
 * a note returned to the caller.
 */
export function applyCloud(report: FlagReport, cloud: CloudDevice | undefined): string | undefined {
  if (!cloud) return undefined
  report.name = cloud.name
  const cloudVersion = cloud.system_firmware_version ?? null
  report.cloudDeviceOsVersion = cloudVersion
  if (!cloudVersion) return undefined
  if (report.deviceOsVersion === null && report.systemModuleVersion !== undefined && !report.error) {
    // The header's module number is not a release in our table: name the release by what the cloud last saw. The
    // flag's applicability stays decided by the module number (it is what runs now).
    report.deviceOsVersion = cloudVersion
    report.deviceOsVersionSource = 'cloud'
    return `${report.id}: its system part carries module version ${report.systemModuleVersion}, which is not a Device OS release this tool knows; using the version the cloud last saw (${cloudVersion}).`
  }
  if (report.deviceOsVersionSource === null && report.systemModuleVersion === undefined && !report.error) {
    const platform = platformById(report.platformId)
    if (!platform) return undefined
    report.deviceOsVersion = cloudVersion
    report.deviceOsVersionSource = 'cloud'
    const reading: FlagReading | undefined = report.value === null ? undefined : {byte: report.value, kind: 'byte'}
    const applicability = flagApplies(platform, {version: cloudVersion})
    Object.assign(report, interpretFlag(applicability, reading))
    if (reading?.kind === 'byte' && applicability.applies === false && !report.protected) explainDowngrade(report, platform, reading.byte)
    return undefined
  }
  if (report.deviceOsVersion && report.deviceOsVersion !== cloudVersion) {
    return `${report.id}: the device runs Device OS ${report.deviceOsVersion}, but the cloud last saw ${cloudVersion}; using what the device reports.`
  }
  return undefined
}

/**
 * Request 72. When it stays pending on Device OS 2.0+ and `unstick` was asked for, abort a connection attempt that
 * may hold the system thread (raw request 302, which also takes the device off the cloud until it restarts) and
 * ask once more. Without `unstick` the timeout is reported with the way out. An application that blocks the
 * thread still times out.
 */
async function isListeningFreeingThread(dev: OpenDevice, version: string, opts: {timeoutMs: number}, unstick: boolean, report: FlagReport): Promise<boolean> {
  try {
    return await dev.isListening(opts)
  } catch (error) {
    if (!(error instanceof RequestPendingTimeout) || !hasRawOutRequests(version)) throw error
    if (!unstick) {
      error.suggestions.push(
        'If it is stuck trying to connect, `get --unstick` aborts the attempt (raw request 302); that takes it off the cloud until it restarts.',
      )
      throw error
    }
    await dev.abortConnection()
    report.cloudDisconnected = true
    return dev.isListening(opts)
  }
}
