/**
 * The device side of Particle's control-request protocol (docs/protocol.md §2.2–§2.6): INIT / CHECK / SEND /
 * RECV / RESET service requests, request ids, the 4-slot limit, pool vs asynchronously allocated buffers,
 * execution on the (possibly blocked) system thread, completion and cancellation.
 *
 * One engine lives for one boot of the system firmware: ids restart at 1 after every reset (§2.5).
 */
import type {Clock} from '../clock.js'
import {ReplyFlag, SERVICE_REPLY_LENGTH, Service, Status} from '../protocol/constants.js'
import {u16le, u32le} from './util.js'

/** What a request handler produced (requests.ts). */
export interface Outcome {
  /** Called once the host has collected the result (§2.5 "completion"); e.g. the delayed reset of 40/50/60. */
  onComplete?: () => void
  reply?: Uint8Array
  /** A `system_error_t` value (§2.12). */
  result: number
}

export interface ControlEngineHost {
  readonly clock: Clock
  /** §2.5: more than 64 bytes are allocated asynchronously, and a request may be processed later than queued. */
  readonly processingMs: number
  /** A 1-byte SEND for a request without payload is the padded data stage of a Realtek host, not an error. */
  readonly acceptsPaddingSend: boolean
  /** The system thread cannot run control requests now (a fault). */
  blocked(): boolean
  /** Called for every INIT that gets past the BUSY checks (the ISR aborts connection attempts for some types, §2.5). */
  initReceived(type: number): void
  /** nRF52840: INIT/CHECK/RESET with wLength > 64 get no HAL buffer and stall. */
  readonly smallServiceBuffer: boolean
  /** The busy fault: answer this INIT with BUSY. */
  forceBusy(): boolean
  execute(type: number, payload: Uint8Array): Outcome
}

/**
 * Where a request is in its life (§2.6). 'running' is kept apart from 'queued' so that a handler which frees the
 * system thread (and so kicks the queue, e.g. 70 or an abort) does not run its own request twice.
 */
type Phase =
  | 'allocating' // payload > 64: buffer being allocated (CHECK: PENDING)
  | 'done' // handler ran (CHECK: result)
  | 'payload' // buffer ready, waiting for SEND (CHECK: OK without result)
  | 'queued' // waiting for the system thread (CHECK: PENDING)
  | 'running' // its handler is running (CHECK: PENDING)

interface Request {
  buffer: Uint8Array
  /**
   * RESET(id), RESET(0) or a bus reset took it off the active list while it was queued or running: the firmware
   * only marks it done, so its handler still runs when the system thread frees, and its completion then fires
   * (docs/protocol.md "Cancelling does not stop a request").
   */
  cancelled?: boolean
  cancelTimer?: () => void
  id: number
  outcome?: Outcome
  paddingSeen: boolean
  phase: Phase
  received: number
  replySent: number
  /** Order of arrival: the system thread runs queued requests first come, first served. */
  seq: number
  type: number
}

const MAX_ACTIVE = 4
const POOL_BUFFER = 64

function statusReply(status: number): Uint8Array {
  return Uint8Array.of(...u32le(ReplyFlag.STATUS), ...u16le(status))
}

export class ControlEngine {
  /**
   * Active requests, newest first (usb_control_request_channel.cpp@v3.3.1:353-357 puts a new request at the head;
   * a lookup by id finds the newest with that id, since ids wrap and are not checked for reuse).
   */
  private readonly active: Request[] = []
  /** Cancelled requests whose handler has not run yet (they no longer hold a slot or an id). */
  private readonly orphans = new Set<Request>()
  private lastId = 0
  private seq = 0
  private disposed = false

  constructor(private readonly host: ControlEngineHost) {}

  get activeCount(): number {
    return this.active.length
  }

  private find(id: number): Request | undefined {
    return this.active.find((r) => r.id === id)
  }

  private remove(req: Request): void {
    const i = this.active.indexOf(req)
    if (i !== -1) this.active.splice(i, 1)
  }

