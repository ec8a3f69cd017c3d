import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {bus, CHECK, inHex, INIT, openFirst, out, parseReply, RECV, request, RESET, SEND, spec, vendor} from './helpers.js'

/** The log as [setup, dataOut or dataIn] pairs, the way docs/protocol.md §2.10 tabulates exchanges. */
function exchanges(log: Array<{dataIn?: string; dataOut?: string; setup: string; status: string}>): string[][] {
  return log.map((r) => [r.setup, r.dataOut ?? r.dataIn ?? (r.status === 'stall' ? 'stall' : '')])
}

describe('virtual device: control-request protocol (docs/protocol.md §2.2–§2.6, §2.10)', () => {
  describe('the exact exchanges of §2.10', () => {
    it('set(true) on 3.3.1: INIT, SEND 08 01, CHECK PENDING while queued, CHECK result 0; DCT[8134] = 0x01', async () => {
      const clock = new FakeClock(0, false)
      const {usb} = bus(spec({setupDone: 0xff}), {processingMs: 20}, clock)
      const dev = await openFirst(usb)
      expect(await inHex(dev, INIT(73, 2), 64)).to.equal('03 00 00 00 00 00 01 00')
      expect(await out(dev, SEND(1), '08 01')).to.equal('ok')
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 02 00')
      await clock.advance(20)
      expect(await inHex(dev, CHECK(1), 64)).to.equal('09 00 00 00 00 00 00 00 00 00')
      expect(exchanges(usb.log)).to.deep.equal([
        ['C0 01 02 00 49 00 40 00', '03 00 00 00 00 00 01 00'],
        ['40 03 00 00 01 00 02 00', '08 01'],
        ['C0 02 00 00 01 00 40 00', '01 00 00 00 02 00'],
        ['C0 02 00 00 01 00 40 00', '09 00 00 00 00 00 00 00 00 00'],
      ])
      expect(usb.device(spec().id)!.setupDone).to.equal(0x01)
      expect(usb.device(spec().id)!.readDct(8134, 1)).to.deep.equal(Uint8Array.of(0x01))
    })

    it('set(false) on 3.3.1 writes 0xFF with result 0; on 4.x it answers -120 and writes nothing', async () => {
      const old = bus(spec({setupDone: 0x01}))
      const r3 = await request(await openFirst(old.usb), 73, '08 00')
      expect(r3.result).to.equal(0)
      expect(old.usb.device(spec().id)!.setupDone).to.equal(0xff)

      const modern = bus(spec({deviceOs: '4.2.0', setupDone: 0x01}))
      const dev = await openFirst(modern.usb)
      expect(await inHex(dev, INIT(73, 2), 64)).to.equal('03 00 00 00 00 00 01 00')
      await out(dev, SEND(1), '08 00')
      expect(await inHex(dev, CHECK(1), 64)).to.equal('09 00 00 00 00 00 88 FF FF FF')
      expect(modern.usb.device(spec().id)!.setupDone).to.equal(0x01)
    })

    it('is-setup-done on 3.3.1 with the flag set: size 2, RECV 08 01', async () => {
      const clock = new FakeClock(0, false)
      const {usb} = bus(spec({setupDone: 0x01}), {processingMs: 5}, clock)
      const dev = await openFirst(usb)
      expect(await inHex(dev, INIT(74), 64)).to.equal('03 00 00 00 00 00 01 00')
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 02 00')
      await clock.advance(5)
      expect(await inHex(dev, CHECK(1), 64)).to.equal('0D 00 00 00 00 00 02 00 00 00 00 00 00 00')
      expect(await inHex(dev, RECV(1), 2)).to.equal('08 01')
      expect(usb.log.map((r) => r.setup)).to.deep.equal([
        'C0 01 00 00 4A 00 40 00',
        'C0 02 00 00 01 00 40 00',
        'C0 02 00 00 01 00 40 00',
        'C0 04 00 00 01 00 02 00',
      ])
    })

    it('is-setup-done on 3.3.1 with any byte other than 0x01: no payload (done = false)', async () => {
      for (const byte of [0xff, 0x00, 0x02, 0xfe]) {
        const {usb} = bus(spec({setupDone: byte}))
        const dev = await openFirst(usb)
        await inHex(dev, INIT(74), 64)
        expect(await inHex(dev, CHECK(1), 64)).to.equal('09 00 00 00 00 00 00 00 00 00')
      }
    })

    it('is-setup-done on 4.x: always done, whatever the byte', async () => {
      const {usb} = bus(spec({deviceOs: '4.0.0', setupDone: 0xff}))
      const dev = await openFirst(usb)
      await inHex(dev, INIT(74), 64)
      expect(await inHex(dev, CHECK(1), 64)).to.equal('0D 00 00 00 00 00 02 00 00 00 00 00 00 00')
      expect(await inHex(dev, RECV(1), 2)).to.equal('08 01')
    })

    it('RESET(0): C0 05 00 00 00 00 40 00 -> 01 00 00 00 00 00, and it cancels every active request', async () => {
      const {usb} = bus(spec({faults: {blockedSystemThread: 'app'}}))
      const dev = await openFirst(usb)
      await inHex(dev, INIT(74), 64)
      await inHex(dev, INIT(30), 64)
      expect(await inHex(dev, RESET(0), 64)).to.equal('01 00 00 00 00 00')
      expect(usb.log.at(-1)!.setup).to.equal('C0 05 00 00 00 00 40 00')
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 05 00')
      expect(await inHex(dev, CHECK(2), 64)).to.equal('01 00 00 00 05 00')
    })
  })

  describe('ids, slots and replies', () => {
    it('numbers requests from 1 per boot and answers NOT_FOUND for unknown ids', async () => {
      const {usb} = bus(spec())
      const dev = await openFirst(usb)
      const ids = []
      for (let i = 0; i < 3; i++) ids.push((await request(dev, 20)).id)
      expect(ids).to.deep.equal([1, 2, 3])
      expect(await inHex(dev, CHECK(3), 64)).to.equal('01 00 00 00 05 00') // released after its result
      expect(await inHex(dev, CHECK(99), 64)).to.equal('01 00 00 00 05 00')
      expect(await inHex(dev, RESET(99), 64)).to.equal('01 00 00 00 05 00')
    })

    it('wraps ids after 0xFFFF to 0, as `++lastReqId_` on a uint16_t does (usb_control_request_channel.cpp@v3.3.1:323)', async function () {
      this.timeout(120_000)
      const {usb} = bus(spec())
      const dev = await openFirst(usb)
      for (let i = 1; i <= 0xffff; i++) {
        const r = await dev.controlTransferIn(INIT(20), 64)
        if (i === 0xffff) expect(new Uint8Array(r.data!.buffer)[6] | (new Uint8Array(r.data!.buffer)[7] << 8)).to.equal(0xffff)
        await dev.controlTransferIn(RESET(0), 64)
        usb.log.length = 0 // keep memory flat
      }
      expect(parseReply(await inHex(dev, INIT(20), 64)).id).to.equal(0)
      expect(parseReply(await inHex(dev, INIT(20), 64)).id).to.equal(1)
    })

    it('answers BUSY (flags 0x01, status 3) when 4 requests are active, and accepts again after RESET(id)', async () => {
      const {usb} = bus(spec({faults: {blockedSystemThread: true}}))
      const dev = await openFirst(usb)
      for (let i = 1; i <= 4; i++) expect(parseReply(await inHex(dev, INIT(74), 64))).to.deep.equal({flags: 3, id: i, status: 0})
      expect(await inHex(dev, INIT(74), 64)).to.equal('01 00 00 00 03 00')
      expect(await inHex(dev, RESET(2), 64)).to.equal('01 00 00 00 00 00')
      expect(parseReply(await inHex(dev, INIT(74), 64))).to.deep.equal({flags: 3, id: 5, status: 0})
    })

    it('counts finished requests whose result was never collected as active (no device-side timeout)', async () => {
      const {usb} = bus(spec())
      const dev = await openFirst(usb)
      for (let i = 0; i < 4; i++) await inHex(dev, INIT(20), 64) // done, but nobody CHECKs
      expect(await inHex(dev, INIT(20), 64)).to.equal('01 00 00 00 03 00')
    })

    it('releases a request with a reply payload only when its last byte has been RECV-ed (chunks allowed)', async () => {
      const {usb} = bus(spec())
      const dev = await openFirst(usb)
      await inHex(dev, INIT(20), 64)
      const check = parseReply(await inHex(dev, CHECK(1), 64))
      expect(check).to.deep.equal({flags: 0x0d, result: 0, size: 26, status: 0})
      expect(parseReply(await inHex(dev, CHECK(1), 64)).size).to.equal(26) // still there
      expect(await inHex(dev, RECV(1), 10)).to.equal('0A 18 65 30 30 66 63 65 36 38')
      expect(await inHex(dev, RECV(1), 17)).to.equal('stall') // beyond the reply
      expect(await inHex(dev, RECV(1), 16)).to.equal('31 61 32 62 33 63 34 64 35 65 36 66 37 61 38 62')
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 05 00')
    })

    it('takes payloads over 64 bytes through PENDING: async allocation, CHECK until OK, SEND chunks', async () => {
      const clock = new FakeClock(0, false)
      const {usb} = bus(spec({setupDone: 0xff}), {processingMs: 30}, clock)
      const dev = await openFirst(usb)
      // SetDeviceSetupDoneRequest {done: true} plus an unknown length-delimited field 2 of 96 bytes: 100 bytes
      const payload = Uint8Array.of(0x08, 0x01, 0x12, 96, ...new Uint8Array(96).fill(0x55))
      expect(await inHex(dev, INIT(73, 100), 64)).to.equal('03 00 00 00 02 00 01 00') // PENDING + id 1
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 02 00')
      expect(await out(dev, SEND(1), payload.subarray(0, 64))).to.equal('stall') // buffer not ready yet
      await clock.advance(30)
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 00 00') // buffer ready
      expect(await out(dev, SEND(1), payload.subarray(0, 64))).to.equal('ok')
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 00 00') // still waiting for payload
      expect(await out(dev, SEND(1), payload.subarray(64))).to.equal('ok')
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 02 00') // processing
      await clock.advance(30)
      expect(await inHex(dev, CHECK(1), 64)).to.equal('09 00 00 00 00 00 00 00 00 00')
      expect(usb.device(spec().id)!.setupDone).to.equal(0x01)
    })

    it('allocates big buffers on the next turn of the clock when processingMs is 0', async () => {
      const {usb} = bus(spec({setupDone: 0xff}))
      const dev = await openFirst(usb)
      expect(parseReply(await inHex(dev, INIT(30, 200), 64)).status).to.equal(2)
      let check = parseReply(await inHex(dev, CHECK(1), 64))
      for (let n = 0; check.status === 2 && n < 50; n++) {
        await new Promise((r) => setImmediate(r))
        check = parseReply(await inHex(dev, CHECK(1), 64))
      }
      expect(check).to.deep.equal({flags: 1, status: 0})
    })
  })

  describe('stalls (§2.2 device-side rejections)', () => {
    it('stalls INIT, CHECK and RESET with wLength < 64', async () => {
      const {usb} = bus(spec())
      const dev = await openFirst(usb)
      expect(await inHex(dev, INIT(20), 63)).to.equal('stall')
      expect(await inHex(dev, INIT(20), 64)).to.equal('03 00 00 00 00 00 01 00')
      expect(await inHex(dev, CHECK(1), 14)).to.equal('stall')
      expect(await inHex(dev, RESET(0), 6)).to.equal('stall')
      expect(usb.log.filter((r) => r.status === 'stall')).to.have.length(3)
    })

    it('stalls SEND for an unknown id, a request not waiting for payload, an overflow, an empty chunk', async () => {
      const {usb} = bus(spec())
      const dev = await openFirst(usb)
      expect(await out(dev, SEND(7), '08 01')).to.equal('stall')
      await inHex(dev, INIT(20), 64) // id 1, no payload
      expect(await out(dev, SEND(1), '08')).to.equal('stall')
      await inHex(dev, INIT(73, 2), 64) // id 2
      expect(await out(dev, SEND(2), '08 01 00')).to.equal('stall') // would overflow
      expect(await out(dev, SEND(2), new Uint8Array(0))).to.equal('stall')
      expect(await out(dev, SEND(2), '08')).to.equal('ok')
      expect(await out(dev, SEND(2), '01')).to.equal('ok')
      expect(await out(dev, SEND(2), '01')).to.equal('stall') // complete already
    })

    it('stalls RECV for an unknown id, an unfinished request, size 0, and past the reply', async () => {
      const {usb} = bus(spec({faults: {blockedSystemThread: true}}))
      const dev = await openFirst(usb)
      expect(await inHex(dev, RECV(3), 2)).to.equal('stall')
      await inHex(dev, INIT(74), 64) // stays PENDING (blocked)
      expect(await inHex(dev, RECV(1), 2)).to.equal('stall')
      const {usb: usb2} = bus(spec())
      const dev2 = await openFirst(usb2)
      await inHex(dev2, INIT(74), 64)
      await inHex(dev2, CHECK(1), 64)
      expect(await inHex(dev2, RECV(1), 0)).to.equal('stall')
      expect(await inHex(dev2, RECV(1), 3)).to.equal('stall')
      expect(await inHex(dev2, RECV(1), 2)).to.equal('08 01')
    })

    it('stalls unknown vendor requests, wrong directions, and non-device recipients', async () => {
      const {usb} = bus(spec())
      const dev = await openFirst(usb)
      expect(await inHex(dev, vendor(0x07, 0, 0), 64)).to.equal('stall')
      expect(await inHex(dev, vendor(0xee, 0, 4), 64)).to.equal('stall')
      expect(await out(dev, INIT(20))).to.equal('stall')
      expect(await inHex(dev, SEND(1), 64)).to.equal('stall')
      expect(await inHex(dev, {...INIT(20), recipient: 'endpoint'}, 64)).to.equal('stall')
    })
  })
})
