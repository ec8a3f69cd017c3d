// A browser's WebUSB around the simulator: a page sees only the devices it was granted, each by vendor, product ID
// and serial number, so the same device in DFU mode (another product ID) needs a grant of its own; events come only
// for granted devices; a chooser closed without a choice rejects as Chromium does.
import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {createVirtualUsb, GrantingUsb} from '../../../src/lib/virtual/core.js'

const ID = 'e00fce681a2b3c4d5e6f7a8b'

describe("virtual: a browser's grants around the bus", () => {
  it('lists, and tells of, only what was granted; DFU mode is another grant', async () => {
    const clock = new FakeClock(0, false)
    const bus = createVirtualUsb({clock, devices: [{deviceOs: '3.3.1', id: ID, mode: 'normal', platform: 'argon', setupDone: 1}]})
    let pick = true
    const usb = new GrantingUsb(bus, async (shown) => (pick ? shown[0] : undefined))
    const events: string[] = []
    usb.addEventListener('connect', (ev) => events.push(`connect ${ev.device.productId.toString(16)}`))
    usb.onconnect = () => events.push('onconnect')
    expect(await usb.getDevices()).to.deep.equal([])
    const d = await usb.requestDevice({filters: [{vendorId: 0x2b04}]})
    expect(d.productId).to.equal(0xc00c)
    expect(await usb.getDevices()).to.deep.equal([d])
    bus.setMode(ID, 'dfu')
    await clock.advance(1000)
    expect(events).to.deep.equal([]) // the DFU-mode device is not granted: no event, not listed
    expect(await usb.getDevices()).to.deep.equal([])
    const dfu = await usb.requestDevice({filters: [{productId: 0xd00c, serialNumber: ID.toUpperCase(), vendorId: 0x2b04}]})
    expect(dfu.productId).to.equal(0xd00c)
    bus.setMode(ID, 'normal')
    await clock.advance(1000)
    expect(events).to.deep.equal(['onconnect', 'connect c00c'])
    pick = false
    const closed = await usb.requestDevice({filters: [{vendorId: 0x2b04}]}).catch((error: Error) => error.name)
    expect(closed).to.equal('NotFoundError')
  })
})
