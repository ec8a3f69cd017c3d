/**
 * Host side of the Particle USB control-request protocol (docs/protocol.md §2): INIT, CHECK, SEND, RECV and
 * RESET as vendor control transfers to the device recipient, with CHECK polling on a back-off schedule, BUSY
 * retries, RESET(0) once after opening and RESET(id) for a request we give up on, and a per-request deadline.
 *
 * Written here rather than taken from particle-usb: particle-usb drives node-usb's legacy 2.x surface, while we
 * speak WebUSB (usb 3, browsers, our virtual device), and we need an injectable clock and exact control over
 * every transfer.
 */
import type {Clock} from '../clock.js'

import {errors, requestLabel, type SetupFlagError} from '../errors.js'
import {type Setup, STALL, type UsbIo} from '../usb/io.js'
import {ReplyFlag, Service, SERVICE_REPLY_LENGTH, Status} from './constants.js'

export interface ServiceReply {
  id?: number
  result?: number
  size?: number
  status: number
}

/** Parse the IN data of INIT/CHECK/RESET (§2.3). Throws on anything malformed. */
export function parseServiceReply(data: Uint8Array): ServiceReply {
  if (data.length < 6) throw new RangeError(`service reply of ${data.length} bytes`)
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const flags = view.getUint32(0, true)
  if ((flags & ReplyFlag.STATUS) === 0 || (flags & ~0x0f) !== 0) throw new RangeError(`service reply flags 0x${flags.toString(16)}`)
  const reply: ServiceReply = {status: view.getUint16(4, true)}
  let pos = 6
  const need = (n: number) => {
    if (pos + n > data.length) throw new RangeError('service reply too short for its flags')
  }
  if (flags & ReplyFlag.ID) {
    need(2)
    reply.id = view.getUint16(pos, true)
    pos += 2
  }
  if (flags & ReplyFlag.SIZE) {
    need(4)
    reply.size = view.getUint32(pos, true)
    pos += 4
  }
  if (flags & ReplyFlag.RESULT) {
    need(4)
    reply.result = view.getInt32(pos, true)
    pos += 4
  }
  return reply
}

/** CHECK back-off in ms (particle-usb's schedule); the last value repeats. */
export const CHECK_BACKOFF_MS = [50, 50, 100, 100, 250, 250, 500, 500, 1000] as const
/** Back-off between INIT attempts while the device answers BUSY. */
export const BUSY_BACKOFF_MS = [50, 100, 250, 500, 1000] as const
/** Largest SEND/RECV chunk. */
export const MAX_CHUNK = 4096
/** Largest payload either way (§2.5); a reply announcing more is corrupt. */
export const MAX_PAYLOAD = 0xffff
/** Default per-request deadline. */
export const REQUEST_TIMEOUT_MS = 60_000

export interface ControlReply {
  data: Uint8Array
  result: number
}

export interface RequestOptions {
  /** Per-request deadline in ms (default 60 s). */
  timeoutMs?: number
}

/** A request left pending at its deadline: the device's system thread is not serving requests (errors.ts). */
export {RequestPendingTimeout} from '../errors.js'

const setup = (request: number, value: number, index: number): Setup => ({
  index,
  recipient: 'device',
  request,
  requestType: 'vendor',
  value,
})

/** One request on its way: its type and name for messages, and its deadline. */
interface Exchange {
  deadline: number
  type: number
  what: string
}

export class ControlChannel {
  constructor(
    private readonly io: UsbIo,
    private readonly clock: Clock,
  ) {}

  /** RESET(0): cancel whatever an earlier host left active (§2.5). Sent once after opening. */
  async resetAll(): Promise<void> {
    await this.reset(0)
  }

  /** Send request `type` with `payload`; resolve with the device's result code and reply payload. */
  async request(type: number, payload: Uint8Array = new Uint8Array(0), opts: RequestOptions = {}): Promise<ControlReply> {
    if (payload.length > 0xffff) throw new RangeError('payload larger than 65535 bytes')
    const x: Exchange = {deadline: this.clock.now() + (opts.timeoutMs ?? REQUEST_TIMEOUT_MS), type, what: requestLabel(type)}
    const init = await this.init(x, payload.length)
    let id: number | undefined = init.id
    try {
      if (payload.length > 0) await this.send(x, id, payload, init.status === Status.PENDING)
      const done = await this.checkUntilDone(x, id)
      const data = await this.receive(x, id, done.size ?? 0)
      id = undefined // completed: nothing to cancel
      return {data, result: done.result!}
    } finally {
      // Give up cleanly: a request we abandon would hold one of the device's 4 slots until it resets (§2.5).
      if (id !== undefined) await this.reset(id).catch(() => {})
    }
  }

