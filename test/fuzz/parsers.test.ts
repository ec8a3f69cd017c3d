// Property tests (fast-check) for every parser of device replies: random and corrupted input yields a value or the
// parser's documented error (RangeError for service replies, DFU status blocks and layouts; MessageError for
// protobuf payloads; undefined for a short module header), never another exception; well-formed input round-trips.
// Sections (§) are those of docs/protocol.md.
import {expect} from 'chai'
import fc from 'fast-check'

import {isSystemPartHeader, parseModuleHeader} from '../../src/lib/particle/module-header.js'
import {parseServiceReply} from '../../src/lib/protocol/control-request.js'
import {parseDfuStatus, parseLayout} from '../../src/lib/protocol/dfuse.js'
import {
  decodeGetDeviceIdReply,
  decodeGetDeviceModeReply,
  decodeGetSerialNumberReply,
  decodeGetSystemVersionReply,
  decodeIsDeviceSetupDoneReply,
  decodeSetDeviceSetupDoneRequest,
  encodeGetDeviceModeReply,
  encodeIsDeviceSetupDoneReply,
  encodeSetDeviceSetupDoneRequest,
  encodeStringField1,
  MessageError,
} from '../../src/lib/protocol/messages.js'
import {serviceReplyBytes} from '../support/wire.js'

const RUNS = {numRuns: 500}

/** Only `allowed` may be thrown; anything else fails the property with the input shown. */
function onlyThrows<T>(fn: () => T, ...allowed: Array<new (...a: never[]) => Error>): T | undefined {
  try {
    return fn()
  } catch (error) {
    if (allowed.some((E) => error instanceof E) && error instanceof Error && error.constructor === allowed.find((E) => error instanceof E)) return undefined
    throw new Error(`unexpected ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`)
  }
}

/** A byte array with some of its bytes changed, truncated or extended: "corrupted" rather than random. */
function corrupt(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({max: 255, min: 0})), {maxLength: 4}), fc.integer({max: 4, min: -6}), fc.uint8Array({maxLength: 4}))
    .map(([bytes, flips, cut, extra]) => {
      const out = Uint8Array.from(bytes)
      for (const [i, v] of flips) if (out.length > 0) out[i % out.length] = v
      return cut < 0 ? out.subarray(0, Math.max(0, out.length + cut)) : Uint8Array.of(...out, ...extra.subarray(0, cut))
    })
}


/** Service replies as the firmware builds them (§2.3): flags, status, then id, size, result in that order. */
const serviceReply = fc
  .record({
    id: fc.option(fc.integer({max: 0xffff, min: 0}), {nil: undefined}),
    result: fc.option(fc.integer({max: 0x7fffffff, min: -0x80000000}), {nil: undefined}),
    size: fc.option(fc.integer({max: 0xffffffff, min: 0}), {nil: undefined}),
    status: fc.integer({max: 0xffff, min: 0}),
  })
  .map((r) => {
    const bytes = serviceReplyBytes(r)
    return {bytes: Uint8Array.from(bytes), reply: r}
  })

