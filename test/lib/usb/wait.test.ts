// Waiting for a device to come back among many: the connect event's own device is checked, and a wait that knows
// the device's serial number looks at that device alone, so restarting thousands of devices costs linear time.
import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import type {UsbBackend} from '../../../src/lib/usb/backend.js'
import {waitForDevice} from '../../../src/lib/usb/wait.js'
import {createVirtualUsb} from '../../../src/lib/virtual/index.js'

const id = (n: number) => `e00fce68${n.toString(16).padStart(16, '0')}`

function fleet(n: number) {
  const clock = new FakeClock()
  const usb = createVirtualUsb({clock, devices: Array.from({length: n}, (_, i) => ({deviceOs: '3.3.1', id: id(i), mode: 'normal', platform: 'argon', setupDone: 1})), keepLog: false})
  let listings = 0
  const getDevices = usb.getDevices.bind(usb)
  usb.getDevices = () => {
    listings++
    return getDevices()
  }
  const backend: UsbBackend = {close: () => usb.close(), description: 'test', kind: 'virtual', usb}
  return {backend, clock, listings: () => listings, usb}
}

describe('waiting for a device among many', () => {
  it('a device restarting into DFU mode is found by its connect event: one listing (the first look), whatever else restarts', async () => {
    const {backend, clock, listings, usb} = fleet(1000)
    const target = id(500)
    usb.setMode(target, 'dfu')
    for (let i = 0; i < 20; i++) usb.setMode(id(i), 'dfu') // others come back at the same time, and announce it
    const found = await waitForDevice(backend, (d) => d.id === target && d.mode === 'dfu', {clock, recheckMs: 3_600_000, serialNumber: target.toUpperCase(), timeoutMs: 60_000})
    expect(found.id).to.equal(target)
    expect(found.mode).to.equal('dfu')
    expect(listings()).to.equal(1)
    usb.close()
  })

  it('a device already back is found by the first look, by its serial number in any case', async () => {
    const {backend, clock, usb} = fleet(50)
    const found = await waitForDevice(backend, (d) => d.id === id(7), {clock, serialNumber: id(7).toUpperCase(), timeoutMs: 1000})
    expect(found.id).to.equal(id(7))
    usb.close()
  })

  it('with no serial number, the first match in ID order, as before', async () => {
    const {backend, clock, usb} = fleet(50)
    const found = await waitForDevice(backend, (d) => d.mode === 'normal', {clock, timeoutMs: 1000})
    expect(found.id).to.equal(id(0))
    usb.close()
  })

  it('a connect event missed is caught by the re-check, which looks for the serial number too', async () => {
    const {backend, clock, listings, usb} = fleet(100)
    const target = id(42)
    usb.setMode(target, 'dfu')
    // A host that misses hot-plug events (no udevd): the bus announces nothing to this wait.
    const add = usb.addEventListener.bind(usb)
    usb.addEventListener = ((type: string, ...rest: unknown[]) => (type === 'connect' ? undefined : (add as (...a: unknown[]) => void)(type, ...rest))) as typeof usb.addEventListener
    const found = await waitForDevice(backend, (d) => d.id === target && d.mode === 'dfu', {clock, recheckMs: 1000, serialNumber: target, timeoutMs: 60_000})
    expect(found.mode).to.equal('dfu')
    expect(listings()).to.be.at.least(2)
    usb.close()
  })

  it('a look for one device by its serial number never reads the serial string of anything else (a keyboard without one)', async () => {
    const {backend, clock, usb} = fleet(3)
    // As the usb package (3.x) shows a device the system knows no serial string for: reading serialNumber opens it
    // and asks it (here, without permission, it throws as the package does).
    let keyboardAsked = 0
    const keyboard = {
      productId: 0x2010,
      get serialNumber(): string {
        keyboardAsked++
        throw new Error('open error: Permission denied (os error 13)')
      },
      vendorId: 0x046d,
    } as unknown as USBDevice
    const listed = usb.getDevices
    usb.getDevices = async () => [keyboard, ...(await listed())]
    const found = await waitForDevice(backend, (d) => d.id === id(2), {clock, serialNumber: id(2), timeoutMs: 1000})
    expect(found.id).to.equal(id(2))
    expect(keyboardAsked).to.equal(0)
    usb.close()
  })
})
