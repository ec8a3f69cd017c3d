/**
 * "Fix it", as the doctor's fix, Safe Mode, DFU and confirm states do it on the same FlagOperation: write the flag
 * (the method auto: a control request, or DfuSe in DFU mode), read it back, restart the device and check that it
 * no longer listens; Safe Mode (request 60, then the buttons) when the firmware does not answer; DFU mode (request
 * 50, then the buttons) when it refuses. The person's click is the consent the doctor asks for.
 */
import {errorIs, errors} from '../errors.js'
import {type DeviceReport} from '../setup-flag/report.js'
import {type Stage} from './buttons.js'
import {type FlowState} from './state.js'

const MAX_BUTTON_TRIES = 3

export async function fix(s: FlowState): Promise<void> {
  const plan = s.plan
  s.plan = null
  if (plan === 'safe-mode') return safeModeByRequest(s)
  if (plan === 'dfu') return byDfu(s)
  const r = await set(s, 'auto')
  if (!r.error) return r.method === 'dfu' ? afterDfuWrite(s, r) : afterUsbWrite(s, r)
  if (errorIs.busyFirmware(r.error)) {
    if (r.method === 'dfu' || s.found.mode === 'dfu') return buttons(s, 'dfu')
    s.record('failed', {kind: 'no-answer-even-safe'})
    return buttons(s, 'safe')
  }
  if (errorIs.final(r.error) || s.found.mode === 'dfu') throw r.error
  // Refused or garbled over USB: DFU mode is the way left, offered as the next "Fix it".
  s.record('failed', {kind: 'write-failed', message: r.error.message})
  s.plan = 'dfu'
}

async function set(s: FlowState, method: 'auto' | 'dfu' | 'usb'): Promise<DeviceReport> {
  const dfu = method === 'dfu' || (method === 'auto' && s.found.mode === 'dfu')
  s.step({id: s.found.id, kind: dfu ? 'writing-dfu' : 'setting', timeoutMs: s.ctx.timeoutMs})
  const r = await s.op.set({done: true, dryRun: false, force: false, method})
  s.writeUnknown = r.writeUnknown === true
  return r
}

/** Request 60 (its INIT also aborts a connection attempt that holds the system); the buttons when it stays pending. */
async function safeModeByRequest(s: FlowState): Promise<void> {
  s.say({kind: 'busy-firmware'})
  s.step({id: s.found.id, kind: 'asking-safe-mode', timeoutMs: s.ctx.timeoutMs})
  const r = await s.op.restart('safe')
  if (r.error && !errorIs.busyFirmware(r.error)) throw r.error
  if (!r.error) return inSafeMode(s)
  s.record('failed', {kind: 'safe-request-pending'})
  return buttons(s, 'safe')
}

/** The person presses the buttons; the page waits for the device to come back (connect events, getDevices()). */
async function buttons(s: FlowState, stage: Stage): Promise<void> {
  if (++s.buttonTries > MAX_BUTTON_TRIES) throw errors.notResponding({asked: 'retries'})
  s.phase = {kind: 'buttons', stage}
  s.ctx.changed()
  try {
    await s.op.comeBack(stage === 'safe' ? 'normal' : 'dfu', stage === 'safe' ? 'safe-buttons' : 'dfu-buttons', {by: 'buttons', timeoutMs: s.ctx.waitMs})
  } finally {
    s.phase = {kind: 'idle'}
  }
  if (stage === 'safe') return inSafeMode(s)
  const r = await set(s, 'dfu')
  if (r.error) throw r.error
  return afterDfuWrite(s, r)
}

async function inSafeMode(s: FlowState): Promise<void> {
  s.record('done', {kind: 'restarted-safe-mode'})
  const r = await set(s, 'usb')
  if (errorIs.busyFirmware(r.error)) {
    s.say({kind: 'not-in-safe-mode'})
    return buttons(s, 'safe')
  }
  if (r.error) throw r.error
  s.recordWrite(r)
  // Leave Safe Mode: restart into the application (the boot check now finds the flag set).
  await restart(s, 'safe')
  if (!decided(s, r)) await confirm(s)
}

/** DFU mode: request 50 when the device answers (the writer sends it), else the buttons. */
async function byDfu(s: FlowState): Promise<void> {
  const r = await set(s, 'dfu')
  if (errorIs.busyFirmware(r.error) || errorIs.firmwareRefuses(r.error)) return buttons(s, 'dfu')
  if (r.error) throw r.error
  return afterDfuWrite(s, r)
}

async function afterUsbWrite(s: FlowState, r: DeviceReport): Promise<void> {
  s.recordWrite(r)
  await restart(s)
  await confirm(s)
}

async function afterDfuWrite(s: FlowState, r: DeviceReport): Promise<void> {
  s.recordWrite(r)
  // The writer left DFU mode and waited for the device: it restarted (what the confirmation may claim).
  if (r.steps.some((x) => x.kind === 'left-dfu')) s.restarted = true
  if (decided(s, r)) return
  if (r.mode !== 'listening') return confirm(s)
  s.outcome = 'not-the-flag'
  s.record('failed', {kind: 'listening-after-dfu'})
  s.summary.push({kind: 'still-listening', platform: r.platform.name})
}

/** Request 40, and the wait for the device to enumerate again. */
async function restart(s: FlowState, toLeave?: 'safe'): Promise<void> {
  const r = await s.op.restart('reset')
  if (r.error) throw r.error
  s.restarted = true
  s.record('done', {kind: 'restarted', toLeave})
}

/** The device is back and not in Listening Mode (request 72). */
async function confirm(s: FlowState): Promise<void> {
  s.step({id: s.found.id, kind: 'checking', timeoutMs: s.ctx.timeoutMs})
  const listening = await s.op.listening()
  if (listening !== undefined && s.report) s.report.mode = listening ? 'listening' : 'normal'
  const platform = s.found.platform
  if (listening) {
    s.outcome = 'not-the-flag'
    s.record('failed', {kind: 'still-listening', restarted: s.restarted})
    s.summary.push({kind: 'still-listening', platform: platform.name})
    return
  }
  s.record(listening === undefined ? 'info' : 'done', {kind: listening === undefined ? 'unconfirmed' : 'not-listening', restarted: s.restarted})
  s.outcome = 'fixed'
  s.cause = 'setup-flag'
  const w = s.write
  const version = s.report?.deviceOsVersion ?? null
  s.summary.push({after: w?.after ?? null, before: w?.before ?? null, kind: 'fixed', method: w?.method ?? null, platformName: platform.displayName, restarted: s.restarted, version})
}

/**
 * What a write found decides the rest when the flag could not be read before it (firmware not answering): nothing
 * to do where the flag does not exist, another cause where it was already set.
 */
function decided(s: FlowState, r: DeviceReport): boolean {
  if (r.flag === 'not-applicable') {
    Object.assign(s, {cause: 'not-applicable', outcome: 'not-the-flag'})
    s.summary.push({kind: 'not-applicable', listening: true, platform: r.platform.name, why: r.why})
    return true
  }
  if (!r.changed) {
    Object.assign(s, {cause: 'other', outcome: 'not-the-flag'})
    s.summary.push({kind: 'set-not-the-cause', platform: r.platform.name})
    return true
  }
  s.cause = 'setup-flag'
  return false
}

/** A device in DFU mode whose flag is set: restart it out of DFU mode (nothing written) and look again. */
export async function leaveDfu(s: FlowState): Promise<void> {
  s.leaveDfuOffered = false
  const r = await s.op.leaveDfu()
  if (r.error) throw r.error
  s.record('done', {kind: 'restarted', toLeave: 'dfu'})
}
