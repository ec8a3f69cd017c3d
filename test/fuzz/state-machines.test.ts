// Property tests (fast-check) for the two host state machines, ControlChannel (docs/protocol.md §2) and DfuseClient
// (§4), driven by a USBDevice double that answers every transfer from a random script: plausible replies with random
// fields, corrupted ones, random bytes, stalls, babble, rejections (device gone, permission, timeout, nonsense).
// Whatever it says, a request ends with a result or one of our typed errors (SetupFlagError), never another
// exception, and never hangs: each run is bounded in real time (the FakeClock jumps over waits) and in fake time.
import {expect} from 'chai'
import fc from 'fast-check'

import {FakeClock} from '../../src/lib/clock.js'
import {isSetupFlagError} from '../../src/lib/errors.js'
import {ControlChannel} from '../../src/lib/protocol/control-request.js'
import {DFU_COMMAND_BUDGET_MS, DfuseClient} from '../../src/lib/protocol/dfuse.js'
import {UsbIo} from '../../src/lib/usb/io.js'
import {serviceReplyBytes} from '../support/wire.js'

type Answer =
  | {bytes: Uint8Array; kind: 'bytes'}
  | {kind: 'babble'}
  | {kind: 'reject'; message: string; name: string}
  | {kind: 'stall'}

/** A WebUSB device whose every transfer is answered by the next entry of `script` (cycling). */
class RandomDevice {
  calls = 0
  opened = true
  readonly serialNumber = 'e00fce681a2b3c4d5e6f7a8b'

  constructor(
    private readonly script: Answer[],
    private readonly altNames: readonly string[] = [],
    private readonly failClaim = false,
  ) {}

  get configuration(): USBConfiguration {
    return {
      configurationName: null,
      configurationValue: 1,
      interfaces: [
        {
          alternate: null,
          alternates: this.altNames.map((interfaceName, alternateSetting) => ({alternateSetting, endpoints: [], interfaceClass: 0xfe, interfaceName, interfaceProtocol: 2, interfaceSubclass: 1})),
          claimed: true,
          interfaceNumber: 0,
        },
      ],
    } as unknown as USBConfiguration
  }

  async claimInterface(): Promise<void> {
    if (this.failClaim) throw Object.assign(new Error('LIBUSB_ERROR_BUSY'), {name: 'NetworkError'})
  }

  async close(): Promise<void> {}

  async controlTransferIn(_setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
    const a = this.next()
    if (a.kind === 'stall') return {status: 'stall'}
    if (a.kind === 'babble') return {status: 'babble'}
    if (a.kind !== 'bytes') throw new Error('unreachable')
    const data = a.bytes.slice(0, Math.max(length, 0))
    return {data: new DataView(data.buffer, data.byteOffset, data.byteLength), status: 'ok'}
  }

  async controlTransferOut(_setup: USBControlTransferParameters, data?: BufferSource): Promise<USBOutTransferResult> {
    const a = this.next()
    if (a.kind === 'stall') return {bytesWritten: 0, status: 'stall'}
    if (a.kind === 'babble') return {bytesWritten: 0, status: 'babble'}
    return {bytesWritten: (data as ArrayBufferView | undefined)?.byteLength ?? 0, status: 'ok'}
  }

  async releaseInterface(): Promise<void> {}

  async selectAlternateInterface(): Promise<void> {
    const a = this.next()
    if (a.kind === 'reject') throw Object.assign(new Error(a.message), {name: a.name})
  }

  private next(): Answer {
    const a = this.script[this.calls++ % this.script.length]
    if (a.kind === 'reject') throw Object.assign(new Error(a.message), {name: a.name})
    return a
  }
}


