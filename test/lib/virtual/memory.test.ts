// The simulator's memories hold only what differs from erased flash: the DCT keeps its setup-done byte and any
// other byte written; a factory header stays as it is until its page is programmed or erased. What they read must
// be what a full copy of the memory would read.
import {expect} from 'chai'

import {SETUP_DONE_OFFSET} from '../../../src/lib/protocol/constants.js'
import {Dct, SparseFlash} from '../../../src/lib/virtual/memory.js'
import {bus, spec} from './helpers.js'

const PAGE = 4096

/** The same memory as one plain array, for comparison. */
class FullFlash {
  readonly bytes: Uint8Array
  constructor(
    readonly base: number,
    size: number,
    preset: Array<{address: number; bytes: Uint8Array}>,
  ) {
    this.bytes = new Uint8Array(size).fill(0xff)
    for (const p of preset) this.bytes.set(p.bytes, p.address - base)
  }
  read(address: number, length: number) {
    return this.bytes.slice(address - this.base, address - this.base + length)
  }
  write(address: number, data: Uint8Array) {
    this.bytes.set(data, address - this.base)
  }
  erase(address: number) {
    const page = Math.floor((address - this.base) / PAGE)
    this.bytes.fill(0xff, page * PAGE, (page + 1) * PAGE)
  }
}

describe('virtual device memories', () => {
  it('a sparse flash reads, programs and erases like a full copy, factory headers included (one across a page boundary)', () => {
    const header = (n: number) => Uint8Array.from({length: 24}, (_, i) => (n + i) & 0xff)
    const preset = [
      {address: 0x30200, bytes: header(1)},
      {address: 0x28ff0, bytes: header(100)}, // crosses into the next page
    ]
    const sparse = new SparseFlash(0, 1024 * 1024, preset)
    const full = new FullFlash(0, 1024 * 1024, preset)
    const same = (address: number, length: number) => expect(sparse.read(address, length), `${address.toString(16)}+${length}`).to.deep.equal(full.read(address, length))
    same(0x30200, 24)
    same(0x28fe0, 64)
    same(0x301f0, 64)
    // programming a byte of a header's page keeps the header; the other page of the split header is untouched
    for (const m of [sparse, full]) m.write(0x30210, Uint8Array.of(0x42))
    same(0x30200, 24)
    for (const m of [sparse, full]) m.write(0x28000, Uint8Array.of(7, 8))
    same(0x28fe0, 64)
    // erasing the second page of the split header drops only its part
    for (const m of [sparse, full]) m.erase(0x29000)
    same(0x28fe0, 64)
    // programming an erased page starts from 0xFF, not from the factory bytes
    for (const m of [sparse, full]) m.write(0x29004, Uint8Array.of(1))
    same(0x28ff0, 32)
    for (const m of [sparse, full]) m.erase(0x30000)
    same(0x30200, 24)
    expect(sparse.read(1024 * 1024 - 1, 2)).to.equal(undefined)
    expect(sparse.write(1024 * 1024, Uint8Array.of(0))).to.equal(false)
  })

  it('the DCT keeps the setup-done byte and any other byte written, whatever the range of a write', () => {
    const dct = new Dct(0xff)
    expect(dct.read(SETUP_DONE_OFFSET - 1, 3)).to.deep.equal(Uint8Array.of(0xff, 0xff, 0xff))
    dct.write(SETUP_DONE_OFFSET, Uint8Array.of(0x01))
    expect(dct.setupDone).to.equal(0x01)
    dct.write(SETUP_DONE_OFFSET - 2, Uint8Array.of(0xa1, 0xa2, 0x00, 0xa4))
    expect(dct.setupDone).to.equal(0x00)
    expect(dct.read(SETUP_DONE_OFFSET - 3, 6)).to.deep.equal(Uint8Array.of(0xff, 0xa1, 0xa2, 0x00, 0xa4, 0xff))
    dct.setupDone = 0x01
    expect(dct.read(SETUP_DONE_OFFSET, 1)).to.deep.equal(Uint8Array.of(0x01))
    expect(dct.read(0, 2)).to.deep.equal(Uint8Array.of(0xff, 0xff))
    expect(dct.read(dct.size - 1, 2)).to.equal(undefined)
    expect(dct.erase(0)).to.equal(true) // a no-op for the DCT
    expect(dct.read(SETUP_DONE_OFFSET - 2, 2)).to.deep.equal(Uint8Array.of(0xa1, 0xa2))
  })

  it('readDct of a device copies what is there, cut at the end of the DCT as before', () => {
    const {usb} = bus(spec({setupDone: 0x01}))
    const d = usb.device(spec().id)!
    expect(d.readDct(SETUP_DONE_OFFSET, 1)).to.deep.equal(Uint8Array.of(0x01))
    expect(d.readDct(16 * 1024 - 1, 4)).to.deep.equal(Uint8Array.of(0xff))
    expect(d.readDct(16 * 1024 + 5, 4)).to.deep.equal(new Uint8Array(0))
    usb.close()
  })
})
