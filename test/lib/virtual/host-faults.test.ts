// The faults that stand for the host's `usb` package on another system: `usbError` (a call rejects with exactly
// the text given) and `claimForControl` (Windows: a device-recipient control transfer needs a claimed interface).
import {expect} from 'chai'

import {bus, spec, vendor} from './helpers.js'

const reject = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (error: Error) => error.message,
  )

describe('virtual device: faults of the host\'s usb package (usbError, claimForControl)', () => {
  it('usbError: open, claimInterface and every control transfer reject with exactly the text given, and nothing reaches the wire', async () => {
    const {usb} = bus(spec({faults: {usbError: {claimInterface: 'claimInterface error: X', controlTransfer: 'controlTransferIn error: Y', open: 'open error: Z'}}}))
    const [d] = await usb.getDevices()
    expect(await reject(d.open())).to.equal('open error: Z')
    expect(d.opened).to.equal(false)

    const {usb: usb2} = bus(spec({faults: {usbError: {claimInterface: 'claimInterface error: X', controlTransfer: 'controlTransferIn error: Y'}}}))
    const [d2] = await usb2.getDevices()
    await d2.open()
    expect(await reject(d2.claimInterface(2))).to.equal('claimInterface error: X')
    expect(await reject(d2.controlTransferIn(vendor(0x50, 0, 30), 64))).to.equal('controlTransferIn error: Y')
    expect(await reject(d2.controlTransferOut(vendor(0x50, 0, 40), new Uint8Array(0)))).to.equal('controlTransferIn error: Y')
    expect(usb2.log).to.deep.equal([])
  })

  it('claimForControl: a device-recipient request rejects "invalid state" until an interface is claimed; then it is answered', async () => {
    const {usb} = bus(spec({faults: {claimForControl: true}}))
    const [d] = await usb.getDevices()
    await d.open()
    expect(await reject(d.controlTransferIn(vendor(0x50, 0, 30), 64))).to.equal('controlTransferIn error: invalid state')
    expect(await reject(d.controlTransferOut(vendor(0x50, 0, 302), new Uint8Array(0)))).to.equal('controlTransferOut error: invalid state')
    await d.claimInterface(2)
    const r = await d.controlTransferIn(vendor(0x50, 0, 30), 64)
    expect(new TextDecoder().decode(r.data)).to.equal('3.3.1')
  })

  it('a closed or unplugged device still answers as the package does (the faults do not mask it)', async () => {
    const {usb} = bus(spec({faults: {claimForControl: true, usbError: {controlTransfer: 'controlTransferIn error: Y'}}}))
    const [d] = await usb.getDevices()
    expect(await reject(d.controlTransferIn(vendor(0x50, 0, 30), 64))).to.equal('controlTransferIn error: invalid state')
  })
})
