/**
 * Raw WebUSB helpers for the virtual-device tests: setups spelled as on the wire, results as hex, no host
 * library in between (the tests check the device, not our client).
 */
import {FakeClock} from '../../../src/lib/clock.js'
import {isStall} from '../../../src/lib/usb/errors.js'
import {createVirtualUsb, type VirtualDeviceSpec, type VirtualTiming, type VirtualUsb} from '../../../src/lib/virtual/index.js'

export const ARGON_ID = 'e00fce681a2b3c4d5e6f7a8b'
export const BORON_ID = 'e00fce68aaaabbbbccccdddd'

export function spec(over: Partial<VirtualDeviceSpec> = {}): VirtualDeviceSpec {
  return {deviceOs: '3.3.1', id: ARGON_ID, mode: 'normal', platform: 'argon', setupDone: 0x01, ...over}
}

export function bus(specs: VirtualDeviceSpec[] | VirtualDeviceSpec, timing?: Partial<VirtualTiming>, clock = new FakeClock()) {
  const usb = createVirtualUsb({clock, devices: Array.isArray(specs) ? specs : [specs], timing})
  return {clock, usb}
}

export async function openFirst(usb: VirtualUsb): Promise<USBDevice> {
  const [dev] = await usb.getDevices()
  await dev.open()
  return dev
}

export const vendor = (request: number, value: number, index: number): USBControlTransferParameters => ({
  index,
  recipient: 'device',
  request,
  requestType: 'vendor',
  value,
})
export const dfuClass = (request: number, value = 0): USBControlTransferParameters => ({
  index: 0,
  recipient: 'interface',
  request,
  requestType: 'class',
  value,
})
export const getDescriptor = (type: number, index: number, langId = 0): USBControlTransferParameters => ({
  index: langId,
  recipient: 'device',
  request: 6,
  requestType: 'standard',
  value: (type << 8) | index,
})

export function toHex(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ')
}

export function fromHex(s: string): Uint8Array {
  return Uint8Array.from(s.split(/\s+/).filter(Boolean), (h) => Number.parseInt(h, 16))
}

/** IN transfer: the data as hex ('' for none), or 'stall'. */
export async function inHex(dev: USBDevice, setup: USBControlTransferParameters, length: number): Promise<string> {
  let r: USBInTransferResult
  try {
    r = await dev.controlTransferIn(setup, length)
  } catch (error) {
    // Like the `usb` package, the virtual bus rejects a stall ("controlTransferIn error: endpoint stalled").
    if (isStall(error)) return 'stall'
    throw error
  }
  if (r.status === 'stall') return 'stall'
  return toHex(new Uint8Array(r.data!.buffer))
}

/** OUT transfer: 'ok' or 'stall'. */
export async function out(dev: USBDevice, setup: USBControlTransferParameters, data?: string | Uint8Array): Promise<string> {
  const bytes = typeof data === 'string' ? fromHex(data) : (data ?? new Uint8Array(0))
  try {
    return (await dev.controlTransferOut(setup, bytes as BufferSource)).status
  } catch (error) {
    if (isStall(error)) return 'stall'
    throw error
  }
}

// ---- the control-request protocol (docs/protocol.md §2.2) ----

export const INIT = (type: number, size = 0) => vendor(0x01, size, type)
export const CHECK = (id: number) => vendor(0x02, 0, id)
export const SEND = (id: number) => vendor(0x03, 0, id)
export const RECV = (id: number) => vendor(0x04, 0, id)
export const RESET = (id: number) => vendor(0x05, 0, id)

export interface Reply {
  flags: number
  id?: number
  result?: number
  size?: number
  status: number
}

