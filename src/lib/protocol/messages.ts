/**
 * The handful of `particle.ctrl` protobuf messages the setup flag needs, encoded and decoded by hand.
 *
 * Why by hand: each message is one field, and loading protobufjs plus the generated definitions of
 * @particle/device-os-protobuf costs more start-up time than the whole command. Field numbers and types follow
 * the official definitions (control/config.proto); test/lib/protocol/messages.test.ts proves every byte against
 * that package.
 *
 * Decoding follows proto3 rules as nanopb on the device writes them: default values are omitted, so an empty
 * payload is `false` / NORMAL / "". Unknown fields are skipped; malformed input is a MessageError.
 */

export class MessageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MessageError'
  }
}

interface Field {
  bytes?: Uint8Array
  number: number
  varint?: bigint
  wireType: number
}

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n
  let shift = 0n
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new MessageError('truncated varint')
    const b = buf[pos++]
    result |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) return [result, pos]
    shift += 7n
  }
  throw new MessageError('varint longer than 10 bytes')
}

function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0
  while (pos < buf.length) {
    const [key, p] = readVarint(buf, pos)
    pos = p
    const number = Number(key >> 3n)
    const wireType = Number(key & 7n)
    if (number === 0) throw new MessageError('field number 0')
    switch (wireType) {
      case 0: {
        const [v, q] = readVarint(buf, pos)
        pos = q
        yield {number, varint: v, wireType}
        break
      }
      case 1: {
        if (pos + 8 > buf.length) throw new MessageError('truncated fixed64')
        pos += 8
        break
      }
      case 2: {
        const [len, q] = readVarint(buf, pos)
        if (len > BigInt(buf.length - q)) throw new MessageError('truncated length-delimited field')
        pos = q + Number(len)
        yield {bytes: buf.subarray(q, pos), number, wireType}
        break
      }
      case 5: {
        if (pos + 4 > buf.length) throw new MessageError('truncated fixed32')
        pos += 4
        break
      }
      default: {
        throw new MessageError(`unsupported wire type ${wireType}`)
      }
    }
  }
}

function field1(buf: Uint8Array, wireType: 0 | 2): Field | undefined {
  let found: Field | undefined
  for (const f of fields(buf)) {
    if (f.number !== 1) continue
    if (f.wireType !== wireType) throw new MessageError(`field 1 has wire type ${f.wireType}, expected ${wireType}`)
    found = f // proto3: the last occurrence wins
  }
  return found
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

function decodeString(buf: Uint8Array): string {
  const f = field1(buf, 2)
  if (!f) return ''
  try {
    return utf8.decode(f.bytes)
  } catch {
    throw new MessageError('field 1 is not valid UTF-8')
  }
}

function decodeBool(buf: Uint8Array): boolean {
  const f = field1(buf, 0)
  return f ? f.varint !== 0n : false
}

/** SetDeviceSetupDoneRequest { bool done = 1; } (request 73). protobufjs writes the field even when false. */
export function encodeSetDeviceSetupDoneRequest(done: boolean): Uint8Array {
  return Uint8Array.of(0x08, done ? 0x01 : 0x00)
}

/** Device side of request 73: an empty payload and `08 00` both mean false. */
export function decodeSetDeviceSetupDoneRequest(buf: Uint8Array): boolean {
  return decodeBool(buf)
}

/** IsDeviceSetupDoneReply { bool done = 1; } (request 74). */
export function decodeIsDeviceSetupDoneReply(buf: Uint8Array): boolean {
  return decodeBool(buf)
}

/** Device side: nanopb omits false, so "not done" is zero bytes. */
export function encodeIsDeviceSetupDoneReply(done: boolean): Uint8Array {
  return done ? Uint8Array.of(0x08, 0x01) : new Uint8Array(0)
}

/** GetSystemVersionReply { string version = 1; } (request 30). */
export function decodeGetSystemVersionReply(buf: Uint8Array): string {
  return decodeString(buf)
}

/** GetDeviceIdReply { string id = 1; } (request 20). */
export function decodeGetDeviceIdReply(buf: Uint8Array): string {
  return decodeString(buf)
}

/** GetSerialNumberReply { string serial = 1; } (request 21). */
export function decodeGetSerialNumberReply(buf: Uint8Array): string {
  return decodeString(buf)
}

export function encodeStringField1(s: string): Uint8Array {
  const body = new TextEncoder().encode(s)
  if (body.length === 0) return new Uint8Array(0)
  if (body.length > 127) throw new MessageError('string too long for this encoder')
  return Uint8Array.of(0x0a, body.length, ...body)
}

export const DeviceMode = {NORMAL: 0, LISTENING: 1} as const

/** GetDeviceModeReply { DeviceMode mode = 1; } (request 72): 0 NORMAL_MODE, 1 LISTENING_MODE. */
export function decodeGetDeviceModeReply(buf: Uint8Array): number {
  const f = field1(buf, 0)
  if (!f) return DeviceMode.NORMAL
  if (f.varint! > 0x7fffffffn) throw new MessageError('device mode out of range')
  return Number(f.varint)
}

export function encodeGetDeviceModeReply(mode: number): Uint8Array {
  return mode === 0 ? new Uint8Array(0) : Uint8Array.of(0x08, mode)
}
