// Risk rules for every platform @particle/device-constants knows, at the Device OS boundary.
import {platforms} from '@particle/device-constants'
import {expect} from 'chai'

import {assessRisk, deviceOsLine, lastingFix, type Risk} from '../../../src/lib/audit/risk.js'

// The lists, written out so a change in device-constants (or in the rules) shows up here.
const AT_RISK_BELOW_4 = new Set([12, 13, 15, 22, 23, 25, 26, 37]) // Argon, Boron, E SoM X, A SoM, B SoM, B5 SoM, Tracker, Electron 2
const MESH_ONLY = new Set([14, 24]) // Xenon, X SoM: never got Device OS 4.0
const BOUNDARY: Array<[string | undefined, 'above' | 'below' | 'none']> = [
  ['3.3.1', 'below'],
  ['4.0.0-alpha.1', 'above'],
  ['4.0.0', 'above'],
  ['6.2.0', 'above'],
  [undefined, 'none'],
]

function expected(id: number, side: 'above' | 'below' | 'none'): Risk {
  if (AT_RISK_BELOW_4.has(id)) return side === 'below' ? 'at-risk' : side === 'above' ? 'safe' : 'unknown'
  if (MESH_ONLY.has(id)) return side === 'above' ? 'safe' : 'cannot-upgrade'
  return 'safe'
}

describe('audit risk rules', () => {
  const all = Object.values(platforms)

  it('covers the platforms the issue names', () => {
    const ids = new Set(all.map((p) => p.id))
    for (const id of [...AT_RISK_BELOW_4, ...MESH_ONLY, 6, 8, 10, 32, 35]) expect(ids.has(id), `platform ${id}`).to.equal(true)
  })

  for (const p of all) {
    for (const [version, side] of BOUNDARY) {
      it(`${p.name} (${p.id}) on ${version ?? 'no version'}: ${expected(p.id, side)}`, () => {
        const v = assessRisk({platformId: p.id, version})
        expect(v.risk).to.equal(expected(p.id, side))
        expect(v.reason).to.be.a('string').and.not.equal('')
        if (v.risk === 'at-risk') expect(v.fix).to.match(/4\.x or later/)
        if (v.risk === 'safe') expect(v.fix).to.equal(null)
      })
    }
  }

  it('gives Gen2 and Realtek their reason, and 4.0+ the downgrade warning', () => {
    expect(assessRisk({platformId: 6, version: '1.5.2'}).reason).to.match(/Gen2/)
    expect(assessRisk({platformId: 32, version: '5.9.0'}).reason).to.match(/never had the setup-done flag/)
    expect(assessRisk({platformId: 13, version: '4.0.0'}).reason).to.match(/downgrade below Device OS 4\.0 brings the flag back/)
  })

  it('says unknown for no platform, a platform device-constants does not know, or an unreadable version', () => {
    expect(assessRisk({}).risk).to.equal('unknown')
    expect(assessRisk({platformId: 9999, version: '3.3.1'})).to.include({risk: 'unknown'})
    expect(assessRisk({platformId: 13, version: 'banana'})).to.include({risk: 'unknown'})
  })

  it('names the lasting fix by how the device gets firmware', () => {
    expect(lastingFix({platformId: 13, productId: 13})).to.match(/^Flash firmware targeting Device OS 4\.x/) // developer device
    expect(lastingFix({platformId: 13})).to.match(/^Flash firmware targeting/)
    expect(lastingFix({development: false, platformId: 13, productId: 4242})).to.match(/^Release a product firmware built for Device OS 4\.x or later \(or lock/)
    expect(lastingFix({development: true, platformId: 13, productId: 4242})).to.match(/^Development devices ignore product firmware releases/)
    for (const f of [lastingFix({platformId: 12}), lastingFix({development: true, platformId: 12, productId: 7})]) expect(f).to.match(/downgrade below Device OS 4\.0 brings the flag back/)
  })

  it('groups versions by Device OS line', () => {
    expect(deviceOsLine('3.3.1')).to.equal('3.x')
    expect(deviceOsLine('4.0.0-alpha.1')).to.equal('4.x')
    expect(deviceOsLine('6.2.0')).to.equal('6.x')
    expect(deviceOsLine(undefined)).to.equal('unknown')
    expect(deviceOsLine('nonsense')).to.equal('unknown')
  })
})
