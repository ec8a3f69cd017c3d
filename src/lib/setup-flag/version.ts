/**
 * The Device OS version of one device, decided once, before anything decides on it: the device first (the raw
 * version request, or request 30), the system part's module header in DFU mode, and the cloud only where the device
 * cannot tell (no readable header, or a module number that is no release we know). Then whether the flag applies
 * (policy.ts: the 4.x and downgrade rules).
 */
import {type OpenDevice} from '../device/particle-device.js'
import {DfuNotPermitted} from '../errors.js'
import {parseModuleHeader, runningSystemHeader} from '../particle/module-header.js'
import {versionOfModule} from '../particle/versions.js'
import {DfuAlt, SYSTEM_MODULE_HEADER} from '../protocol/constants.js'
import {type DfuseClient} from '../protocol/dfuse.js'
import {type Applicability, byPlatform, flagApplies, type VersionInfo} from './policy.js'
import {type DeviceSession} from './session.js'

/** Over control requests: the raw version request needs no request slot and is answered even when the system thread is busy. */
export async function versionOverControl(s: DeviceSession, dev: OpenDevice): Promise<Applicability> {
  const version = await dev.systemVersion({timeoutMs: s.ctx.timeoutMs})
  s.report.deviceOsVersion = version
  s.report.deviceOsVersionSource = 'usb'
  return flagApplies(s.found.platform, {version})
}

/** In DFU mode. Platforms that never had the flag need no DFU traffic at all (their memory map has no such header). */
export async function versionOverDfu(s: DeviceSession, dfu: DfuseClient): Promise<Applicability> {
  const {platform} = s.found
  const ruled = byPlatform(platform)
  if (ruled) return ruled
  const r = s.report
  const v = await readSystemVersionOverDfu(dfu, platform.id)
  if (v.moduleVersion !== undefined) {
    r.systemModuleVersion = v.moduleVersion
    r.deviceOsVersion = v.version ?? null
    r.deviceOsVersionSource = 'dfu'
  }
  if (r.deviceOsVersion === null) {
    // The device cannot say: the cloud names the release it last heard. A module number read from the device
    // still decides the flag (it is what runs now).
    const cloud = (await s.cloud.device(s.id))?.system_firmware_version
    if (cloud) {
      if (r.systemModuleVersion !== undefined) r.remarks.push({cloud, kind: 'module-unknown', module: r.systemModuleVersion})
      r.deviceOsVersion = cloud
      r.deviceOsVersionSource = 'cloud'
    }
  }
  const cloudNamesOnly = r.systemModuleVersion !== undefined && r.deviceOsVersionSource === 'cloud'
  return flagApplies(platform, {moduleVersion: r.systemModuleVersion, version: cloudNamesOnly ? undefined : (r.deviceOsVersion ?? undefined)})
}

/**
 * The Device OS version from the system part's module header in internal flash: 0x28200 on 6.2.0+, 0x30200
 * before. Both are read and the one that belongs to the running system part wins (a downgrade from 6.2.0 can
 * leave a stale header at 0x28200; docs/protocol.md §6).
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
