/**
 * A DfuSe client (ST AN3156 with the Particle Gen3 bootloader's behaviour, docs/protocol.md §4) over WebUSB:
 * GETSTATUS, CLRSTATUS, ABORT, SET_ADDRESS, UPLOAD, DNLOAD and leave, with the state recovery dfu-util does.
 * Only what the setup flag needs: reading and writing a few bytes at an address on one alt setting. It never
 * erases, and refuses to write to or read from a segment whose layout says it may not.
 *
 * Written here because no maintained library speaks DfuSe over WebUSB in Node with an injectable clock.
 */
import type {Clock} from '../clock.js'

import {DfuNotPermitted, errors} from '../errors.js'
import {mapUsbError} from '../usb/errors.js'
import {type Setup, STALL, type UsbIo} from '../usb/io.js'
import {Dfu, DFU_TRANSFER_SIZE, DfuseCommand, DfuState, DfuStatus} from './constants.js'

export interface DfuStatusReply {
  pollTimeout: number
  state: number
  status: number
  stringIndex: number
}

export function parseDfuStatus(data: Uint8Array): DfuStatusReply {
  if (data.length !== 6) throw new RangeError(`GETSTATUS returned ${data.length} bytes, expected 6`)
  return {
    pollTimeout: data[1] | (data[2] << 8) | (data[3] << 16),
    state: data[4],
    status: data[0],
    stringIndex: data[5],
  }
}

export interface Segment {
  end: number
  erasable: boolean
  readable: boolean
  start: number
  writable: boolean
}

/** Pages a layout may describe: real ones have a few hundred (2048 for an 8 MB external flash). */
const MAX_LAYOUT_PAGES = 0x10000
/** DfuSe addresses are 32-bit. */
const ADDRESS_SPACE = 0x1_0000_0000

/**
 * Parse a DfuSe memory layout string such as `@DCT Flash   /0x00000000/1*016Ke` (several `/addr/list` groups may
 * follow each other). Type letter: (letter - 'a' + 1) & 7, bit 1 readable, bit 2 erasable, bit 4 writable.
 * The string comes from the device (an alt setting's name), so a corrupted one must fail fast: more than 65536
 * pages, or pages past the 32-bit address space, are a RangeError like any other malformed layout.
 */
export function parseLayout(name: string): Segment[] {
  const segments: Segment[] = []
  const groups = name.split('/').slice(1)
  if (groups.length < 2 || groups.length % 2 !== 0) throw new RangeError(`not a DfuSe layout: ${JSON.stringify(name)}`)
  for (let g = 0; g < groups.length; g += 2) {
    let addr = Number.parseInt(groups[g], 16)
    if (!/^0x[\da-f]+$/i.test(groups[g].trim()) || !Number.isFinite(addr)) throw new RangeError(`bad layout address ${groups[g]}`)
    for (const item of groups[g + 1].split(',')) {
      const m = /^\s*(\d+)\*(\d+)\s*([ BKM ])\s*([a-g])\s*$/i.exec(item)
      if (!m) throw new RangeError(`bad layout segment ${JSON.stringify(item)}`)
      const unit = {' ': 1, B: 1, K: 1024, M: 1024 * 1024}[m[3].toUpperCase() as ' ' | 'B' | 'K' | 'M']
      const count = Number(m[1])
      const size = Number(m[2]) * unit
      const type = (m[4].toLowerCase().charCodeAt(0) - 96) & 7
      if (count > MAX_LAYOUT_PAGES - segments.length) throw new RangeError(`layout of more than ${MAX_LAYOUT_PAGES} pages: ${JSON.stringify(item)}`)
      if (addr + count * size > ADDRESS_SPACE) throw new RangeError(`layout segment past the 32-bit address space: ${JSON.stringify(item)}`)
      for (let i = 0; i < count; i++) {
        segments.push({end: addr + size, erasable: (type & 2) !== 0, readable: (type & 1) !== 0, start: addr, writable: (type & 4) !== 0})
        addr += size
      }
    }
  }
  return segments
}

function segmentFor(segments: Segment[], addr: number, length: number): Segment | undefined {
  const s = segments.find((x) => addr >= x.start && addr < x.end)
  return s && addr + length <= s.end ? s : undefined
}

const MAX_BUSY_POLLS = 100 // dfu-util gives up after 100 consecutive zero-timeout DNBUSY answers
/**
 * Longest a DNLOAD may keep the bootloader busy, poll timeouts included. Gen3 always reports bwPollTimeout 0
 * (§4.4); a corrupted status could ask for 0xFFFFFF ms (4.6 hours) per poll, so the waits are bounded as a whole.
 */
