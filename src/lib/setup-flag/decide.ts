/**
 * Whether to write, shared by every writer: never where the flag does not apply (unless forced), never a byte that
 * already holds the wanted value (unless forced), and a dry run stops here. Records the step that says why.
 */
import {SETUP_DONE, SETUP_NOT_DONE} from '../protocol/constants.js'
import {type Applicability} from './policy.js'
import {type DeviceSession} from './session.js'

export interface WriteOptions {
  /** Set the flag (true) or clear it (--not-done). */
  done: boolean
  dryRun: boolean
  force: boolean
}

export const wantedByte = (o: Pick<WriteOptions, 'done'>) => (o.done ? SETUP_DONE : SETUP_NOT_DONE)

/** Returns true to write (or, in a dry run, that it would write); `current` is what was read (null: "not 0x01"). */
export function decide(s: DeviceSession, applicability: Applicability, current: null | number | undefined, o: WriteOptions): boolean {
  if (applicability.applies !== true) {
    if (!o.force) {
      s.record({kind: 'not-applicable'})
      return false
    }
    s.record({kind: 'forced', noEffect: applicability.applies === false})
    return true
  }
  // Request 74's "not done" (current null) only says the byte is not 0x01: it may be a value the boot treats as
  // done, so --not-done writes 0xFF unless the byte is known to be 0xFF or 0x00.
  const alreadyThere = current !== undefined && (o.done ? current === SETUP_DONE : current === 0xff || current === 0x00)
  if (alreadyThere && s.writeMayLand) {
    s.record({kind: 'late-write-landed'})
    s.report.changed = true
    return false
  }
  if (alreadyThere && !o.force) {
    s.record({done: o.done, kind: 'already'})
    return false
  }
  if (!o.dryRun) s.record({byte: wantedByte(o), kind: 'writing'})
  return true
}
