/**
 * Firmware facts that several parts of the virtual device need: which Device OS versions have which behaviour.
 * Each rule cites the section of docs/protocol.md it comes from (section numbers there match the older notes).
 */
import type {Platform} from '../particle/platforms.js'
import {compareCore, compareVersions, parseVersion, type Semver} from '../particle/versions.js'
import {SETUP_DONE} from '../protocol/constants.js'

/** a >= b on major.minor.patch, ignoring prerelease tags (firmware feature checks are per release line). */
export function atLeast(v: Semver, b: string): boolean {
  return compareCore(v, parseVersion(b)!) >= 0
}

export function sameCore(v: Semver, b: string): boolean {
  return compareCore(v, parseVersion(b)!) === 0
}

/** The flag exists (requests 73/74 read and write DCT[8134], the boot check runs) only on nRF52840 below 4.0 (§1.2, §2.11). */
export function hasFlag(platform: Platform, version: Semver): boolean {
  return platform.family === 'nrf52840' && version.major < 4
}

/**
 * The boot rule (§3.1): on a flag platform, a DCT byte of 0x00 or 0xFF sends the device to Listening Mode the
 * first time it brings the network up after a boot; any other value counts as done. Gen2, Realtek and 4.0+
 * never look at the byte.
 */
export function bootsListening(platform: Platform, version: Semver, setupDone: number): boolean {
  return hasFlag(platform, version) && (setupDone === 0x00 || setupDone === 0xff)
}

/** Request 74 on a flag device reports done only for exactly 0x01 (§2.11, §5). */
export function reportsDone(setupDone: number): boolean {
  return setupDone === SETUP_DONE
}

/** How the system firmware shows itself on USB: the one rule is in particle/versions.ts (the services need it too). */
export {systemUsb, type SystemUsb} from '../particle/versions.js'