export function parseReply(hexText: string): Reply {
  const b = fromHex(hexText)
  const dv = new DataView(b.buffer)
  const flags = dv.getUint32(0, true)
  const reply: Reply = {flags, status: dv.getUint16(4, true)}
  let at = 6
  if (flags & 0x02) {
    reply.id = dv.getUint16(at, true)
    at += 2
  }
  if (flags & 0x04) {
    reply.size = dv.getUint32(at, true)
    at += 4
  }
  if (flags & 0x08) reply.result = dv.getInt32(at, true)
  return reply
}

/** A whole request as a host would do it: INIT, SEND, CHECK until done, RECV. */
export async function request(dev: USBDevice, type: number, payload: Uint8Array | string = new Uint8Array(0)) {
  const data = typeof payload === 'string' ? fromHex(payload) : payload
  const init = parseReply(await inHex(dev, INIT(type, data.length), 64))
  if (init.status !== 0 && init.status !== 2) return {init, result: undefined, reply: undefined}
  const id = init.id!
  let check = init
  if (data.length > 0) {
    while (check.status === 2) check = parseReply(await inHex(dev, CHECK(id), 64))
    for (let i = 0; i < data.length; i += 64) {
      const status = await out(dev, SEND(id), data.subarray(i, i + 64))
      if (status !== 'ok') throw new Error(`SEND stalled`)
    }
  }
  check = parseReply(await inHex(dev, CHECK(id), 64))
  for (let n = 0; check.status === 2 && n < 1000; n++) check = parseReply(await inHex(dev, CHECK(id), 64))
  let reply = ''
  if (check.size) reply = await inHex(dev, RECV(id), check.size)
  return {check, id, init, reply, result: check.result}
}

// ---- DFU (docs/protocol.md §4.2) ----

export const DNLOAD = (block: number) => dfuClass(1, block)
export const UPLOAD = (block: number) => dfuClass(2, block)
export const GETSTATUS = dfuClass(3)
export const CLRSTATUS = dfuClass(4)
export const GETSTATE = dfuClass(5)
export const ABORT = dfuClass(6)
export const DETACH = dfuClass(0)

export async function dfuStatus(dev: USBDevice): Promise<{iString: number; state: number; status: number}> {
  const h = await inHex(dev, GETSTATUS, 6)
  if (h === 'stall') throw new Error('GETSTATUS stalled')
  const b = fromHex(h)
  return {iString: b[5], state: b[4], status: b[0]}
}

/** Open a DFU-mode device the way dfu-util does before talking DFU: claim interface 0, select `alt`. */
export async function openDfu(usb: VirtualUsb, alt = 1): Promise<USBDevice> {
  const dev = await openFirst(usb)
  await dev.claimInterface(0)
  await dev.selectAlternateInterface(0, alt)
  return dev
}

export async function setAddress(dev: USBDevice, address: number): Promise<void> {
  const a = [address & 0xff, (address >>> 8) & 0xff, (address >>> 16) & 0xff, (address >>> 24) & 0xff]
  if ((await out(dev, DNLOAD(0), Uint8Array.of(0x21, ...a))) !== 'ok') throw new Error('SET_ADDRESS stalled')
  const busy = await dfuStatus(dev)
  if (busy.state !== 4) throw new Error(`expected dfuDNBUSY, got ${busy.state}`)
  const idle = await dfuStatus(dev)
  if (idle.state !== 5) throw new Error(`expected dfuDNLOAD_IDLE, got ${idle.state}`)
}

/** Read `length` bytes at `address` of the current alt (SET_ADDRESS, ABORT, UPLOAD block 2, ABORT). */
export async function dfuRead(dev: USBDevice, address: number, length: number): Promise<string> {
  await setAddress(dev, address)
  await out(dev, ABORT)
  const data = await inHex(dev, UPLOAD(2), length)
  await out(dev, ABORT)
  return data
}

export function nextEvent(usb: VirtualUsb, type: 'connect' | 'disconnect'): Promise<USBConnectionEvent> {
  return new Promise((resolve) => usb.addEventListener(type, (ev) => resolve(ev), {once: true}))
}

export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}
