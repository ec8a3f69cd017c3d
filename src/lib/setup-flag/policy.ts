/**
 * Whether the setup-done flag matters for a device, and what a reading of it means. Pure functions of the
 * platform, the Device OS version and what was read: no I/O, so every rule is tested directly. Reasons are
 * records; the text layer (text/reasons.ts) says them.
 *
 * The rules (docs/protocol.md §1.2, §2.11, §3): the flag exists and is honoured only on nRF52840 platforms running
 * Device OS below 4.0. There, request 74 reports "done" only for the byte 0x01, while the boot check treats 0x00
 * and 0xFF as "not done" and every other value as done. On 4.0+ request 74 always says done (it does not read the
 * DCT), so it must not be trusted there.
 */
import type {Platform} from '../particle/platforms.js'

import {FLAGLESS_MODULE_VERSION, isFlagless, parseVersion} from '../particle/versions.js'
import {SETUP_DONE} from '../protocol/constants.js'

export type FlagState = 'done' | 'not-applicable' | 'not-done' | 'unknown'

/** Why the flag does not apply, or why that is not known. */
export type Why =
  | {kind: 'flagless'; version: string} // Device OS 4.0 or later ("module N" when only the module number is known)
  | {kind: 'platform'; platform: Platform} // a platform that never had the flag (Gen2, Realtek, others)
  | {kind: 'protected'} // Device Protection (Device OS 6+)
  | {kind: 'version-unknown'; platform: Platform}

export type Applicability = {applies: false; why: Why} | {applies: true} | {applies: undefined; why: Why}

export interface VersionInfo {
  /** Module version number from a system-part header (DFU), when that is what we have. */
  moduleVersion?: number
  /** Device OS version string, e.g. "3.3.1". */
  version?: string
}

export const PROTECTED: Applicability = {applies: false, why: {kind: 'protected'}}

/** Whether the platform alone rules the flag out (Gen2, Realtek, anything not nRF52840). */
export function byPlatform(platform: Platform): Applicability | undefined {
  return platform.family === 'nrf52840' ? undefined : {applies: false, why: {kind: 'platform', platform}}
}

/** Does the flag apply to this device? `applies: undefined` when the version needed to decide is unknown. */
export function flagApplies(platform: Platform, v: VersionInfo): Applicability {
  const ruled = byPlatform(platform)
  if (ruled) return ruled
  const parsed = v.version ? parseVersion(v.version) : undefined
  if (parsed) return isFlagless(parsed) ? {applies: false, why: {kind: 'flagless', version: v.version!}} : {applies: true}
  if (v.moduleVersion !== undefined) {
    return v.moduleVersion >= FLAGLESS_MODULE_VERSION ? {applies: false, why: {kind: 'flagless', version: `module ${v.moduleVersion}`}} : {applies: true}
  }
  return {applies: undefined, why: {kind: 'version-unknown', platform}}
}

/** What was read from the device, if anything. */
export type FlagReading =
  | {byte: number; kind: 'byte'} // the raw DCT byte, read over DFU
  | {done: boolean; kind: 'request'} // request 74's answer

/** Something a person should know about a reading (the text layer says it). */
export type Note =
  | {kind: 'no-control-requests'} // Gen3 firmware below 0.9.0: no USB control requests to read it with (docs/protocol.md §10)
  | {kind: 'not-read'} // the flag could not be read
  | {kind: 'request-not-done'} // request 74 said "not 0x01"; only a DFU read shows the byte
  | {byte: number; kind: 'unusual-byte'} // boots as set up, but request 74 says "not done"

export interface FlagVerdict {
  flag: FlagState
  note: Note | null
  /** The raw byte when known: read over DFU, or 0x01 when request 74 said done below 4.0. */
  value: null | number
  /** Why the flag does not apply (or why that is unknown). */
  why: null | Why
}

export function interpretFlag(applicability: Applicability, reading: FlagReading | undefined): FlagVerdict {
  const rawByte = reading?.kind === 'byte' ? reading.byte : null
  if (applicability.applies === false) return {flag: 'not-applicable', note: null, value: rawByte, why: applicability.why}
  if (applicability.applies === undefined) return {flag: 'unknown', note: null, value: rawByte, why: applicability.why}
  if (!reading) return {flag: 'unknown', note: {kind: 'not-read'}, value: null, why: null}
  if (reading.kind === 'request') {
    // Below 4.0, request 74 says done exactly when the byte is 0x01; "not done" can be 0x00, 0xFF or another value.
    return reading.done ? {flag: 'done', note: null, value: SETUP_DONE, why: null} : {flag: 'not-done', note: {kind: 'request-not-done'}, value: null, why: null}
  }
  return verdictOfByte(reading.byte)
}

export function verdictOfByte(byte: number): FlagVerdict {
  if (byte === SETUP_DONE) return {flag: 'done', note: null, value: byte, why: null}
  if (byte === 0x00 || byte === 0xff) return {flag: 'not-done', note: null, value: byte, why: null}
  return {flag: 'done', note: {byte, kind: 'unusual-byte'}, value: byte, why: null}
}

/** Whether a byte counts as set up at boot (below 4.0): what it would mean after a downgrade. */
export function bootsAsSetUp(byte: number): boolean {
  return verdictOfByte(byte).flag === 'done'
}
