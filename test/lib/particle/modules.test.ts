// The Device OS module table (src/lib/particle/data/device-os-modules.*): data from Device OS's own sources
// (system/system-versions.md@889b301c4 and each tag's modules/shared/system_module_version.mk), carried whole.
import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {DEVICE_OS_MODULES} from '../../../src/lib/particle/data/device-os-modules.js'
import {FLAGLESS_MODULE_VERSION, moduleOfVersion, parseVersion, versionOfModule} from '../../../src/lib/particle/versions.js'
import {CloudFacts} from '../../../src/lib/cloud/facts.js'
import {readSetupFlag} from '../../../src/lib/flag.js'
import {FlagOperation} from '../../../src/lib/setup-flag/operation.js'
import {remarkText} from '../../../src/lib/text/report.js'
import type {VirtualDeviceSpec} from '../../../src/lib/virtual/index.js'
import {virtualBackend} from '../../support/virtual-backend.js'

const TSV = new URL('../../../src/lib/particle/data/device-os-modules.tsv', import.meta.url)
const id = (n: number) => `e00fce68${n.toString(16).padStart(16, '0')}`

describe('Device OS module table', () => {
  it('the TypeScript table is the TSV, row for row, and every row names its source', () => {
    const rows = readFileSync(TSV, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'))
    expect(DEVICE_OS_MODULES.map(([v, n]) => `${v} ${n}`)).to.deep.equal(rows.map((r) => `${r[0]} ${r[1]}`))
    for (const r of rows) expect(r[2] || r[3], r[0]).to.match(/system-versions\.md:\d+|system_module_version\.mk:\d+/)
    expect(rows.filter((r) => parseVersion(r[0])!.major >= 1)).to.have.length(119) // 1.0.0 to 6.2.0, as the issue counts
  })

  it('names the release of every module number, and gives every release its number', () => {
    for (const [v, n] of DEVICE_OS_MODULES) {
      expect(versionOfModule(n), String(n)).to.equal(v)
      expect(moduleOfVersion(v), v).to.equal(n)
    }
    // The ones the old estimate got wrong (it invented another release's number or a wrong one).
    expect(moduleOfVersion('2.0.1')).to.equal(2011) // not 2001 (2.0.0-alpha.2)
    expect(moduleOfVersion('5.1.0')).to.equal(5004)
    expect(moduleOfVersion('5.4.1')).to.equal(5410)
    expect(versionOfModule(4100)).to.equal('4.1.0')
  })

  it('the Gen3 releases before 0.8.0-rc.25 are there: 312 is 0.8.0-rc.13 (rc.14, also 312, had no Gen3 build), 313 is no release', () => {
    expect(versionOfModule(312)).to.equal('0.8.0-rc.13')
    expect(versionOfModule(314)).to.equal('0.8.0-rc.15')
    expect(versionOfModule(323)).to.equal('0.8.0-rc.24')
    expect(versionOfModule(313)).to.equal(undefined)
    expect(DEVICE_OS_MODULES.filter(([v]) => v.startsWith('0.8.0-rc.')).map(([v]) => Number(v.split('.').at(-1)))).to.deep.equal([
      13, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
    ])
  })

  it('moduleOfVersion never invents a number that belongs to a release in the table', () => {
    const taken = new Set(DEVICE_OS_MODULES.map(([, n]) => n))
    for (const v of ['1.2.3', '2.0.3', '3.3.7', '3.4.0', '4.0.3', '4.3.0', '5.1.1', '5.4.2', '5.10.0', '6.1.3', '6.2.1', '6.3.0', '7.0.0', '1.5.1-tracker.4']) {
      const n = moduleOfVersion(v)
      expect(n, v).to.be.a('number')
      expect(taken.has(n!), `${v} -> ${n}`).to.equal(false)
      expect(n! >= FLAGLESS_MODULE_VERSION, v).to.equal(parseVersion(v)!.major >= 4)
    }
    expect(moduleOfVersion('0.7.0')).to.equal(undefined) // older than any Gen3 release: no stand-in
  })

  it('get in DFU mode names the release for every row; the virtual device writes the true module number', async () => {
    const specs: VirtualDeviceSpec[] = DEVICE_OS_MODULES.map(([deviceOs], i) => ({deviceOs, id: id(i + 1), mode: 'dfu', platform: 'boron', setupDone: 0xff}))
    const {clock, found: list, usb} = virtualBackend(specs)
    const found = await list()
    for (const f of found) {
      const want = specs.find((s) => s.id === f.id)!.deviceOs
      const report = await readSetupFlag(f, {clock, timeoutMs: 1000})
      expect(report.systemModuleVersion, want).to.equal(moduleOfVersion(want))
      expect(report.deviceOsVersion, want).to.equal(want)
      expect(report.deviceOsVersionSource, want).to.equal('dfu')
    }
    usb.close()
  })

  it('a module number not in the table: the cloud names the release when it knows it, and says so', async () => {
    const {clock, found: list, usb} = virtualBackend([{deviceOs: '3.4.0', id: id(1), mode: 'dfu', platform: 'argon', setupDone: 0x01}])
    const [found] = await list()
    const alone = await readSetupFlag(found, {clock, timeoutMs: 1000})
    expect(alone.systemModuleVersion).to.equal(3303)
    expect(alone.deviceOsVersion).to.equal(null)
    expect(alone.flag).to.equal('done') // below 4000: the flag applies, whatever the release is called
    // With the cloud: asked only because the device cannot name its release.
    const cloud = new CloudFacts({settings: {apiUrl: '', from: 'test', offline: false, profile: 'p'}, tryDevices: async () => new Map([[id(1), {id: id(1), name: 'bench', system_firmware_version: '3.4.0'}]])}, [id(1)])
    const [again] = await list()
    const report = await new FlagOperation(again, {backend: {close() {}, description: 'virtual', kind: 'virtual', usb}, clock, cloud, timeoutMs: 1000}).read()
    usb.close()
    expect(report).to.include({deviceOsVersion: '3.4.0', deviceOsVersionSource: 'cloud', flag: 'done'})
    const note = remarkText(report.id, report.remarks[0])
    expect(note).to.match(/module version 3303, which is not a Device OS release this tool knows; using the version the cloud last saw \(3\.4\.0\)/)
  })
})
