// The virtual device against Device OS's own sources (docs/protocol.md): every test names the file, tag and line
// of particle-iot/device-os it follows.
import {expect} from 'chai'

import {FakeClock} from '../../src/lib/clock.js'
import {ARGON_ID, bus, CHECK, inHex, INIT, nextEvent, openFirst, out, parseReply, RESET, SEND} from './helpers.js'
import {spec} from './helpers.js'

describe('virtual device: faithful to Device OS sources', () => {
  describe('a cancelled request still runs (system/src/usb_control_request_channel.cpp@v3.3.1:574, :276, :599)', () => {
    it('a 73 cancelled by RESET(id) while the system thread is blocked writes the byte once the thread frees', async () => {
      const clock = new FakeClock(0, false)
      const {usb} = bus(spec({faults: {blockedSystemThread: 'app'}, setupDone: 0xff}), {}, clock)
      const dev = await openFirst(usb)
      expect(parseReply(await inHex(dev, INIT(73, 2), 64)).id).to.equal(1)
      expect(await out(dev, SEND(1), '08 01')).to.equal('ok')
      expect(parseReply(await inHex(dev, CHECK(1), 64)).status).to.equal(2) // PENDING
      expect(await inHex(dev, RESET(1), 64)).to.equal('01 00 00 00 00 00')
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 05 00') // NOT_FOUND: its slot is free
      expect(usb.device(ARGON_ID)!.setupDone).to.equal(0xff)
      usb.device(ARGON_ID)!.setFaults({}) // the application lets the system thread run again
      expect(usb.device(ARGON_ID)!.setupDone).to.equal(0x01)
    })

    it('RESET(0) and a USB bus reset cancel the same way: the queued handler still runs', async () => {
      for (const how of ['reset0', 'bus'] as const) {
        const {usb} = bus(spec({faults: {blockedSystemThread: 'app'}, setupDone: 0x01}))
        const dev = await openFirst(usb)
        await inHex(dev, INIT(73, 2), 64)
        await out(dev, SEND(1), '08 00')
        if (how === 'reset0') await inHex(dev, RESET(0), 64)
        else await dev.reset()
        usb.device(ARGON_ID)!.setFaults({})
        expect(usb.device(ARGON_ID)!.setupDone, how).to.equal(0xff)
      }
    })

    for (const [type, mode] of [
      [40, 'normal'],
      [50, 'dfu'],
      [60, 'safe'],
    ] as const) {
      it(`a ${type} cancelled while pending still resets the device into ${mode} once the thread frees (system_control_internal.cpp@v3.3.1:164)`, async () => {
        const clock = new FakeClock(0, false)
        const {usb} = bus(spec({faults: {blockedSystemThread: 'app'}}), {bootMs: 500, resetDelayMs: 1000}, clock)
        const dev = await openFirst(usb)
        await inHex(dev, INIT(type), 64)
        await inHex(dev, RESET(1), 64)
        await clock.advance(10_000)
        expect(usb.device(ARGON_ID)!.usbDevice).to.equal(dev) // nothing while the thread is blocked
        usb.device(ARGON_ID)!.setFaults({})
        const gone = nextEvent(usb, 'disconnect')
        await clock.advance(1000)
        await gone
        await clock.advance(500)
        expect(usb.device(ARGON_ID)!.mode).to.equal(mode)
      })
    }

    it('a 40 that completed but whose result was never read resets when cancelled (finishActiveRequest, :574-586)', async () => {
      const clock = new FakeClock(0, false)
      const {usb} = bus(spec(), {resetDelayMs: 1000}, clock)
      const dev = await openFirst(usb)
      await inHex(dev, INIT(40), 64) // runs at once on an idle thread; nobody reads the result
      await inHex(dev, RESET(1), 64)
      const gone = nextEvent(usb, 'disconnect')
      await clock.advance(1000)
      await gone
    })

    it('a request cancelled before its payload arrived never runs; a reboot forgets cancelled requests', async () => {
      const {usb} = bus(spec({faults: {blockedSystemThread: 'app'}, setupDone: 0xff}))
      const dev = await openFirst(usb)
      await inHex(dev, INIT(73, 2), 64) // waiting for SEND
      await inHex(dev, RESET(1), 64)
      usb.device(ARGON_ID)!.setFaults({})
      expect(usb.device(ARGON_ID)!.setupDone).to.equal(0xff)

      const again = bus(spec({faults: {blockedSystemThread: 'app'}, setupDone: 0xff}))
      const d2 = await openFirst(again.usb)
      await inHex(d2, INIT(73, 2), 64)
      await out(d2, SEND(1), '08 01')
      await inHex(d2, RESET(1), 64)
      again.usb.setMode(ARGON_ID, 'normal') // the buttons: a reset before the thread ever freed
      again.usb.device(ARGON_ID)!.setFaults({})
      expect(again.usb.device(ARGON_ID)!.setupDone).to.equal(0xff)
    })
  })
})

describe('virtual device: the cloud-disconnect flag (usb_control_request_channel.cpp@v3.3.1:173, :550, :196)', () => {
  const RAW_302 = {index: 302, recipient: 'device', request: 0x50, requestType: 'vendor', value: 0} as const

  it('raw 302 sets it (spark_cloud_flag_disconnect), the devices file shows it, any reset clears it', async () => {
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec(), {bootMs: 500}, clock)
    const dev = await openFirst(usb)
    expect(usb.specs()[0].cloudDisconnected).to.equal(undefined)
    expect(await out(dev, RAW_302)).to.equal('ok')
    expect(usb.device(ARGON_ID)!.cloudDisconnected).to.equal(true)
    expect(usb.specs()[0].cloudDisconnected).to.equal(true)
    usb.setMode(ARGON_ID, 'normal')
    await clock.advance(500)
    expect(usb.specs()[0].cloudDisconnected).to.equal(undefined)
  })

  it('the INIT of 40/41/50/60 sets it too (:196), 70 does not (:201); before 1.3.1-rc.1 no INIT touches it', async () => {
    for (const [deviceOs, type, want] of [
      ['3.3.1', 50, true],
      ['3.3.1', 41, true],
      ['3.3.1', 70, undefined],
      ['1.3.0-rc.1', 50, undefined],
      ['1.3.1-rc.1', 60, true],
    ] as const) {
      const {usb} = bus(spec({deviceOs, faults: {blockedSystemThread: 'app'}}))
      const dev = await openFirst(usb)
      await inHex(dev, INIT(type), 64)
      expect(usb.specs()[0].cloudDisconnected, `${deviceOs} ${type}`).to.equal(want)
    }
  })

  it('a devices file may start a device with the flag set, and "connecting" then does not block', async () => {
    const {usb} = bus(spec({cloudDisconnected: true, faults: {blockedSystemThread: 'connecting'}}))
    const dev = await openFirst(usb)
    const init = parseReply(await inHex(dev, INIT(72), 64))
    expect(parseReply(await inHex(dev, CHECK(init.id!), 64)).result).to.equal(0)
  })
})
