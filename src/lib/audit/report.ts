/** The audit's outputs: running counts, the table with its summary for people, and CSV for spreadsheets. */
import {type Cli} from '../cli.js'
import {auditSummary, auditTable} from '../text/audit.js'
import {type AuditRow, type ReadFailure} from './collect.js'
import {type Risk, RISKS} from './risk.js'

/** `summary` under --json (field names are an interface: add, never rename). */
export interface AuditSummary {
  deviceOs: Record<string, number>
  failures: ReadFailure[]
  notRead: number
  notReadExact: boolean
  platform: Record<string, number>
  /** Devices read from the cloud, before --online / --risk. */
  read: number
  risk: Record<Risk, number>
  /** Devices listed (after --online / --risk); every count above is of these. */
  shown: number
}

/** Counts kept as rows go by, so no second pass (and no second copy) is needed. */
export class Tally {
  readonly deviceOs = new Map<string, number>()
  readonly platform = new Map<string, number>()
  readonly risk = Object.fromEntries(RISKS.map((r) => [r, 0])) as Record<Risk, number>
  /** Display names of the platforms counted, for the table. */
  readonly platformNames = new Map<string, string>()
  /** Distinct fixes of the listed at-risk devices: how many each, and the first ten of them by name. */
  readonly fixes = new Map<string, {count: number; labels: string[]}>()
  shown = 0

  add(r: AuditRow): void {
    this.shown++
    this.risk[r.risk]++
    bump(this.deviceOs, r.deviceOsLine)
    bump(this.platform, r.platform)
    this.platformNames.set(r.platform, r.platformName)
    if (r.fix && (r.risk === 'at-risk' || r.risk === 'cannot-upgrade')) {
      const f = this.fixes.get(r.fix) ?? {count: 0, labels: []}
      f.count++
      if (f.labels.length < 10) f.labels.push(r.name ?? r.id)
      this.fixes.set(r.fix, f)
    }
  }

  summary(read: number, failures: ReadFailure[], notRead: number, notReadExact: boolean): AuditSummary {
    return {deviceOs: sorted(this.deviceOs), failures, notRead, notReadExact, platform: sorted(this.platform), read, risk: {...this.risk}, shown: this.shown}
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1)
}

/** Keys in a stable order: Device OS lines by number ("unknown" last), platforms by name. */
function sorted(m: Map<string, number>): Record<string, number> {
  const key = (k: string) => (k === 'unknown' ? Number.POSITIVE_INFINITY : Number.parseInt(k, 10))
  const keys = [...m.keys()].sort((a, b) => (Number.isNaN(key(a)) || Number.isNaN(key(b)) ? a.localeCompare(b) : key(a) - key(b) || a.localeCompare(b)))
  return Object.fromEntries(keys.map((k) => [k, m.get(k)!]))
}

export function renderTable(rows: AuditRow[], room?: number): string {
  return auditTable(rows, room)
}

export function renderSummary(s: AuditSummary, tally: Tally, cli: Cli): string {
  return auditSummary({...s, fixes: tally.fixes, platformNames: tally.platformNames, risks: RISKS}, cli)
}

export const CSV_COLUMNS: ReadonlyArray<keyof AuditRow> = [
  'id',
  'name',
  'productId',
  'platform',
  'platformId',
  'deviceOs',
  'deviceOsLine',
  'online',
  'lastHeard',
  'lastHandshake',
  'development',
  'risk',
  'reason',
  'fix',
]

/** One CSV cell (RFC 4180 quoting); text a spreadsheet would run as a formula gets a leading apostrophe. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return ''
  let s = String(v)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function csvLine(values: readonly unknown[]): string {
  return values.map((v) => csvCell(v)).join(',')
}

export function csvRow(r: AuditRow): string {
  return csvLine(CSV_COLUMNS.map((c) => r[c]))
}
