import {expect} from 'chai'

import {platformByName} from '../../../src/lib/particle/platforms.js'
import {type Applicability, flagApplies, interpretFlag, verdictOfByte} from '../../../src/lib/setup-flag/policy.js'
import {noteText, REQUEST_NOT_DONE_REASON, whyText} from '../../../src/lib/text/report.js'

/** The reason a person reads for a decision (the text layer words the record). */
const reason = (a: Applicability) => (a.applies === true ? null : whyText(a.why))

const p = (name: string) => {
  const platform = platformByName(name)
  if (!platform) throw new Error(name)
  return platform
}

describe('setup-flag policy', () => {
  const gen3 = ['argon', 'boron', 'bsom', 'b5som', 'tracker', 'xenon']

  it('applies to every nRF52840 platform below 4.0', () => {
    for (const name of gen3) {
      for (const version of ['0.9.0', '1.5.2', '2.3.1', '3.3.1', '3.0.0-rc.1']) {
        expect(flagApplies(p(name), {version}).applies, `${name} ${version}`).to.equal(true)
      }
    }
  })

  it('does not apply from 4.0.0-alpha.1 on', () => {
    for (const version of ['4.0.0-alpha.1', '4.0.0', '4.2.0', '5.9.0', '6.2.0', '10.0.0']) {
      const a = flagApplies(p('argon'), {version})
      expect(a.applies, version).to.equal(false)
      expect(a.applies === false && reason(a)).to.match(/4\.0 or later/)
    }
  })

  it('decides from the module version when only the DFU header is known', () => {
    expect(flagApplies(p('boron'), {moduleVersion: 3302}).applies).to.equal(true)
    expect(flagApplies(p('boron'), {moduleVersion: 3999}).applies).to.equal(true)
    expect(flagApplies(p('boron'), {moduleVersion: 4000}).applies).to.equal(false)
  })

  it('is unknown on a Gen3 device whose version is unknown', () => {
    const a = flagApplies(p('bsom'), {})
    expect(a.applies).to.equal(undefined)
    expect(interpretFlag(a, {byte: 0xff, kind: 'byte'})).to.deep.include({flag: 'unknown', value: 0xff})
  })

  it('never applies to Realtek or Gen2 platforms, whatever the version, with the right advice', () => {
    for (const name of ['p2', 'msom', 'trackerm']) {
      const a = flagApplies(p(name), {version: '3.3.1'})
      expect(a.applies, name).to.equal(false)
      expect(a.applies === false && reason(a)).to.match(/never had the setup-done flag/)
    }
    const electron = flagApplies(p('electron'), {version: '3.3.1'})
    expect(electron.applies === false && reason(electron)).to.match(/Electron.*another cause.*E Series.*contact Particle support/s)
    const photon = flagApplies(p('photon'), {version: '1.5.2'})
    expect(photon.applies === false && reason(photon)).to.match(/Wi-Fi credentials/)
  })

  it('reads request 74 as done/not done only where the flag applies', () => {
    expect(interpretFlag({applies: true}, {done: true, kind: 'request'})).to.deep.equal({flag: 'done', note: null, value: 1, why: null})
    const notDone = interpretFlag({applies: true}, {done: false, kind: 'request'})
    expect(notDone).to.deep.include({flag: 'not-done', value: null})
    expect(noteText(notDone.note!)).to.equal(REQUEST_NOT_DONE_REASON)
    const why = {kind: 'protected' as const}
    expect(interpretFlag({applies: false, why}, {done: true, kind: 'request'})).to.deep.equal({flag: 'not-applicable', note: null, value: null, why})
  })

  it('reads the raw byte as the boot check does', () => {
    expect(verdictOfByte(0x01).flag).to.equal('done')
    expect(verdictOfByte(0xff).flag).to.equal('not-done')
    expect(verdictOfByte(0x00).flag).to.equal('not-done')
    const odd = verdictOfByte(0x5a)
    expect(odd.flag).to.equal('done')
    expect(noteText(odd.note!)).to.match(/unusual value 0x5a/)
  })
})
