/**
 * Whether the setup-done flag matters for a device, and what a reading of it means. Pure functions of the
 * platform, the Device OS version and what was read: no I/O, so every rule is tested directly.
 *
 * The rules (device-protocol.md §1.2, §2.11, §3): the flag exists and is honoured only on nRF52840 platforms
 * running Device OS below 4.0. There, request 74 reports "done" only for the byte 0x01, while the boot check
 * treats 0x00 and 0xFF as "not done" and every other value as done. On 4.0+ request 74 always says done (it
 * does not read the DCT), so it must not be trusted there.
 */
import type {Platform} from '../particle/platforms.js'

import {FLAGLESS_MODULE_VERSION, isFlagless, parseVersion} from '../particle/versions.js'
import {SETUP_DONE} from '../protocol/constants.js'

export type FlagState = 'done' | 'not-applicable' | 'not-done' | 'unknown'

export type Applicability = {applies: false; reason: string} | {applies: true} | {applies: undefined; reason: string}

export interface VersionInfo {
  /** Module version number from a system-part header (DFU), when that is what we have. */
  moduleVersion?: number
  /** Device OS version string, e.g. "3.3.1". */
  version?: string
}

export const PROTECTED_REASON =
  'The device is protected (Device Protection, Device OS 6 or later), where the setup-done flag no longer exists.'

/** Why a platform never has the flag, in words a user can act on; undefined for nRF52840 platforms. */
export function platformReason(platform: Platform): string | undefined {
  switch (platform.family) {
    case 'nrf52840': {
      return undefined
    }
    case 'gen2': {
      return platform.name === 'electron'
        ? 'Electron and E Series (Gen2) have no setup-done flag: on an Electron, Listening Mode has another cause (often the SIM or cellular settings); for an E Series module, contact Particle support.'
        : `${platform.displayName} (Gen2) has no setup-done flag: blinking dark blue means it has no Wi-Fi credentials; add them with \`particle wifi add\` or \`particle serial wifi\`.`
    }
    case 'realtek': {
      return `${platform.displayName} never had the setup-done flag: Listening Mode there means it lacks Wi-Fi credentials or network settings (\`particle wifi add\`, or setup.particle.io).`
    }
    default: {
      return `${platform.displayName} has no setup-done flag.`
    }
  }
}

/** Does the flag apply to this device? `applies: undefined` when the version needed to decide is unknown. */
export function flagApplies(platform: Platform, v: VersionInfo): Applicability {
  const byPlatform = platformReason(platform)
  if (byPlatform) return {applies: false, reason: byPlatform}

  const parsed = v.version ? parseVersion(v.version) : undefined
  if (parsed) {
    if (isFlagless(parsed)) return {applies: false, reason: flaglessReason(v.version!)}
    return {applies: true}
  }
  if (v.moduleVersion !== undefined) {
    if (v.moduleVersion >= FLAGLESS_MODULE_VERSION) return {applies: false, reason: flaglessReason(`module ${v.moduleVersion}`)}
    return {applies: true}
  }
  return {
    applies: undefined,
    reason: `The Device OS version of this ${platform.displayName} is unknown, and the flag matters only below Device OS 4.0.`,
  }
}

function flaglessReason(version: string): string {
  return `Device OS ${version} (4.0 or later) has no setup-done flag, so it cannot be what keeps this device in Listening Mode.`
}

/** What was read from the device, if anything. */
export type FlagReading =
  | {byte: number; kind: 'byte'} // the raw DCT byte, read over DFU
  | {done: boolean; kind: 'request'} // request 74's answer

export interface FlagVerdict {
  flag: FlagState
  reason: null | string
  /** The raw byte when known: read over DFU, or 0x01 when request 74 said done below 4.0. */
  value: null | number
}

/** Request 74's "not done", said as what it is: the byte is not 0x01; how the device boots needs the byte itself. */
export const REQUEST_NOT_DONE_REASON =
  'Request 74 says the setup-done byte is not 0x01. With 0x00 or 0xFF (the usual case) the device boots into Listening Mode; with any other value it boots as set up. Only a read in DFU mode shows the byte.'

export function interpretFlag(applicability: Applicability, reading: FlagReading | undefined): FlagVerdict {
  const rawByte = reading?.kind === 'byte' ? reading.byte : null
  if (applicability.applies === false) return {flag: 'not-applicable', reason: applicability.reason, value: rawByte}
  if (applicability.applies === undefined) return {flag: 'unknown', reason: applicability.reason, value: rawByte}
  if (!reading) return {flag: 'unknown', reason: 'The flag could not be read.', value: null}
  if (reading.kind === 'request') {
    // Below 4.0, request 74 says done exactly when the byte is 0x01; "not done" can be 0x00, 0xFF or another value.
    return reading.done ? {flag: 'done', reason: null, value: SETUP_DONE} : {flag: 'not-done', reason: REQUEST_NOT_DONE_REASON, value: null}
  }
  return verdictOfByte(reading.byte)
}

export function verdictOfByte(byte: number): FlagVerdict {
  if (byte === SETUP_DONE) return {flag: 'done', reason: null, value: byte}
  if (byte === 0x00 || byte === 0xff) return {flag: 'not-done', reason: null, value: byte}
  return {
    flag: 'done',
    reason: `The byte holds the unusual value 0x${byte.toString(16).padStart(2, '0')}: the device boots as set up, but request 74 reports "not done"; \`set\` would write 0x01.`,
    value: byte,
  }
}
