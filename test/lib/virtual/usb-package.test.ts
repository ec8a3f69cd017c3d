/**
 * Where the `usb` package (3.1.0, what users run) differs from the W3C WebUSB text, the virtual bus behaves like
 * the package. Each case here was seen on real kernel USB devices (npm run test:usb-vm, test/usb-vm/) and is
 * kept here so that `npm test` alone catches a regression.
 */
import {expect} from 'chai'

import {waitForReturn} from '../../../src/lib/device/reboot.js'
import type {UsbBackend} from '../../../src/lib/usb/backend.js'
import {findParticleDevices, type FoundDevice, identifyParticle, sameEnumeration, serialOf} from '../../../src/lib/usb/discovery.js'
import {STALL, UsbIo} from '../../../src/lib/usb/io.js'
import {isGone, isStall, isTimeout, mapUsbError} from '../../../src/lib/usb/errors.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {createVirtualUsb} from '../../../src/lib/virtual/index.js'
import {bus, dfuClass, INIT, nextEvent, openFirst, rejection, spec, vendor} from './helpers.js'

const ID = spec().id

describe('virtual bus: the `usb` package 3.1.0 where it differs from W3C WebUSB', () => {
  it('a stalled control transfer rejects "endpoint stalled" (WebUSB: resolves with status stall); the log says stall', async () => {
    const {usb} = bus(spec({faults: {stallControl: true}}))
    const dev = await openFirst(usb)
    const inError = await rejection(dev.controlTransferIn(INIT(20), 64))
    expect(inError.message).to.equal('controlTransferIn error: endpoint stalled')
    expect(inError).to.include({code: 'GenericFailure', name: 'Error'})
    const outError = await rejection(dev.controlTransferOut(vendor(0x50, 0, 40), new Uint8Array(0)))
    expect(outError.message).to.equal('controlTransferOut error: endpoint stalled')
    expect(usb.log.map((r) => r.status)).to.deep.equal(['stall', 'stall'])
  })

  it('UsbIo turns the rejected stall back into a refusal (STALL), in and out', async () => {
    const {usb} = bus(spec({faults: {stallControl: true}}))
    const io = new UsbIo(await openFirst(usb), ID)
    expect(await io.in(INIT(20), 64, 'INIT')).to.equal(STALL)
    expect(await io.out(vendor(0x50, 0, 40), undefined, 'raw OUT')).to.equal(STALL)
    expect(isStall(new Error('controlTransferIn error: endpoint stalled'))).to.equal(true)
    expect(isStall(new Error('controlTransferIn error: device disconnected'))).to.equal(false)
  })

  it('a transfer timeout rejects "transfer was cancelled", which we map to the timeout error (exit 6)', async () => {
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec({deviceOs: '5.9.0', platform: 'p2'}), {}, clock)
    const dev = await openFirst(usb)
    const pending = rejection(dev.controlTransferOut(vendor(0x50, 0, 302), new Uint8Array(0)))
    await clock.advance(1000)
    const error = await pending
    expect(error.message).to.equal('controlTransferOut error: transfer was cancelled')
    expect(isTimeout(error)).to.equal(true)
    expect(mapUsbError(error, 'x').code).to.equal('SETUP_FLAG_TIMEOUT')
  })

  it('a device that went away rejects "device disconnected", keeps `opened` true, and close() resolves', async () => {
    const {usb} = bus(spec({faults: {unplugAfterTransfers: 1}}))
    const dev = await openFirst(usb)
    const gone = nextEvent(usb, 'disconnect')
    await dev.controlTransferIn(INIT(20), 64) // the first transfer completes, then the device vanishes
    await gone
    const error = await rejection(dev.controlTransferIn(INIT(20), 64))
    expect(error.message).to.equal('controlTransferIn error: device disconnected')
    expect(isGone(error)).to.equal(true)
    expect(dev.opened).to.equal(true)
    await dev.close()
    expect(dev.opened).to.equal(false)
  })

  it('a closed device or an unclaimed interface rejects "invalid state"; a missing interface "interface not found"', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const [dev] = await usb.getDevices()
    expect((await rejection(dev.controlTransferIn(INIT(20), 64))).message).to.equal('controlTransferIn error: invalid state')
    await dev.open()
    expect((await rejection(dev.controlTransferIn(dfuClass(3), 6))).message).to.equal('controlTransferIn error: invalid state')
    expect((await rejection(dev.selectAlternateInterface(0, 1))).message).to.equal('selectAlternateInterface error: invalid state')
    expect((await rejection(dev.claimInterface(9))).message).to.equal('claimInterface error: interface not found (errno 2)')
    expect((await rejection(dev.releaseInterface(0))).message).to.equal('releaseInterface error: not claimed')
  })

  it('controlTransferOut without data throws a TypeError (WebUSB lets it be omitted)', async () => {
    const {usb} = bus(spec())
    const dev = await openFirst(usb)
    const error = await rejection(dev.controlTransferOut(vendor(0x50, 0, 40)))
    expect(error).to.be.instanceOf(TypeError)
    expect(usb.log).to.deep.equal([]) // nothing reached the device
  })
})

