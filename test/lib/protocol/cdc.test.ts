// The serial line of Gen3 devices before 0.9.0 (docs/protocol.md §10): recognition from descriptors (pure), the
// line coding as the firmware needs it, and the DFU entry the services call, on the virtual bus.
import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {enterDfuBySerialLine, enterListeningBySerialLine} from '../../../src/lib/device/serial-line.js'
import {SetupFlagError} from '../../../src/lib/errors.js'
import {cdcControlInterface, encodeLineCoding, isGen3WithoutControlRequests, sendLineCoding} from '../../../src/lib/protocol/cdc.js'
import {findParticleDevices} from '../../../src/lib/usb/discovery.js'
import type {UsbBackend} from '../../../src/lib/usb/backend.js'
import {createVirtualUsb, type VirtualDeviceSpec} from '../../../src/lib/virtual/index.js'
import {virtualBackend} from '../../support/virtual-backend.js'

const ID = 'e00fce68000000000000fa11'
const fresh = (over: Partial<VirtualDeviceSpec> = {}): VirtualDeviceSpec => ({
  deviceOs: '0.8.0-rc.25',
  id: ID,
  mode: 'listening',
  platform: 'boron',
  setupDone: 0xff,
  ...over,
})

/** A WebUSB device as descriptors alone describe it (no I/O): interfaces by [number, class, subclass]. */
function described(vendorId: number, productId: number, interfaces: Array<[number, number, number]>) {
  return {
    configuration: {
      configurationName: null,
      configurationValue: 1,
      interfaces: interfaces.map(([interfaceNumber, interfaceClass, interfaceSubclass]) => {
        const alternate = {alternateSetting: 0, endpoints: [], interfaceClass, interfaceName: null, interfaceProtocol: 0, interfaceSubclass}
        return {alternate, alternates: [alternate], claimed: false, interfaceNumber}
      }),
    },
    productId,
    vendorId,
  } as unknown as USBDevice
}

const SET_LINE_CODING = (entry: {setup: string}) => entry.setup.startsWith('21 20')

