import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {bus, CHECK, inHex, INIT, openFirst, out, rejection, request, SEND, spec, vendor} from './helpers.js'

const raw = (index: number) => vendor(0x50, 0, index)
const NOT_SUPPORTED = -120
const BAD_DATA = -280
const PROTECTED = -1801

describe('virtual device: request handlers (docs/protocol.md §2.8–§2.11)', () => {
  describe('73/74 by Device OS version and platform (§2.11)', () => {
    const versions = ['1.5.2', '2.3.1', '3.3.1', '4.0.0', '6.2.0']

    for (const deviceOs of versions) {
      const flag = Number(deviceOs[0]) < 4
      it(`argon ${deviceOs}: ${flag ? '73 writes 0x01/0xFF, 74 reads the byte' : '73 true no-op, 73 false -120, 74 always done'}`, async () => {
        const {usb} = bus(spec({deviceOs, platform: 'argon', setupDone: 0x00}))
        const model = usb.device(spec().id)!
        const dev = await openFirst(usb)
        expect((await request(dev, 74)).reply).to.equal(flag ? '' : '08 01')
        expect((await request(dev, 73, '08 01')).result).to.equal(0)
        expect(model.setupDone).to.equal(flag ? 0x01 : 0x00)
        expect((await request(dev, 74)).reply).to.equal('08 01')
        expect((await request(dev, 73, '08 00')).result).to.equal(flag ? 0 : NOT_SUPPORTED)
        expect(model.setupDone).to.equal(flag ? 0xff : 0x00)
        expect((await request(dev, 74)).reply).to.equal(flag ? '' : '08 01')
        expect((await request(dev, 73, '')).result).to.equal(flag ? 0 : NOT_SUPPORTED) // empty payload = false
        expect((await request(dev, 73, '0A 00')).result).to.equal(BAD_DATA) // field 1 with the wrong wire type
        expect((await request(dev, 73, '08')).result).to.equal(BAD_DATA) // truncated varint
      })

      it(`photon ${deviceOs}: -120 for 73 and 74, whatever the payload`, async () => {
        const {usb} = bus(spec({deviceOs, platform: 'photon', setupDone: 0xff}))
        const dev = await openFirst(usb)
        expect((await request(dev, 73, '08 01')).result).to.equal(NOT_SUPPORTED)
        expect((await request(dev, 73, '08 00')).result).to.equal(NOT_SUPPORTED)
        expect((await request(dev, 73, '08')).result).to.equal(NOT_SUPPORTED)
        expect((await request(dev, 74)).result).to.equal(NOT_SUPPORTED)
        expect(usb.device(spec().id)!.setupDone).to.equal(0xff)
      })

      it(`p2 ${deviceOs}: ${deviceOs < '4' ? '-120 for 73 and 74 (the 3.x early-access builds, config.cpp@v3.3.1:173-190)' : 'the 4.x stubs (Realtek never used the flag)'}`, async () => {
        const {usb} = bus(spec({deviceOs, platform: 'p2', setupDone: 0xff}))
        if (deviceOs < '4') {
          const d = await openFirst(usb)
          expect((await request(d, 73, '08 01')).result).to.equal(NOT_SUPPORTED)
          expect((await request(d, 74)).result).to.equal(NOT_SUPPORTED)
          return
        }
        const dev = await openFirst(usb)
        expect((await request(dev, 73, '08 01')).result).to.equal(0)
        expect((await request(dev, 73, '08 00')).result).to.equal(NOT_SUPPORTED)
        expect((await request(dev, 73, '08')).result).to.equal(BAD_DATA)
        const r74 = await request(dev, 74)
        expect([r74.result, r74.reply]).to.deep.equal([0, '08 01'])
        expect(usb.device(spec().id)!.setupDone).to.equal(0xff)
      })
    }

    it('a protected 6.x device answers -1801 to everything but 20 (and the raw requests still work)', async () => {
      const {usb} = bus(spec({deviceOs: '6.2.0', faults: {protected: true}, platform: 'boron'}))
      const dev = await openFirst(usb)
      for (const type of [73, 74, 30, 21, 40, 50, 72]) {
        const r = await request(dev, type, type === 73 ? '08 01' : '')
        expect(r.result, `type ${type}`).to.equal(PROTECTED)
      }
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 05 00')
      const id = await request(dev, 20)
      expect(id.result).to.equal(0)
      expect(await inHex(dev, raw(30), 64)).to.equal('36 2E 32 2E 30') // "6.2.0"
      expect(usb.device(spec().id)!.mode).to.equal('normal') // 40/50 did nothing
    })
  })

  describe('other requests (§2.9)', () => {
    it('20 returns the lowercase id, 21 a serial number, 30 the version', async () => {
      const {usb} = bus(spec({deviceOs: '2.3.1', id: 'E00FCE681A2B3C4D5E6F7A8B'}))
      const dev = await openFirst(usb)
      const id = await request(dev, 20)
      expect(id.reply).to.equal(
        '0A 18 ' + Array.from('e00fce681a2b3c4d5e6f7a8b', (c) => c.charCodeAt(0).toString(16).toUpperCase()).join(' '),
      )
      const serial = await request(dev, 21)
      expect(serial.result).to.equal(0)
      expect(serial.reply!.startsWith('0A 10 50')).to.equal(true) // a 16-character string starting with "P"
      expect((await request(dev, 30)).reply).to.equal('0A 05 32 2E 33 2E 31')
    })

    it('72 says LISTENING (08 01) while listening and NORMAL (empty) otherwise; 70/71 switch without re-enumerating', async () => {
      const {usb} = bus(spec({mode: 'normal'}))
      const dev = await openFirst(usb)
      const model = usb.device(spec().id)!
      expect((await request(dev, 72)).reply).to.equal('')
      expect((await request(dev, 70)).result).to.equal(0)
      expect(model.mode).to.equal('listening')
      expect((await request(dev, 72)).reply).to.equal('08 01')
      expect((await request(dev, 70)).result).to.equal(0) // also when already listening
      expect((await request(dev, 71)).result).to.equal(0)
      expect(model.mode).to.equal('normal')
      expect((await request(dev, 71)).result).to.equal(0) // always 0
      expect(model.usbDevice).to.equal(dev) // same enumeration throughout
    })

    it('writing the flag while listening does not stop listening; 71 does (§3.1)', async () => {
      const {usb} = bus(spec({mode: 'listening', setupDone: 0xff}))
      const dev = await openFirst(usb)
      const model = usb.device(spec().id)!
      await request(dev, 73, '08 01')
      expect(model.setupDone).to.equal(0x01)
      expect(model.mode).to.equal('listening')
      await request(dev, 71)
      expect(model.mode).to.equal('normal')
    })

    it('listening in Safe Mode: 72 reports it, 71 leaves listening but stays in Safe Mode', async () => {
      const {usb} = bus(spec({listening: true, mode: 'safe'}))
      const dev = await openFirst(usb)
      const model = usb.device(spec().id)!
      expect((await request(dev, 72)).reply).to.equal('08 01')
      await request(dev, 71)
      expect([model.mode, model.listening]).to.deep.equal(['safe', false])
      await request(dev, 70)
      expect([model.mode, model.listening]).to.deep.equal(['safe', true])
      expect(model.spec().listening).to.equal(true)
    })

    it('answers NOT_SUPPORTED to types without a handler', async () => {
      const {usb} = bus(spec())
      const dev = await openFirst(usb)
      for (const type of [10, 31, 75, 90, 1000]) expect((await request(dev, type)).result).to.equal(NOT_SUPPORTED)
    })
  })

  describe("raw 'P' requests (§2.8)", () => {
    it('IN 20 returns the uppercase id and needs 24 <= wLength <= 64', async () => {
      const {usb} = bus(spec())
      const dev = await openFirst(usb)
      expect(await inHex(dev, raw(20), 64)).to.equal(
        Array.from('E00FCE681A2B3C4D5E6F7A8B', (c) => c.charCodeAt(0).toString(16).toUpperCase()).join(' '),
      )
      expect(usb.log[0].setup).to.equal('C0 50 00 00 14 00 40 00')
      expect(await inHex(dev, raw(20), 24)).to.not.equal('stall')
      expect(await inHex(dev, raw(20), 23)).to.equal('stall')
      expect(await inHex(dev, raw(20), 65)).to.equal('stall')
    })

    it('IN 30 returns the version, no terminator; wLength must hold it and be <= 64', async () => {
      const {usb} = bus(spec({deviceOs: '4.0.0-alpha.2'}))
      const dev = await openFirst(usb)
      expect(await inHex(dev, raw(30), 64)).to.equal('34 2E 30 2E 30 2D 61 6C 70 68 61 2E 32')
      expect(usb.log[0].setup).to.equal('C0 50 00 00 1E 00 40 00')
      expect(await inHex(dev, raw(30), 13)).to.equal('34 2E 30 2E 30 2D 61 6C 70 68 61 2E 32')
      expect(await inHex(dev, raw(30), 12)).to.equal('stall')
      expect(await inHex(dev, raw(30), 100)).to.equal('stall')
      expect(await inHex(dev, raw(31), 64)).to.equal('stall')
    })

    it('OUT 40 resets the device at once (from 2.0.0-alpha.3, usb_control_request_channel.cpp@v3.3.1:546); OUT forms stall on 1.5.2', async () => {
      const {usb} = bus(spec({deviceOs: '1.5.2'}))
      const dev = await openFirst(usb)
      expect(await out(dev, raw(40))).to.equal('stall')
      expect(await out(dev, raw(302))).to.equal('stall')

      const clock = new FakeClock(0, false)
      const modern = bus(spec({deviceOs: '2.0.0'}), {}, clock)
      const dev2 = await openFirst(modern.usb)
      expect(await out(dev2, raw(40))).to.equal('ok')
      expect(modern.usb.log[0].setup).to.equal('40 50 00 00 28 00 00 00')
      await clock.advance(0)
      expect(modern.usb.device(spec().id)!.connected).to.equal(false)
      await clock.advance(500)
      expect(modern.usb.device(spec().id)!.connected).to.equal(true)
    })

    it('OUT 302 aborts a connection attempt that blocks the system thread', async () => {
      const {usb} = bus(spec({faults: {blockedSystemThread: 'connecting'}}))
      const dev = await openFirst(usb)
      await inHex(dev, INIT(74), 64)
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 02 00')
      expect(await out(dev, raw(302))).to.equal('ok')
      expect(usb.log.at(-1)!.setup).to.equal('40 50 00 00 2E 01 00 00')
      expect((await inHex(dev, CHECK(1), 64)).startsWith('0D')).to.equal(true)
    })
  })

  describe('Realtek: host-to-device requests need a data stage (§1.1 quirk)', () => {
    it('a data-less vendor OUT times out (TimeoutError after the transfer timeout); with 1 byte it works', async () => {
      const clock = new FakeClock(0, false)
      const {usb} = bus(spec({deviceOs: '5.9.0', platform: 'p2'}), {}, clock)
      const dev = await openFirst(usb)
      const pending = dev.controlTransferOut(raw(302), new Uint8Array(0))
      let settled = false
      pending.catch(() => {}).finally(() => (settled = true))
      await clock.advance(999)
      expect(settled).to.equal(false)
      await clock.advance(1)
      const error = await rejection(pending)
      expect(error.message).to.equal('controlTransferOut error: transfer was cancelled') // `usb` 3.1.0
      expect(usb.log[0]).to.include({setup: '40 50 00 00 2E 01 00 00', status: 'error'})
      expect(await out(dev, raw(302), '00')).to.equal('ok')
      expect(usb.log[1]).to.include({dataOut: '00', setup: '40 50 00 00 2E 01 01 00', status: 'ok'})
    })

    it('honours the timeout argument, and takes a padded 1-byte SEND for a request without payload', async () => {
      const {usb} = bus(spec({deviceOs: '6.2.0', platform: 'msom'}))
      const dev = await openFirst(usb)
      const timed = dev as USBDevice & {
        controlTransferOut(s: USBControlTransferParameters, d?: BufferSource, t?: number): Promise<USBOutTransferResult>
      }
      const error = await rejection(timed.controlTransferOut(raw(40), new Uint8Array(0), 5000))
      expect(error.message).to.equal('controlTransferOut error: transfer was cancelled') // `usb` 3.1.0
      expect(usb.device(spec().id)!.connected).to.equal(true) // the request never reached the firmware
      await inHex(dev, INIT(74), 64)
      expect(await out(dev, SEND(1), '00')).to.equal('ok')
      expect((await request(dev, 20)).result).to.equal(0)

      const nrf = bus(spec())
      const argon = await openFirst(nrf.usb)
      await inHex(argon, INIT(74), 64)
      expect(await out(argon, SEND(1), '00')).to.equal('stall') // nRF52840 hosts never pad
      expect(await out(argon, raw(302))).to.equal('ok')
    })
  })
})
