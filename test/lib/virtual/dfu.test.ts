import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {
  ABORT,
  ARGON_ID,
  bus,
  CLRSTATUS,
  DETACH,
  DNLOAD,
  dfuRead,
  dfuStatus,
  GETSTATE,
  GETSTATUS,
  getDescriptor,
  inHex,
  INIT,
  nextEvent,
  openDfu,
  openFirst,
  out,
  rejection,
  setAddress,
  spec,
  toHex,
  UPLOAD,
  vendor,
} from './helpers.js'

const State = {dfuIDLE: 2, dfuDNBUSY: 4, dfuDNLOAD_IDLE: 5, dfuMANIFEST: 7, dfuUPLOAD_IDLE: 9, dfuERROR: 10}
const Status = {OK: 0, errTARGET: 1, errVENDOR: 0x0b, errUNKNOWN: 0x0e, errSTALLEDPKT: 0x0f}

function exchanges(log: Array<{dataIn?: string; dataOut?: string; setup: string; status: string}>): string[] {
  return log.map((r) => `${r.setup}${r.dataOut ? ` + ${r.dataOut}` : ''}${r.dataIn === undefined ? '' : ` -> ${r.dataIn}`}${r.status === 'ok' ? '' : ` ${r.status}`}`)
}

describe('virtual device: DfuSe bootloader (docs/protocol.md §4)', () => {
  it('§4.5: the whole dfu-util write sequence (-a 1 -s 8134:leave -D 1 byte 01), transfer by transfer', async () => {
    const {usb} = bus(spec({mode: 'dfu', setupDone: 0xff}))
    const [dev] = await usb.getDevices()
    // 1. probe
    await dev.open()
    await inHex(dev, getDescriptor(3, 0), 0xff)
    await inHex(dev, getDescriptor(3, 7, 0x0409), 0xff)
    await inHex(dev, getDescriptor(3, 0), 0xff)
    await inHex(dev, getDescriptor(3, 3, 0x0409), 0xff)
    await dev.close()
    // 2. open, claim, SET_INTERFACE alt 1
    await dev.open()
    await dev.claimInterface(0)
    await dev.selectAlternateInterface(0, 1)
    // 3. status
    await inHex(dev, GETSTATUS, 6)
    // 6-8. SET_ADDRESS 0x1FC6
    await out(dev, DNLOAD(0), '21 C6 1F 00 00')
    await inHex(dev, GETSTATUS, 6)
    await inHex(dev, GETSTATUS, 6)
    // 9-11. data
    await out(dev, DNLOAD(2), '01')
    await inHex(dev, GETSTATUS, 6)
    await inHex(dev, GETSTATUS, 6)
    // 12-13. abort
    await out(dev, ABORT)
    await inHex(dev, GETSTATUS, 6)
    // 14. SET_ADDRESS again
    await out(dev, DNLOAD(0), '21 C6 1F 00 00')
    await inHex(dev, GETSTATUS, 6)
    await inHex(dev, GETSTATUS, 6)
    // 15-16. leave
    const gone = nextEvent(usb, 'disconnect')
    const back = nextEvent(usb, 'connect')
    await out(dev, DNLOAD(2))
    await inHex(dev, GETSTATUS, 6)
    // 17. release, close
    await dev.releaseInterface(0)
    await dev.close()

    const alt1 = Array.from('@DCD Flash   /0x00000000/1*016Ke', (c) => c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0') + ' 00').join(' ')
    const serial = Array.from(ARGON_ID, (c) => c.charCodeAt(0).toString(16).toUpperCase() + ' 00').join(' ')
    expect(exchanges(usb.log)).to.deep.equal([
      '80 06 00 03 00 00 FF 00 -> 04 03 09 04',
      `80 06 07 03 09 04 FF 00 -> 42 03 ${alt1}`,
      '80 06 00 03 00 00 FF 00 -> 04 03 09 04',
      `80 06 03 03 09 04 FF 00 -> 32 03 ${serial}`,
      '01 0B 01 00 00 00 00 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 02 00',
      '21 01 00 00 00 00 05 00 + 21 C6 1F 00 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 04 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 05 00',
      '21 01 02 00 00 00 01 00 + 01',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 04 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 05 00',
      '21 06 00 00 00 00 00 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 02 00',
      '21 01 00 00 00 00 05 00 + 21 C6 1F 00 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 04 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 05 00',
      '21 01 02 00 00 00 00 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 07 00',
    ])
    expect(usb.device(ARGON_ID)!.setupDone).to.equal(0x01)
    await gone
    const fresh = (await back).device
    expect([fresh.productId, fresh.serialNumber]).to.deep.equal([0xc00c, ARGON_ID])
    expect(usb.device(ARGON_ID)!.mode).to.equal('normal') // the flag is now 0x01
    expect(usb.violations).to.deep.equal([])
  })

  it('§4.4: resets dfuLeaveMs after the dfuMANIFEST status and is back bootMs later', async () => {
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec({mode: 'dfu', setupDone: 0xff}), {}, clock)
    const dev = await openDfu(usb)
    await out(dev, DNLOAD(0))
    expect(await dfuStatus(dev)).to.deep.equal({iString: 0, state: State.dfuMANIFEST, status: 0})
    // Nothing more is sent: any DFU request now would cancel the reset (see the fidelity tests).
    await clock.advance(499)
    expect(usb.device(ARGON_ID)!.connected).to.equal(true)
    await clock.advance(1)
    expect(usb.device(ARGON_ID)!.connected).to.equal(false)
    await clock.advance(500)
    expect((await usb.getDevices())[0].productId).to.equal(0xc00c)
    expect(usb.device(ARGON_ID)!.mode).to.equal('listening') // flag still 0xFF
  })

  it('§4.6: the 1-byte read of DCT 8134, transfer by transfer', async () => {
    const {usb} = bus(spec({mode: 'dfu', setupDone: 0x01}))
    const dev = await openDfu(usb)
    usb.log.length = 0
    await out(dev, DNLOAD(0), '21 C6 1F 00 00')
    await inHex(dev, GETSTATUS, 6)
    await inHex(dev, GETSTATUS, 6)
    await out(dev, ABORT)
    await inHex(dev, GETSTATUS, 6)
    await inHex(dev, UPLOAD(2), 1)
    await out(dev, ABORT)
    await inHex(dev, GETSTATUS, 6)
    expect(exchanges(usb.log)).to.deep.equal([
      '21 01 00 00 00 00 05 00 + 21 C6 1F 00 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 04 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 05 00',
      '21 06 00 00 00 00 00 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 02 00',
      'A1 02 02 00 00 00 01 00 -> 01',
      '21 06 00 00 00 00 00 00',
      'A1 03 00 00 00 00 06 00 -> 00 00 00 00 02 00',
    ])
    expect(usb.device(ARGON_ID)!.mode).to.equal('dfu') // no leave: stays in DFU
  })

  it('reads 0xFF at 8134 when not done and the rest of the DCT as 0xFF', async () => {
    const {usb} = bus(spec({mode: 'dfu', setupDone: 0xff}))
    const dev = await openDfu(usb)
    expect(await dfuRead(dev, 8134, 1)).to.equal('FF')
    expect(await dfuRead(dev, 0, 4)).to.equal('FF FF FF FF')
  })

  it('§6: internal flash holds the system-part module header at 0x30200 (and 0x28200 from 6.2.0)', async () => {
    const header = (version: string, start: string) =>
      `00 ${start} 00 00 40 0B 00 00 00 ${version} 0C 00 04 01 00 00 00 00 00 00 00 00`
    {
      const {usb} = bus(spec({deviceOs: '3.3.1', mode: 'dfu'}))
      const dev = await openDfu(usb, 0)
      expect(await dfuRead(dev, 0x30200, 24)).to.equal(header('E6 0C', '00 03'))
      expect(await dfuRead(dev, 0x28200, 24)).to.equal(Array(24).fill('FF').join(' '))
    }
    {
      const {usb} = bus(spec({deviceOs: '6.2.0', mode: 'dfu'}))
      const dev = await openDfu(usb, 0)
      expect(await dfuRead(dev, 0x28200, 24)).to.equal(header('38 18', '80 02'))
      // The legacy header of a 6.2.0 image: same version, a short range (dynalib/inc/module_info.inc@v6.2.0:175-186).
      expect(await dfuRead(dev, 0x30200, 24)).to.equal(header('38 18', '00 03').replace('00 40 0B 00', '00 10 03 00'))
      // module_version at +10: 6200
      expect(await dfuRead(dev, 0x2820a, 2)).to.equal('38 18')
    }
    {
      const {usb} = bus(spec({deviceOs: '1.5.2', mode: 'dfu', platform: 'boron'}))
      const dev = await openDfu(usb, 0)
      const bytes = (await dfuRead(dev, 0x30200, 24)).split(' ')
      expect(bytes.slice(10, 15)).to.deep.equal(['E8', '05', '0D', '00', '04']) // 1512, platform 13, function 4
    }
  })

  it('GET_COMMANDS (UPLOAD block 0) lists the commands of the bootloader version (§4.2)', async () => {
    for (const [deviceOs, commands] of [
      ['3.3.1', '00 21 41'],
      ['6.1.0', '00 21 41'],
      ['6.1.1', '00 21 41 FA'],
      ['6.2.0', '00 21 41 FA FB'],
    ]) {
      const {usb} = bus(spec({deviceOs, mode: 'dfu'}))
      const dev = await openDfu(usb)
      expect(await inHex(dev, UPLOAD(0), 16), deviceOs).to.equal(commands)
      expect((await dfuStatus(dev)).state).to.equal(State.dfuIDLE) // usbd_dfu.cpp@v3.3.1:205-212
    }
  })

  it('UPLOAD only from dfuIDLE/dfuUPLOAD_IDLE; CLRSTATUS stalls outside dfuERROR and enters dfuERROR (§4.4, §4.7)', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const dev = await openDfu(usb)
    await setAddress(dev, 8134)
    expect(await inHex(dev, UPLOAD(2), 1)).to.equal('stall') // still dfuDNLOAD_IDLE
    expect(await dfuStatus(dev)).to.deep.equal({iString: 0, state: State.dfuERROR, status: Status.errUNKNOWN})
    expect(await out(dev, ABORT)).to.equal('stall') // no ABORT out of dfuERROR
    expect(await out(dev, CLRSTATUS)).to.equal('ok')
    expect((await dfuStatus(dev)).state).to.equal(State.dfuIDLE)
    expect(await out(dev, CLRSTATUS)).to.equal('stall') // dfuIDLE: stall and enter dfuERROR
    expect((await dfuStatus(dev)).state).to.equal(State.dfuERROR)
    expect(await out(dev, CLRSTATUS)).to.equal('ok')
    expect(await inHex(dev, GETSTATE, 1)).to.equal('02')
    // the address pointer survived all of it
    expect(await inHex(dev, UPLOAD(2), 1)).to.equal('01')
    expect(await inHex(dev, UPLOAD(2), 1)).to.equal('01') // again from dfuUPLOAD_IDLE
  })

  it('a DNLOAD without polling first, or from dfuUPLOAD_IDLE, stalls into dfuERROR', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const dev = await openDfu(usb)
    await setAddress(dev, 0)
    await out(dev, ABORT)
    await inHex(dev, UPLOAD(2), 1) // dfuUPLOAD_IDLE
    expect(await out(dev, DNLOAD(0), '21 C6 1F 00 00')).to.equal('stall')
    expect((await dfuStatus(dev)).state).to.equal(State.dfuERROR)
    await out(dev, CLRSTATUS)
    expect(await out(dev, DNLOAD(0), '21 C6 1F 00 00')).to.equal('ok')
    expect(await out(dev, DNLOAD(0), '21 C6 1F 00 00')).to.equal('stall') // dfuDNLOAD_SYNC
  })

  it('refuses MASS ERASE (errTARGET), READ_UNPROTECT (errUNKNOWN), unknown commands (errSTALLEDPKT), block 1 (errTARGET)', async () => {
    const {usb} = bus(spec({deviceOs: '6.1.0', mode: 'dfu'}))
    const dev = await openDfu(usb)
    const outcome = async (block: number, data: string) => {
      await out(dev, DNLOAD(block), data)
      expect((await dfuStatus(dev)).state).to.equal(State.dfuDNBUSY)
      const s = await dfuStatus(dev)
      if (s.state === State.dfuERROR) await out(dev, CLRSTATUS)
      return [s.state, s.status]
    }
    expect(await outcome(0, '41')).to.deep.equal([State.dfuERROR, Status.errTARGET])
    expect(await outcome(0, '92')).to.deep.equal([State.dfuERROR, Status.errUNKNOWN])
    expect(await outcome(0, '55')).to.deep.equal([State.dfuERROR, Status.errSTALLEDPKT])
    expect(await outcome(0, 'FA')).to.deep.equal([State.dfuERROR, Status.errSTALLEDPKT]) // 6.1.1+ only
    expect(await outcome(1, '01')).to.deep.equal([State.dfuERROR, Status.errTARGET])
    expect(await outcome(0, '41 00 00 00 00')).to.deep.equal([State.dfuDNLOAD_IDLE, Status.OK]) // DCT erase: no-op
    expect(usb.violations.map((v) => v.message)).to.deep.equal([
      'DfuSe MASS ERASE on alt 1: erasing is never needed',
      'DfuSe ERASE of the page at 0x0 on alt 1: erasing is never needed',
    ])
  })

  it('0xFA (6.1.1+) reboots the bootloader into Safe Mode, through dfuMANIFEST like a leave (usbd_dfu.cpp@v6.1.1:494-499)', async () => {
    const {usb} = bus(spec({deviceOs: '6.2.0', mode: 'dfu', platform: 'boron'}))
    const dev = await openDfu(usb)
    const back = nextEvent(usb, 'connect')
    await out(dev, DNLOAD(0), 'FA')
    expect((await dfuStatus(dev)).state).to.equal(State.dfuDNBUSY)
    expect((await dfuStatus(dev)).state).to.equal(State.dfuMANIFEST)
    expect((await back).device.productId).to.equal(0xc00d)
    expect(usb.device(ARGON_ID)!.mode).to.equal('safe')
  })

  it('write guard: DCT writes other than offset 8134 length 1, and any flash write, are violations', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const dev = await openDfu(usb)
    await setAddress(dev, 8133)
    await out(dev, DNLOAD(2), '01 01')
    await dfuStatus(dev)
    expect((await dfuStatus(dev)).state).to.equal(State.dfuDNLOAD_IDLE) // the device still does it
    expect(usb.device(ARGON_ID)!.readDct(8133, 2)).to.deep.equal(Uint8Array.of(1, 1))
    await dev.selectAlternateInterface(0, 0)
    await setAddress(dev, 0xd4000)
    await out(dev, DNLOAD(2), 'AA')
    await dfuStatus(dev)
    await dfuStatus(dev)
    await dev.selectAlternateInterface(0, 2)
    await setAddress(dev, 0x80000000)
    await out(dev, DNLOAD(2), 'BB')
    await dfuStatus(dev)
    await dfuStatus(dev)
    expect(usb.violations).to.deep.equal([
      {
        deviceId: ARGON_ID,
        message: 'DFU write to the DCT at offset 8133 (0x1fc5), 2 bytes: only offset 8134, 1 byte may be written',
      },
      {deviceId: ARGON_ID, message: 'DFU write to alt 0 (internal flash) at 0xd4000, 1 bytes'},
      {deviceId: ARGON_ID, message: 'DFU write to alt 2 (external flash) at 0x80000000, 1 bytes'},
    ])
    expect(await dfuRead(dev, 0x80000000, 2)).to.equal('BB FF')
  })

  it('fails writes and reads outside a memory with errUNKNOWN (DCT: 0..0x4000)', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const dev = await openDfu(usb)
    await setAddress(dev, 0x4000)
    await out(dev, DNLOAD(2), '01')
    await dfuStatus(dev)
    expect(await dfuStatus(dev)).to.deep.equal({iString: 0, state: State.dfuERROR, status: Status.errUNKNOWN})
    await out(dev, CLRSTATUS)
    await setAddress(dev, 0x3fff)
    await out(dev, ABORT)
    expect(await inHex(dev, UPLOAD(2), 2)).to.equal('stall')
    expect((await dfuStatus(dev)).state).to.equal(State.dfuERROR)
  })

  it('SET_INTERFACE beyond the alts stalls; selectAlternateInterface checks alts and the claim first (WebUSB)', async () => {
    const {usb} = bus(spec({mode: 'dfu', platform: 'p2', deviceOs: '5.9.0'}))
    const dev = await openFirst(usb)
    // `usb` 3.1.0's words (WebUSB would name InvalidStateError and NotFoundError)
    expect((await rejection(dev.selectAlternateInterface(0, 1))).message).to.equal('selectAlternateInterface error: invalid state') // not claimed
    expect((await rejection(dev.controlTransferIn(GETSTATUS, 6))).message).to.equal('controlTransferIn error: invalid state')
    await dev.claimInterface(0)
    expect((await rejection(dev.selectAlternateInterface(0, 2))).message).to.equal('selectAlternateInterface error: invalid or unsupported argument') // Realtek: 2 alts
    const setInterface = (alt: number): USBControlTransferParameters => ({index: 0, recipient: 'interface', request: 11, requestType: 'standard', value: alt})
    expect(await out(dev, setInterface(2))).to.equal('stall')
    expect(await out(dev, setInterface(1))).to.equal('ok')
    expect(dev.configuration!.interfaces[0].alternate.alternateSetting).to.equal(1)
    expect(dev.configuration!.interfaces[0].claimed).to.equal(true)
  })

  it('writes the flag the same way on Gen2 and Realtek bootloaders (their DCT alt is alt 1 too)', async () => {
    for (const [platform, deviceOs, pid] of [
      ['photon', '2.3.1', 0xc006],
      ['p2', '5.9.0', 0xc020],
    ] as const) {
      const {usb} = bus(spec({deviceOs, mode: 'dfu', platform, setupDone: 0xff}))
      const dev = await openDfu(usb)
      await setAddress(dev, 8134)
      await out(dev, DNLOAD(2), '01')
      expect((await dfuStatus(dev)).state).to.equal(State.dfuDNBUSY)
      expect((await dfuStatus(dev)).state).to.equal(State.dfuDNLOAD_IDLE)
      expect(await dfuRead(dev, 8134, 1)).to.equal('01')
      const back = nextEvent(usb, 'connect')
      await out(dev, DNLOAD(2))
      expect((await dfuStatus(dev)).state).to.equal(State.dfuMANIFEST)
      expect((await back).device.productId).to.equal(pid)
      expect(usb.device(ARGON_ID)!.mode).to.equal('normal') // no boot rule off nRF52840
      expect(usb.violations).to.deep.equal([])
    }
  })

  it('stalls every vendor request in DFU mode (§2.1, §2.8)', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const dev = await openFirst(usb)
    expect(await inHex(dev, vendor(0x50, 0, 30), 64)).to.equal('stall')
    expect(await inHex(dev, INIT(74), 64)).to.equal('stall')
  })

  it('DETACH in DFU mode re-enumerates, still in the bootloader, back in dfuIDLE', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const dev = await openDfu(usb)
    await setAddress(dev, 8134)
    const back = nextEvent(usb, 'connect')
    expect(await out(dev, DETACH)).to.equal('ok')
    const fresh = (await back).device
    expect(fresh.productId).to.equal(0xd00c)
    await fresh.open()
    await fresh.claimInterface(0)
    expect(toHex([(await dfuStatus(fresh)).state])).to.equal('02')
  })
})
