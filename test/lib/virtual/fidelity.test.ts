// The virtual device against Device OS's own sources (docs/protocol.md): every test names the file, tag and line
// of particle-iot/device-os it follows.
import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {DfuState, DfuStatus} from '../../../src/lib/protocol/constants.js'
import {
  ABORT,
  ARGON_ID,
  bus,
  CHECK,
  CLRSTATUS,
  DETACH,
  DNLOAD,
  dfuStatus,
  getDescriptor,
  GETSTATUS,
  inHex,
  INIT,
  nextEvent,
  openDfu,
  openFirst,
  out,
  parseReply,
  request,
  RESET,
  SEND,
  spec,
  UPLOAD,
} from './helpers.js'

const State = DfuState
const Status = DfuStatus
const RAW = (index: number) => ({index, recipient: 'device', request: 0x50, requestType: 'vendor', value: 0}) as const
const decodeString = (h: string) =>
  String.fromCharCode(...h.split(' ').slice(2).map((x) => Number.parseInt(x, 16)).filter((_, i) => i % 2 === 0))

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

describe('virtual device: the differences found in Device OS sources', () => {
  it('the abort at INIT of 40/41/50/60/70 exists from 1.3.1-rc.1 (usb_control_request_channel.cpp@v1.3.1-rc.1:168, :310; absent @v1.3.0-rc.1), not on protected devices from 6.1.1 (@v6.1.1:185)', async () => {
    for (const [deviceOs, isProtected, frees] of [
      ['1.3.0-rc.1', false, false],
      ['1.3.1-rc.1', false, true],
      ['6.1.0', true, true], // protection of the system firmware is not active before 6.1.1
      ['6.1.1', true, false],
      ['6.1.1', false, true],
    ] as const) {
      const {usb} = bus(spec({deviceOs, faults: {blockedSystemThread: 'connecting', protected: isProtected}}))
      const dev = await openFirst(usb)
      const first = parseReply(await inHex(dev, INIT(20), 64)).id!
      await inHex(dev, INIT(70), 64)
      const check = parseReply(await inHex(dev, CHECK(first), 64))
      expect(check.status === 0, `${deviceOs}${isProtected ? ' protected' : ''}`).to.equal(frees)
    }
  })

  it('after the dfuMANIFEST status any DFU request stalls into dfuERROR and cancels the leave (usbd_dfu.cpp@v3.3.1:290-295, :538-545)', async () => {
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec({mode: 'dfu'}), {dfuLeaveMs: 500}, clock)
    const dev = await openDfu(usb)
    await out(dev, DNLOAD(0))
    expect((await dfuStatus(dev)).state).to.equal(State.dfuMANIFEST)
    expect(await inHex(dev, GETSTATUS, 6)).to.equal('stall')
    await clock.advance(5000)
    expect(usb.device(ARGON_ID)!.usbDevice).to.equal(dev) // still the same DFU enumeration
    expect(await dfuStatus(dev)).to.deep.equal({iString: 0, state: State.dfuERROR, status: Status.errUNKNOWN})
  })

  it('DfuSe 0xFA goes through dfuMANIFEST: the Safe Mode reset starts only after the GETSTATUS that shows it (usbd_dfu.cpp@v6.1.1:494-499)', async () => {
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec({deviceOs: '6.1.1', mode: 'dfu'}), {dfuLeaveMs: 500}, clock)
    const dev = await openDfu(usb)
    await out(dev, DNLOAD(0), 'FA')
    expect((await dfuStatus(dev)).state).to.equal(State.dfuDNBUSY)
    await clock.advance(5000)
    expect(usb.device(ARGON_ID)!.usbDevice).to.equal(dev) // nothing yet: the host has not seen dfuMANIFEST
    expect((await dfuStatus(dev)).state).to.equal(State.dfuMANIFEST)
    await clock.advance(500)
    expect(usb.device(ARGON_ID)!.connected).to.equal(false)
    await clock.advance(500)
    expect(usb.device(ARGON_ID)!.mode).to.equal('safe')
  })

  it('request 70 while listening: 0 up to 3.3.1, -210 on 4.0.0-alpha.1-4.0.2 and 5.0.0-5.3.2, 0 on 4.1.0, 4.2.0, 5.4.0+ (system_control_internal.cpp@v4.0.2:191, @v4.1.0:191-192, @v5.3.2:191, @v5.4.0:191-192)', async () => {
    for (const [deviceOs, result] of [
      ['3.3.1', 0],
      ['4.0.0-alpha.1', -210],
      ['4.0.2', -210],
      ['4.1.0', 0],
      ['4.2.0', 0],
      ['5.0.0', -210],
      ['5.3.2', -210],
      ['5.4.0', 0],
      ['6.2.0', 0],
    ] as const) {
      const {usb} = bus(spec({deviceOs, mode: 'listening'}))
      expect((await request(await openFirst(usb), 70)).result, deviceOs).to.equal(result)
    }
  })

  it('protection filters control requests from 6.1.1 (system_control_internal.cpp@v6.1.1:118, security_mode_init @v6.1.1:103); 6.0.0 and 6.1.0 never call their check (hal/src/nRF52840/bootloader.cpp@v6.0.0:91)', async () => {
    for (const [deviceOs, result] of [
      ['6.0.0', 0],
      ['6.1.0', 0],
      ['6.1.1', -1801],
    ] as const) {
      const {usb} = bus(spec({deviceOs, faults: {protected: true}}))
      expect((await request(await openFirst(usb), 74)).result, deviceOs).to.equal(result)
    }
  })

  it('a protected bootloader fails every command but 0xFA/0xFB (6.2.0) at its first GETSTATUS with dfuERROR/errVENDOR (usbd_dfu.cpp@v6.0.0:266-268, @v6.2.0:270-285)', async () => {
    for (const [deviceOs, cmd, ok] of [
      ['6.2.0', '21 C6 1F 00 00', false],
      ['6.2.0', 'FB', true],
      ['6.1.1', 'FA', false],
      ['6.2.0', 'FA', true],
    ] as const) {
      const {usb} = bus(spec({deviceOs, faults: {protected: true}, mode: 'dfu'}))
      const dev = await openDfu(usb)
      await out(dev, DNLOAD(0), cmd)
      const first = await dfuStatus(dev)
      expect(first.state === State.dfuDNBUSY, `${deviceOs} ${cmd}`).to.equal(ok)
      if (!ok) expect(first).to.deep.equal({iString: 10, state: State.dfuERROR, status: Status.errVENDOR})
    }
  })

  it('INIT, CHECK and RESET with wLength > 64 stall on nRF52840 (usb_hal_control.cpp@v3.3.1:255), not on P2', async () => {
    const {usb} = bus(spec())
    const dev = await openFirst(usb)
    expect(await inHex(dev, INIT(20), 65)).to.equal('stall')
    expect(await inHex(dev, CHECK(1), 65)).to.equal('stall')
    expect(await inHex(dev, RESET(0), 65)).to.equal('stall')
    const p2 = bus(spec({deviceOs: '5.9.0', platform: 'p2'}))
    expect(await inHex(await openFirst(p2.usb), INIT(20), 65)).to.equal('03 00 00 00 00 00 01 00')
  })

  it('request ids are reused: an id still active is handed out again and the newer request answers to it (usb_control_request_channel.cpp@v3.3.1:323, :353-357)', async function () {
    this.timeout(120_000)
    const {usb} = bus(spec({faults: {blockedSystemThread: 'app'}}))
    const dev = await openFirst(usb)
    expect(parseReply(await inHex(dev, INIT(20), 64)).id).to.equal(1) // stays PENDING, holds id 1
    usb.device(ARGON_ID)!.setFaults({}) // let the rest run (request 1 completes but nobody collects it)
    for (let i = 2; i <= 0x10000; i++) {
      await dev.controlTransferIn(INIT(20), 64)
      await dev.controlTransferIn(RESET(i & 0xffff), 64)
      usb.log.length = 0
    }
    const again = parseReply(await inHex(dev, INIT(73, 2), 64))
    expect(again.id).to.equal(1)
    expect(await out(dev, SEND(1), '08 01')).to.equal('ok') // reaches the newer request, which waits for payload
  })

  it('raw OUT requests exist from 2.0.0-alpha.3 (usb_control_request_channel.cpp@v2.0.0-alpha.3:543; absent @v2.0.0-alpha.2); raw 40 resets at once (@v3.3.1:546)', async () => {
    expect(await out(await openFirst(bus(spec({deviceOs: '2.0.0-alpha.2'})).usb), RAW(302))).to.equal('stall')
    expect(await out(await openFirst(bus(spec({deviceOs: '2.0.0-alpha.3'})).usb), RAW(302))).to.equal('ok')
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec(), {resetDelayMs: 1000}, clock)
    expect(await out(await openFirst(usb), RAW(40))).to.equal('ok')
    await clock.advance(0)
    expect(usb.device(ARGON_ID)!.connected).to.equal(false)
  })

  it('DFU error codes (usbd_dfu.cpp@v3.3.1:436-460, :211-215, :140-170; usbd_dfu_mal.cpp@v6.2.0:210-211)', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const dev = await openDfu(usb, 1)
    // A SET_ADDRESS or ERASE of the wrong length: errUNKNOWN.
    for (const cmd of ['21 00 00', '41 00 00']) {
      await out(dev, DNLOAD(0), cmd)
      await dfuStatus(dev)
      expect(await dfuStatus(dev), cmd).to.deep.equal({iString: 0, state: State.dfuERROR, status: Status.errUNKNOWN})
      await out(dev, CLRSTATUS)
    }
    // ERASE on the DCT alt succeeds for any address.
    await out(dev, DNLOAD(0), '41 00 00 01 00')
    await dfuStatus(dev)
    expect((await dfuStatus(dev)).state).to.equal(State.dfuDNLOAD_IDLE)
    await out(dev, ABORT)
    // GET_COMMANDS leaves dfuIDLE.
    await inHex(dev, UPLOAD(0), 16)
    expect((await dfuStatus(dev)).state).to.equal(State.dfuIDLE)
    // DETACH outside the idle states stalls into dfuERROR.
    await out(dev, CLRSTATUS) // dfuIDLE: stalls into dfuERROR
    expect(await out(dev, DETACH)).to.equal('stall')
    expect(usb.device(ARGON_ID)!.usbDevice).to.equal(dev)
  })

  it('descriptors: DCT alt name (usbd_dfu_mal.h@v4.0.0:31 DCD, @v4.0.1-rc.1:31 DCT, @v5.0.0:31 DCD, @v5.0.1:31 DCT)', async () => {
    for (const [deviceOs, platform, prefix] of [
      ['4.0.0', 'argon', '@DCD'],
      ['4.0.1-rc.1', 'argon', '@DCT'],
      ['4.0.2', 'argon', '@DCT'],
      ['5.0.0', 'argon', '@DCD'],
      ['5.0.0', 'p2', '@DCD'],
      ['5.0.1', 'argon', '@DCT'],
      ['6.2.0', 'p2', '@DCT'],
    ] as const) {
      const {usb} = bus(spec({deviceOs, mode: 'dfu', platform}))
      const [dev] = await usb.getDevices()
      const name = dev.configuration!.interfaces[0].alternates[1].interfaceName!
      expect(name.slice(0, 4), `${platform} ${deviceOs}`).to.equal(prefix)
    }
  })

  it('descriptors: B5 SoM / Tracker external flash 1024*008Kg to 2.1.x and on 3.0.0, 2048*004Kg from 2.2.0-rc.1 and 3.1.0-rc.1 (usbd_dfu_mal.h@v2.1.0/@v2.2.0-rc.1/@v3.0.0/@v3.1.0-rc.1:36)', async () => {
    for (const [deviceOs, layout] of [
      ['2.1.0', '1024*008Kg'],
      ['2.2.0-rc.1', '2048*004Kg'],
      ['3.0.0', '1024*008Kg'],
      ['3.1.0-rc.1', '2048*004Kg'],
      ['3.3.1', '2048*004Kg'],
    ] as const) {
      const {usb} = bus(spec({deviceOs, mode: 'dfu', platform: 'tracker'}))
      const [dev] = await usb.getDevices()
      expect(dev.configuration!.interfaces[0].alternates[2].interfaceName, deviceOs).to.match(new RegExp(`/${layout.replace('*', '\\*')}$`))
    }
  })

  it('descriptors: DFU product names with spaces, hyphens only in 5.8.0-5.9.x and 6.1.0+; strings 4 and 5 are "<Name> DFU Mode" (usbd_device.cpp@v5.7.0/@v5.8.0/@v6.0.0/@v6.1.0, @v6.2.0:156-158)', async () => {
    for (const [deviceOs, name] of [
      ['3.3.1', 'B SoM'],
      ['5.7.0', 'B SoM'],
      ['5.8.0', 'B-SoM'],
      ['6.0.0', 'B SoM'],
      ['6.1.0', 'B-SoM'],
    ] as const) {
      const {usb} = bus(spec({deviceOs, mode: 'dfu', platform: 'bsom'}))
      const dev = await openFirst(usb)
      expect(dev.productName, deviceOs).to.equal(`${name} DFU Mode`)
      for (const index of [4, 5]) expect(decodeString(await inHex(dev, getDescriptor(3, index, 0x0409), 255))).to.equal(`${name} DFU Mode`)
    }
  })

  it('descriptors: bcdDevice 0x0252 from the Realtek bootloader (bootloader/src/rtl872x/usb_hal.cpp@v6.2.0:51); nRF52840 normal mode 1.2 and 500 mA (sdk_config_system.h@v6.2.0:132, :147-148)', async () => {
    const p2 = bus(spec({deviceOs: '5.9.0', mode: 'dfu', platform: 'p2'}))
    const [p2dev] = await p2.usb.getDevices()
    expect([p2dev.deviceVersionMajor, p2dev.deviceVersionMinor, p2dev.deviceVersionSubminor]).to.deep.equal([2, 5, 2])
    const argon = bus(spec())
    const dev = await openFirst(argon.usb)
    expect([dev.deviceVersionMajor, dev.deviceVersionMinor, dev.deviceVersionSubminor]).to.deep.equal([1, 0, 2])
    expect((await inHex(dev, getDescriptor(2, 0), 9)).split(' ')[8]).to.equal('FA') // bMaxPower 250 x 2 mA
  })

  it('the bootloader answers the MS OS request 0xEE (usbd_dfu.cpp@v6.2.0:70-88, :424-427) and GET_DESCRIPTOR 0x21 (@v6.2.0:89-95)', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const dev = await openDfu(usb)
    const compat = await inHex(dev, {index: 4, recipient: 'device', request: 0xee, requestType: 'vendor', value: 0}, 0x28)
    expect(compat.split(' ').length).to.equal(0x28)
    expect(compat.startsWith('28 00 00 00 00 01 04 00 01')).to.equal(true)
    expect(compat).to.contain('57 49 4E 55 53 42') // "WINUSB"
    const functional = await inHex(dev, {index: 0, recipient: 'interface', request: 6, requestType: 'standard', value: 0x2100}, 9)
    expect(functional).to.equal('09 21 0B FF 00 00 10 1A 01')
  })
})
