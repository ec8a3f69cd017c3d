/**
 * The fix, with consent: a control request first (the writer retries through Safe Mode itself), Safe Mode by
 * request 60 or by the buttons when the firmware is busy, DFU mode (dfu.ts) when requests are refused.
 */
import {errorIs, errors} from '../errors.js'
import {type DeviceReport} from '../setup-flag/report.js'
import {instructionText} from '../text/doctor.js'
import {afterSet, afterWrite, restart} from './confirm.js'
import {type DoctorRun, type State} from './state.js'

const MAX_BUTTON_TRIES = 3

export async function fix(d: DoctorRun): Promise<State> {
  if (d.found.mode === 'dfu') return 'fixByDfu'
  if (errorIs.busyFirmware(d.findings.device?.error)) {
    // Asking again would only wait out more deadlines: go to Safe Mode, where the application does not run.
    d.say({kind: 'busy-firmware'})
    if (!(await d.consent({kind: 'fix-safe-mode'}))) return decline(d)
    return 'fixBySafeModeRequest'
  }
  if (!(await d.consent({kind: 'fix-control'}))) return decline(d)
  const r = await set(d, 'usb')
  if (!r.error) return afterWrite(d, r)
  if (errorIs.busyFirmware(r.error)) {
    d.record('write-usb', 'failed', {kind: 'no-answer-even-safe'})
    return 'fixBySafeModeButtons'
  }
  if (errorIs.final(r.error)) throw r.error
  d.record('write-usb', 'failed', {kind: 'write-failed', message: r.error.message})
  return 'fixByDfu'
}

/** Set the flag by `method`, with a progress line for the work before any wait. */
export async function set(d: DoctorRun, method: 'dfu' | 'usb'): Promise<DeviceReport> {
  d.start({id: d.found.id, kind: method === 'dfu' ? 'writing-dfu' : 'setting', timeoutMs: d.o.timeoutMs})
  const r = await d.op!.set({done: true, dryRun: false, force: false, method})
  d.end(r.error ? 'failed' : 'done')
  return r
}

/** The person declined the fix: nothing more is done, and the exit status says "not fixed". */
export function decline(d: DoctorRun): State {
  const f = d.findings
  f.outcome = 'cancelled'
  f.error = errors.declined(d.doneSoFar(), `set ${d.found.id}`)
  d.record('fix', 'skipped', {kind: 'declined'})
  return 'done'
}

/**
 * Safe Mode by USB first: request 60. Its INIT also aborts a connection attempt that holds the system thread (from
 * 1.3.1-rc.1, docs/protocol.md §2.5), so a device stuck connecting restarts in Safe Mode with no buttons; an
 * application that blocks the system thread leaves it pending, and the person presses the buttons. A 60 that timed
 * out may still run later: the buttons restart the device into Safe Mode either way, so nothing is sent on top.
 */
export async function fixBySafeModeRequest(d: DoctorRun): Promise<State> {
  d.start({id: d.found.id, kind: 'asking-safe-mode', timeoutMs: d.o.timeoutMs})
  const r = await d.op!.restart('safe')
  if (r.error && !errorIs.busyFirmware(r.error)) {
    d.end('failed')
    throw r.error
  }
  if (r.error) {
    d.end('timed out')
    d.record('safe-mode', 'failed', {kind: 'safe-request-pending'})
    return 'fixBySafeModeButtons'
  }
  return inSafeMode(d)
}

/** The firmware does not answer: the person puts the device in Safe Mode, where the application does not run. */
export async function fixBySafeModeButtons(d: DoctorRun): Promise<State> {
  if (++d.buttonTries > MAX_BUTTON_TRIES) throw errors.notResponding({asked: 'retries'})
  d.o.person.instruct('safe-mode-buttons', instructionText({kind: 'safe-mode-buttons'}), d.found.id)
  await d.personBringsBack('normal', 'safe-buttons', 'buttons')
  return inSafeMode(d)
}

/** The device is back in Safe Mode (by request 60 or the buttons): read, set if needed, restart it. */
async function inSafeMode(d: DoctorRun): Promise<State> {
  d.record('safe-mode', 'done', {kind: 'restarted-safe-mode'})
  const r = await set(d, 'usb')
  if (errorIs.busyFirmware(r.error)) {
    d.say({kind: 'not-in-safe-mode'})
    return 'fixBySafeModeButtons'
  }
  if (r.error) throw r.error
  d.recordWrite(r, 'write-safe-mode')
  // Leave Safe Mode: restart into the application (the boot check now finds the flag set).
  await restart(d, 'safe')
  return afterSet(d, r) ?? 'confirm'
}
