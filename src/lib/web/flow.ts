/**
 * One device on the page: read it and name the cause when it comes, fix it when the person asks, restart it out of
 * DFU mode, and read it again when it comes back after an unplug or the udev rule. One piece of work at a time;
 * whatever fails is said as it is and ends that piece of work, never the page.
 */
import {type FoundDevice} from '../usb/discovery.js'
import {fix, leaveDfu} from './fix.js'
import {check} from './read.js'
import {type FlowContext, FlowState} from './state.js'

export class DeviceFlow extends FlowState {
  constructor(found: FoundDevice, ctx: FlowContext) {
    super(found, ctx)
  }

  get id(): string {
    return this.found.id
  }

  /** "Fix it" is offered: the cause is known and a way to fix it is left. */
  get canFix(): boolean {
    return !this.busy && this.plan !== null
  }

  /** Read the device and name the cause (writes nothing). */
  async check(): Promise<void> {
    await this.run(() => check(this))
  }

  /** Write the flag, read it back, restart the device and confirm (the way decided by the last read). */
  async fix(): Promise<void> {
    if (!this.canFix) return
    await this.run(() => fix(this))
  }

  /** Restart a DFU-mode device whose flag is set (nothing written), and read it again. */
  async leaveDfu(): Promise<void> {
    if (this.busy || !this.leaveDfuOffered) return
    await this.run(async () => {
      await leaveDfu(this)
      await check(this)
    })
  }

  /** Read it again from the start (after the person closed another program that held it, say). */
  async readAgain(): Promise<void> {
    if (this.busy) return
    this.reset()
    this.phase = {kind: 'idle'}
    await this.check()
  }

  /** The device was granted in the mode the page waits for: the wait finds it at its next look. */
  granted(): void {
    this.permission = null
    this.ctx.changed()
  }

  /** The device enumerated (plugged in again, or after the udev rule): read it again when the page waits for that. */
  async connected(found: FoundDevice): Promise<void> {
    if (this.busy || this.phase.kind !== 'replug') return
    this.op.found = found
    this.reset()
    await this.check()
  }

  /** The device left while nothing was under way: the page waits for it to be plugged in again. */
  disconnected(usbDevice: USBDevice): void {
    if (this.busy || usbDevice !== this.found.usbDevice) return
    this.phase = {kind: 'replug', why: 'unplugged'}
    this.ctx.changed()
  }

  private async run(fn: () => Promise<void>): Promise<void> {
    this.busy = true
    this.ctx.changed()
    try {
      await fn()
    } catch (error) {
      this.fail(error)
    } finally {
      this.busy = false
      if (this.phase.kind === 'working' || this.phase.kind === 'buttons') this.phase = {kind: 'idle'}
      this.ctx.changed()
    }
  }
}