  /** Vendor IN request with bRequest 0x01–0x05. Returns the data to send, or undefined to stall. */
  in(request: number, value: number, index: number, length: number): Uint8Array | undefined {
    switch (request) {
      case Service.INIT: {
        return this.serviceLengthOk(length) ? this.init(index, value) : undefined
      }
      case Service.CHECK: {
        return this.serviceLengthOk(length) ? this.check(index) : undefined
      }
      case Service.RECV: {
        return this.recv(index, length)
      }
      case Service.RESET: {
        return this.serviceLengthOk(length) ? this.reset(index) : undefined
      }
      default: {
        return undefined // SEND is OUT only
      }
    }
  }

  /**
   * INIT, CHECK and RESET need wLength >= 64 (usb_control_request_channel.cpp@v3.3.1:301). On nRF52840 the HAL
   * lends its 64-byte buffer only for wLength <= 64 and passes no buffer otherwise, which stalls them too
   * (hal/src/nRF52840/usb_hal_control.cpp@v3.3.1:255).
   */
  private serviceLengthOk(length: number): boolean {
    return length >= SERVICE_REPLY_LENGTH && !(this.host.smallServiceBuffer && length > POOL_BUFFER)
  }

  /** Vendor OUT request with bRequest 0x01–0x05 (only SEND is an OUT request). false = stall. */
  out(request: number, index: number, data: Uint8Array): boolean {
    return request === Service.SEND ? this.send(index, data) : false
  }

  /** The system thread became free: run whatever was waiting for it, cancelled requests included, in order. */
  kick(): void {
    const waiting = [...this.active, ...this.orphans].filter((r) => r.phase === 'queued' && !r.cancelTimer)
    for (const req of waiting.sort((a, b) => a.seq - b.seq)) this.schedule(req)
  }

  /** A USB bus reset cancels every active request (handlers see ABORTED), exactly as RESET(0) does. */
  abortAll(): void {
    for (const req of [...this.active]) this.cancel(req)
  }

  /** The firmware is going away (reboot): nothing of this boot may run any more. */
  dispose(): void {
    for (const req of [...this.active, ...this.orphans]) req.cancelTimer?.()
    this.active.length = 0
    this.orphans.clear()
    this.disposed = true
  }

  /**
   * Take a request off the active list (RESET, bus reset). As the firmware does (usb_control_request_channel.cpp,
   * finishActiveRequest): a request still allocating or waiting for its payload is dropped; one queued or running
   * is only marked done, so its handler runs later anyway and its completion fires; one already done has its
   * completion fire now (e.g. the reset of a 40 whose result nobody read). See docs/protocol.md.
   */
  private cancel(req: Request): void {
    this.remove(req)
    switch (req.phase) {
      case 'allocating':
      case 'payload': {
        req.cancelTimer?.()
        req.cancelTimer = undefined
        break
      }
      case 'queued':
      case 'running': {
        req.cancelled = true
        this.orphans.add(req)
        break
      }
      case 'done': {
        req.outcome?.onComplete?.()
        break
      }
    }
  }

  private init(type: number, size: number): Uint8Array {
    if (this.host.forceBusy() || this.active.length >= MAX_ACTIVE) return statusReply(Status.BUSY)
    const id = this.nextId()
    const req: Request = {buffer: new Uint8Array(size), id, paddingSeen: false, phase: 'payload', received: 0, replySent: 0, seq: this.seq++, type}
    this.active.unshift(req)
    this.host.initReceived(type)
    let status: number = Status.OK
    if (size === 0) {
      // No payload: queued for execution at INIT time (§2.5).
      this.queue(req)
    } else if (size > POOL_BUFFER) {
      // Larger than a pool buffer: allocated asynchronously, the host polls CHECK until OK (§2.5, §2.6).
      req.phase = 'allocating'
      req.cancelTimer = this.host.clock.setTimer(this.host.processingMs, () => {
        req.cancelTimer = undefined
        if (this.active.includes(req) && req.phase === 'allocating') req.phase = 'payload'
      })
      status = Status.PENDING
    }
    return Uint8Array.of(...u32le(ReplyFlag.STATUS | ReplyFlag.ID), ...u16le(status), ...u16le(id))
  }

