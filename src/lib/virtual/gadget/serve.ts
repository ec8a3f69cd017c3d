/**
 * The gadget bridge: serve every device of a devices file (PARTICLE_VIRTUAL_DEVICES format) as a real
 * USB device on Linux through configfs + FunctionFS on dummy_hcd UDCs, inside the usb-vm guest.
 *
 * The devices are the WebUSB virtual bus's own (openVirtualUsbFile: the same models, the same write-back to the
 * file). For each enumeration of a device the bridge holds its `USBDevice` like any WebUSB host would (open,
 * every interface claimed) and answers every control transfer that reaches user space by calling that
 * USBDevice's controlTransferIn / controlTransferOut / selectAlternateInterface: the two transports cannot drift.
 * A 'disconnect' on the virtual bus (reset, DFU enter or leave, Safe Mode, the unplug fault) unbinds the gadget;
 * the 'connect' that follows binds it again with the new identity (PID, descriptors, strings).
 *
 * What the kernel answers itself (so the virtual device never sees it): GET_DESCRIPTOR, GET_STATUS,
 * SET/GET_CONFIGURATION, GET_INTERFACE and SET_INTERFACE. The bridge learns an alt setting the host selected
 * from the host side's sysfs (bAlternateSetting) and replays it as the WebUSB selectAlternateInterface, before
 * the next class request. An OUT request with a data stage is acknowledged by the UDC when the data is read, so
 * a stall the device decides from the data cannot be given; requests the device refuses whatever the data
 * (the stallControl fault) are stalled before the data is read.
 */