describe('the serial line of Gen3 before 0.9.0 (docs/protocol.md §10)', () => {
  describe('isGen3WithoutControlRequests (from descriptors, no request)', () => {
    it('a Gen3 normal-mode PID with the CDC pair and no vendor interface: yes', () => {
      expect(isGen3WithoutControlRequests(described(0x2b04, 0xc00d, [[0, 2, 2], [1, 0x0a, 0]]))).to.equal(true)
      expect(isGen3WithoutControlRequests(described(0x2b04, 0xc00c, [[0, 2, 2], [1, 0x0a, 0]]))).to.equal(true)
    })

    it('with the vendor control interface (0.9.0 and later), in DFU mode, on Gen2 or Realtek, or another vendor: no', () => {
      expect(isGen3WithoutControlRequests(described(0x2b04, 0xc00d, [[0, 2, 2], [1, 0x0a, 0], [2, 0xff, 0xff]]))).to.equal(false)
      expect(isGen3WithoutControlRequests(described(0x2b04, 0xd00d, [[0, 0xfe, 1]]))).to.equal(false)
      expect(isGen3WithoutControlRequests(described(0x2b04, 0xc006, [[0, 2, 2], [1, 0x0a, 0]]))).to.equal(false) // Photon
      expect(isGen3WithoutControlRequests(described(0x2b04, 0xc020, [[0, 2, 2], [1, 0x0a, 0]]))).to.equal(false) // P2
      expect(isGen3WithoutControlRequests(described(0x1234, 0xc00d, [[0, 2, 2], [1, 0x0a, 0]]))).to.equal(false)
      expect(isGen3WithoutControlRequests(described(0x2b04, 0xc00d, [[0, 2, 2]]))).to.equal(false) // no data interface
      expect(isGen3WithoutControlRequests(described(0x2b04, 0xc00d, []))).to.equal(false)
    })

    it('agrees with the virtual device for every Device OS line and mode', async () => {
      const cases: Array<[string, VirtualDeviceSpec['mode'], boolean]> = [
        ['0.8.0-rc.25', 'listening', true],
        ['0.8.0-rc.27', 'normal', true],
        ['0.8.0-rc.27', 'safe', true],
        ['0.8.0-rc.25', 'dfu', false],
        ['0.9.0', 'normal', false],
        ['3.3.1', 'listening', false],
        ['6.2.0', 'normal', false],
      ]
      for (const [deviceOs, mode, expected] of cases) {
        const {found, usb} = virtualBackend([fresh({deviceOs, mode, setupDone: mode === 'normal' ? 1 : 0xff})])
        const [d] = await found()
        expect(isGen3WithoutControlRequests(d.usbDevice), `${deviceOs} ${mode}`).to.equal(expected)
        expect(usb.log, 'recognition sends nothing').to.have.length(0)
        usb.close()
      }
    })

    it('cdcControlInterface finds the communication interface', () => {
      expect(cdcControlInterface(described(0x2b04, 0xc00d, [[0, 2, 2], [1, 0x0a, 0]]))).to.equal(0)
      expect(cdcControlInterface(described(0x2b04, 0xc00d, [[3, 0x0a, 0], [4, 2, 2]]))).to.equal(4)
      expect(cdcControlInterface(described(0x2b04, 0xd00d, [[0, 0xfe, 1]]))).to.equal(undefined)
    })
  })

  describe('sendLineCoding', () => {
    it('encodes 14400 as 40 38 00 00, one stop bit, no parity, 8 data bits', () => {
      expect([...encodeLineCoding(14_400)]).to.deep.equal([0x40, 0x38, 0, 0, 0, 0, 8])
      expect([...encodeLineCoding(28_800)]).to.deep.equal([0x80, 0x70, 0, 0, 0, 0, 8])
    })

    it('takes the interface from cdc_acm (detach, claim) and sends SET_LINE_CODING twice to interface 0', async () => {
      const {found, usb} = virtualBackend([fresh({deviceOs: '0.8.0-rc.27', mode: 'normal', setupDone: 1})])
      const [d] = await found()
      await sendLineCoding(d.usbDevice, 28_800, {deviceId: ID})
      const sent = usb.log.filter(SET_LINE_CODING)
      expect(sent.map((e) => `${e.setup} | ${e.dataOut} | ${e.status}`)).to.deep.equal([
        '21 20 00 00 00 00 07 00 | 80 70 00 00 00 00 08 | ok',
        '21 20 00 00 00 00 07 00 | 80 70 00 00 00 00 08 | ok',
      ])
      expect(usb.device(ID)!.mode).to.equal('listening')
      usb.close()
    })

    it('a device without a CDC interface (DFU mode): the serialLine error, nothing sent', async () => {
      const {found, usb} = virtualBackend([fresh({mode: 'dfu'})])
      const [d] = await found()
      const error = await sendLineCoding(d.usbDevice, 14_400, {deviceId: ID}).catch((e: unknown) => e)
      expect(error).to.be.instanceOf(SetupFlagError)
      expect(error).to.include({code: 'SETUP_FLAG_SERIAL_LINE', exit: 6})
      expect((error as Error).message).to.equal(`Device ${ID} has no USB serial interface to set a line coding on.`)
      expect(usb.log).to.have.length(0)
      usb.close()
    })

    it('a USB library that cannot detach the system driver (macOS, Windows, a browser): the serialLine error naming it', async () => {
      const {found, usb} = virtualBackend([fresh()])
      const [d] = await found()
      const withoutDetach = new Proxy(d.usbDevice, {
        get(target, key) {
          if (key === 'detachKernelDriver') return undefined
          const value = Reflect.get(target, key, target) as unknown
          return typeof value === 'function' ? value.bind(target) : value
        },
      })
      const error = (await sendLineCoding(withoutDetach, 14_400, {deviceId: ID}).catch((e: unknown) => e)) as SetupFlagError
      expect(error.code).to.equal('SETUP_FLAG_SERIAL_LINE')
      expect(error.message).to.match(/belongs to this system's serial driver/)
      expect(error.suggestions[0]).to.match(/hold MODE, tap RESET/)
      expect(usb.device(ID)!.mode).to.equal('listening')
      usb.close()
    })
  })

  describe('enterDfuBySerialLine / enterListeningBySerialLine', () => {
    it('a factory-fresh Boron (0.8.0-rc.25, listening): 14400, then back on the bus in DFU mode, no button', async () => {
      const {backend, clock, found, usb} = virtualBackend([fresh()])
      const [d] = await found()
      const dfu = await enterDfuBySerialLine(d, {backend, clock, timeoutMs: 10_000})
      expect([dfu.id, dfu.mode, dfu.usbDevice.productId]).to.deep.equal([ID, 'dfu', 0xd00d])
      expect(usb.device(ID)!.mode).to.equal('dfu')
      expect(usb.log.filter(SET_LINE_CODING).map((e) => e.dataOut)).to.deep.equal(['40 38 00 00 00 00 08', '40 38 00 00 00 00 08'])
      expect(usb.log.some((e) => e.setup.startsWith('C0') || e.setup.startsWith('40')), 'no vendor request').to.equal(false)
      usb.close()
    })

    it('works whatever line coding the device held before: with 14400 held, it resets at the first request', async () => {
      const {backend, clock, found, usb} = virtualBackend([fresh({deviceOs: '0.8.0-rc.27', mode: 'normal', setupDone: 1})])
      const [d] = await found()
      const dev = d.usbDevice as USBDevice & {detachKernelDriver(n: number): Promise<void>}
      await dev.open()
      await dev.detachKernelDriver(0)
      await dev.claimInterface(0)
      const setup = {index: 0, recipient: 'interface', request: 0x20, requestType: 'class', value: 0} as const
      await dev.controlTransferOut(setup, encodeLineCoding(14_400) as BufferSource) // seen late: nothing happens yet
      expect(usb.device(ID)!.mode).to.equal('normal')
      let resets = 0
      usb.addEventListener('disconnect', () => resets++)
      const dfu = await enterDfuBySerialLine(d, {backend, clock, timeoutMs: 10_000})
      expect(dfu.mode).to.equal('dfu')
      expect(resets).to.equal(1)
      usb.close()
    })

    it('0.9.0 and later: its CDC class requests are not modelled and stall, so the stall error', async () => {
      const {backend, clock, found, usb} = virtualBackend([fresh({deviceOs: '1.5.2'})])
      const [d] = await found()
      const error = (await enterDfuBySerialLine(d, {backend, clock, timeoutMs: 10_000}).catch((e: unknown) => e)) as SetupFlagError
      expect(error.code).to.equal('SETUP_FLAG_USB_STALL')
      expect(usb.device(ID)!.mode).to.equal('listening')
      // The host is left as it was: cdc_acm holds the pair again, nothing claimed.
      expect((d.usbDevice as unknown as {hasKernelDriver(n: number): boolean}).hasKernelDriver(0)).to.equal(true)
      expect(d.usbDevice.configuration!.interfaces[0].claimed).to.equal(false)
      usb.close()
    })

    it('a device that goes and never comes back in DFU mode: noReturn (with the buttons) after timeoutMs on the clock', async () => {
      const {backend, clock, found, usb} = virtualBackend([fresh({faults: {unplugAfterTransfers: 1}})])
      const [d] = await found()
      const started = clock.now()
      const error = (await enterDfuBySerialLine(d, {backend, clock, timeoutMs: 7000}).catch((e: unknown) => e)) as SetupFlagError
      expect(error.code).to.equal('SETUP_FLAG_NO_RETURN')
      expect(error.message).to.equal(`Device ${ID} did not come back in DFU mode within 7 s.`)
      expect(error.suggestions[0]).to.match(/hold MODE, tap RESET, release MODE when the LED blinks yellow/)
      expect(clock.now() - started).to.equal(7000)
      usb.close()
    })

    it('28800: Listening Mode from normal mode, same enumeration; 14400 afterwards still enters DFU mode', async () => {
      const clock = new FakeClock()
      const usb = createVirtualUsb({clock, devices: [fresh({deviceOs: '0.8.0-rc.27', mode: 'normal', setupDone: 1})]})
      const backend: UsbBackend = {close: () => usb.close(), description: 'virtual', kind: 'virtual', usb}
      const [d] = await findParticleDevices(backend)
      await enterListeningBySerialLine(d)
      expect(usb.device(ID)!.mode).to.equal('listening')
      expect((await usb.getDevices())[0]).to.equal(d.usbDevice)
      // The first 14400 request sees 28800 (already listening: nothing), the second sees 14400.
      const dfu = await enterDfuBySerialLine(d, {backend, clock, timeoutMs: 5000})
      expect(dfu.mode).to.equal('dfu')
      usb.close()
    })
  })
})
