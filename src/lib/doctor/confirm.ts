/**
 * After the write: restart the device (with consent) so the boot check runs again, and confirm it no longer
 * listens. What a write found decides the rest when the flag could not be read before it.
 */
import {isCancellation} from '../errors.js'
import {type DeviceReport} from '../setup-flag/report.js'
import {type DoctorRun, type State} from './state.js'

/** After a write over USB: restart the device so the boot check runs again, then confirm. */
export async function afterWrite(d: DoctorRun, r: DeviceReport): Promise<State> {
  d.recordWrite(r, 'write-usb')
  let yes: boolean
  try {
    yes = await d.consent({kind: 'restart'})
  } catch (error) {
    // Ctrl-C (or the end of input) at this question: the flag is written and read back, so the device is fixed;
    // it was only not restarted. Said as such, with the status of a fixed device.
    if (!isCancellation(error)) throw error
    yes = false
  }
  if (!yes) {
    d.record('restart', 'skipped', {kind: 'not-restarted'})
    return 'confirm'
  }
  await restart(d)
  return 'confirm'
}

/** Request 40, then wait for the device to enumerate again. */
export async function restart(d: DoctorRun, toLeave?: 'safe'): Promise<void> {
  const r = await d.op!.restart('reset')
  if (r.error) throw r.error
  d.restarted = true
  d.record('restart', 'done', {kind: 'restarted', toLeave})
}

/** Confirm: the device is back and not in Listening Mode (request 72). */
export async function confirm(d: DoctorRun): Promise<State> {
  const f = d.findings
  d.start({id: d.found.id, kind: 'checking', timeoutMs: d.o.timeoutMs})
  const listening = await d.op!.listening()
  d.end(listening === undefined ? 'failed' : 'done')
  const device = f.device!
  if (listening !== undefined) device.mode = listening ? 'listening' : 'normal' // the last known state
  const restarted = d.restarted
  if (listening) {
    d.record('confirm', 'failed', {kind: 'still-listening', restarted})
    f.outcome = 'not-the-flag'
    f.summary.push({kind: 'still-listening', platform: device.platform.name})
    return 'done'
  }
  d.record('confirm', listening === undefined ? 'info' : 'done', {kind: listening === undefined ? 'unconfirmed' : 'not-listening', restarted})
  f.outcome = 'fixed'
  const w = f.write
  f.summary.push({after: w?.after ?? null, before: w?.before ?? null, kind: 'fixed', method: w?.method ?? null, platformName: device.platform.displayName, restarted, version: device.deviceOsVersion})
  return 'done'
}

/**
 * What a write found decides the rest, when the flag could not be read before it (firmware not answering, or read
 * over DFU): nothing to do where the flag does not exist, another cause where it was already set.
 */
export function afterSet(d: DoctorRun, r: DeviceReport): State | undefined {
  const f = d.findings
  if (r.flag === 'not-applicable') {
    Object.assign(f, {cause: 'not-applicable', outcome: 'not-the-flag'})
    f.summary.push({kind: 'not-applicable', listening: true, platform: r.platform.name, why: r.why})
    return 'done'
  }
  if (!r.changed) {
    Object.assign(f, {cause: 'other', outcome: 'not-the-flag'})
    f.summary.push({kind: 'set-not-the-cause', platform: r.platform.name})
    return 'done'
  }
  f.cause = 'setup-flag'
  return undefined
}

export function stillListening(d: DoctorRun): State {
  d.findings.outcome = 'not-the-flag'
  d.record('confirm', 'failed', {kind: 'listening-after-dfu'})
  d.findings.summary.push({kind: 'still-listening', platform: d.findings.device!.platform.name})
  return 'done'
}
