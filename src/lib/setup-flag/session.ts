/**
 * One device's session: everything an operation on it holds while it runs, as fields (the USB objects it had on the
 * way, whether this run took it off the cloud, whether a timed-out write may still land, its report with its
 * steps), and the moves every path shares: opening it, restarting it and waiting for it to come back, and checking
 * that it no longer listens. Nothing here is module-level: two devices in one run never share state.
 */
import type {Clock} from '../clock.js'
import type {UsbBackend} from '../usb/backend.js'

import {type CloudFacts, NO_CLOUD} from '../cloud/facts.js'
import {openDevice, openUsb, type OpenDevice} from '../device/particle-device.js'
import {waitForReturn} from '../device/reboot.js'
import {type Back, errorIs, errors, isSetupFlagError, RequestPendingTimeout} from '../errors.js'
import {isGen3WithoutControlRequests, sendLineCoding, SERIAL_LINE_RATE} from '../protocol/cdc.js'
import {DfuseClient} from '../protocol/dfuse.js'
import {type FoundDevice, isParticleUsb, serialOf} from '../usb/discovery.js'
import {type DeviceReport, newReport} from './report.js'
import {type RestartMode, type Step} from './steps.js'

/**
 * A wait a person may watch: a device restarting into a mode (or a late restart a timed-out request may still
 * cause: `late`), or a device in the field reporting the flag after a flash.
 */
export type Wait = {back: Back; id: string; kind: 'restart'; late: boolean; upToMs: number} | {kind: 'report'; upToMs: number; who: string}

/** How a wait (or another long step) ended, for the line that showed it. */
export type Ended = 'cancelled' | 'done' | 'failed' | 'timed out'

export interface Progress {
  /** A wait begins (a line is shown for it on a terminal); the work before it ended as `before` (default "done"). */
  waiting(w: Wait, before?: Ended): void
  /** The wait that began last ended so. */
  waited(how: Ended): void
}

export interface OperationContext {
  backend: UsbBackend
  clock: Clock
  /** What the cloud knows, asked only where the device cannot tell (a DFU device without a readable version). */
  cloud?: CloudFacts
  progress?: Progress
  /** Aborted by the first Ctrl-C: nothing new is started on the device; what is under way completes safely. */
  signal?: AbortSignal
  /** Per-request deadline, ms. */
  timeoutMs: number
}

/** Time allowed for a device to reset and enumerate again after a mode change. */
export function rebootTimeoutMs(timeoutMs: number): number {
  return Math.max(15_000, 3 * timeoutMs)
}

/**
 * How long to wait, after a timed-out 40, 50 or 60, for the restart it may still cause: the firmware runs a
 * cancelled request when its system thread frees up and then resets about a second later (docs/protocol.md §2.5).
 */
export function lateResetWaitMs(timeoutMs: number): number {
  return Math.max(5000, timeoutMs)
}

export class DeviceSession {
  readonly cloud: CloudFacts
  /** The device as it is enumerated now (it re-enumerates on every restart). */
  found: FoundDevice
  /** Raw 302 took it off the cloud and it has not restarted since (docs/protocol.md §2.8). */
  offCloud = false
  readonly report: DeviceReport
  /** A write request (73) timed out: the firmware may still carry it out (docs/protocol.md §2.5). */
  writeMayLand = false
  private readonly usbObjects: USBDevice[]

  constructor(
    found: FoundDevice,
    readonly ctx: OperationContext,
  ) {
    this.found = found
    this.usbObjects = [found.usbDevice]
    this.report = newReport(found)
    this.cloud = ctx.cloud ?? NO_CLOUD
  }

  get id(): string {
    return this.found.id
  }

  /**
   * Gen3 firmware below 0.9.0: no USB control requests at all (no vendor interface in its descriptors); only its
   * serial line and DFU mode reach it (docs/protocol.md §10).
   */
  get noControlRequests(): boolean {
    if (this.found.mode === 'dfu') return false
    try {
      return isGen3WithoutControlRequests(this.found.usbDevice)
    } catch {
      // The `usb` package reads the descriptors by opening the device: without permission that throws here, and
      // the open that follows says so with the right advice (the udev rule).
      return false
    }
  }

  /** Restart it in DFU mode through its serial line (line coding 14400) and wait for it there. */
  async dfuBySerialLine(): Promise<FoundDevice> {
    await sendLineCoding(this.found.usbDevice, SERIAL_LINE_RATE.dfu, {deviceId: this.id, timeoutMs: this.ctx.timeoutMs})
    await this.found.usbDevice.close().catch(() => {})
    return this.waitBack('dfu', 'dfu')
  }

  /** Whether the run was interrupted (first Ctrl-C): start nothing new on the device. */
  get interrupted(): boolean {
    return this.ctx.signal?.aborted === true
  }

  /** Before starting something new on the device (a write, a restart): stop here when the run was interrupted. */
  checkpoint(): void {
    if (this.interrupted) throw errors.cancelled([{kind: 'nothing-written'}])
  }

  record(step: Step): void {
    this.report.steps.push(step)
  }

