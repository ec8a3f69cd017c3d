// Gen3 system firmware before 0.9.0, held to Device OS's own sources: each test names the rule of docs/protocol.md
// "Gen3 before 0.9.0" it checks, and the source line is written there.
import {expect} from 'chai'

import {lineCoding} from '../../../src/lib/virtual/cdc.js'
import type {VirtualUsbDevice} from '../../../src/lib/virtual/index.js'
import {
  ARGON_ID,
  BORON_ID,
  bus,
  CHECK,
  fromHex,
  getDescriptor,
  inHex,
  INIT,
  nextEvent,
  openFirst,
  out,
  rejection,
  spec,
  toHex,
  vendor,
} from './helpers.js'

const RC25 = '0.8.0-rc.25'
const boron = (over: Parameters<typeof spec>[0] = {}) => spec({deviceOs: RC25, id: BORON_ID, mode: 'listening', platform: 'boron', setupDone: 0xff, ...over})

const cdc = (request: number, index = 0, value = 0): USBControlTransferParameters => ({index, recipient: 'interface', request, requestType: 'class', value})
const SET_LINE_CODING = (index = 0) => cdc(0x20, index)
const GET_LINE_CODING = cdc(0x21)
const SET_CONTROL_LINE_STATE = (value: number) => cdc(0x22, 0, value)

/** Open the device and take the CDC pair from the host's cdc_acm, as a Linux host must before a class request. */
async function openCdc(usb: ReturnType<typeof bus>['usb']): Promise<USBDevice> {
  const dev = (await openFirst(usb)) as VirtualUsbDevice
  await dev.detachKernelDriver(0)
  await dev.claimInterface(0)
  return dev
}

const rate = (n: number) => lineCoding(n)