export const DFU_COMMAND_BUDGET_MS = 30_000

export class DfuseClient {
  private alt = -1
  private claimed = false
  /**
   * True while the last GETSTATUS said dfuIDLE/OK and nothing has been sent since: the state is known, so the
   * recovery GETSTATUS dfu-util sends when it starts a session (§4.5 step 3) would only repeat it. Selecting another
   * alt setting keeps it (SET_INTERFACE cannot take a bootloader out of dfuIDLE).
   */
  private idleKnown = false
  private segments: Segment[] = []

  constructor(
    private readonly device: USBDevice,
    private readonly io: UsbIo,
    private readonly clock: Clock,
    private readonly interfaceNumber = 0,
  ) {}

  async abort(): Promise<void> {
    await this.classOut(Dfu.ABORT, 0, undefined, 'DFU abort')
  }

  async clearStatus(): Promise<void> {
    await this.classOut(Dfu.CLRSTATUS, 0, undefined, 'DFU clear status')
  }

  async close(): Promise<void> {
    if (this.claimed) await this.device.releaseInterface(this.interfaceNumber).catch(() => {})
    this.claimed = false
  }

  /** Bring the device to dfuIDLE the way dfu-util does before a transfer (nothing to send when it is known idle). */
  async ensureIdle(): Promise<void> {
    if (this.idleKnown) return
    for (let i = 0; i < 3; i++) {
      const st = await this.getStatus()
      if (st.state === DfuState.dfuIDLE && st.status === DfuStatus.OK) return
      if (st.state === DfuState.dfuERROR || st.status !== DfuStatus.OK) await this.clearStatus()
      else if (st.state === DfuState.dfuDNLOAD_IDLE || st.state === DfuState.dfuUPLOAD_IDLE || st.state === DfuState.dfuDNLOAD_SYNC) await this.abort()
      else throw errors.dfu('recovery', {kind: 'state', state: st.state})
    }
    throw errors.dfu('recovery', {kind: 'no-idle'})
  }

  async getStatus(): Promise<DfuStatusReply> {
    this.idleKnown = false
    const data = await this.io.in(this.classSetup(Dfu.GETSTATUS, 0), 6, 'DFU status')
    if (data === STALL) throw errors.dfu('status', {kind: 'stalled'})
    let st: DfuStatusReply
    try {
      st = parseDfuStatus(data)
    } catch (error) {
      throw errors.protocol('DFU GETSTATUS', error)
    }
    this.idleKnown = st.state === DfuState.dfuIDLE && st.status === DfuStatus.OK
    return st
  }

  /** Leave DFU mode: the device resets about 500 ms later and comes back in normal mode (§4.4 / §4.5 step 14-16). */
  async leave(address: number): Promise<void> {
    try {
      await this.setAddress(address)
    } catch (error) {
      // A protected bootloader refuses SET_ADDRESS (errVENDOR), but a zero-length DNLOAD still leaves: its
      // protection check is on DNLOAD with data only (usbd_dfu.cpp@v6.2.0:270-285). recover() cleared the error.
      if (!(error instanceof DfuNotPermitted)) throw error
    }
    if ((await this.classOut(Dfu.DNLOAD, 2, new Uint8Array(0), 'DFU leave')) === STALL) throw errors.dfu('leave', {kind: 'refused'})
    const st = await this.getStatus()
    if (st.state !== DfuState.dfuMANIFEST && st.state !== DfuState.dfuMANIFEST_WAIT_RESET && st.state !== DfuState.dfuDNLOAD_IDLE) {
      throw errors.dfu('leave', {kind: 'state', state: st.state, status: st.status})
    }
  }

  /** Claim the DFU interface and select an alt setting; reads its memory layout from the alt's name. */
  async open(alt: number): Promise<Segment[]> {
    try {
      if (!this.claimed) {
        await this.device.claimInterface(this.interfaceNumber)
        this.claimed = true
      }
      await this.device.selectAlternateInterface(this.interfaceNumber, alt)
    } catch (error) {
      throw mapUsbError(error, 'selecting the DFU alt setting', this.io.deviceId)
    }
    this.alt = alt
    const name = this.device.configuration?.interfaces
      .find((i) => i.interfaceNumber === this.interfaceNumber)
      ?.alternates.find((a) => a.alternateSetting === alt)?.interfaceName
    if (!name) throw errors.dfu('open', {alt, kind: 'no-layout'})
    try {
      this.segments = parseLayout(name)
    } catch (error) {
      throw errors.protocol(`the layout of DFU alt setting ${alt}`, error)
    }
    return this.segments
  }