const rejection = fc.record({
  kind: fc.constant('reject' as const),
  message: fc.constantFrom('LIBUSB_ERROR_NO_DEVICE', 'LIBUSB_TRANSFER_TIMED_OUT', 'Permission denied (os error 13)', 'LIBUSB_ERROR_PIPE', '', 'something else'),
  name: fc.constantFrom('NotFoundError', 'NetworkError', 'TimeoutError', 'SecurityError', 'Error', 'TypeError'),
})
const other: fc.Arbitrary<Answer> = fc.oneof(
  {arbitrary: fc.uint8Array({maxLength: 80}).map((bytes) => ({bytes, kind: 'bytes' as const})), weight: 3},
  {arbitrary: fc.constant({kind: 'stall' as const}), weight: 1},
  {arbitrary: fc.constant({kind: 'babble' as const}), weight: 1},
  {arbitrary: rejection, weight: 1},
)

/** Service replies (§2.3) with plausible statuses and random fields, sometimes truncated. */
const serviceReply: fc.Arbitrary<Answer> = fc
  .record({
    cut: fc.option(fc.integer({max: 13, min: 0}), {freq: 8, nil: undefined}),
    id: fc.option(fc.constantFrom(0, 1, 2, 0xffff), {nil: undefined}),
    result: fc.option(fc.constantFrom(0, -120, -1801, -130, -280, 1, -2147483648), {nil: undefined}),
    size: fc.option(fc.oneof(fc.constantFrom(0, 1, 2, 64, 65, 4096, 4097, 65535, 65536), fc.integer({max: 0xffffffff, min: 0})), {nil: undefined}),
    status: fc.oneof({arbitrary: fc.integer({max: 5, min: 0}), weight: 5}, {arbitrary: fc.integer({max: 0xffff, min: 0}), weight: 1}),
  })
  .map((r) => {
    const bytes = serviceReplyBytes(r)
    return {bytes: Uint8Array.from(r.cut === undefined ? bytes : bytes.slice(0, r.cut)), kind: 'bytes' as const}
  })

/** DFU GETSTATUS blocks (§4.3): plausible statuses and states, poll timeouts from 0 to the 24-bit maximum. */
const dfuStatus: fc.Arbitrary<Answer> = fc
  .record({
    poll: fc.oneof({arbitrary: fc.constant(0), weight: 4}, {arbitrary: fc.integer({max: 0xffffff, min: 0}), weight: 1}),
    state: fc.oneof({arbitrary: fc.constantFrom(2, 4, 5, 7, 9, 10), weight: 4}, {arbitrary: fc.integer({max: 255, min: 0}), weight: 1}),
    status: fc.oneof({arbitrary: fc.constant(0), weight: 4}, {arbitrary: fc.integer({max: 15, min: 0}), weight: 1}),
    str: fc.constantFrom(0, 10),
  })
  .map((s) => ({bytes: Uint8Array.of(s.status, s.poll & 0xff, (s.poll >> 8) & 0xff, (s.poll >> 16) & 0xff, s.state, s.str), kind: 'bytes' as const}))

const DCT = '@DCT Flash   /0x00000000/1*016Ke'
const INTERNAL = '@Internal Flash   /0x00000000/1*004Ka,47*004Kg,192*004Kg,4*004Kg,4*004Kg,8*004Ka'
const altNames = fc.oneof(
  {arbitrary: fc.constant([INTERNAL, DCT, '@External Flash   /0x80000000/1024*004Kg']), weight: 6},
  {arbitrary: fc.constant([INTERNAL.replaceAll(/[ag]$|[ag],/g, (m) => m.replace(/[ag]/, 'b')), DCT.replace('Ke', 'Kb')]), weight: 2},
  {arbitrary: fc.array(fc.string({maxLength: 40}), {maxLength: 3}), weight: 1},
  {arbitrary: fc.constant([INTERNAL, '@DCT Flash   /0x00000000/99999999999*016Ke']), weight: 1},
)

/** Run `fn`, bounded in real time; return the error it ended with (undefined on success). */
async function bounded(fn: () => Promise<unknown>, clock: FakeClock, maxFakeMs: number): Promise<unknown> {
  const start = clock.now()
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('HANG: no answer within 5 s of real time')), 5000)
  })
  try {
    await Promise.race([fn(), hang])
    return undefined
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('HANG')) throw error
    return error
  } finally {
    clearTimeout(timer)
    expect(clock.now() - start, 'fake time spent').to.be.at.most(maxFakeMs)
  }
}

