// The FunctionFS blobs the usb-vm gadget bridge writes (src/lib/virtual/gadget/ffs-blobs.ts), from the same
// identity the WebUSB virtual bus serves.
import {expect} from 'chai'

import {platformByName} from '../../../src/lib/particle/platforms.js'
import {parseVersion} from '../../../src/lib/particle/versions.js'
import {usbIdentity} from '../../../src/lib/virtual/descriptors.js'
import {ffsBlobs} from '../../../src/lib/virtual/gadget/ffs-blobs.js'

const identity = (mode: 'dfu' | 'normal', controlInterface = true) =>
  usbIdentity({controlInterface, id: 'e00fce681a2b3c4d5e6f7a8b', isProtected: false, mode, platform: platformByName('argon')!, version: parseVersion('3.3.1')!})

/** The descriptors after the FunctionFS v2 header (magic, length, flags, full-speed count). */
function body(blob: Buffer): {count: number; flags: number; types: number[]} {
  expect(blob.readUInt32LE(0)).to.equal(3) // FUNCTIONFS_DESCRIPTORS_MAGIC_V2
  expect(blob.readUInt32LE(4)).to.equal(blob.length)
  const types: number[] = []
  for (let i = 16; i < blob.length; i += blob[i]) types.push(blob[i + 1])
  return {count: blob.readUInt32LE(12), flags: blob.readUInt32LE(8), types}
}

describe('usb-vm gadget bridge: FunctionFS blobs from the virtual identity', () => {
  it('DFU mode: one interface with its alt settings and the DFU functional descriptor; the alt names as strings 1..n', () => {
    const id = identity('dfu')
    const {descriptors, dropped, strings} = ffsBlobs(id)
    const {count, flags, types} = body(descriptors)
    expect(flags).to.equal(1 | 64) // full-speed descriptors; every control recipient reaches user space
    expect(types).to.deep.equal([4, 4, 4, 0x21])
    expect(count).to.equal(4)
    expect(dropped).to.deep.equal([])
    // iInterface of each alt setting renumbered 1, 2, 3 (FunctionFS string indexes)
    expect([16 + 8, 25 + 8, 34 + 8].map((o) => descriptors[o])).to.deep.equal([1, 2, 3])
    const text = strings.subarray(18).toString('utf8').split('\0').filter(Boolean)
    expect(text).to.deep.equal(id.interfaces[0].alternates.map((a) => id.strings.get(a.iInterface)))
    expect(strings.readUInt32LE(8)).to.equal(3) // str_count
  })

  it('normal mode: the CDC class-specific descriptors are left out (FunctionFS refuses them), the rest kept', () => {
    const {descriptors, dropped} = ffsBlobs(identity('normal'))
    expect(body(descriptors).types).to.deep.equal([0x0b, 4, 5, 4, 5, 5, 4])
    expect(dropped).to.deep.equal(['0x24 x4'])
  })

  it('with the CDC pair left to f_acm: only the vendor interface, numbered 0 in the function; nothing at all before 0.9.0', () => {
    const {descriptors, dropped, interfaces} = ffsBlobs(identity('normal'), {skipCdcPair: true})
    expect(body(descriptors).types).to.deep.equal([4])
    expect(descriptors[16 + 2], 'bInterfaceNumber').to.equal(0)
    expect(descriptors[16 + 5], 'bInterfaceClass').to.equal(0xff)
    expect(dropped).to.deep.equal([])
    expect(interfaces).to.equal(1)
    expect(ffsBlobs(identity('normal', false), {skipCdcPair: true}).interfaces).to.equal(0)
    expect(ffsBlobs(identity('normal')).interfaces).to.equal(3) // unchanged without the option
  })
})
