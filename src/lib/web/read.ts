/**
 * Reading a device and naming the cause, as the doctor's identify and diagnose states do (the same records, so
 * the same words): the flag is the cause, it does not exist there, something else is, or nothing is wrong; and
 * what "Fix it" would do when the firmware does not answer or refuses.
 */
import {errorIs, errors} from '../errors.js'
import {type DeviceReport} from '../setup-flag/report.js'
import {type FlowState} from './state.js'

/** Read the device (writes nothing) and decide what it needs. */
export async function check(s: FlowState): Promise<void> {
  s.step({id: s.found.id, kind: 'reading', timeoutMs: s.ctx.timeoutMs})
  const r = await s.op.read()
  s.report = r
  const e = r.error
  if (e && errorIs.firmwareRefuses(e) && s.found.mode !== 'dfu') {
    // The firmware refuses or garbles control requests: the bootloader does not depend on it.
    s.record('failed', {kind: 'firmware-refuses', message: e.message, platformName: r.platform.displayName})
    s.cause = 'unknown'
    s.plan = 'dfu'
    return
  }
  if (e && !errorIs.busyFirmware(e)) throw e
  s.record('done', {
    kind: 'identified',
    mode: r.mode,
    name: r.name,
    old: r.note?.kind === 'no-control-requests',
    platformName: r.platform.displayName,
    source: r.deviceOsVersionSource,
    version: r.deviceOsVersion,
  })
  diagnose(s, r)
}

function diagnose(s: FlowState, r: DeviceReport): void {
  switch (r.flag) {
    case 'not-done': {
      s.cause = 'setup-flag'
      s.record('found', {kind: 'flag-not-set', platformName: r.platform.displayName})
      s.plan = 'write'
      return
    }
    case 'not-applicable': {
      s.cause = 'not-applicable'
      s.outcome = 'not-the-flag'
      const why = r.platform.family === 'nrf52840' ? r.why : {kind: 'platform' as const, platform: r.platform}
      if (why) s.record('done', {kind: 'not-applicable', why})
      s.summary.push({kind: 'not-applicable', listening: r.platform.family === 'nrf52840' && r.mode === 'listening', platform: r.platform.name, why})
      return
    }
    case 'done': {
      return flagSet(s, r)
    }
    default: {
      return unknown(s, r)
    }
  }
}

/** The flag could not be read: firmware below 0.9.0, firmware that does not answer, or an unknown version. */
function unknown(s: FlowState, r: DeviceReport): void {
  s.cause = 'unknown'
  if (r.note?.kind === 'no-control-requests') {
    // The method auto reaches its DFU mode through the serial line, no buttons.
    s.record('info', {kind: 'no-control-requests'})
    s.plan = 'write'
    return
  }
  if (errorIs.busyFirmware(r.error)) {
    s.record('info', {kind: 'firmware-silent'})
    s.plan = 'safe-mode'
    return
  }
  if (r.error) throw r.error
  // No cloud in the page: the version of a device without a readable system part stays unknown.
  throw errors.versionUnknown(r.id, {loggedIn: false, offline: true})
}

/** The flag is set: in DFU mode, restart and look again; listening, something else is the cause; else nothing to fix. */
function flagSet(s: FlowState, r: DeviceReport): void {
  if (r.mode === 'dfu') {
    s.record('info', {kind: 'dfu-flag-set'})
    s.leaveDfuOffered = true
    return
  }
  if (r.mode === 'listening') {
    s.cause = 'other'
    s.outcome = 'not-the-flag'
    s.record('found', {kind: 'flag-set-listening'})
    s.summary.push({kind: 'already-set', platform: r.platform.name})
    return
  }
  s.cause = 'not-listening'
  s.outcome = 'nothing-to-fix'
  s.record('done', {kind: 'nothing-to-fix'})
  s.summary.push({kind: 'nothing-to-fix'})
}
