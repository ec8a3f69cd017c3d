/**
 * What a set did to one device, and the counts over many: pure functions of the reports, kept apart from the
 * station and the write path so that text rendering (render.ts, loaded by every command) does not pull them in.
 */
import type {SetReport} from './write-shared.js'

export type Outcome = 'failed' | 'fixed' | 'unchanged'

export function outcomeOf(r: SetReport): Outcome {
  if (r.error) return 'failed'
  // A forced write where the flag does not exist, or of the value already there, fixed nothing.
  const same = r.before !== null && r.before === r.after
  return r.changed && r.flag !== 'not-applicable' && !same ? 'fixed' : 'unchanged'
}

export interface SetSummary {
  failed: number
  fixed: number
  total: number
  unchanged: number
}

export function summaryOf(reports: SetReport[]): SetSummary {
  const count = (o: string) => reports.filter((r) => outcomeOf(r) === o).length
  return {failed: count('failed'), fixed: count('fixed'), total: reports.length, unchanged: count('unchanged')}
}