describe('Gen3 before 0.9.0 (docs/protocol.md "Gen3 before 0.9.0")', () => {
  describe('no control interface, every vendor request stalls', () => {
    it('the configuration holds the CDC ACM pair only: no vendor-specific interface, no interface string 4, class 0/0/0', async () => {
      const {usb} = bus(boron())
      const dev = await openFirst(usb)
      const classes = dev.configuration!.interfaces.map((i) => [i.interfaceNumber, i.alternate.interfaceClass])
      expect(classes).to.deep.equal([
        [0, 0x02],
        [1, 0x0a],
      ])
      const config = fromHex(await inHex(dev, getDescriptor(2, 0), 255))
      expect(config[4], 'bNumInterfaces').to.equal(2)
      expect([...config].some((b, i) => config[i + 1] === 0x04 && b === 9 && config[i + 5] === 0xff), 'a vendor interface descriptor').to.equal(false)
      expect(await inHex(dev, getDescriptor(3, 4, 0x0409), 255)).to.equal('stall')
      expect([dev.deviceClass, dev.deviceSubclass, dev.deviceProtocol]).to.deep.equal([0, 0, 0])
      expect([dev.vendorId, dev.productId]).to.deep.equal([0x2b04, 0xc00d]) // the same IDs as later releases
    })

    it('stalls service requests 0x01-0x05 and raw 0x50 in listening, normal and Safe Mode (0.8.0-rc.27, USB from boot)', async () => {
      for (const mode of ['listening', 'normal', 'safe'] as const) {
        const {usb} = bus(boron({deviceOs: '0.8.0-rc.27', mode, setupDone: mode === 'normal' ? 0x01 : 0xff}))
        const dev = await openFirst(usb)
        for (const request of [1, 2, 4, 5]) expect(await inHex(dev, vendor(request, 0, request === 1 ? 73 : 1), 64), `${mode} ${request}`).to.equal('stall')
        expect(await out(dev, vendor(3, 0, 1), '08 01'), `${mode} SEND`).to.equal('stall')
        expect(await inHex(dev, vendor(0x50, 0, 30), 64), `${mode} raw 30`).to.equal('stall')
        expect(await out(dev, vendor(0x50, 0, 40), new Uint8Array(0)), `${mode} raw 40`).to.equal('stall')
        expect(usb.device(BORON_ID)!.mode).to.equal(mode) // nothing reset it
        usb.close()
      }
    })

    it('0.9.0-rc.1 already has the control interface and answers INIT (its release commit carries the vendor requests)', async () => {
      const {usb} = bus(boron({deviceOs: '0.9.0-rc.1'}))
      const dev = await openFirst(usb)
      expect(dev.configuration!.interfaces.map((i) => i.alternate.interfaceClass)).to.deep.equal([0x02, 0x0a, 0xff])
      expect(await inHex(dev, INIT(74), 64)).to.match(/^03 00 00 00 00 00/)
      expect(await inHex(dev, CHECK(1), 64)).to.not.equal('stall')
    })

    it('DFU mode is the bootloader, unchanged: the DFU PID and the DFU interface', async () => {
      const {usb} = bus(boron({mode: 'dfu'}))
      const dev = await openFirst(usb)
      expect(dev.productId).to.equal(0xd00d)
      expect(dev.configuration!.interfaces[0].alternate.interfaceClass).to.equal(0xfe)
    })
  })

  describe('the CDC line coding (14400 DFU, 28800 listening)', () => {
    it('SET_LINE_CODING 14400 then another SET_LINE_CODING resets into DFU mode: the handler sees the coding before the data stage', async () => {
      const {usb} = bus(boron())
      const dev = await openCdc(usb)
      expect(await out(dev, SET_LINE_CODING(), rate(14_400))).to.equal('ok')
      expect(usb.device(BORON_ID)!.mode, 'one SET_LINE_CODING is seen one request late').to.equal('listening')
      expect(toHex(fromHex(await inHex(dev, GET_LINE_CODING, 7)))).to.equal(toHex(rate(14_400)))
      const gone = nextEvent(usb, 'disconnect')
      const back = nextEvent(usb, 'connect')
      expect(await out(dev, SET_LINE_CODING(), rate(9600))).to.equal('ok')
      expect((await gone).device).to.equal(dev)
      const fresh = (await back).device
      expect([fresh.serialNumber, fresh.productId]).to.deep.equal([BORON_ID, 0xd00d])
      expect(usb.device(BORON_ID)!.mode).to.equal('dfu')
    })

    it('28800 (seen the same way) enters Listening Mode from normal mode, with no reset', async () => {
      const {usb} = bus(boron({deviceOs: '0.8.0-rc.27', mode: 'normal', setupDone: 0x01}))
      const dev = await openCdc(usb)
      let disconnects = 0
      usb.addEventListener('disconnect', () => disconnects++)
      await out(dev, SET_LINE_CODING(), rate(28_800))
      expect(usb.device(BORON_ID)!.mode).to.equal('normal')
      await out(dev, SET_LINE_CODING(), rate(28_800))
      expect(usb.device(BORON_ID)!.mode).to.equal('listening')
      expect(disconnects).to.equal(0)
      expect((await usb.getDevices())[0]).to.equal(dev) // the same enumeration
    })

    it('other rates change nothing; the class requests take either interface of the pair; bad lengths and other requests stall', async () => {
      const {usb} = bus(boron())
      const dev = (await openFirst(usb)) as VirtualUsbDevice
      await dev.detachKernelDriver(1)
      await dev.claimInterface(1)
      expect(toHex(fromHex(await inHex(dev, {...GET_LINE_CODING, index: 1}, 7)))).to.equal(toHex(rate(9600))) // the console's 9600
      for (const r of [115_200, 19_200, 14_401]) expect(await out(dev, SET_LINE_CODING(1), rate(r))).to.equal('ok')
      expect(usb.device(BORON_ID)!.mode).to.equal('listening')
      expect(await out(dev, SET_LINE_CODING(1), '40 38 00 00 00 00')).to.equal('stall') // wLength 6
      expect(await inHex(dev, {...GET_LINE_CODING, index: 1}, 8)).to.equal('stall') // wLength 8
      await dev.releaseInterface(1)
      await dev.claimInterface(0)
      expect(await out(dev, SET_CONTROL_LINE_STATE(3), new Uint8Array(0))).to.equal('ok')
      expect(await out(dev, cdc(0x23), new Uint8Array(0))).to.equal('stall') // SEND_BREAK: not handled
    })

    it('14400 seen while already 14400 resets at the first request; the line coding does not survive the reset', async () => {
      const {usb} = bus(boron({deviceOs: '0.8.0-rc.27', mode: 'normal', setupDone: 0x01}))
      const dev = await openCdc(usb)
      await out(dev, SET_LINE_CODING(), rate(14_400))
      const back = nextEvent(usb, 'connect')
      await out(dev, SET_LINE_CODING(), rate(14_400))
      await back
      usb.setMode(BORON_ID, 'normal')
      await nextEvent(usb, 'connect')
      const again = await openCdc(usb)
      expect(toHex(fromHex(await inHex(again, GET_LINE_CODING, 7)))).to.equal(toHex(rate(9600)))
    })

    it('Device OS 0.9.0 and later: unchanged, the CDC class requests stall as before', async () => {
      const {usb} = bus(boron({deviceOs: '1.5.2'}))
      const dev = await openCdc(usb)
      expect(await out(dev, SET_LINE_CODING(), rate(14_400))).to.equal('stall')
      expect(await out(dev, SET_LINE_CODING(), rate(9600))).to.equal('stall')
      expect(usb.device(BORON_ID)!.mode).to.equal('listening')
    })
  })

  describe('when the system firmware is on USB at all', () => {
    it('0.8.0-rc.27 and later: from boot, in every mode', async () => {
      const {usb} = bus(boron({deviceOs: '0.8.0-rc.27', mode: 'normal', setupDone: 0x01}))
      expect((await usb.getDevices()).map((d) => d.serialNumber)).to.deep.equal([BORON_ID])
    })

    it('0.8.0-rc.15 to rc.26: only while USB serial runs: listening (the console starts it), or an application with "serial": true', async () => {
      const cases: Array<[string, Partial<Parameters<typeof spec>[0]>, boolean]> = [
        ['listening', {mode: 'listening'}, true],
        ['normal, no serial', {mode: 'normal', setupDone: 0x01}, false],
        ['normal, serial', {mode: 'normal', serial: true, setupDone: 0x01}, true],
        ['Safe Mode, serial (no application runs)', {mode: 'safe', serial: true, setupDone: 0x01}, false],
        ['Safe Mode, listening', {listening: true, mode: 'safe', setupDone: 0x01}, true],
        ['rc.15, listening', {deviceOs: '0.8.0-rc.15', mode: 'listening'}, true],
        ['rc.26, normal, no serial', {deviceOs: '0.8.0-rc.26', mode: 'normal', setupDone: 0x01}, false],
      ]
      for (const [what, over, onUsb] of cases) {
        const {usb} = bus(boron(over))
        expect((await usb.getDevices()).length, what).to.equal(onUsb ? 1 : 0)
        expect(usb.device(BORON_ID)!.connected, what).to.equal(onUsb)
        usb.close()
      }
    })

    it('0.8.0-rc.15 to rc.26 with an application running serial: 28800 enters Listening Mode', async () => {
      const {usb} = bus(boron({mode: 'normal', serial: true, setupDone: 0x01}))
      const dev = await openCdc(usb)
      await out(dev, SET_LINE_CODING(), rate(28_800))
      await out(dev, SET_LINE_CODING(), rate(28_800))
      expect(usb.device(BORON_ID)!.mode).to.equal('listening')
    })

    it('0.8.0-rc.15 to rc.26: a reset into normal mode takes a device without serial off the bus; the buttons into listening bring it back', async () => {
      const {usb} = bus(boron({mode: 'listening', setupDone: 0x01}))
      expect(await usb.getDevices()).to.have.length(1)
      usb.setMode(BORON_ID, 'normal')
      await usb.clock.sleep(usb.timing.bootMs + 1)
      expect(usb.device(BORON_ID)!.mode).to.equal('normal')
      expect(await usb.getDevices()).to.have.length(0)
      const back = nextEvent(usb, 'connect')
      usb.setMode(BORON_ID, 'listening')
      expect((await back).device.serialNumber).to.equal(BORON_ID)
    })

    it('below 0.8.0-rc.15 (0.8.0-rc.13, the first Gen3 release): never on USB but in DFU mode', async () => {
      for (const mode of ['listening', 'normal', 'safe'] as const) {
        const {usb} = bus(spec({deviceOs: '0.8.0-rc.13', mode, serial: true}))
        expect(await usb.getDevices(), mode).to.have.length(0)
        usb.close()
      }
      const {usb} = bus(spec({deviceOs: '0.8.0-rc.13', mode: 'dfu'}))
      expect((await usb.getDevices()).map((d) => [d.serialNumber, d.productId])).to.deep.equal([[ARGON_ID, 0xd00c]])
    })

    it('the devices file keeps "serial" (written only when true) and rejects anything but a boolean', async () => {
      const {usb} = bus([boron({serial: true}), spec({serial: false})])
      expect(usb.specs().map((s) => s.serial)).to.deep.equal([true, undefined])
      expect(() => bus(boron({serial: 'yes' as never}))).to.throw(TypeError, /devices\[0\]\.serial must be true or false/)
    })
  })

  describe('the host side: cdc_acm holds the CDC pair (the `usb` package on Linux)', () => {
    it('claimInterface is busy until detachKernelDriver; attachKernelDriver binds the pair again', async () => {
      const {usb} = bus(boron())
      const dev = (await openFirst(usb)) as VirtualUsbDevice
      expect((await rejection(dev.claimInterface(0))).message).to.equal('claimInterface error: interface is busy (errno 16)')
      expect((await rejection(dev.claimInterface(1))).message).to.equal('claimInterface error: interface is busy (errno 16)')
      await dev.detachKernelDriver(0)
      expect((await rejection(dev.detachKernelDriver(1))).message).to.equal('detachKernelDriver error: no kernel driver attached (errno 61)')
      await dev.attachKernelDriver(0)
      expect((await rejection(dev.attachKernelDriver(0))).message).to.equal('attachKernelDriver error: kernel driver already attached (errno 16)')
      await dev.detachKernelDriver(1)
      await dev.claimInterface(0)
      await dev.claimInterface(1)
      expect(await out(dev, SET_LINE_CODING(), rate(9600))).to.equal('ok')
    })

    it('DFU mode has no kernel driver on its interface', async () => {
      const {usb} = bus(boron({mode: 'dfu'}))
      const dev = (await openFirst(usb)) as VirtualUsbDevice
      await dev.claimInterface(0)
      expect((await rejection(dev.detachKernelDriver(0))).message).to.equal('detachKernelDriver error: no kernel driver attached (errno 61)')
    })
  })
})