describe('virtual bus: the `usb` package\'s borrow rules (an object used while a call holds it)', () => {
  const CONFLICT = 'The same native value cannot be borrowed mutably while another borrow is active'
  const throwsConflict = (fn: () => unknown) => expect(fn).to.throw(CONFLICT).with.property('code', 'InvalidArg')

  it('a getter while open() runs or a transfer is pending throws at once; close() during a transfer too; a transfer during open() rejects', async () => {
    const {usb} = bus(spec())
    const [dev] = await usb.getDevices()
    const opening = dev.open()
    throwsConflict(() => dev.vendorId)
    throwsConflict(() => dev.opened)
    expect((await rejection(dev.controlTransferIn(INIT(20), 64))).message).to.equal(CONFLICT)
    throwsConflict(() => dev.close())
    await opening
    const pending = dev.controlTransferIn(INIT(20), 64)
    for (const read of [() => dev.vendorId, () => dev.serialNumber, () => dev.configuration, () => dev.claimInterface(0), () => dev.close()]) throwsConflict(read)
    await pending
    expect(dev.serialNumber).to.equal(ID) // settled: free again
    await dev.close()
  })

  it('identifyParticle and serialOf never throw: an object in use is {inUse}, its serial undefined', async () => {
    const {usb} = bus(spec())
    const [dev] = await usb.getDevices()
    await dev.open()
    const pending = dev.controlTransferIn(INIT(20), 64)
    expect(identifyParticle(dev)).to.deep.equal({inUse: true})
    expect(serialOf(dev)).to.equal(undefined)
    await pending
    expect(identifyParticle(dev)).to.include({id: ID})
    expect(serialOf(dev)).to.equal(ID)
  })

  it('a bus standing for a browser (borrowRules: false) has none of them', async () => {
    const usb = createVirtualUsb({borrowRules: false, clock: new FakeClock(), devices: [spec()]})
    const [dev] = await usb.getDevices()
    const opening = dev.open()
    expect(dev.vendorId).to.be.a('number')
    await opening
    const pending = dev.controlTransferIn(INIT(20), 64)
    expect(dev.serialNumber).to.equal(ID)
    await pending
  })
})

describe('virtual bus: a new USBDevice object on every getDevices(), as the `usb` package hands them out', () => {
  /** The virtual bus seen the way the `usb` package shows a bus: fresh objects for the same enumerations. */
  function freshObjects(usb: ReturnType<typeof bus>['usb']): UsbBackend {
    const fresh = {
      addEventListener: (t: string, l: EventListener) => usb.addEventListener(t, l),
      getDevices: async () => (await usb.getDevices()).map((d) => Object.create(d) as USBDevice),
      removeEventListener: (t: string, l: EventListener) => usb.removeEventListener(t, l),
    }
    return {close() {}, description: 'USB', kind: 'usb', usb: fresh as unknown as USB}
  }

  it('each enumeration has the bus and address the usb package gives it; a re-enumeration a new address', async () => {
    const {clock, usb} = bus(spec())
    const [before] = await usb.getDevices()
    usb.setMode(ID, 'dfu')
    await clock.advance(1000)
    const [after] = await usb.getDevices()
    expect(sameEnumeration(before, Object.create(before) as USBDevice)).to.equal(true)
    expect(sameEnumeration(before, after)).to.equal(false)
  })

  it('waiting for a restart does not take the same enumeration, in a new object, for the restarted device', async () => {
    const clock = new FakeClock(0, false)
    const {usb} = bus(spec({mode: 'normal', setupDone: 1}), {}, clock)
    const backend = freshObjects(usb)
    const [old] = await findParticleDevices(backend)
    let back: FoundDevice | undefined
    const waiting = waitForReturn(old, 'normal', {backend, clock, timeoutMs: 60_000}, 'restart').then((d) => (back = d))
    const settle = () => new Promise((resolve) => setImmediate(resolve))
    await settle()
    await clock.advance(10)
    await settle()
    expect(back).to.equal(undefined) // still the old enumeration: not back yet
    usb.setMode(ID, 'normal') // the restart: disconnect now, back bootMs later
    await clock.advance(1000)
    await settle()
    await waiting
    expect(sameEnumeration(back!.usbDevice, old.usbDevice)).to.equal(false)
  })
})
