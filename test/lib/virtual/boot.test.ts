import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import type {VirtualUsb} from '../../../src/lib/virtual/index.js'
import {ARGON_ID, bus, CHECK, getDescriptor, inHex, INIT, nextEvent, openFirst, rejection, request, RESET, spec} from './helpers.js'

/** Send a request whose completion resets the device, and collect its result. */
async function resetRequest(dev: USBDevice, type: number): Promise<void> {
  const r = await request(dev, type)
  expect(r.result).to.equal(0)
}

async function current(usb: VirtualUsb): Promise<USBDevice> {
  const [dev] = await usb.getDevices()
  return dev
}

describe('virtual device: resets, re-enumeration and the boot rule (docs/protocol.md §2.5, §3.1, §4.4)', () => {
  it('RESET(40): reboots resetDelayMs after the result was read, re-appears bootMs later as a new object', async () => {
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec({mode: 'listening', setupDone: 0x01}), {}, clock)
    const events: string[] = []
    usb.addEventListener('disconnect', () => events.push(`disconnect@${clock.now()}`))
    usb.addEventListener('connect', () => events.push(`connect@${clock.now()}`))
    const dev = await openFirst(usb)
    await inHex(dev, INIT(40), 64)
    await clock.advance(5000)
    expect(events).to.deep.equal([]) // nothing happens until the host has read the result (§2.5)
    await inHex(dev, CHECK(1), 64)
    await clock.advance(999)
    expect(events).to.deep.equal([])
    await clock.advance(1)
    expect(events).to.deep.equal(['disconnect@6000'])
    expect(await usb.getDevices()).to.deep.equal([])
    await clock.advance(500)
    expect(events).to.deep.equal(['disconnect@6000', 'connect@6500'])
    const fresh = await current(usb)
    expect(fresh).to.not.equal(dev)
    expect(fresh.serialNumber).to.equal(dev.serialNumber)
    expect(fresh.productId).to.equal(0xc00c)
    expect(usb.device(ARGON_ID)!.mode).to.equal('normal')
  })

  it('a cancelled RESET(40) never resets', async () => {
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec({faults: {blockedSystemThread: true}}), {}, clock)
    const dev = await openFirst(usb)
    await inHex(dev, INIT(40), 64)
    await inHex(dev, RESET(1), 64)
    await clock.advance(10_000)
    expect(usb.device(ARGON_ID)!.usbDevice).to.equal(dev)
  })

  it('DFU_MODE(50): the old USBDevice dies (NotFoundError), a new one appears with the DFU PID and the same serial', async () => {
    const {usb} = bus(spec({platform: 'boron'}))
    const dev = await openFirst(usb)
    const gone = nextEvent(usb, 'disconnect')
    const back = nextEvent(usb, 'connect')
    await resetRequest(dev, 50)
    expect((await gone).device).to.equal(dev)
    const fresh = (await back).device
    expect(fresh).to.not.equal(dev)
    expect([fresh.vendorId, fresh.productId, fresh.serialNumber, fresh.productName]).to.deep.equal([
      0x2b04,
      0xd00d,
      ARGON_ID,
      'Boron DFU Mode',
    ])
    expect(fresh.opened).to.equal(false)
    expect(dev.opened).to.equal(true) // the `usb` package keeps `opened` on a device that went away
    for (const call of [
      () => dev.controlTransferIn(getDescriptor(1, 0), 18),
      () => dev.controlTransferOut({index: 0, recipient: 'device', request: 3, requestType: 'vendor', value: 0}, new Uint8Array(1)),
      () => dev.open(),
      () => dev.claimInterface(0),
      () => dev.reset(),
    ]) {
      expect((await rejection(call())).message).to.match(/^\w+ error: device disconnected$/) // `usb` 3.1.0's words
    }
    await dev.close() // resolves, as in the `usb` package
    expect(usb.log.at(-1)!.status).to.equal('error')
  })

  it('the boot rule: nRF52840 below 4.0 with DCT byte 0x00 or 0xFF boots into listening; anything else does not', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['argon', '3.3.1', 0xff, 'listening'],
      ['argon', '1.5.2', 0x00, 'listening'],
      ['boron', '2.3.1', 0x01, 'normal'],
      ['bsom', '3.3.1', 0x02, 'normal'], // any other value counts as done
      ['argon', '4.0.0', 0xff, 'normal'],
      ['boron', '6.2.0', 0x00, 'normal'],
      ['photon', '3.3.1', 0xff, 'normal'],
      ['p2', '5.9.0', 0xff, 'normal'],
    ]
    for (const [platform, deviceOs, setupDone, expected] of cases) {
      const {usb} = bus(spec({deviceOs, platform, setupDone}))
      const back = nextEvent(usb, 'connect')
      await resetRequest(await openFirst(usb), 40)
      await back
      expect(usb.device(ARGON_ID)!.mode, `${platform} ${deviceOs} 0x${setupDone.toString(16)}`).to.equal(expected)
    }
  })

  it('SAFE_MODE(60): boots into Safe Mode, listening too when the boot rule says so', async () => {
    for (const [setupDone, listening] of [
      [0xff, true],
      [0x01, false],
    ] as const) {
      const {usb} = bus(spec({setupDone}))
      const back = nextEvent(usb, 'connect')
      await resetRequest(await openFirst(usb), 60)
      await back
      const model = usb.device(ARGON_ID)!
      expect([model.mode, model.listening]).to.deep.equal(['safe', listening])
      expect((await current(usb)).productId).to.equal(0xc00c)
    }
  })

  it('setMode presses the buttons: disconnect now, connect bootMs later, boot rule when booting normally', async () => {
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec({setupDone: 0xff}), {bootMs: 300}, clock)
    const first = await current(usb)
    usb.setMode(ARGON_ID, 'dfu')
    expect(first.opened).to.equal(false)
    expect(await usb.getDevices()).to.deep.equal([])
    await clock.advance(300)
    const dfu = await current(usb)
    expect(dfu.productId).to.equal(0xd00c)
    usb.setMode(ARGON_ID, 'normal')
    await clock.advance(300)
    expect(usb.device(ARGON_ID)!.mode).to.equal('listening') // 0xFF below 4.0
    usb.setMode(ARGON_ID, 'safe', {listening: false})
    await clock.advance(300)
    expect([usb.device(ARGON_ID)!.mode, usb.device(ARGON_ID)!.listening]).to.deep.equal(['safe', false])
    usb.device(ARGON_ID)!.setSetupDone(0x01)
    usb.setMode(ARGON_ID, 'normal')
    await clock.advance(300)
    expect(usb.device(ARGON_ID)!.mode).to.equal('normal')
    usb.setMode(ARGON_ID, 'listening')
    await clock.advance(300)
    expect(usb.device(ARGON_ID)!.mode).to.equal('listening')
  })

  it('calls onconnect / ondisconnect, and addDevice / removeDevice plug and unplug at once', async () => {
    const {usb} = bus([])
    const seen: string[] = []
    usb.onconnect = (ev) => seen.push(`connect ${ev.device.serialNumber}`)
    usb.ondisconnect = (ev) => seen.push(`disconnect ${ev.device.serialNumber}`)
    usb.addDevice(spec({id: 'ABCDEFABCDEFABCDEFABCDEF'}))
    expect((await usb.getDevices()).map((d) => d.serialNumber)).to.deep.equal(['abcdefabcdefabcdefabcdef'])
    usb.removeDevice('abcdefabcdefabcdefabcdef')
    expect(await usb.getDevices()).to.deep.equal([])
    expect(seen).to.deep.equal(['connect abcdefabcdefabcdefabcdef', 'disconnect abcdefabcdefabcdefabcdef'])
    expect(usb.specs()).to.deep.equal([])
    expect(() => usb.addDevice(spec({id: 'xyz'}))).to.throw(TypeError, 'id must be 24 hex digits')
  })

  it('reports state changes (DCT byte, mode) through onStateChange, and specs() shows the state now', async () => {
    const {usb} = bus(spec({mode: 'listening', name: 'bench-argon', setupDone: 0xff}))
    let changes = 0
    const off = usb.onStateChange(() => changes++)
    const dev = await openFirst(usb)
    await request(dev, 73, '08 01')
    expect(changes).to.equal(1)
    await request(dev, 71)
    expect(changes).to.equal(2)
    expect(usb.specs()).to.deep.equal([
      {deviceOs: '3.3.1', id: ARGON_ID, mode: 'normal', name: 'bench-argon', platform: 'argon', setupDone: 1},
    ])
    off()
    await request(dev, 70)
    expect(changes).to.equal(2)
  })

  it('close() cancels timers but completes a reset already under way in the state', async () => {
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec({platform: 'boron'}), {}, clock)
    await resetRequest(await openFirst(usb), 50)
    expect(clock.pending).to.equal(1)
    usb.close()
    expect(clock.pending).to.equal(0)
    expect(usb.specs()[0].mode).to.equal('dfu')
  })

  it('a USB bus reset from the host cancels active control requests', async () => {
    const {usb} = bus(spec({faults: {blockedSystemThread: true}}))
    const dev = await openFirst(usb)
    await inHex(dev, INIT(74), 64)
    await dev.reset()
    expect(await inHex(dev, CHECK(1), 64)).to.equal('01 00 00 00 05 00')
  })

  it('restarts request ids at 1 after every boot', async () => {
    const {usb} = bus(spec({setupDone: 0x01}))
    const dev = await openFirst(usb)
    await request(dev, 20)
    const back = nextEvent(usb, 'connect')
    await resetRequest(dev, 40) // id 2
    const fresh = (await back).device
    await fresh.open()
    expect((await request(fresh, 20)).id).to.equal(1)
  })
})