  /** INIT, retried while the device is BUSY (4 requests active) or out of buffers. */
  private async init(x: Exchange, size: number): Promise<{id: number; status: number}> {
    for (let attempt = 0; ; attempt++) {
      const init = await this.service(Service.INIT, size, x.type, x.what)
      if (init.status === Status.BUSY || init.status === Status.NO_MEMORY) {
        await this.pause(BUSY_BACKOFF_MS, attempt, x, undefined)
        continue
      }
      if (init.status !== Status.OK && init.status !== Status.PENDING) throw errors.protocol(x.what, new Error(`INIT status ${init.status}`))
      if (init.id === undefined) throw errors.protocol(x.what, new Error('INIT reply without an id'))
      return {id: init.id, status: init.status}
    }
  }

  /** SEND the payload; over 64 bytes the device allocates its buffer asynchronously (`pending`): wait for it first. */
  private async send(x: Exchange, id: number, payload: Uint8Array, pending: boolean): Promise<void> {
    for (let attempt = 0; pending; attempt++) {
      await this.pause(CHECK_BACKOFF_MS, attempt, x, id)
      const check = await this.service(Service.CHECK, 0, id, x.what)
      if (check.status === Status.OK) break
      if (check.status !== Status.PENDING) throw this.statusError(check.status, x.what)
    }
    for (let off = 0; off < payload.length; off += MAX_CHUNK) {
      const r = await this.io.out(setup(Service.SEND, 0, id), payload.subarray(off, off + MAX_CHUNK), x.what)
      if (r === STALL) throw errors.stall(x.what)
    }
  }

  /** CHECK until done. The first CHECK goes out at once: a device with an idle system thread is usually done. */
  private async checkUntilDone(x: Exchange, id: number): Promise<ServiceReply> {
    for (let attempt = -1; ; attempt++) {
      if (attempt >= 0) await this.pause(CHECK_BACKOFF_MS, attempt, x, id)
      const check = await this.service(Service.CHECK, 0, id, x.what)
      if (check.status === Status.PENDING) continue
      if (check.status !== Status.OK) throw this.statusError(check.status, x.what)
      if (check.result !== undefined) return check // else a buffer-ready answer; cannot happen after SEND, keep polling
    }
  }

  /** RECV the reply payload in chunks. */
  private async receive(x: Exchange, id: number, size: number): Promise<Uint8Array> {
    // A corrupted size (the field is 32-bit) must not make us allocate gigabytes and RECV for ever.
    if (size > MAX_PAYLOAD) throw errors.protocol(x.what, new Error(`reply payload of ${size} bytes (at most ${MAX_PAYLOAD})`))
    const data = new Uint8Array(size)
    for (let off = 0; off < size; ) {
      if (this.clock.now() > x.deadline) throw errors.timeout(x.what)
      const n = Math.min(MAX_CHUNK, size - off)
      const chunk = await this.io.in(setup(Service.RECV, 0, id), n, x.what)
      if (chunk === STALL) throw errors.stall(x.what)
      // The firmware answers a RECV with exactly the bytes asked for (§2.2); anything else is a corrupt reply.
      if (chunk.length !== n) throw errors.protocol(x.what, new Error(`RECV returned ${chunk.length} of ${n} bytes`))
      data.set(chunk, off)
      off += chunk.length
    }
    return data
  }

  private async pause(schedule: readonly number[], attempt: number, x: Exchange, id: number | undefined): Promise<void> {
    const ms = schedule[Math.min(attempt, schedule.length - 1)]
    const left = x.deadline - this.clock.now()
    if (left <= 0) throw id === undefined ? errors.timeout(x.what) : errors.requestPending(x.type)
    await this.clock.sleep(Math.min(ms, left))
  }

  private async reset(id: number): Promise<void> {
    await this.service(Service.RESET, 0, id, id === 0 ? 'the reset of pending requests' : 'the cancel request')
  }

  /** One INIT, CHECK or RESET exchange; they all reply with a service reply. */
  private async service(request: number, value: number, index: number, what: string): Promise<ServiceReply> {
    const data = await this.io.in(setup(request, value, index), SERVICE_REPLY_LENGTH, what)
    if (data === STALL) throw errors.stall(what)
    try {
      return parseServiceReply(data)
    } catch (error) {
      throw errors.protocol(what, error)
    }
  }

  private statusError(status: number, what: string): SetupFlagError {
    if (status === Status.NOT_FOUND) return errors.protocol(what, new Error('the device forgot the request (NOT_FOUND)'))
    if (status === Status.NO_MEMORY) return errors.protocol(what, new Error('the device ran out of memory (NO_MEMORY)'))
    return errors.protocol(what, new Error(`status ${status}`))
  }
}