  /** Close every USB object this device had on the way (not by listing the bus: that made `set --all` quadratic). */
  async close(): Promise<void> {
    for (const d of this.usbObjects) {
      try {
        if (d.opened) await d.close()
      } catch {
        // Gone already, or (the `usb` package's borrow rules) still held by a call: nothing to say, nothing to undo.
      }
    }
  }

  /** Open the device as it is now for control requests (normal, listening or safe mode). */
  async control(): Promise<OpenDevice> {
    return openDevice(this.found, this.ctx.clock)
  }

  /** Open the device as it is now in DFU mode. */
  async dfu(): Promise<DfuseClient> {
    const io = await openUsb(this.found)
    return new DfuseClient(this.found.usbDevice, io, this.ctx.clock)
  }

  /** The device's USB object now, when it has re-enumerated behind our back (raw 302, a late restart). */
  async refresh(): Promise<void> {
    const now = (await this.ctx.backend.usb.getDevices().catch(() => [] as USBDevice[])).find((d) => isParticleUsb(d) && serialOf(d)?.toLowerCase() === this.id)
    if (now && now !== this.found.usbDevice) this.enumerated({...this.found, usbDevice: now})
  }

  /** Wait for the device we restarted to come back in `mode`, within the reboot allowance; it is then current. */
  async waitBack(mode: 'dfu' | 'normal', back: Back, timeoutMs = rebootTimeoutMs(this.ctx.timeoutMs)): Promise<FoundDevice> {
    return this.wait(mode, back, {late: false, timeoutMs})
  }

  /**
   * Send a request that restarts the device (40 `reset`, 50 `dfu`, 60 `safe`), close it, and wait for it to come
   * back. With `resetPending`, requests still pending are cancelled first so the new one gets a slot. A request
   * the firmware left pending may still run once its system thread frees, so a timed-out one is never followed by
   * another: we wait for the restart it may still cause, and return undefined when it did not come.
   */
  async restartBy(dev: OpenDevice, request: 'dfu' | 'reset' | 'safe', o: {asked?: Step; late?: RestartMode; resetPending?: boolean}): Promise<FoundDevice | undefined> {
    const mode = request === 'dfu' ? 'dfu' : 'normal'
    const back: Back = request === 'dfu' ? 'dfu' : request === 'safe' ? 'safe' : 'restart'
    let pending = false
    try {
      if (o.resetPending) await dev.resetPending()
      const t = {timeoutMs: this.ctx.timeoutMs}
      await (request === 'dfu' ? dev.enterDfu(t) : request === 'safe' ? dev.enterSafeMode(t) : dev.reset(t))
    } catch (error) {
      if (!(error instanceof RequestPendingTimeout)) throw error
      pending = true
    } finally {
      await dev.close()
    }
    if (o.asked) this.record(o.asked)
    if (!pending) return this.waitBack(mode, back)
    this.record({kind: 'late-reset-wait', mode: o.late ?? (request === 'dfu' ? 'dfu' : request === 'safe' ? 'safe' : 'online')})
    try {
      // The request itself timed out: the line that showed the work before this wait says so.
      return await this.wait(mode, back, {before: 'timed out', late: true, timeoutMs: lateResetWaitMs(this.ctx.timeoutMs)})
    } catch (error) {
      if (errorIs.noReturn(error)) return undefined
      throw error
    }
  }

  /** After a restart: is the device out of Listening Mode? Best effort; a busy application is not an error here. */
  async confirmNotListening(): Promise<void> {
    if (this.noControlRequests) {
      this.report.mode = 'unknown'
      return this.record({kind: 'restarted-no-requests'})
    }
    let dev: OpenDevice | undefined
    try {
      dev = await this.control()
      await dev.resetPending()
      const listening = await dev.isListening({timeoutMs: this.ctx.timeoutMs})
      this.report.mode = listening ? 'listening' : 'normal'
      this.record({kind: listening ? 'restarted-listening' : 'restarted-normal'})
    } catch (error) {
      if (!isSetupFlagError(error)) throw error
      this.report.mode = 'unknown'
      this.record({kind: 'restarted-unconfirmed'})
    } finally {
      await dev?.close()
    }
  }

  private enumerated(found: FoundDevice): void {
    this.found = found
    this.usbObjects.push(found.usbDevice)
  }

  private async wait(mode: 'dfu' | 'normal', back: Back, o: {before?: Ended; late: boolean; timeoutMs: number}): Promise<FoundDevice> {
    this.ctx.progress?.waiting({back, id: this.id, kind: 'restart', late: o.late, upToMs: o.timeoutMs}, o.before)
    try {
      const found = await waitForReturn(this.found, mode, {backend: this.ctx.backend, clock: this.ctx.clock, timeoutMs: o.timeoutMs}, back)
      this.ctx.progress?.waited('done')
      this.enumerated(found)
      return found
    } catch (error) {
      this.ctx.progress?.waited(errorIs.noReturn(error) ? 'timed out' : 'failed')
      throw error
    }
  }
}
