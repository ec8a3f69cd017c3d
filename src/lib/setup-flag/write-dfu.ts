/**
 * The DFU writer: from normal mode send DFU_MODE (50) and wait for the DFU product ID; then read the byte, write it
 * if needed (one byte at DCT 8134 on alt 1, no erase), read it back, leave DFU mode, and wait for normal mode. A
 * device this run put into DFU mode always leaves it, whatever happens on the way (an interruption included).
 */
import {DfuNotPermitted, errorIs, errors} from '../errors.js'
import {parseVersion, systemUsb} from '../particle/versions.js'
import {DfuAlt, SETUP_DONE_OFFSET} from '../protocol/constants.js'
import {type DfuseClient} from '../protocol/dfuse.js'
import {decide, wantedByte, type WriteOptions} from './decide.js'
import {type Applicability, byPlatform, flagApplies, PROTECTED} from './policy.js'
import {explainDowngrade} from './read.js'
import {judge} from './report.js'
import {type DeviceSession, lateResetWaitMs} from './session.js'
import {versionOverControl, versionOverDfu} from './version.js'
import {type Writer} from './writer.js'

export class DfuWriter implements Writer {
  readonly method = 'dfu' as const

  async write(s: DeviceSession, o: WriteOptions): Promise<void> {
    const ruled = byPlatform(s.found.platform)
    if (s.found.mode === 'dfu' && ruled && !o.force) {
      // Platforms that never had the flag need no DFU traffic (their memory map has no system-part header).
      judge(s.report, ruled, undefined)
      return s.record({kind: 'not-applicable'})
    }
    const wePutItThere = s.found.mode !== 'dfu'
    if (wePutItThere && !(await this.intoDfu(s, o))) return
    const dfu = await s.dfu()
    let done: Written = 'unchanged'
    let failure: unknown
    try {
      const applicability = await this.version(s, dfu)
      await dfu.open(DfuAlt.DCT)
      done = await this.writeByte(s, dfu, applicability, o)
    } catch (error) {
      failure = error
    }
    // Leave DFU mode when we put the device there, or when we changed something (so it boots with it).
    const left = (wePutItThere || done === 'changed' || done === 'rewritten') && (await this.leave(s, dfu, failure))
    await dfu.close()
    if (left) await this.backInNormalMode(s, failure === undefined)
    if (failure !== undefined) throw failure
    if (done === 'interrupted') throw errors.cancelled([{kind: 'nothing-written'}])
  }

  /** DFU_DNLOAD of zero bytes: the bootloader resets into Device OS. True when it went; a failure only when none came before. */
  private async leave(s: DeviceSession, dfu: DfuseClient, failure: unknown): Promise<boolean> {
    try {
      await dfu.leave(SETUP_DONE_OFFSET)
      s.record({kind: 'left-dfu'})
      return true
    } catch (error) {
      if (failure === undefined) throw error
      return false
    }
  }

  /** Wait for Device OS to come back; confirm it no longer listens unless the operation already failed. */
  private async backInNormalMode(s: DeviceSession, confirm: boolean): Promise<void> {
    await s.found.usbDevice.close().catch(() => {})
    if (onUsbOnlyWhileListening(s)) return this.goneUnlessListening(s)
    if (!confirm) {
      await s.waitBack('normal', 'normal').then(() => (s.report.mode = 'normal'), () => {})
      return
    }
    await s.waitBack('normal', 'normal')
    s.report.mode = 'normal'
    await s.confirmNotListening()
  }

  /** From normal mode: decide by the version it reports, then restart it in DFU mode (50); false: nothing to do. */
  private async intoDfu(s: DeviceSession, o: WriteOptions): Promise<boolean> {
    if (s.noControlRequests) return this.intoDfuBySerialLine(s, o)
    const dev = await s.control()
    const applicability = await versionOverControl(s, dev)
    if (applicability.applies !== true && !o.force) {
      judge(s.report, applicability, undefined)
      s.record({kind: applicability.applies === false && s.found.platform.family === 'nrf52840' ? 'not-applicable-downgrade' : 'not-applicable'})
      await dev.close()
      return false
    }
    if (o.dryRun) {
      s.record({byte: wantedByte(o), kind: 'would-enter-dfu'})
      await dev.close()
      return false
    }
    s.checkpoint()
    const back = await s.restartBy(dev, 'dfu', {asked: {kind: 'asked-dfu'}, resetPending: true})
    if (!back) throw errors.notResponding({asked: 'dfu', id: s.id})
    s.report.mode = 'dfu'
    return true
  }

