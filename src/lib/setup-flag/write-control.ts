/**
 * The control-request writer (normal, listening or Safe Mode): request 73, read back with 74, then STOP_LISTENING
 * (71) when the device listens, as `particle usb setup-done` does. When the firmware leaves requests pending it
 * gets a busy firmware to answer on the way: first by aborting a connection attempt (raw 302), then in Safe Mode
 * (request 60), where the application does not run. Past that only the buttons help.
 */
import {type OpenDevice} from '../device/particle-device.js'
import {errorIs, errors, RequestPendingTimeout} from '../errors.js'
import {hasRawOutRequests} from '../particle/versions.js'
import {RequestType, SETUP_DONE, SETUP_NOT_DONE} from '../protocol/constants.js'
import {decide, wantedByte, type WriteOptions} from './decide.js'
import {type Applicability} from './policy.js'
import {judge} from './report.js'
import {type DeviceSession} from './session.js'
import {versionOverControl} from './version.js'
import {type Writer} from './writer.js'

/** How far we have gone to get the firmware to serve requests: as it is, after raw 302, in Safe Mode. */
type Stage = 'after-abort' | 'first' | 'safe'

export class ControlWriter implements Writer {
  readonly method = 'usb' as const

  async write(s: DeviceSession, o: WriteOptions): Promise<void> {
    await this.attempt(s, o, 'first')
  }

  private async attempt(s: DeviceSession, o: WriteOptions, stage: Stage): Promise<void> {
    const dev = await s.control()
    const applicability = await versionOverControl(s, dev)
    await dev.resetPending()
    let wrote: undefined | {listening: boolean}
    try {
      wrote = await this.writeByte(s, dev, applicability, o)
    } catch (error) {
      if (!(error instanceof RequestPendingTimeout) || o.dryRun) throw error
      return this.whenPending(s, o, error, {dev, stage})
    }
    if (wrote) await this.readBack(s, dev, applicability, wrote.listening, o)
  }

  /** Read the mode and the flag, decide, and send request 73; undefined when nothing was (or would be) written. */
  private async writeByte(s: DeviceSession, dev: OpenDevice, applicability: Applicability, o: WriteOptions): Promise<undefined | {listening: boolean}> {
    const r = s.report
    const t = {timeoutMs: s.ctx.timeoutMs}
    let listening: boolean
    try {
      listening = await dev.isListening(t)
    } catch (error) {
      // Device Protection (Device OS 6+) refuses request 72; the flag does not exist there, so nothing to do.
      if (!errorIs.protected(error) || applicability.applies !== false || o.force) throw error
      r.protected = true
      judge(r, applicability, undefined)
      s.record({kind: 'not-applicable'})
      return undefined
    }
    r.mode = listening ? 'listening' : 'normal'
    let current: null | number | undefined
    if (applicability.applies === true) {
      const done = await dev.isSetupDone(t)
      current = done ? SETUP_DONE : null
      r.before = current
      judge(r, applicability, {done, kind: 'request'})
    } else {
      judge(r, applicability, undefined)
    }
    if (!decide(s, applicability, current, o)) {
      r.after = r.before
      return undefined
    }
    if (o.dryRun) {
      s.record({byte: wantedByte(o), kind: 'would-write-control', stopListening: o.done && listening})
      return undefined
    }
    s.checkpoint()
    r.method = 'usb'
    await dev.setSetupDone(o.done, t)
    return {listening}
  }

  /** A request did not complete: the firmware is busy. Abort its connection attempt (raw 302) and try again, then Safe Mode. */
  private async whenPending(s: DeviceSession, o: WriteOptions, error: RequestPendingTimeout, at: {dev: OpenDevice; stage: Stage}): Promise<void> {
    if (error.requestType === RequestType.SET_DEVICE_SETUP_DONE) {
      // Cancelling does not stop it: the firmware still runs a 73 it has queued (docs/protocol.md §2.5).
      s.writeMayLand = true
      s.record({kind: 'write-pending'})
    }
    if (at.stage === 'first' && hasRawOutRequests(s.report.deviceOsVersion ?? '')) {
      s.record({kind: 'aborting-connection'})
      await at.dev.abortConnection()
      s.offCloud = true
      await this.attempt(s, o, 'after-abort')
      // Still off the cloud unless Safe Mode restarted it on the way: restart it so it connects again.
      if (s.offCloud) await this.restartOnline(s, o)
      return
    }
    if (at.stage === 'safe') throw errors.notResponding({asked: 'safe-mode', id: s.id}, error)
    await this.viaSafeMode(s, o, at.dev, error)
  }

  /** Read back (on 4.0+ request 74 always says done, so there is nothing to verify), then leave Listening Mode. */
  private async readBack(s: DeviceSession, dev: OpenDevice, applicability: Applicability, listening: boolean, o: WriteOptions): Promise<void> {
    const r = s.report
    const t = {timeoutMs: s.ctx.timeoutMs}
    if (applicability.applies === true) {
      const done = await dev.isSetupDone(t)
      if (done !== o.done) throw errors.verify({done, id: s.id, method: 'usb'})
      r.after = o.done ? SETUP_DONE : SETUP_NOT_DONE
      r.changed = r.before !== r.after
      judge(r, applicability, {done, kind: 'request'})
      r.value = r.after
      s.record({done, kind: 'read-back'})
    } else {
      s.record({kind: 'no-effect'})
    }
    if (o.done && listening) {
      await dev.stopListening(t)
      r.mode = 'normal'
      s.record({kind: 'stopped-listening'})
    } else if (!o.done) {
      s.record({kind: 'listening-at-reset'})
    }
  }

  /** After raw 302: restart the device (request 40) so it leaves the cloud-disconnect state, and wait for it. */
  private async restartOnline(s: DeviceSession, o: WriteOptions): Promise<void> {
    await s.refresh()
    const back = await s.restartBy(await s.control(), 'reset', {late: 'online', resetPending: true})
    if (!back) return s.record({kind: 'not-restarted-off-cloud'})
    s.offCloud = false
    s.record({kind: 'restarted-online'})
    if (o.done) await s.confirmNotListening()
    else s.report.mode = 'unknown' // cleared flag: it boots into Listening Mode
  }

  /** The firmware did not complete a request: ask for Safe Mode (60) and redo the write there, then leave it. */
  private async viaSafeMode(s: DeviceSession, o: WriteOptions, dev: OpenDevice, cause: RequestPendingTimeout): Promise<void> {
    s.checkpoint()
    s.record({kind: 'asking-safe-mode'})
    const back = await s.restartBy(dev, 'safe', {})
    if (!back) throw errors.notResponding({asked: 'safe-mode', id: s.id}, cause)
    s.record({kind: 'restarted-safe-mode'})
    await this.attempt(s, o, 'safe')
    // Back to the application (the boot check now finds the flag set).
    const safe = await s.control()
    try {
      await safe.reset({timeoutMs: s.ctx.timeoutMs})
    } finally {
      await safe.close()
    }
    await s.waitBack('normal', 'application')
    s.offCloud = false // a reset clears the cloud-disconnect flag
    s.report.mode = 'normal'
    s.record({kind: 'left-safe-mode'})
  }
}
