import {expect} from 'chai'

import {parseServiceReply} from '../../../src/lib/protocol/control-request.js'
import {parseDfuStatus, parseLayout} from '../../../src/lib/protocol/dfuse.js'
import {isFlagless, moduleOfVersion, parseVersion, versionOfModule} from '../../../src/lib/particle/versions.js'

const hex = (s: string) => Uint8Array.from(s.split(' ').map((b) => Number.parseInt(b, 16)))

describe('service reply parsing (docs/protocol.md §2.3)', () => {
  it('parses every reply shape the firmware sends', () => {
    expect(parseServiceReply(hex('03 00 00 00 00 00 01 00'))).to.deep.equal({id: 1, status: 0})
    expect(parseServiceReply(hex('01 00 00 00 03 00'))).to.deep.equal({status: 3})
    expect(parseServiceReply(hex('01 00 00 00 02 00'))).to.deep.equal({status: 2})
    expect(parseServiceReply(hex('09 00 00 00 00 00 00 00 00 00'))).to.deep.equal({result: 0, status: 0})
    expect(parseServiceReply(hex('09 00 00 00 00 00 88 FF FF FF'))).to.deep.equal({result: -120, status: 0})
    expect(parseServiceReply(hex('0D 00 00 00 00 00 02 00 00 00 00 00 00 00'))).to.deep.equal({result: 0, size: 2, status: 0})
    expect(parseServiceReply(hex('09 00 00 00 00 00 F7 F8 FF FF')).result).to.equal(-1801)
  })

  it('rejects short or inconsistent replies', () => {
    for (const bad of ['01 00 00', '00 00 00 00 00 00', '09 00 00 00 00 00 00', '0D 00 00 00 00 00 02 00 00 00', '11 00 00 00 00 00']) {
      expect(() => parseServiceReply(hex(bad)), bad).to.throw(RangeError)
    }
  })
})

describe('DfuSe parsing (docs/protocol.md §4)', () => {
  it('parses GETSTATUS', () => {
    expect(parseDfuStatus(hex('00 00 00 00 04 00'))).to.deep.equal({pollTimeout: 0, state: 4, status: 0, stringIndex: 0})
    expect(parseDfuStatus(hex('0B 10 27 00 0A 0A'))).to.deep.equal({pollTimeout: 10_000, state: 10, status: 11, stringIndex: 10})
    expect(() => parseDfuStatus(hex('00 00 00'))).to.throw(RangeError)
  })

  it('parses the Gen3 layouts, DCD and DCT names alike, and protected ones', () => {
    const dct = parseLayout('@DCT Flash   /0x00000000/1*016Ke')
    expect(dct).to.deep.equal([{end: 0x4000, erasable: false, readable: true, start: 0, writable: true}])
    expect(parseLayout('@DCD Flash   /0x00000000/1*016Ke')).to.deep.equal(dct)
    expect(parseLayout('@DCT Flash   /0x00000000/1*016Kb')[0]).to.include({erasable: true, readable: false, writable: false})
    const internal = parseLayout('@Internal Flash   /0x00000000/1*004Ka,47*004Kg,192*004Kg,4*004Kg,4*004Kg,8*004Ka')
    expect(internal).to.have.length(256)
    expect(internal[0]).to.include({readable: true, writable: false})
    expect(internal[48]).to.include({erasable: true, readable: true, start: 48 * 4096, writable: true})
    expect(parseLayout('@External Flash   /0x80000000/1024*004Kg').at(-1)!.end).to.equal(0x80000000 + 4 * 1024 * 1024)
  })

  it('rejects what is not a layout', () => {
    for (const bad of ['', '@DCT Flash', '@X /zz/1*4Ke', '@X /0x0/1*4Kz', '@X /0x0/1*4Ke/0x10']) {
      expect(() => parseLayout(bad), bad).to.throw(RangeError)
    }
  })

  it('rejects a corrupted layout at once instead of building billions of pages or addresses past 32 bits', () => {
    expect(() => parseLayout('@X/0x00000000/2000000000*004Ka')).to.throw(RangeError, /more than 65536 pages/)
    expect(() => parseLayout('@X/0x00000000/60000*004Ka,6000*004Ka')).to.throw(RangeError, /more than 65536 pages/)
    expect(() => parseLayout('@X/0x00000000/1*99999999Ma')).to.throw(RangeError, /32-bit address space/)
    expect(() => parseLayout('@X/0xFFFFF000/2*004Ka')).to.throw(RangeError, /32-bit address space/)
    expect(parseLayout('@X/0xFFFFF000/1*004Ka')[0].end).to.equal(0x1_0000_0000)
    expect(parseLayout('@External Flash   /0x80000000/2048*004Kg')).to.have.length(2048)
  })
})

describe('Device OS versions', () => {
  it('maps module numbers and releases', () => {
    expect(versionOfModule(3302)).to.equal('3.3.1')
    expect(versionOfModule(4000)).to.equal('4.0.0-alpha.1')
    expect(moduleOfVersion('1.5.2')).to.equal(1512)
    expect(moduleOfVersion('3.3.7')).to.be.below(4000)
    expect(moduleOfVersion('4.0.2')).to.be.at.least(4000)
    expect(isFlagless(parseVersion('4.0.0-alpha.2')!)).to.equal(true)
    expect(isFlagless(parseVersion('3.3.1')!)).to.equal(false)
    expect(parseVersion('3.3')).to.equal(undefined)
  })
})
