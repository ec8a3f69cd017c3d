/**
 * One device's whole operation, through one object: find it again after each restart, read, decide, write, verify,
 * restart and wait, ending in one typed report (report.ts). `get`, `set`, `--all`, `--watch` and the doctor all
 * go through it. `--method` is routed here and nowhere else.
 */
import {type CloudDevice} from '../cloud/cloud.js'
import {openDevice} from '../device/particle-device.js'
import {waitForReturn} from '../device/reboot.js'
import {asSetupFlagError, type Back, errorIs, errors, isSetupFlagError} from '../errors.js'
import {type FoundDevice} from '../usb/discovery.js'
import {type WriteOptions} from './decide.js'
import {CloudSession, type FirmwareOptions, FirmwareWriter} from './firmware.js'
import {byPlatform} from './policy.js'
import {identifyBestEffort, readFlag} from './read.js'
import {type DeviceReport, failed, judge, newReport} from './report.js'
import {DeviceSession, type OperationContext, rebootTimeoutMs} from './session.js'
import {ControlWriter} from './write-control.js'
import {DfuWriter, leaveDfu} from './write-dfu.js'
import {type Writer} from './writer.js'

export type Method = 'auto' | 'dfu' | 'firmware' | 'usb'

export interface SetOptions extends WriteOptions {
  method: Exclude<Method, 'firmware'>
}

/**
 * The one routing of `--method` for a device on USB: the writer, and whether DFU mode must be left first. Firmware
 * below 0.9.0 has no control requests, so DFU is the only way there, whatever was asked.
 */
export function routeUsb(method: Exclude<Method, 'firmware'>, mode: FoundDevice['mode'], noControlRequests = false): {leaveDfuFirst: boolean; writer: Writer} {
  const dfu = method === 'dfu' || (method === 'auto' && mode === 'dfu') || noControlRequests
  return {leaveDfuFirst: !dfu && mode === 'dfu', writer: dfu ? new DfuWriter() : new ControlWriter()}
}

export class FlagOperation {
  /** The device as it is enumerated now (each restart makes a new USB object). */
  found: FoundDevice
  /** Work under way on the device (a request, a write, a restart being waited for): an interruption lets it finish. */
  busy = false
  private session: DeviceSession | undefined

  constructor(
    found: FoundDevice,
    readonly ctx: OperationContext,
  ) {
    this.found = found
  }

  /** Read the flag (writes nothing). */
  async read(o: {unstick?: boolean} = {}): Promise<DeviceReport> {
    return this.run((s) => readFlag(s, o))
  }

  /** Set (or clear) the flag by the method asked for, verify it, and restart the device as the method needs. */
  async set(o: SetOptions): Promise<DeviceReport> {
    return this.run(async (s) => {
      const ruled = byPlatform(s.found.platform)
      if (ruled && !o.force) {
        // The platform alone rules the flag out: nothing the firmware does (or fails to do) can change that.
        judge(s.report, ruled, undefined)
        if (s.found.mode !== 'dfu') await identifyBestEffort(s)
        return s.record({kind: 'not-applicable'})
      }
      const route = routeUsb(o.method, s.found.mode, s.noControlRequests)
      if (route.leaveDfuFirst) {
        if (o.dryRun) return s.record({kind: 'would-leave-dfu'})
        s.checkpoint()
        await leaveDfu(s)
        s.record({kind: 'left-dfu-for-control'})
      }
      await route.writer.write(s, o)
    })
  }

  /** The report of a device nothing was done to (a run interrupted before it was started). */
  notStarted(): DeviceReport {
    return newReport(this.found)
  }

  /** Leave DFU mode (nothing written) and wait for Device OS. */
  async leaveDfu(): Promise<DeviceReport> {
    return this.run((s) => leaveDfu(s))
  }

  /** Request 40 (`reset`) or 60 (`safe`), and wait for the device to come back (a pending request that never ran fails it). */
  async restart(request: 'reset' | 'safe'): Promise<DeviceReport> {
    return this.run(async (s) => {
      const back = await s.restartBy(await s.control(), request, {resetPending: true})
      if (!back) throw errors.notResponding({asked: 'safe-mode', id: s.id})
    })
  }

  /** Whether the device listens now (request 72); undefined when its firmware does not answer. */
  async listening(): Promise<boolean | undefined> {
    const dev = await openDevice(this.found, this.ctx.clock)
    try {
      await dev.resetPending()
      return await dev.isListening({timeoutMs: this.ctx.timeoutMs})
    } catch (error) {
      if (!isSetupFlagError(error)) throw error
      return undefined
    } finally {
      await dev.close()
    }
  }

  /** Wait for a person to bring the device back (buttons, a replug) in `mode`, within `timeoutMs`. */
  async comeBack(mode: 'dfu' | 'normal', back: Back, o: {by: 'buttons' | 'replug' | 'request'; timeoutMs?: number}): Promise<FoundDevice> {
    const timeoutMs = o.timeoutMs ?? rebootTimeoutMs(this.ctx.timeoutMs)
    this.ctx.progress?.waiting({back, id: this.found.id, kind: 'restart', late: false, upToMs: timeoutMs})
    try {
      this.found = await waitForReturn(this.found, mode, {backend: this.ctx.backend, by: o.by, clock: this.ctx.clock, signal: this.ctx.signal, timeoutMs}, back)
      this.ctx.progress?.waited('done')
      return this.found
    } catch (error) {
      this.ctx.progress?.waited(errorIs.noReturn(error) ? 'timed out' : 'failed')
      throw error
    }
  }

  /**
   * The report of the run under way, as far as it has come (the object the run returns): a view can say a write
   * that was read back while the restart after it is still awaited.
   */
  get underWay(): DeviceReport | undefined {
    return this.session?.report
  }

  private async run(fn: (s: DeviceSession) => Promise<void>): Promise<DeviceReport> {
    const s = new DeviceSession(this.found, this.ctx)
    this.session = s
    this.busy = true
    try {
      await fn(s)
    } catch (error) {
      failed(s.report, asSetupFlagError(error))
      if (s.offCloud) s.record({kind: 'off-cloud'})
      // A write was under way (request 73 or the DFU download went out): the byte's state is unknown.
      if (s.report.method !== null && s.report.after === null) s.report.writeUnknown = true
    } finally {
      this.found = s.found
      await s.close()
      this.busy = false
      this.session = undefined
    }
    return s.report
  }
}

/** The firmware method on one device the cloud knows: compile, flash, wait for its report, restore. */
export async function setByFirmware(device: Pick<CloudDevice, 'id' | 'name'> & Partial<CloudDevice>, o: FirmwareOptions & WriteOptions): Promise<DeviceReport> {
  const s = new CloudSession(device, o)
  try {
    await new FirmwareWriter().write(s, o)
  } catch (error) {
    failed(s.report, asSetupFlagError(error))
  }
  return s.report
}
