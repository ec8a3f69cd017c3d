import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {
  ABORT,
  ARGON_ID,
  bus,
  CHECK,
  CLRSTATUS,
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
  rejection,
  request,
  setAddress,
  spec,
  UPLOAD,
  vendor,
} from './helpers.js'

function decodeString(h: string): string {
  const b = h.split(' ').map((x) => Number.parseInt(x, 16))
  let s = ''
  for (let i = 2; i < b.length; i += 2) s += String.fromCharCode(b[i] | (b[i + 1] << 8))
  return s
}

describe('virtual device: faults', () => {
  describe('blockedSystemThread', () => {
    for (const fault of [true, 'app'] as const) {
      it(`${fault}: INIT answers, CHECK stays PENDING forever outside Safe Mode; Safe Mode processes requests`, async () => {
        const clock = new FakeClock(0, false)
        const {usb} = bus(spec({faults: {blockedSystemThread: fault}, mode: 'listening'}), {processingMs: 10}, clock)
        const dev = await openFirst(usb)
        expect(await inHex(dev, INIT(74), 64)).to.equal('03 00 00 00 00 00 01 00')
        await clock.advance(3_600_000)
        expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 02 00')
        usb.setMode(ARGON_ID, 'safe')
        await clock.advance(500)
        const safe = (await usb.getDevices())[0]
        await safe.open()
        await inHex(safe, INIT(74), 64)
        await clock.advance(10)
        expect(parseReply(await inHex(safe, CHECK(1), 64))).to.deep.equal({flags: 0x0d, result: 0, size: 2, status: 0})
      })
    }

    it("'connecting': requests stay PENDING until an INIT of 40/41/50/60/70 aborts the attempt; then they run", async () => {
      for (const aborter of [40, 41, 50, 60, 70]) {
        const {usb} = bus(spec({faults: {blockedSystemThread: 'connecting'}, mode: 'normal'}))
        const dev = await openFirst(usb)
        await inHex(dev, INIT(74), 64)
        await inHex(dev, INIT(30), 64)
        expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 02 00')
        const r = await request(dev, aborter)
        expect(r.result, `aborted by ${aborter}`).to.equal(0)
        expect(parseReply(await inHex(dev, CHECK(1), 64)).flags).to.equal(0x0d)
        expect(parseReply(await inHex(dev, CHECK(2), 64)).flags).to.equal(0x0d)
      }
    })

    it("'connecting': 73 and 71 get no such help; the blockage returns after a reboot; listening is not blocked", async () => {
      const {usb} = bus(spec({faults: {blockedSystemThread: 'connecting'}, mode: 'normal', setupDone: 0x01}))
      const dev = await openFirst(usb)
      await inHex(dev, INIT(71), 64)
      expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 02 00')
      const back = nextEvent(usb, 'connect')
      await request(dev, 40) // aborts, runs 71 and 40, resets
      const fresh = (await back).device
      await fresh.open()
      await inHex(fresh, INIT(74), 64)
      expect(await inHex(fresh, CHECK(1), 64)).to.equal('01 00 00 00 02 00') // connecting again after the boot

      const listening = bus(spec({faults: {blockedSystemThread: 'connecting'}, mode: 'listening'}))
      expect((await request(await openFirst(listening.usb), 74)).result).to.equal(0)
    })
  })

  it('stallControl: every vendor request stalls; descriptors still work; DFU class requests still work', async () => {
    const {usb} = bus([
      spec({faults: {stallControl: true}}),
      spec({faults: {stallControl: true}, id: 'bbbbbbbbbbbbbbbbbbbbbbbb', mode: 'dfu'}),
    ])
    const [normal, dfu] = await usb.getDevices()
    await normal.open()
    expect(await inHex(normal, INIT(20), 64)).to.equal('stall')
    expect(await inHex(normal, vendor(0x50, 0, 20), 64)).to.equal('stall')
    expect(await out(normal, vendor(0x50, 0, 40))).to.equal('stall')
    expect(await inHex(normal, getDescriptor(1, 0), 18)).to.not.equal('stall')
    await dfu.open()
    await dfu.claimInterface(0)
    expect(await inHex(dfu, GETSTATUS, 6)).to.equal('00 00 00 00 02 00')
  })

  it('busy: the first N INITs answer BUSY, counted over the device lifetime (across reboots)', async () => {
    const {usb} = bus(spec({faults: {busy: 3}}))
    const dev = await openFirst(usb)
    expect(await inHex(dev, INIT(20), 64)).to.equal('01 00 00 00 03 00')
    expect(await inHex(dev, INIT(20), 64)).to.equal('01 00 00 00 03 00')
    const back = nextEvent(usb, 'connect')
    usb.setMode(ARGON_ID, 'normal')
    const fresh = (await back).device
    await fresh.open()
    expect(await inHex(fresh, INIT(20), 64)).to.equal('01 00 00 00 03 00')
    expect(await inHex(fresh, INIT(20), 64)).to.equal('03 00 00 00 00 00 01 00')
  })

  it('unplugAfterTransfers: after N transfers the device vanishes; its old object rejects NotFoundError', async () => {
    const {clock, usb} = bus(spec({faults: {unplugAfterTransfers: 3}}))
    const dev = await openFirst(usb)
    const gone = nextEvent(usb, 'disconnect')
    await inHex(dev, INIT(20), 64)
    await inHex(dev, CHECK(1), 64)
    expect(await usb.getDevices()).to.have.length(1)
    expect(await inHex(dev, vendor(0x04, 0, 1), 26)).to.not.equal('stall') // the 3rd transfer completes
    expect((await gone).device).to.equal(dev)
    expect(await usb.getDevices()).to.deep.equal([])
    const error = await rejection(dev.controlTransferIn(INIT(20), 64))
    expect(error.message).to.equal('controlTransferIn error: device disconnected') // `usb` 3.1.0
    expect(usb.log.map((r) => r.status)).to.deep.equal(['ok', 'ok', 'ok', 'error'])
    expect(usb.specs().map((s) => s.id)).to.deep.equal([ARGON_ID]) // unplugged, not destroyed
    expect(usb.device(ARGON_ID)!.pluggedIn).to.equal(false)
    usb.setMode(ARGON_ID, 'dfu') // buttons on an unplugged device: no connect
    expect(clock.pending).to.equal(0)
    expect(await usb.getDevices()).to.deep.equal([])
  })

  it('dfuWriteError: DNBUSY, then dfuERROR/errUNKNOWN on the second GETSTATUS; nothing is written', async () => {
    const {usb} = bus(spec({faults: {dfuWriteError: true}, mode: 'dfu', setupDone: 0xff}))
    const dev = await openDfu(usb)
    await setAddress(dev, 8134) // commands still work
    await out(dev, DNLOAD(2), '01')
    expect(await inHex(dev, GETSTATUS, 6)).to.equal('00 00 00 00 04 00')
    expect(await inHex(dev, GETSTATUS, 6)).to.equal('0E 00 00 00 0A 00')
    expect(usb.device(ARGON_ID)!.setupDone).to.equal(0xff)
    expect(usb.violations).to.deep.equal([])
  })

  it('accessDenied: open() rejects as the usb package does without a udev rule, and so does `configuration` before it; transfers on a closed device reject InvalidStateError', async () => {
    const {usb} = bus(spec({faults: {accessDenied: true}}))
    const [dev] = await usb.getDevices()
    const error = await rejection(dev.open())
    expect(error.message).to.equal('open error: permission denied (errno 13)') // the package's text, seen through the kernel
    expect(error).to.include({code: 'GenericFailure', name: 'Error'})
    expect(() => dev.configuration).to.throw('open error: permission denied (errno 13)')
    expect(dev.opened).to.equal(false)
    expect((await rejection(dev.controlTransferIn(INIT(20), 64))).message).to.equal('controlTransferIn error: invalid state') // `usb` 3.1.0
    expect(usb.log.at(-1)!.status).to.equal('error')
  })

  describe('protected (Device Protection, 6.x)', () => {
    it('DFU layouts end in Kb, the state string says sm=p, string 10 explains errVENDOR', async () => {
      const {usb} = bus(spec({deviceOs: '6.2.0', faults: {protected: true}, mode: 'dfu', platform: 'boron'}))
      const dev = await openFirst(usb)
      expect(dev.configuration!.interfaces[0].alternates.map((a) => a.interfaceName)).to.deep.equal([
        '@Internal Flash   /0x00000000/1*004Kb,47*004Kb,192*004Kb,4*004Kb,4*004Kb,8*004Kb',
        '@DCT Flash   /0x00000000/1*016Kb',
        '@External Flash   /0x80000000/1024*004Kb',
      ])
      expect(decodeString(await inHex(dev, getDescriptor(3, 0xfa, 0x0409), 0xff))).to.equal('sm=p')
      expect(decodeString(await inHex(dev, getDescriptor(3, 10, 0x0409), 0xff))).to.equal('Device is in protected mode')

      const open = bus(spec({deviceOs: '6.2.0', mode: 'dfu', platform: 'boron'}))
      expect(decodeString(await inHex(await openFirst(open.usb), getDescriptor(3, 0xfa, 0x0409), 0xff))).to.equal('sm=o')
    })

    it('UPLOAD on alt 1 returns 0 bytes and enters dfuERROR/errVENDOR with iString 10', async () => {
      const {usb} = bus(spec({deviceOs: '6.2.0', faults: {protected: true}, mode: 'dfu', setupDone: 0x01}))
      const dev = await openDfu(usb)
      // SET_ADDRESS fails too on a protected bootloader (first GETSTATUS, usbd_dfu.cpp@v6.2.0:270-285): UPLOAD from 0.
      await out(dev, DNLOAD(0), '21 C6 1F 00 00')
      expect(await inHex(dev, GETSTATUS, 6)).to.equal('0B 00 00 00 0A 0A')
      await out(dev, CLRSTATUS)
      const r = await dev.controlTransferIn(UPLOAD(2), 1)
      expect(r.status).to.equal('ok')
      expect(r.data!.byteLength).to.equal(0)
      expect(await dfuStatus(dev)).to.deep.equal({iString: 10, state: 10, status: 0x0b})
    })

    it('DNLOAD data: dfuERROR/errVENDOR at the first GETSTATUS (usbd_dfu.cpp@v6.0.0:266-268); nothing written; a violation', async () => {
      const {usb} = bus(spec({deviceOs: '6.2.0', faults: {protected: true}, mode: 'dfu', setupDone: 0xff}))
      const dev = await openDfu(usb)
      await out(dev, DNLOAD(2), '01')
      expect(await inHex(dev, GETSTATUS, 6)).to.equal('0B 00 00 00 0A 0A')
      expect(usb.device(ARGON_ID)!.setupDone).to.equal(0xff)
      expect(usb.violations).to.deep.equal([{deviceId: ARGON_ID, message: 'DFU write to the DCT of a protected device (offset 0, 1 bytes)'}])
    })

    it('exists only from Device OS 6.0.0', () => {
      expect(() => bus(spec({deviceOs: '3.3.1', faults: {protected: true}}))).to.throw(TypeError, 'faults.protected needs deviceOs 6.0.0')
    })
  })
})
