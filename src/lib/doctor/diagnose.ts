/** Diagnosing from what was read: the flag is the cause, it does not apply, something else is, or nothing is wrong. */
import {errorIs, errors} from '../errors.js'
import {type DoctorRun, type State} from './state.js'

export async function diagnose(d: DoctorRun): Promise<State> {
  const f = d.findings
  const r = f.device!
  switch (r.flag) {
    case 'not-done': {
      f.cause = 'setup-flag'
      d.record('diagnose', 'found', {kind: 'flag-not-set', platformName: r.platform.displayName})
      return 'fix'
    }
    case 'not-applicable': {
      Object.assign(f, {cause: 'not-applicable', outcome: 'not-the-flag'})
      const why = r.platform.family === 'nrf52840' ? r.why : {kind: 'platform' as const, platform: r.platform}
      if (why) d.record('diagnose', 'done', {kind: 'not-applicable', why})
      f.summary.push({kind: 'not-applicable', listening: r.platform.family === 'nrf52840' && r.mode === 'listening', platform: r.platform.name, why})
      return 'done'
    }
    case 'done': {
      return flagSet(d)
    }
    default: {
      // Unknown: firmware below 0.9.0 cannot be asked, the firmware did not answer, or the version is unknown.
      f.cause = 'unknown'
      if (r.note?.kind === 'no-control-requests') {
        d.record('diagnose', 'info', {kind: 'no-control-requests'})
        return 'fixByDfu'
      }
      if (errorIs.busyFirmware(r.error)) {
        d.record('diagnose', 'info', {kind: 'firmware-silent'})
        return 'fix'
      }
      if (r.error) throw r.error
      const cloud = d.o.cloud?.settings
      throw errors.versionUnknown(r.id, {loggedIn: Boolean(cloud?.accessToken), offline: cloud?.offline ?? true})
    }
  }
}

/** The flag is set: in DFU mode, restart and look again; listening, something else is the cause; else nothing to fix. */
function flagSet(d: DoctorRun): State {
  const f = d.findings
  const r = f.device!
  if (r.mode === 'dfu') {
    d.record('diagnose', 'info', {kind: 'dfu-flag-set'})
    return 'leaveDfu'
  }
  if (r.mode === 'listening') {
    Object.assign(f, {cause: 'other', outcome: 'not-the-flag'})
    d.record('diagnose', 'found', {kind: 'flag-set-listening'})
    f.summary.push({kind: 'already-set', platform: r.platform.name})
    return 'done'
  }
  Object.assign(f, {cause: 'not-listening', outcome: 'nothing-to-fix'})
  d.record('diagnose', 'done', {kind: 'nothing-to-fix'})
  f.summary.push({kind: 'nothing-to-fix'})
  return 'done'
}