  /** Read `length` bytes at `address` of the open alt setting (§4.6). */
  async read(address: number, length: number): Promise<Uint8Array> {
    const seg = this.requireSegment(address, length)
    if (!seg.readable) throw errors.dfuNotPermitted(`reading 0x${address.toString(16)}`, this.alt)
    await this.ensureIdle()
    await this.setAddress(address)
    await this.abortToIdle()
    this.idleKnown = false
    const data = await this.io.in(this.classSetup(Dfu.UPLOAD, 2), length, 'DFU upload')
    if (data === STALL) throw errors.dfu('upload', {kind: 'stalled'})
    if (data.length !== length) {
      const st = await this.getStatus().catch(() => undefined)
      if (st?.status === DfuStatus.errVENDOR) throw errors.dfuNotPermitted(`reading 0x${address.toString(16)}`, this.alt)
      throw errors.dfu('upload', {asked: length, got: data.length, kind: 'short'})
    }
    await this.abortToIdle()
    return data
  }

  /** Write `data` at `address` of the open alt setting without erasing (§4.5 steps 6-13). */
  async write(address: number, data: Uint8Array): Promise<void> {
    const seg = this.requireSegment(address, data.length)
    if (!seg.writable) throw errors.dfuNotPermitted(`writing 0x${address.toString(16)}`, this.alt)
    if (data.length === 0 || data.length > DFU_TRANSFER_SIZE) throw new RangeError('write 1..4096 bytes')
    await this.ensureIdle()
    await this.setAddress(address)
    if ((await this.classOut(Dfu.DNLOAD, 2, data, 'DFU download')) === STALL) {
      await this.recover()
      throw errors.dfu('write', {kind: 'refused'})
    }
    await this.pollCommand('write')
    await this.abortToIdle()
  }

  private async abortToIdle(): Promise<void> {
    await this.abort()
    const st = await this.getStatus()
    if (st.state !== DfuState.dfuIDLE) throw errors.dfu('abort', {kind: 'state', state: st.state})
  }

  private classSetup(request: number, value: number): Setup {
    return {index: this.interfaceNumber, recipient: 'interface', request, requestType: 'class', value}
  }

  private async classOut(request: number, value: number, data: Uint8Array | undefined, what: string) {
    this.idleKnown = false
    return this.io.out(this.classSetup(request, value), data, what)
  }

  /** After a DNLOAD: the first GETSTATUS shows dfuDNBUSY, a later one the outcome (§4.4). */
  private async pollCommand(what: string): Promise<void> {
    const deadline = this.clock.now() + DFU_COMMAND_BUDGET_MS
    for (let i = 0; i < MAX_BUSY_POLLS; i++) {
      const st = await this.getStatus()
      if (st.state === DfuState.dfuDNBUSY) {
        const left = deadline - this.clock.now()
        if (left <= 0) break
        if (st.pollTimeout > 0) await this.clock.sleep(Math.min(st.pollTimeout, left))
        continue
      }
      if (st.state === DfuState.dfuDNLOAD_IDLE && st.status === DfuStatus.OK) return
      await this.recover()
      if (st.status === DfuStatus.errVENDOR) throw errors.dfuNotPermitted(what, this.alt)
      throw errors.dfu(what, {kind: 'state', state: st.state, status: st.status})
    }
    await this.recover()
    throw errors.dfu(what, {kind: 'busy'})
  }

  /** Leave the bootloader usable after a failure: CLRSTATUS out of dfuERROR, ABORT otherwise (no retries). */
  private async recover(): Promise<void> {
    try {
      await this.ensureIdle()
    } catch {
      // best effort: the error being reported matters more
    }
  }

  private requireSegment(address: number, length: number): Segment {
    const seg = segmentFor(this.segments, address, length)
    if (!seg) throw errors.dfu('addressing', {address, alt: this.alt, kind: 'outside', length})
    return seg
  }

  /** DfuSe SET_ADDRESS_POINTER command: DNLOAD block 0 with `21 <u32 LE>`, then DNBUSY, then DNLOAD_IDLE. */
  private async setAddress(address: number): Promise<void> {
    const cmd = Uint8Array.of(DfuseCommand.SET_ADDRESS, address & 0xff, (address >>> 8) & 0xff, (address >>> 16) & 0xff, (address >>> 24) & 0xff)
    if ((await this.classOut(Dfu.DNLOAD, 0, cmd, 'DFU set address')) === STALL) {
      await this.recover()
      throw errors.dfu('set address', {kind: 'refused'})
    }
    await this.pollCommand('set address')
  }
}

/** The memory layout (or the bootloader) forbids the operation: Device Protection, or a read-only segment (errors.ts). */
export {DfuNotPermitted} from '../errors.js'