  /**
   * Firmware below 0.9.0 cannot be asked anything over USB (the flag applies there): its serial line takes it to DFU
   * mode (line coding 14400), where the module header tells the release. No buttons, unless the line is out of reach.
   */
  private async intoDfuBySerialLine(s: DeviceSession, o: WriteOptions): Promise<boolean> {
    if (o.dryRun) {
      s.record({byte: wantedByte(o), kind: 'would-enter-dfu-serial'})
      return false
    }
    s.checkpoint()
    await s.dfuBySerialLine()
    s.record({kind: 'asked-dfu-serial'})
    s.report.mode = 'dfu'
    return true
  }

  /**
   * Firmware that is on USB only while it listens (docs/protocol.md §10.1): it comes back on USB only if it still
   * listens (or its application uses USB serial). A short wait tells which; not back means it boots as set up.
   */
  private async goneUnlessListening(s: DeviceSession): Promise<void> {
    try {
      await s.waitBack('normal', 'normal', lateResetWaitMs(s.ctx.timeoutMs))
      s.report.mode = 'unknown'
      s.record({kind: 'restarted-no-requests'})
    } catch (error) {
      if (!errorIs.noReturn(error)) throw error
      s.report.mode = 'normal'
      s.record({kind: 'restarted-off-usb'})
    }
  }

  /** The version as the device said it before it restarted (request 30), else from its system part here. */
  private async version(s: DeviceSession, dfu: DfuseClient): Promise<Applicability> {
    if (s.report.deviceOsVersionSource === 'usb') return flagApplies(s.found.platform, {version: s.report.deviceOsVersion ?? undefined})
    return versionOverDfu(s, dfu)
  }

  /** Read the byte, decide, write it and read it back. */
  private async writeByte(s: DeviceSession, dfu: DfuseClient, applicability: Applicability, o: WriteOptions): Promise<Written> {
    const r = s.report
    let before: number
    try {
      ;[before] = await dfu.read(SETUP_DONE_OFFSET, 1)
    } catch (error) {
      if (!(error instanceof DfuNotPermitted) || o.force) throw error
      // Device Protection (Device OS 6+): the DCT is closed, and the flag does not exist there anyway.
      r.protected = true
      judge(r, PROTECTED, undefined)
      s.record({kind: 'not-applicable-protected'})
      return 'unchanged'
    }
    if (applicability.applies === undefined && !o.force) {
      judge(r, applicability, {byte: before, kind: 'byte'})
      throw errors.versionUnknown(s.id, s.cloud.status)
    }
    r.before = before
    judge(r, applicability, {byte: before, kind: 'byte'})
    if (applicability.applies === false) explainDowngrade(s, before)
    const write = decide(s, applicability, before, o)
    if (!write || o.dryRun || s.interrupted) {
      r.after = before // nothing written: the byte stays what it was
      if (write && o.dryRun) s.record({byte: wantedByte(o), kind: 'would-write-dfu'})
      return write && !o.dryRun ? 'interrupted' : 'unchanged'
    }
    const wanted = wantedByte(o)
    r.method = 'dfu'
    await dfu.write(SETUP_DONE_OFFSET, Uint8Array.of(wanted))
    const [after] = await dfu.read(SETUP_DONE_OFFSET, 1)
    r.after = after
    r.changed = after !== before
    if (after !== wanted) throw errors.verify({got: after, id: s.id, method: 'dfu', wanted})
    judge(r, applicability, {byte: after, kind: 'byte'})
    s.record({byte: after, kind: 'read-back-byte'})
    if (applicability.applies === false && s.found.platform.family === 'nrf52840') {
      explainDowngrade(s, after)
      s.record({kind: 'downgrade-written'})
    }
    return r.changed ? 'changed' : 'rewritten'
  }
}

/** What the DFU write did: changed the byte, wrote the same byte again, wrote nothing, or stopped for an interruption. */
type Written = 'changed' | 'interrupted' | 'rewritten' | 'unchanged'

/** Gen3 firmware from 0.8.0-rc.15 to rc.26 is on USB only while USB serial runs: listening, or an application using it. */
function onUsbOnlyWhileListening(s: DeviceSession): boolean {
  const v = s.report.deviceOsVersion ? parseVersion(s.report.deviceOsVersion) : undefined
  return v !== undefined && ['cdc-with-serial', 'none'].includes(systemUsb(s.found.platform, v))
}

/** Leave DFU mode (writes nothing) and wait for Device OS to come up; the session's device is then current. */
export async function leaveDfu(s: DeviceSession): Promise<void> {
  const dfu = await s.dfu()
  try {
    await dfu.open(DfuAlt.DCT)
    await dfu.ensureIdle()
    await dfu.leave(SETUP_DONE_OFFSET)
  } finally {
    await dfu.close()
    await s.found.usbDevice.close().catch(() => {})
  }
  await s.waitBack('normal', 'normal')
  s.report.mode = 'normal'
}
