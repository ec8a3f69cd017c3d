/**
 * Device OS versions: semver strings as the device and the cloud report them, and the 16-bit module version
 * numbers stored in the system part's module header (what DFU mode can read). Facts from device-protocol.md §6.
 */

/** First module version without the setup-done flag (4.0.0-alpha.1). */
export const FLAGLESS_MODULE_VERSION = 4000

/** Known module version numbers (Device OS build/version.mk). */
const KNOWN_MODULES: ReadonlyArray<[string, number]> = [
  ['0.9.0', 403],
  ['1.1.0', 1102],
  ['1.5.2', 1512],
  ['2.0.0', 2008],
  ['2.3.1', 2302],
  ['3.0.0', 3005],
  ['3.3.1', 3302],
  ['4.0.0-alpha.1', 4000],
  ['4.0.0', 4003],
  ['4.2.0', 4200],
  ['5.0.0', 5002],
  ['5.9.0', 5901],
  ['6.0.0', 6000],
  ['6.2.0', 6200],
]

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

export function compareVersions(a: Semver, b: Semver): number {
  return (
    a.major - b.major ||
    a.minor - b.minor ||
    a.patch - b.patch ||
    (a.prerelease === b.prerelease ? 0 : a.prerelease === undefined ? 1 : b.prerelease === undefined ? -1 : a.prerelease < b.prerelease ? -1 : 1)
  )
}

/** True when this Device OS version has no setup-done flag (4.0.0-alpha.1 and later). */
export function isFlagless(v: Semver): boolean {
  return v.major >= 4
}

/** The release a module version number stands for, when it is one we know. */
export function versionOfModule(moduleVersion: number): string | undefined {
  return KNOWN_MODULES.find(([, n]) => n === moduleVersion)?.[0]
}

/**
 * The module version number a release carries: exact for known releases, otherwise an estimate
 * (major*1000 + minor*100 + patch) that keeps the one property decisions rest on: < 4000 exactly below 4.0.
 */
export function moduleOfVersion(version: string): number | undefined {
  const known = KNOWN_MODULES.find(([v]) => v === version)
  if (known) return known[1]
  const s = parseVersion(version)
  if (!s) return undefined
  return s.major * 1000 + Math.min(s.minor, 9) * 100 + Math.min(s.patch, 99)
}

/** The raw OUT requests (reset 40, abort connection 302) exist from Device OS 2.0.0 (device-protocol.md §2.8). */
export function hasRawOutRequests(version: string): boolean {
  const v = parseVersion(version)
  return v !== undefined && v.major >= 2
}