function typedOnly(error: unknown, what: string): void {
  if (error === undefined) return
  if (!isSetupFlagError(error)) {
    throw new Error(`${what}: ${(error as Error)?.constructor?.name} escaped: ${(error as Error)?.message}\n${(error as Error)?.stack}`)
  }
  expect(error.code, what).to.match(/^SETUP_FLAG_[A-Z_]+$/)
  expect([5, 6, 8, 9], `${what}: exit of ${error.code}`).to.include(error.exit) // 8: a DFU write the bootloader refused
}

describe('fuzz: host state machines against a device that answers anything', () => {
  it('ControlChannel.request: a result or a SetupFlagError, within its deadline', async () => {
    const script = fc.array(fc.oneof({arbitrary: serviceReply, weight: 4}, {arbitrary: other, weight: 1}), {maxLength: 12, minLength: 1})
    await fc.assert(
      fc.asyncProperty(script, fc.constantFrom(0, 2, 65, 300), fc.constantFrom(72, 73, 74), async (answers, payloadLength, type) => {
        const clock = new FakeClock()
        const device = new RandomDevice(answers)
        const channel = new ControlChannel(new UsbIo(device as unknown as USBDevice, device.serialNumber), clock)
        let reply: {data: Uint8Array; result: number} | undefined
        const error = await bounded(
          async () => {
            reply = await channel.request(type, new Uint8Array(payloadLength), {timeoutMs: 10_000})
          },
          clock,
          11_000,
        )
        typedOnly(error, JSON.stringify(answers.map((a) => (a.kind === 'bytes' ? [...a.bytes] : a.kind))))
        if (reply) {
          expect(reply.data.length).to.be.at.most(0xffff) // §2.5: 65535 bytes at most each way
          expect(Number.isInteger(reply.result)).to.equal(true)
        }
        expect(device.calls, 'transfers for one request').to.be.below(2000)
      }),
      {numRuns: 300},
    )
  })

  it('ControlChannel.resetAll: done or a SetupFlagError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(serviceReply, other), {maxLength: 3, minLength: 1}), async (answers) => {
        const clock = new FakeClock()
        const device = new RandomDevice(answers)
        const channel = new ControlChannel(new UsbIo(device as unknown as USBDevice, device.serialNumber), clock)
        typedOnly(await bounded(() => channel.resetAll(), clock, 0), 'RESET(0)')
      }),
      {numRuns: 100},
    )
  })

  it('DfuseClient: open, read, write, read back, leave, each ends with a value or a SetupFlagError, in bounded time', async () => {
    const script = fc.array(fc.oneof({arbitrary: dfuStatus, weight: 5}, {arbitrary: other, weight: 2}), {maxLength: 16, minLength: 1})
    await fc.assert(
      fc.asyncProperty(script, altNames, fc.boolean(), async (answers, names, failClaim) => {
        const clock = new FakeClock()
        const device = new RandomDevice(answers, names, failClaim)
        const dfu = new DfuseClient(device as unknown as USBDevice, new UsbIo(device as unknown as USBDevice, device.serialNumber), clock)
        const what = `alts ${JSON.stringify(names)}, script ${JSON.stringify(answers.map((a) => (a.kind === 'bytes' ? [...a.bytes] : a.kind)))}`
        const steps: Array<() => Promise<unknown>> = [
          () => dfu.open(0),
          () => dfu.read(0x30200, 24),
          () => dfu.open(1),
          () => dfu.read(8134, 1),
          () => dfu.write(8134, Uint8Array.of(1)),
          () => dfu.read(8134, 1),
          () => dfu.leave(8134),
          () => dfu.close(),
        ]
        for (const step of steps) {
          // A step runs at most two DfuSe commands (SET_ADDRESS, then the data), each bounded by its budget.
          typedOnly(await bounded(step, clock, 2 * DFU_COMMAND_BUDGET_MS + 1000), what)
        }
      }),
      {numRuns: 300},
    )
  })
})
