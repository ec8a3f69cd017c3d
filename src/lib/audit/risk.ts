/**
 * Which devices of a fleet can get stuck on the setup-done flag, from what the cloud knows of each (platform and
 * Device OS version): pure functions, tested for every platform in @particle/device-constants.
 *
 * The rules: the flag exists on nRF52840 platforms below Device OS 4.0 (policy.ts). A mesh-only nRF52840 device
 * (Xenon, X SoM: neither Wi-Fi nor cellular in device-constants' features) never got Device OS 4.0, so for it
 * the flag is permanent. Every other platform never had the flag.
 */
import {platformsById} from '@particle/device-constants'

import {type Platform, platformById} from '../particle/platforms.js'
import {isFlagless, parseVersion} from '../particle/versions.js'
import {platformReason} from '../setup-flag/policy.js'

export type Risk = 'at-risk' | 'cannot-upgrade' | 'safe' | 'unknown'

export const RISKS: readonly Risk[] = ['at-risk', 'cannot-upgrade', 'safe', 'unknown']

export interface RiskInput {
  /** The product's development flag: development devices ignore product firmware releases. */
  development?: boolean
  platformId?: number
  /** The product the device belongs to; undefined (or the platform ID, as the cloud reports it) for a developer device. */
  productId?: number
  version?: string
}

export interface RiskVerdict {
  /** What to do about it (null when nothing is needed). */
  fix: null | string
  reason: string
  risk: Risk
}

const DOWNGRADE = 'A later downgrade below Device OS 4.0 brings the flag back.'

/** True for an nRF52840 platform that cannot reach the cloud on its own (mesh-only): it never got Device OS 4.0. */
export function meshOnly(platformId: number): boolean {
  const features = platformsById[platformId]?.features ?? []
  return !features.includes('wifi') && !features.includes('cellular')
}

/** "1.x", "3.x", "unknown": the Device OS line a version belongs to. */
export function deviceOsLine(version: string | undefined): string {
  const v = version ? parseVersion(version) : undefined
  return v ? `${v.major}.x` : 'unknown'
}

/** The lasting fix for an at-risk device, by how it receives firmware. */
export function lastingFix(d: Pick<RiskInput, 'development' | 'platformId' | 'productId'>): string {
  const inProduct = d.productId !== undefined && d.productId !== d.platformId
  if (inProduct && d.development) {
    return `Development devices ignore product firmware releases: flash this one yourself with firmware targeting Device OS 4.x or later (\`particle flash <device> <project> --target 6.2.0\`), or clear its development flag so it follows a 4.x release. ${DOWNGRADE}`
  }
  if (inProduct) {
    return `Release a product firmware built for Device OS 4.x or later (or lock this device to such a release in the console); the cloud then upgrades Device OS through Safe Mode. ${DOWNGRADE}`
  }
  return `Flash firmware targeting Device OS 4.x or later (\`particle flash <device> <project> --target 6.2.0\`); the cloud then upgrades Device OS through Safe Mode. ${DOWNGRADE}`
}

export function assessRisk(d: RiskInput): RiskVerdict {
  if (d.platformId === undefined) return {fix: null, reason: 'The cloud reports no platform for this device.', risk: 'unknown'}
  const platform: Platform | undefined = platformById(d.platformId)
  if (!platform) return {fix: null, reason: `Platform ${d.platformId} is not one @particle/device-constants knows.`, risk: 'unknown'}
  const other = platformReason(platform)
  if (other) return {fix: null, reason: other, risk: 'safe'}

  const parsed = d.version ? parseVersion(d.version) : undefined
  if (parsed && isFlagless(parsed)) {
    return {fix: null, reason: `Device OS ${d.version} (4.0 or later) has no setup-done flag. ${DOWNGRADE}`, risk: 'safe'}
  }
  if (meshOnly(platform.id)) {
    return {
      fix: `Nothing lasting: when it blinks dark blue, set the flag over USB (\`particle-setup-flag set\`) or over the air (\`particle-setup-flag set <device> --method firmware\`).`,
      reason: `${platform.displayName} never got Device OS 4.0 (its last Device OS is below 4.0), so the setup-done flag is its permanent condition: a settings reset or an unfinished USB setup sends it to Listening Mode.`,
      risk: 'cannot-upgrade',
    }
  }
  if (!d.version) return {fix: null, reason: `The cloud has no Device OS version for this ${platform.displayName} yet (it reports one when it connects).`, risk: 'unknown'}
  if (!parsed) return {fix: null, reason: `The Device OS version "${d.version}" is not one we can read.`, risk: 'unknown'}
  return {
    fix: lastingFix(d),
    reason: `${platform.displayName} on Device OS ${d.version} (below 4.0): a settings reset or an unfinished USB setup sends it to Listening Mode (blinking dark blue) until the setup-done flag is set.`,
    risk: 'at-risk',
  }
}
