/** The audit's words: why each device is (or is not) at risk, the lasting fix, the table and the summary. */
import {type Cli, commandLine} from '../cli.js'
import {type Platform} from '../particle/platforms.js'
import {count} from '../words.js'
import {whyText} from './report.js'
import {someDevices} from './labels.js'
import {fitTable} from './layout.js'

/** Why a device is at risk or safe, or why that is unknown: the audit's decisions as records. */
export type RiskWhy =
  | {kind: 'at-risk'; platform: Platform; version: string}
  | {kind: 'bad-record'; object: boolean}
  | {kind: 'flagless'; version: string}
  | {kind: 'mesh-only'; platform: Platform}
  | {kind: 'no-platform'}
  | {kind: 'no-version'; platform: Platform}
  | {kind: 'other-platform'; platform: Platform}
  | {kind: 'unknown-platform'; platformId: number}
  | {kind: 'unreadable-version'; version: string}

/** How a device receives firmware decides its lasting fix. */
export type FixKind = 'developer' | 'development-in-product' | 'mesh-only' | 'product'

const DOWNGRADE = 'A later downgrade below Device OS 4.0 brings the flag back.'

export function riskText(why: RiskWhy): string {
  switch (why.kind) {
    case 'no-platform': return 'The cloud reports no platform for this device.'
    case 'unknown-platform': return `Platform ${why.platformId} is not one @particle/device-constants knows.`
    case 'other-platform': return whyText({kind: 'platform', platform: why.platform})
    case 'flagless': return `Device OS ${why.version} (4.0 or later) has no setup-done flag. ${DOWNGRADE}`
    case 'mesh-only':
      return `${why.platform.displayName} never got Device OS 4.0 (its last Device OS is below 4.0), so the setup-done flag is its permanent condition: a settings reset or an unfinished USB setup sends it to Listening Mode.`
    case 'no-version': return `The cloud has no Device OS version for this ${why.platform.displayName} yet (it reports one when it connects).`
    case 'unreadable-version': return `The Device OS version "${why.version}" is not one we can read.`
    case 'at-risk': return `${why.platform.displayName} on Device OS ${why.version} (below 4.0): a settings reset or an unfinished USB setup sends it to Listening Mode (blinking dark blue) until the setup-done flag is set.`
    case 'bad-record': return `The cloud sent a device record without a valid device ID${why.object ? '' : ' (not an object)'}.`
  }
}

export function fixText(fix: FixKind, cli: Cli): string {
  switch (fix) {
    case 'development-in-product':
      return `Development devices ignore product firmware releases: flash this one yourself with firmware targeting Device OS 4.x or later (\`particle flash <device> <project> --target 6.2.0\`), or clear its development flag so it follows a 4.x release. ${DOWNGRADE}`
    case 'product': return `Release a product firmware built for Device OS 4.x or later (or lock this device to such a release in the console); the cloud then upgrades Device OS through Safe Mode. ${DOWNGRADE}`
    case 'developer': return `Flash firmware targeting Device OS 4.x or later (\`particle flash <device> <project> --target 6.2.0\`); the cloud then upgrades Device OS through Safe Mode. ${DOWNGRADE}`
    case 'mesh-only':
      return `Nothing lasting: when it blinks dark blue, set the flag over USB (\`${commandLine(cli, 'set')}\`) or over the air (\`${commandLine(cli, 'set <device> --method firmware')}\`).`
  }
}

const yesNo = (v: boolean | null) => (v === null ? '?' : v ? 'yes' : 'no')

export interface AuditRowText {
  deviceOs: null | string
  development: boolean | null
  id: string
  lastHandshake: null | string
  lastHeard: null | string
  name: null | string
  online: boolean | null
  platformName: string
  risk: string
}

/** The audit's table in at most `room` columns (layout.ts). */
export function auditTable(rows: readonly AuditRowText[], room = Number.POSITIVE_INFINITY): string {
  const out = [['DEVICE', 'PLATFORM', 'DEVICE OS', 'ONLINE', 'LAST HEARD', 'DEV', 'RISK']]
  for (const r of rows) out.push([r.name ? `${r.name} [${r.id}]` : r.id || '(no ID)', r.platformName, r.deviceOs ?? '?', yesNo(r.online), r.lastHeard ?? r.lastHandshake ?? '?', yesNo(r.development), r.risk])
  return fitTable(out, room)
}

export interface AuditSummaryText {
  deviceOs: Record<string, number>
  failures: ReadonlyArray<{attempts: number; device?: string; message: string; page?: number}>
  fixes: ReadonlyMap<string, {count: number; labels: string[]}>
  notRead: number
  notReadExact: boolean
  platform: Record<string, number>
  platformNames: ReadonlyMap<string, string>
  read: number
  risk: Record<string, number>
  risks: readonly string[]
  shown: number
}

export function auditSummary(s: AuditSummaryText, cli: Cli): string {
  const counts = (m: Record<string, number>, label = (k: string) => k) =>
    Object.entries(m)
      .map(([k, n]) => `${label(k)} ${n}`)
      .join(', ') || 'none'
  const lines = [
    `${count(s.shown, 'device')}${s.shown === s.read ? '' : ` listed of ${s.read} read`}${s.notRead > 0 ? `; ${s.notReadExact ? '' : 'up to '}${s.notRead} not read` : ''}.`,
    `  by risk:      ${s.risks.map((r) => `${r} ${s.risk[r]}`).join(', ')}`,
    `  by Device OS: ${counts(s.deviceOs)}`,
    `  by platform:  ${counts(s.platform, (k) => s.platformNames.get(k) ?? k)}`,
  ]
  for (const f of s.failures) lines.push(`  not read: ${f.page === undefined ? `device ${f.device}` : `page ${f.page}`} after ${count(f.attempts, 'attempt')}: ${f.message}`)
  if (s.fixes.size > 0) {
    lines.push('', 'What to do:')
    for (const [fix, {count: n, labels}] of s.fixes) lines.push(`  ${count(n, 'device')} (${someDevices(labels, n)}): ${fix}`)
    lines.push(`  One of them stuck blinking dark blue and offline now? \`${commandLine(cli, 'set <device> --method firmware --wait-online')}\` flashes it the moment someone on site brings it online.`)
  }
  return lines.join('\n')
}