import {execFileSync} from 'node:child_process'
import {closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import {Worker} from 'node:worker_threads'

import {isGen3WithoutControlRequests} from '../../protocol/cdc.js'
import {isGone, isStall, isTimeout} from '../../usb/errors.js'
import {type VirtualUsb} from '../bus.js'
import {openVirtualUsbFile} from '../file.js'
import type {VirtualUsbDevice} from '../usb-device.js'
import {Answer, CTRL_ANSWER, CTRL_LENGTH, CTRL_SEQ, CTRL_WORDS, DATA_BYTES} from './ep0-protocol.js'
import {ffsBlobs} from './ffs-blobs.js'

const CONFIGFS = '/sys/kernel/config/usb_gadget'
/** usbmon's text interface for every bus (debugfs; the guest loads usbmon and mounts debugfs). */
const USBMON = '/sys/kernel/debug/usb/usbmon/0u'
const FFS_ROOT = '/run/usb-vm-ffs'
const ENABLE = 2
/** Per-transfer timeout the bridge gives the virtual device (the host has its own; this only bounds our wait). */
const DEVICE_TIMEOUT_MS = 1
/** After the last IN data of a device about to leave the bus: time for the host's status stage (dummy_hcd). */
const STATUS_STAGE_MS = 250

const TYPES: USBRequestType[] = ['standard', 'class', 'vendor', 'standard']
const RECIPIENTS: USBRecipient[] = ['device', 'interface', 'endpoint', 'other']

export interface ServeOptions {
  log?: (line: string) => void
  /** How often to look for edits of the file made outside the guest (9p has no inotify for them). */
  pollMs?: number
}

export interface Served {
  bus: VirtualUsb
  /** Resolves when every device of the file is configured by the guest's USB host. */
  ready: Promise<void>
  close(): Promise<void>
}

/** `promise`, or undefined after `ms` (a timer that keeps the process alive meanwhile). */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let cancel = () => {}
  const timeout = new Promise<undefined>((resolve) => {
    const t = setTimeout(resolve, ms)
    cancel = () => clearTimeout(t)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    cancel()
  }
}

function hex16(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`
}

function write(path: string, value: string): void {
  writeFileSync(path, value)
}

function udcNames(): string[] {
  return readdirSync('/sys/class/udc').sort((a, b) => a.localeCompare(b, undefined, {numeric: true}))
}

/** One UDC with its gadget directory and FunctionFS mount; serves one device at a time. */
class Slot {
  readonly gadget: string
  readonly ffs: string
  device: string | undefined
  private ep0: number | undefined
  private worker: Worker | undefined
  private ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4))
  private data = new Uint8Array(new SharedArrayBuffer(DATA_BYTES))
  private usb: VirtualUsbDevice | undefined
  /** This enumeration's CDC pair is the kernel's f_acm (the UDC is bound even without a FunctionFS ep0). */
  private acm = false
  private bound = false
  private altDirty = true
  private unbound: (() => void) | undefined
  private queue: Promise<void> = Promise.resolve()

  constructor(
    readonly index: number,
    readonly udc: string,
    private readonly log: (line: string) => void,
  ) {
    const name = `pvd${index}`
    this.gadget = join(CONFIGFS, name)
    this.ffs = join(FFS_ROOT, name)
    if (!existsSync(this.gadget)) {
      mkdirSync(this.gadget)
      mkdirSync(join(this.gadget, 'strings/0x409'))
      mkdirSync(join(this.gadget, 'configs/c.1'))
      mkdirSync(join(this.gadget, 'configs/c.1/strings/0x409'))
      mkdirSync(join(this.gadget, `functions/ffs.${name}`))
    }
    mkdirSync(this.ffs, {recursive: true})
    execFileSync('mount', ['-t', 'functionfs', name, this.ffs])
  }

  /**
   * Which functions the configuration holds for this enumeration: the kernel's CDC ACM function (f_acm) for the CDC
   * pair of a device that serves its serial line (Gen3 firmware before 0.9.0, whose CDC class the virtual device
   * models), FunctionFS for the rest. f_acm comes first, so its interfaces are 0 and 1 as on the device. An acm
   * instance is made only when first needed: u_serial has 8 ports at most.
   */
  private link(acm: boolean, ffs: boolean): void {
    const config = join(this.gadget, 'configs/c.1')
    for (const entry of readdirSync(config)) {
      if (lstatSync(join(config, entry)).isSymbolicLink()) unlinkSync(join(config, entry))
    }
    const name = `pvd${this.index}`
    if (acm) {
      if (!existsSync(join(this.gadget, `functions/acm.${name}`))) mkdirSync(join(this.gadget, `functions/acm.${name}`))
      symlinkSync(join(this.gadget, `functions/acm.${name}`), join(config, `acm.${name}`))
    }
    if (ffs) symlinkSync(join(this.gadget, `functions/ffs.${name}`), join(config, `ffs.${name}`))
  }

  /** The host side's bus number of this UDC's device (usbmon names requests by bus), once enumerated. */
  hostBus(): number | undefined {
    const dev = this.hostDevice()
    return dev ? Number(dev.split('/').pop()!.split('-')[0]) : undefined
  }

  /**
   * A CDC class request f_acm answered (the host set a line coding, say), seen on usbmon: the virtual device gets it
   * too, as if it had answered it itself, so it acts on it (docs/protocol.md §10.1). Its own answer is not sent: the
   * kernel's was.
   */
  replayClassOut(setup: USBControlTransferParameters, data: Uint8Array): void {
    const usb = this.usb
    if (!usb || !this.acm) return
    this.queue = this.queue.then(async () => {
      try {
        await usb.controlTransferOut(setup, Uint8Array.from(data), DEVICE_TIMEOUT_MS)
        this.log(`${this.device}: class request ${setup.request.toString(16)} (${[...data].map((b) => b.toString(16).padStart(2, '0')).join(' ')}) answered by f_acm, given to the device`)
      } catch (error) {
        this.log(`${this.device}: class request ${setup.request.toString(16)} answered by f_acm; the device says: ${(error as Error).message}`)
      }
    })
  }

  /** The host side's view of this UDC's device in sysfs (e.g. /sys/bus/usb/devices/3-1), once enumerated. */
  hostDevice(): string | undefined {
    const platform = `/sys/devices/platform/dummy_hcd.${this.udc.replace(/^dummy_udc\./, '')}`
    const bus = readdirSync(platform).find((e) => /^usb\d+$/.test(e))
    if (!bus) return undefined
    const dev = join('/sys/bus/usb/devices', `${bus.slice(3)}-1`)
    return existsSync(dev) ? dev : undefined
  }

  state(): string {
    try {
      return readFileSync(`/sys/class/udc/${this.udc}/state`, 'utf8').trim()
    } catch {
      return 'unknown'
    }
  }

  async attach(usb: VirtualUsbDevice): Promise<void> {
    const id = usb.identity
    this.usb = usb
    this.device = usb.serial ?? undefined
    this.altDirty = true
    try {
      await usb.open()
      for (const i of usb.configurations[0].interfaces) {
        // The virtual bus models a Linux host whose cdc_acm holds the CDC pair; the bridge is the device's only host.
        if (usb.hasKernelDriver(i.interfaceNumber)) await usb.detachKernelDriver(i.interfaceNumber)
        await usb.claimInterface(i.interfaceNumber)
      }
    } catch (error) {
      this.log(`${this.device}: cannot open its USBDevice (${(error as Error).message}); every request will stall`)
    }
    const g = this.gadget
    write(join(g, 'idVendor'), hex16(id.vendorId))
    write(join(g, 'idProduct'), hex16(id.productId))
    write(join(g, 'bcdDevice'), hex16(id.bcdDevice))
    write(join(g, 'bcdUSB'), hex16(0x0200))
    write(join(g, 'bDeviceClass'), String(id.deviceClass))
    write(join(g, 'bDeviceSubClass'), String(id.deviceSubclass))
    write(join(g, 'bDeviceProtocol'), String(id.deviceProtocol))
    write(join(g, 'bMaxPacketSize0'), String(id.deviceDescriptor[7]))
    write(join(g, 'strings/0x409/manufacturer'), usb.manufacturerName ?? '')
    write(join(g, 'strings/0x409/product'), usb.productName ?? '')
    write(join(g, 'strings/0x409/serialnumber'), usb.serial ?? '')
    const config = id.configDescriptor
    write(join(g, 'configs/c.1/bmAttributes'), String(config[7]))
    write(join(g, 'configs/c.1/MaxPower'), String(config[8] * 2))
    write(join(g, 'configs/c.1/strings/0x409/configuration'), usb.configuration?.configurationName ?? '')

    this.acm = isGen3WithoutControlRequests(usb)
    const blobs = ffsBlobs(id, this.acm ? {skipCdcPair: true} : {})
    this.link(this.acm, blobs.interfaces > 0)
    if (blobs.interfaces > 0) {
      if (blobs.dropped.length > 0) this.log(`${this.device}: FunctionFS cannot carry descriptors ${blobs.dropped.join(', ')}; left out`)
      this.ep0 = openSync(join(this.ffs, 'ep0'), 'r+')
      writeSync(this.ep0, blobs.descriptors)
      writeSync(this.ep0, blobs.strings)
      this.startWorker(this.ep0)
    }
    write(join(g, 'UDC'), this.udc)
    this.bound = true
    this.log(`${this.device}: bound to ${this.udc} as ${hex16(id.vendorId)}:${hex16(id.productId)}`)
  }

  async detach(): Promise<void> {
    if (!this.bound) return
    this.bound = false
    await this.settleTransfer()
    await this.queue
    const unbound = new Promise<void>((resolve) => (this.unbound = resolve))
    try {
      write(join(this.gadget, 'UDC'), '\n')
    } catch (error) {
      this.log(`${this.device}: unbinding: ${(error as Error).message}`)
    }
    if (this.ep0 !== undefined) {
      await within(2000, unbound)
      // A worker blocked in read() cannot be stopped; it ends at the next event of its (closed) ep0.
      void this.worker?.terminate()
      this.worker = undefined
      closeSync(this.ep0)
      this.ep0 = undefined
    }
    this.usb = undefined
    this.acm = false
    this.log(`${this.device}: unbound from ${this.udc}`)
  }

  private startWorker(fd: number): void {
    Atomics.store(this.ctrl, CTRL_SEQ, 0)
    this.askedSeq = 0
    this.completedSeq = 0
    const worker = new Worker(new URL('ep0-worker.js', import.meta.url), {
      workerData: {ctrl: this.ctrl.buffer, data: this.data.buffer, fd},
    })
    this.worker = worker
    const usb = this.usb!
    worker.on('message', (m: {data?: Uint8Array; event?: number; message?: string; seq?: number; setup?: Uint8Array; type: string}) => {
      switch (m.type) {
        case 'setup': {
          this.askedSeq = m.seq!
          this.queue = this.queue.then(() => this.setup(usb, m.seq!, Buffer.from(m.setup!)))
          break
        }
        case 'data': {
          const pending = this.pendingOut
          this.pendingOut = undefined
          if (pending && pending.seq === m.seq) this.queue = this.queue.then(() => this.outData(usb, pending.setup, m.data!))
          break
        }
        case 'event': {
          if (m.event === ENABLE) this.altDirty = true
          break
        }
        case 'completed': {
          this.completedSeq = m.seq!
          this.onCompleted?.()
          break
        }
        case 'unbound': {
          this.unbound?.()
          break
        }
        case 'error': {
          this.log(`${this.device}: ep0: ${m.message}`)
          break
        }
      }
    })
    worker.on('error', (error) => this.log(`${this.device}: ep0 worker: ${error.message}`))
  }

  private pendingOut: {seq: number; setup: USBControlTransferParameters} | undefined
  /** The last SETUP handed to the main thread, and the last the worker finished on the wire. */
  private askedSeq = 0
  private completedSeq = 0
  private onCompleted: (() => void) | undefined

  /**
   * Let the transfer under way finish on the wire first: the unplug fault and resets fire inside the device's
   * answer to their last transfer, before the bridge has even handed that answer to the worker.
   */
  private async settleTransfer(): Promise<void> {
    if (this.completedSeq >= this.askedSeq) return
    const done = new Promise<void>((resolve) => {
      this.onCompleted = () => {
        if (this.completedSeq >= this.askedSeq) resolve()
      }
    })
    await within(1000, done)
    this.onCompleted = undefined
    // The IN data has been taken; give the host its status stage before the device leaves the bus.
    await within(STATUS_STAGE_MS, new Promise(() => {}))
  }

  private answer(seq: number, answer: number, data?: Uint8Array): void {
    if (data) {
      const n = Math.min(data.length, DATA_BYTES)
      this.data.set(data.subarray(0, n))
      Atomics.store(this.ctrl, CTRL_LENGTH, n)
    }
    Atomics.store(this.ctrl, CTRL_ANSWER, answer)
    Atomics.store(this.ctrl, CTRL_SEQ, seq)
    Atomics.notify(this.ctrl, CTRL_SEQ)
  }

  /** Replay the alt setting the host selected (the kernel answered SET_INTERFACE itself). */
  private async syncAlternate(usb: VirtualUsbDevice, interfaceNumber: number): Promise<void> {
    if (!this.altDirty) return
    this.altDirty = false
    const dev = this.hostDevice()
    if (!dev) return
    let alt: number
    try {
      alt = Number(readFileSync(join(dev, `${dev.split('/').pop()}:1.${interfaceNumber}`, 'bAlternateSetting'), 'utf8').trim())
    } catch {
      return
    }
    try {
      await usb.selectAlternateInterface(interfaceNumber, alt)
    } catch (error) {
      this.log(`${this.device}: alt setting ${alt}: ${(error as Error).message}`)
    }
  }

  private async setup(usb: VirtualUsbDevice, seq: number, raw: Buffer): Promise<void> {
    const bm = raw[0]
    const setup: USBControlTransferParameters = {
      index: raw.readUInt16LE(4),
      recipient: RECIPIENTS[bm & 0x03] ?? 'other',
      request: raw[1],
      requestType: TYPES[(bm >> 5) & 0x03],
      value: raw.readUInt16LE(2),
    }
    const wLength = raw.readUInt16LE(6)
    if (setup.requestType === 'class' && setup.recipient === 'interface') await this.syncAlternate(usb, setup.index & 0xff)
    try {
      if (bm & 0x80) {
        const r = await usb.controlTransferIn(setup, wLength, DEVICE_TIMEOUT_MS)
        if (r.status === 'ok') {
          const v = r.data
          this.answer(seq, Answer.IN_DATA, v ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(0))
        } else this.answer(seq, Answer.STALL)
        return
      }
      if (setup.requestType === 'vendor' && usb.opened && this.refusesVendor(usb)) return this.answer(seq, Answer.STALL)
      if (wLength > 0) {
        this.pendingOut = {seq, setup}
        return this.answer(seq, Answer.READ_DATA)
      }
      const r = await usb.controlTransferOut(setup, new Uint8Array(0), DEVICE_TIMEOUT_MS)
      this.answer(seq, r.status === 'ok' ? Answer.READ_DATA : Answer.STALL)
    } catch (error) {
      // A timeout: the device gives no status stage (Realtek OUT without data); the host's timeout ends it.
      // Gone: the device is leaving the bus (the gadget is about to be unbound); that, not a stall, ends it.
      const silent = isTimeout(error) || isGone(error)
      this.answer(seq, silent ? Answer.IGNORE : Answer.STALL)
      if (!silent && !isStall(error)) this.log(`${this.device}: ${(error as Error).message}`)
    }
  }

  /** The stallControl fault: every vendor request is refused, whatever its data. */
  private refusesVendor(usb: VirtualUsbDevice): boolean {
    return this.modelFaults?.(usb)?.stallControl === true
  }

  modelFaults: ((usb: VirtualUsbDevice) => {stallControl?: boolean} | undefined) | undefined

  private async outData(usb: VirtualUsbDevice, setup: USBControlTransferParameters, data: Uint8Array): Promise<void> {
    try {
      await usb.controlTransferOut(setup, Uint8Array.from(data), DEVICE_TIMEOUT_MS)
    } catch (error) {
      if (isStall(error)) this.log(`${this.device}: the device stalled an OUT request after its data stage (already acknowledged by the UDC)`)
      else this.log(`${this.device}: OUT request: ${(error as Error).message}`)
    }
  }
}

/** Serve the devices of `file` as gadgets; the guest must have loaded dummy_hcd, libcomposite, usb_f_fs and configfs. */
export async function serveDevicesFile(file: string, options: ServeOptions = {}): Promise<Served> {
  const log = options.log ?? (() => {})
  const bus = openVirtualUsbFile(file, {borrowRules: false})
  const udcs = udcNames()
  const slots: Slot[] = []
  const byDevice = new Map<string, Slot>()
  let chain: Promise<void> = Promise.resolve()
  const serial = (fn: () => Promise<void>) => {
    chain = chain.then(fn).catch((error: Error) => log(`bridge: ${error.stack ?? error.message}`))
    return chain
  }

  const slotFor = (id: string): Slot => {
    let slot = byDevice.get(id)
    if (slot) return slot
    slot = slots.find((s) => s.device === undefined)
    if (!slot) {
      if (slots.length >= udcs.length) throw new Error(`no free UDC for ${id} (dummy_hcd num=${udcs.length})`)
      slot = new Slot(slots.length, udcs[slots.length], log)
      slot.modelFaults = (usb) => bus.device(usb.serial ?? '')?.faults
      slots.push(slot)
    }
    slot.device = id
    byDevice.set(id, slot)
    return slot
  }

  bus.addEventListener('connect', (ev) => {
    const usb = ev.device as VirtualUsbDevice
    void serial(async () => {
      // Only if it is still the device's live enumeration (a quick reset may have replaced it already).
      if (bus.device(usb.serial ?? '')?.usbDevice !== usb) return
      await slotFor(usb.serial!).attach(usb)
    })
  })
  bus.addEventListener('disconnect', (ev) => {
    const id = (ev.device as VirtualUsbDevice).serial ?? ''
    void serial(async () => {
      await byDevice.get(id)?.detach()
    })
  })

  for (const usb of (await bus.getDevices()) as VirtualUsbDevice[]) await serial(() => slotFor(usb.serial!).attach(usb))

  // The host's CDC class requests, which the kernel's f_acm answers, reach the virtual device through usbmon.
  let usbmon: Worker | undefined
  if (existsSync(USBMON)) {
    usbmon = new Worker(new URL('usbmon-worker.js', import.meta.url), {workerData: {path: USBMON}})
    usbmon.unref()
    usbmon.on('message', (m: {bus?: number; data?: number[]; error?: string; index?: number; request?: number; value?: number}) => {
      if (m.error) return log(`usbmon: ${m.error}`)
      const slot = slots.find((s) => s.hostBus() === m.bus)
      const setup: USBControlTransferParameters = {index: m.index!, recipient: 'interface', request: m.request!, requestType: 'class', value: m.value!}
      slot?.replayClassOut(setup, Uint8Array.from(m.data!))
    })
    usbmon.on('error', (error) => log(`usbmon worker: ${error.message}`))
  } else log(`no ${USBMON}: the host's line coding does not reach the virtual devices`)

  const poll = setInterval(() => void bus.getDevices(), options.pollMs ?? 300)
  const ready = (async () => {
    const deadline = Date.now() + 60_000
    for (;;) {
      const pending = slots.filter((s) => s.device !== undefined && bus.device(s.device)?.connected && s.state() !== 'configured')
      if (pending.length === 0) return
      if (Date.now() > deadline) throw new Error(`not configured by the host: ${pending.map((s) => s.device).join(', ')}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  })()

  return {
    bus,
    close: async () => {
      clearInterval(poll)
      void usbmon?.terminate()
      bus.close()
      await chain
      for (const s of slots) await s.detach()
    },
    ready,
  }
}
