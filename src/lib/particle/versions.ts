/**
 * Device OS versions: semver strings as the device and the cloud report them, and the 16-bit module version
 * numbers stored in the system part's module header (what DFU mode can read). The release table is data
 * (data/device-os-modules.ts, from Device OS's own sources); see docs/protocol.md "Module versions".
 */
import {DEVICE_OS_MODULES} from './data/device-os-modules.js'
import type {Platform} from './platforms.js'

/** First module version without the setup-done flag (4.0.0-alpha.1). */
export const FLAGLESS_MODULE_VERSION = 4000

export interface Semver {
  major: number
  minor: number
  patch: number
  prerelease?: string
}

export function parseVersion(v: string): Semver | undefined {
  const m = /^v?(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v.trim())
  if (!m) return undefined
  return {major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4]}
}

/** Order on major.minor.patch alone, prerelease tags ignored (firmware feature checks are per release line). */
export function compareCore(a: Semver, b: Semver): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch
}

/** Semver order, prerelease identifiers compared as semver says (numeric ones as numbers: rc.2 < rc.10). */
export function compareVersions(a: Semver, b: Semver): number {
  const core = compareCore(a, b)
  if (core !== 0 || a.prerelease === b.prerelease) return core
  if (a.prerelease === undefined) return 1
  if (b.prerelease === undefined) return -1
  const x = a.prerelease.split('.')
  const y = b.prerelease.split('.')
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const nx = /^\d+$/.test(x[i]) ? Number(x[i]) : undefined
    const ny = /^\d+$/.test(y[i]) ? Number(y[i]) : undefined
    let c: number
    if (nx !== undefined && ny !== undefined) c = nx - ny
    else if (nx !== undefined) c = -1
    else if (ny !== undefined) c = 1
    else c = x[i] < y[i] ? -1 : x[i] > y[i] ? 1 : 0
    if (c !== 0) return c
  }
  return x.length - y.length
}

/** True when this Device OS version has no setup-done flag (4.0.0-alpha.1 and later). */
export function isFlagless(v: Semver): boolean {
  return v.major >= 4
}

const BY_MODULE = new Map(DEVICE_OS_MODULES.map(([v, n]) => [n, v]))
const BY_VERSION = new Map(DEVICE_OS_MODULES.map(([v, n]) => [v, n]))
const SORTED = DEVICE_OS_MODULES.map(([v, n]) => ({n, v: parseVersion(v)!})).sort((a, b) => compareVersions(a.v, b.v))

/** The release a module version number stands for, when it is in the table (data/device-os-modules.ts). */
export function versionOfModule(moduleVersion: number): string | undefined {
  return BY_MODULE.get(moduleVersion)
}

/**
 * The module version number a release carries: exact for every release in the table. For a version not in it
 * (a virtual device on a made-up release, say) a stand-in that no release in the table uses and that sorts
 * between its neighbours' numbers, so it keeps the one property decisions rest on (< 4000 exactly below 4.0);
 * undefined when there is no such number.
 */
export function moduleOfVersion(version: string): number | undefined {
  const known = BY_VERSION.get(version)
  if (known !== undefined) return known
  const s = parseVersion(version)
  if (!s) return undefined
  const after = SORTED.findIndex((r) => compareVersions(r.v, s) > 0)
  const lo = after === -1 ? SORTED.at(-1) : after === 0 ? undefined : SORTED[after - 1]
  const hi = after === -1 ? undefined : SORTED[after]
  // Older than the table (no Gen3 build, and numbers there were reused across rcs): no stand-in.
  if (!lo) return undefined
  // Above the table: the numbering scheme of the releases it holds (major*1000 + minor*100 + patch).
  const start = hi ? lo.n + 1 : Math.max(lo.n + 1, s.major * 1000 + Math.min(s.minor, 9) * 100 + Math.min(s.patch, 99))
  const ceiling = hi ? hi.n : 0xffff + 1
  const flagless = s.major >= 4
  for (let n = Math.max(0, start); n < ceiling; n++) {
    if (BY_MODULE.has(n)) continue
    if (flagless !== n >= FLAGLESS_MODULE_VERSION) return undefined
    return n
  }
  return undefined
}

/**
 * The raw OUT requests (reset 40, abort connection 302) exist from Device OS 2.0.0-alpha.3
 * (usb_control_request_channel.cpp@v2.0.0-alpha.3:543; absent @v2.0.0-alpha.2). See docs/protocol.md.
 */
export function hasRawOutRequests(version: string): boolean {
  const v = parseVersion(version)
  return v !== undefined && compareVersions(v, parseVersion('2.0.0-alpha.3')!) >= 0
}

/**
 * How the system firmware (not the bootloader) of a device shows itself on USB (docs/protocol.md §10.1):
 * - 'control': the vendor control interface and its requests; every platform but nRF52840 below 0.9.0, whose
 *   requests arrive with commit e2d35d45f, first released in 0.9.0-rc.1 (`hal/inc/usb_config_hal.h@v0.9.0-rc.3:41-43`);
 * - 'cdc': nRF52840 from 0.8.0-rc.27 to 0.9.0: only the CDC ACM interfaces, on USB from boot ("enable USB Serial by
 *   default", 5ab85f53d: `hal/src/nRF52840/usb_hal.cpp@v0.8.0-rc.27:116`);
 * - 'cdc-with-serial': nRF52840 from 0.8.0-rc.15 to 0.8.0-rc.26: the same interfaces, but the USB device starts only
 *   when something uses USB serial (`usb_hal.cpp@v0.8.0-rc.26:114-119` registers the line-coding handler without
 *   HAL_USB_USART_Init, and only usb_uart_init enables USB, `usb_hal_cdc.c@v0.8.0-rc.25-mesh:303-335`);
 * - 'none': nRF52840 below 0.8.0-rc.15: the system HAL's USB is a stub (0.8.0-rc.13 release commit b9715fa4e,
 *   `hal/src/nRF52840/usb_hal.cpp:98-185`); only DFU mode (the bootloader) is on USB.
 */
export type SystemUsb = 'cdc' | 'cdc-with-serial' | 'control' | 'none'

const FIRST_CDC = parseVersion('0.8.0-rc.15')!
const SERIAL_BY_DEFAULT = parseVersion('0.8.0-rc.27')!

export function systemUsb(platform: Pick<Platform, 'family'>, version: Semver): SystemUsb {
  // 0.9.0-rc.1 counts as 0.9.0 here (the core comparison ignores prerelease tags): its release commit e7e6e96be has e2d35d45f.
  if (platform.family !== 'nrf52840' || compareCore(version, parseVersion('0.9.0')!) >= 0) return 'control'
  if (compareVersions(version, SERIAL_BY_DEFAULT) >= 0) return 'cdc'
  if (compareVersions(version, FIRST_CDC) >= 0) return 'cdc-with-serial'
  return 'none'
}
