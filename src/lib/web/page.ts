/**
 * The page's devices over one WebUSB `USB` (the browser's navigator.usb, or the virtual devices behind their
 * grants): "Connect a device" (the browser's chooser, Particle's vendor ID), the devices this page may already
 * open, devices plugged in later (connect events), the second permission a mode change needs, and "Fix all". No
 * token and no network: nothing leaves the page but USB transfers to the device.
 */
import {type Clock} from '../clock.js'
import {identifyParticle, type FoundDevice} from '../usb/discovery.js'
import {DeviceFlow} from './flow.js'
import {type Grants} from './grants.js'

/** Particle's USB vendor ID (every Particle device, in every mode). */
export const PARTICLE_VENDOR_ID = 0x2b04

export interface PageOptions {
  clock: Clock
  grants: Grants
  timeoutMs: number
  usb: USB
  waitMs: number
  /** Something changed: draw the page again. */
  changed: () => void
}

/** The chooser was closed without a choice: nothing happens (Chromium's NotFoundError). */
const isNoChoice = (e: unknown) => (e as Error | undefined)?.name === 'NotFoundError'

export class WebDoctor {
  readonly flows: DeviceFlow[] = []
  /** A chooser that failed for another reason than no choice (a policy, no user gesture), said on the page. */
  problem: null | {message: string} = null

  private readonly listeners = {
    connect: (ev: Event) => void this.onConnect((ev as USBConnectionEvent).device),
    disconnect: (ev: Event) => this.onDisconnect((ev as USBConnectionEvent).device),
  }

  constructor(readonly o: PageOptions) {
    o.usb.addEventListener('connect', this.listeners.connect)
    o.usb.addEventListener('disconnect', this.listeners.disconnect)
  }

  /** Stop listening to the bus (the page switched to other devices). */
  close(): void {
    this.o.usb.removeEventListener('connect', this.listeners.connect)
    this.o.usb.removeEventListener('disconnect', this.listeners.disconnect)
  }

  /** The Particle devices this page may open already (granted before), each read. */
  async start(): Promise<void> {
    for (const d of await this.o.usb.getDevices()) await this.onConnect(d)
  }

  /** "Connect a device": the browser's chooser, filtered on Particle's vendor ID. */
  async connect(): Promise<void> {
    const device = await this.choose({filters: [{vendorId: PARTICLE_VENDOR_ID}]})
    if (device) await this.onConnect(device)
  }

  /** The second permission: the device in the mode it is coming back in (its other product ID). */
  async allow(flow: DeviceFlow): Promise<void> {
    const p = flow.permission
    if (!p) return
    const device = await this.choose({filters: [{productId: p.productId, serialNumber: flow.id, vendorId: PARTICLE_VENDOR_ID}]})
    if (device) flow.granted()
  }

  /** Every device whose fix is offered, one after the other (buttons may need the person's hands). */
  async fixAll(): Promise<void> {
    for (const f of this.flows) if (f.canFix) await f.fix()
  }

  get fixable(): DeviceFlow[] {
    return this.flows.filter((f) => f.canFix)
  }

  private async choose(options: USBDeviceRequestOptions): Promise<undefined | USBDevice> {
    this.problem = null
    try {
      const device = await this.o.usb.requestDevice(options)
      this.o.grants.add(device)
      return device
    } catch (error) {
      if (!isNoChoice(error)) this.problem = {message: (error as Error).message}
      return undefined
    } finally {
      this.o.changed()
    }
  }

  /** A device the page may open: a new one is read, a known one that was waited for is read again. */
  private async onConnect(usbDevice: USBDevice): Promise<void> {
    this.o.grants.add(usbDevice)
    const d = identifyParticle(usbDevice)
    if (!d || !('id' in d)) return
    const known = this.flows.find((f) => f.id === d.id)
    if (known) return known.connected(d)
    await this.add(d).check()
  }

  private add(found: FoundDevice): DeviceFlow {
    const flow = new DeviceFlow(found, {backend: {close: () => {}, description: 'WebUSB', kind: 'usb', usb: this.o.usb}, ...this.o})
    this.flows.push(flow)
    this.o.changed()
    return flow
  }

  private onDisconnect(usbDevice: USBDevice): void {
    for (const f of this.flows) f.disconnected(usbDevice)
  }
}