describe('fuzz: parsers of device replies', () => {
  describe('parseServiceReply (§2.3)', () => {
    it('round-trips every well-formed reply', () => {
      fc.assert(
        fc.property(serviceReply, ({bytes, reply}) => {
          const parsed = parseServiceReply(bytes)
          const want = Object.fromEntries(Object.entries(reply).filter(([, v]) => v !== undefined))
          expect(parsed).to.deep.equal(want)
        }),
        RUNS,
      )
    })

    it('random or corrupted bytes: a reply or a RangeError, nothing else', () => {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({maxLength: 80}), corrupt(serviceReply.map((r) => r.bytes))), (bytes) => {
          const parsed = onlyThrows(() => parseServiceReply(bytes), RangeError)
          if (parsed === undefined) return
          expect(bytes.length).to.be.at.least(6)
          expect(parsed.status).to.be.within(0, 0xffff)
          if (parsed.size !== undefined) expect(parsed.size).to.be.within(0, 0xffffffff)
        }),
        RUNS,
      )
    })
  })

  describe('parseDfuStatus (§4.2)', () => {
    it('any 6 bytes parse into their fields; any other length is a RangeError', () => {
      fc.assert(
        fc.property(fc.uint8Array({maxLength: 12}), (bytes) => {
          const st = onlyThrows(() => parseDfuStatus(bytes), RangeError)
          if (bytes.length !== 6) {
            expect(st).to.equal(undefined)
            return
          }
          expect(st).to.deep.equal({pollTimeout: bytes[1] | (bytes[2] << 8) | (bytes[3] << 16), state: bytes[4], status: bytes[0], stringIndex: bytes[5]})
        }),
        RUNS,
      )
    })
  })

  describe('parseLayout (DfuSe alt-setting names, §4.1)', () => {
    const letters = fc.constantFrom(...'abcdefg')
    const group = fc.record({
      address: fc.integer({max: 0xffffffff, min: 0}),
      items: fc.array(fc.record({count: fc.integer({max: 64, min: 1}), size: fc.integer({max: 999, min: 1}), type: letters, unit: fc.constantFrom(' ', 'B', 'K', 'M')}), {
        maxLength: 4,
        minLength: 1,
      }),
    })
    const layout = fc.record({groups: fc.array(group, {maxLength: 3, minLength: 1}), name: fc.constantFrom('@DCT Flash   ', '@Internal Flash   ', '@X')}).map(({groups, name}) => ({
      groups,
      text:
        name +
        groups
          .map((g) => `/0x${g.address.toString(16).padStart(8, '0')}/${g.items.map((i) => `${i.count}*${String(i.size).padStart(3, '0')}${i.unit}${i.type}`).join(',')}`)
          .join(''),
    }))

    it('a well-formed layout gives one segment per page, contiguous, with the type letter decoded', () => {
      const unitSize = {' ': 1, B: 1, K: 1024, M: 1024 * 1024}
      /** Within DfuSe's 32-bit addresses and 65536 pages? (Beyond, the layout is refused: see below.) */
      const fits = (groups: Array<{address: number; items: Array<{count: number; size: number; unit: keyof typeof unitSize}>}>) =>
        groups.every((g) => g.address + g.items.reduce((n, i) => n + i.count * i.size * unitSize[i.unit], 0) <= 0x1_0000_0000)
      fc.assert(
        fc.property(layout, ({groups, text}) => {
          if (!fits(groups)) {
            expect(() => parseLayout(text), text).to.throw(RangeError, /32-bit address space/)
            return
          }
          const segments = parseLayout(text)
          expect(segments).to.have.length(groups.flatMap((g) => g.items).reduce((n, i) => n + i.count, 0))
          let k = 0
          for (const g of groups) {
            let addr = g.address
            for (const item of g.items) {
              const size = item.size * unitSize[item.unit]
              const bits = (item.type.charCodeAt(0) - 96) & 7
              for (let c = 0; c < item.count; c++, k++) {
                expect(segments[k]).to.deep.equal({end: addr + size, erasable: (bits & 2) !== 0, readable: (bits & 1) !== 0, start: addr, writable: (bits & 4) !== 0})
                addr += size
              }
            }
          }
        }),
        {numRuns: 200},
      )
    })

    it('random or corrupted names: segments or a RangeError, nothing else', () => {
      const mutated = fc.tuple(layout, fc.array(fc.tuple(fc.nat(), fc.constantFrom('/', '*', ',', 'x', '0', ' ', 'K', 'z', '', '\u0000', 'é')), {maxLength: 4})).map(([l, edits]) => {
        let s = l.text
        for (const [i, c] of edits) s = s.slice(0, i % (s.length + 1)) + c + s.slice((i % (s.length + 1)) + 1)
        return s
      })
      fc.assert(
        fc.property(fc.oneof(fc.string({maxLength: 60}), fc.string({maxLength: 30, unit: 'grapheme'}), mutated), (name) => {
          const segments = onlyThrows(() => parseLayout(name), RangeError)
          for (const s of segments ?? []) {
            expect(Number.isFinite(s.start) && Number.isFinite(s.end), name).to.equal(true)
            expect(s.end, name).to.be.at.least(s.start)
          }
        }),
        RUNS,
      )
    })
    it('a corrupted page count or size fails fast (no billions of pages, nothing past 32-bit addresses)', () => {
      const big = fc.oneof(fc.integer({max: 4096, min: 0}), fc.bigInt({max: 10n ** 24n, min: 0n}))
      fc.assert(
        fc.property(big, big, fc.constantFrom(' ', 'B', 'K', 'M'), fc.integer({max: 0xffffffff, min: 0}), (count, size, unit, address) => {
          const text = `@DCT Flash   /0x${address.toString(16)}/${count}*${size}${unit}e`
          const t0 = performance.now()
          const segments = onlyThrows(() => parseLayout(text), RangeError)
          expect(performance.now() - t0, text).to.be.below(250)
          if (!segments) return
          expect(segments.length, text).to.be.at.most(0x10000)
          for (const seg of segments) expect(seg.end, text).to.be.at.most(0x1_0000_0000)
        }),
        {numRuns: 300},
      )
    })
  })

  describe('parseModuleHeader (§6)', () => {
    it('never throws: undefined under 16 bytes, else the fields; isSystemPartHeader never throws either', () => {
      fc.assert(
        fc.property(fc.uint8Array({maxLength: 40}), fc.integer({max: 0xffff, min: 0}), fc.constantFrom(0x30200, 0x28200), (bytes, platformId, at) => {
          const h = parseModuleHeader(bytes)
          if (bytes.length < 16) expect(h).to.equal(undefined)
          else expect(h!.version).to.equal(bytes[10] | (bytes[11] << 8))
          const ok = isSystemPartHeader(h, platformId, at)
          if (ok) expect(h!.function).to.equal(4)
        }),
        RUNS,
      )
    })
  })

  describe('protobuf payloads (messages.ts)', () => {
    const decoders: Array<[string, (b: Uint8Array) => unknown]> = [
      ['IsDeviceSetupDoneReply', decodeIsDeviceSetupDoneReply],
      ['SetDeviceSetupDoneRequest', decodeSetDeviceSetupDoneRequest],
      ['GetSystemVersionReply', decodeGetSystemVersionReply],
      ['GetDeviceIdReply', decodeGetDeviceIdReply],
      ['GetSerialNumberReply', decodeGetSerialNumberReply],
      ['GetDeviceModeReply', decodeGetDeviceModeReply],
    ]
    /** Plausible protobuf: a few fields of every wire type, some with lying lengths. */
    const field = fc.oneof(
      fc.tuple(fc.integer({max: 20, min: 0}), fc.bigInt({max: (1n << 64n) - 1n, min: 0n})).map(([n, v]) => {
        const out = [...varint(BigInt(n) << 3n)]
        return [...out, ...varint(v)]
      }),
      fc.tuple(fc.integer({max: 20, min: 1}), fc.uint8Array({maxLength: 10}), fc.integer({max: 3, min: -3})).map(([n, body, lie]) => [
        ...varint((BigInt(n) << 3n) | 2n),
        ...varint(BigInt(Math.max(0, body.length + lie))),
        ...body,
      ]),
      fc.tuple(fc.integer({max: 20, min: 1}), fc.constantFrom(1, 3, 4, 5, 6, 7), fc.uint8Array({maxLength: 9})).map(([n, wt, rest]) => [...varint((BigInt(n) << 3n) | BigInt(wt)), ...rest]),
    )
    const payload = fc.oneof(fc.uint8Array({maxLength: 40}), fc.array(field, {maxLength: 4}).map((fs) => Uint8Array.from(fs.flat())))

    for (const [name, decode] of decoders) {
      it(`${name}: random and malformed payloads decode or throw MessageError, nothing else`, () => {
        fc.assert(
          fc.property(payload, (bytes) => {
            onlyThrows(() => decode(bytes), MessageError)
          }),
          RUNS,
        )
      })
    }

    it('what we encode, we decode (and what the device encodes)', () => {
      fc.assert(
        fc.property(fc.boolean(), fc.integer({max: 127, min: 0}), fc.string({maxLength: 40}), (done, mode, text) => {
          expect(decodeSetDeviceSetupDoneRequest(encodeSetDeviceSetupDoneRequest(done))).to.equal(done)
          expect(decodeIsDeviceSetupDoneReply(encodeIsDeviceSetupDoneReply(done))).to.equal(done)
          expect(decodeGetDeviceModeReply(encodeGetDeviceModeReply(mode))).to.equal(mode)
          if (new TextEncoder().encode(text).length <= 127) expect(decodeGetSystemVersionReply(encodeStringField1(text))).to.equal(text)
        }),
        RUNS,
      )
    })
  })
})

function* varint(v: bigint): Generator<number> {
  do {
    const b = Number(v & 0x7fn)
    v >>= 7n
    yield v > 0n ? b | 0x80 : b
  } while (v > 0n)
}