  private check(id: number): Uint8Array {
    const req = this.find(id)
    if (!req) return statusReply(Status.NOT_FOUND)
    switch (req.phase) {
      case 'allocating':
      case 'queued':
      case 'running': {
        return statusReply(Status.PENDING)
      }
      case 'payload': {
        return statusReply(Status.OK) // buffer ready, waiting for SEND
      }
      case 'done': {
        const {reply, result} = req.outcome!
        if (reply && reply.length > 0) {
          // Released by the RECV that reads the last byte.
          return Uint8Array.of(
            ...u32le(ReplyFlag.STATUS | ReplyFlag.SIZE | ReplyFlag.RESULT),
            ...u16le(Status.OK),
            ...u32le(reply.length),
            ...u32le(result),
          )
        }
        // No reply payload: released once this reply has gone out, then the completion callback fires (§2.5).
        this.complete(req)
        return Uint8Array.of(...u32le(ReplyFlag.STATUS | ReplyFlag.RESULT), ...u16le(Status.OK), ...u32le(result))
      }
    }
  }

  private send(id: number, data: Uint8Array): boolean {
    const req = this.find(id)
    if (!req || data.length === 0) return false
    if (req.buffer.length === 0 && data.length === 1 && this.host.acceptsPaddingSend && !req.paddingSeen) {
      // Realtek hosts pad data-less OUT transfers with one byte (quirk, §1.1); accept it once and ignore it.
      req.paddingSeen = true
      return true
    }
    if (req.phase !== 'payload' || req.received + data.length > req.buffer.length) return false
    req.buffer.set(data, req.received)
    req.received += data.length
    if (req.received === req.buffer.length) this.queue(req) // queued once the last chunk arrives (§2.5)
    return true
  }

  private recv(id: number, length: number): Uint8Array | undefined {
    const req = this.find(id)
    if (!req || req.phase !== 'done' || length === 0) return undefined
    const reply = req.outcome!.reply ?? new Uint8Array(0)
    if (req.replySent + length > reply.length) return undefined
    const chunk = reply.slice(req.replySent, req.replySent + length)
    req.replySent += length
    if (req.replySent === reply.length) this.complete(req)
    return chunk
  }

  private reset(id: number): Uint8Array {
    if (id === 0) {
      this.abortAll() // RESET(0) cancels every request (handlers see CANCELLED)
      return statusReply(Status.OK)
    }
    const req = this.find(id)
    if (!req) return statusReply(Status.NOT_FOUND)
    this.cancel(req)
    return statusReply(Status.OK)
  }

  /**
   * Per-boot 16-bit counter, `++lastReqId_` (usb_control_request_channel.cpp@v3.3.1:323): the first id is 1, after
   * 0xFFFF comes 0, and an id still in use is handed out again (the newer request then shadows the older).
   */
  private nextId(): number {
    this.lastId = (this.lastId + 1) & 0xffff
    return this.lastId
  }

  private queue(req: Request): void {
    req.phase = 'queued'
    this.schedule(req)
  }

  private schedule(req: Request): void {
    if (this.host.blocked()) return // stays PENDING until kick()
    if (this.host.processingMs <= 0) {
      this.run(req)
      return
    }
    req.cancelTimer = this.host.clock.setTimer(this.host.processingMs, () => {
      req.cancelTimer = undefined
      if (this.disposed || (!this.active.includes(req) && !this.orphans.has(req))) return
      if (this.host.blocked()) return
      this.run(req)
    })
  }

  private run(req: Request): void {
    req.phase = 'running'
    req.outcome = this.host.execute(req.type, req.buffer.subarray(0, req.received))
    req.phase = 'done'
    if (req.cancelled) {
      // Nobody will collect the result: the firmware releases it at once and its completion fires.
      this.orphans.delete(req)
      req.outcome.onComplete?.()
    }
  }

  private complete(req: Request): void {
    this.remove(req)
    req.outcome?.onComplete?.()
  }
}
