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
import {type Cli, STANDALONE} from '../cli.js'
import {fixText, type FixKind, riskText, type RiskWhy} from '../text/audit.js'

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

/** How the device receives firmware decides its lasting fix. */
export function fixKind(d: Pick<RiskInput, 'development' | 'platformId' | 'productId'>): FixKind {
  const inProduct = d.productId !== undefined && d.productId !== d.platformId
  if (inProduct && d.development) return 'development-in-product'
  return inProduct ? 'product' : 'developer'
}

/** The lasting fix for an at-risk device, in words. */
export function lastingFix(d: Pick<RiskInput, 'development' | 'platformId' | 'productId'>, cli: Cli = STANDALONE): string {
  return fixText(fixKind(d), cli)
}

/** The decision for one device, as records (the text layer says them). */
export function decideRisk(d: RiskInput): {fix: FixKind | null; risk: Risk; why: RiskWhy} {
  if (d.platformId === undefined) return {fix: null, risk: 'unknown', why: {kind: 'no-platform'}}
  const platform: Platform | undefined = platformById(d.platformId)
  if (!platform) return {fix: null, risk: 'unknown', why: {kind: 'unknown-platform', platformId: d.platformId}}
  if (platform.family !== 'nrf52840') return {fix: null, risk: 'safe', why: {kind: 'other-platform', platform}}
  const parsed = d.version ? parseVersion(d.version) : undefined
  if (parsed && isFlagless(parsed)) return {fix: null, risk: 'safe', why: {kind: 'flagless', version: d.version!}}
  if (meshOnly(platform.id)) return {fix: 'mesh-only', risk: 'cannot-upgrade', why: {kind: 'mesh-only', platform}}
  if (!d.version) return {fix: null, risk: 'unknown', why: {kind: 'no-version', platform}}
  if (!parsed) return {fix: null, risk: 'unknown', why: {kind: 'unreadable-version', version: d.version}}
  return {fix: fixKind(d), risk: 'at-risk', why: {kind: 'at-risk', platform, version: d.version}}
}

export function assessRisk(d: RiskInput, cli: Cli = STANDALONE): RiskVerdict {
  const v = decideRisk(d)
  return {fix: v.fix ? fixText(v.fix, cli) : null, reason: riskText(v.why), risk: v.risk}
}
