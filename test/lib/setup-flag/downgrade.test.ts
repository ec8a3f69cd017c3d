// Downgrades: the DCT byte survives an upgrade to 4.x (4.0 stopped reading it, docs/protocol.md §1.2)
// and matters again below 4.0. `get` in DFU mode still reads it and says what it would mean; `set --force --method
// dfu` writes it for a planned downgrade and says so (docs/protocol.md "Downgrades").
import {expect} from 'chai'

import {readSetupFlag} from '../../../src/lib/flag.js'
import {setSetupFlag} from '../../../src/lib/flag.js'
import type {VirtualDeviceSpec} from '../../../src/lib/virtual/index.js'
import {virtualBackend} from '../../support/virtual-backend.js'

const ID = 'e00fce681a2b3c4d5e6f7a8b'
const spec = (over: Partial<VirtualDeviceSpec>): VirtualDeviceSpec => ({deviceOs: '4.2.0', id: ID, mode: 'dfu', platform: 'boron', setupDone: 0xff, ...over})

const env = (device: VirtualDeviceSpec) => virtualBackend([device])

describe('downgrades', () => {
  it('get on a 4.x device in DFU mode reads the byte and says what it would mean after a downgrade', async () => {
    for (const [byte, after, phrase] of [
      [0xff, 'not-done', /after a downgrade below 4\.0 the device would boot into Listening Mode/],
      [0x01, 'done', /after a downgrade below 4\.0 the device would count as set up/],
    ] as const) {
      const e = env(spec({setupDone: byte}))
      const [found] = await e.found()
      const r = await readSetupFlag(found, {clock: e.clock, timeoutMs: 1000})
      e.usb.close()
      expect(r).to.include({afterDowngrade: after, deviceOsVersion: '4.2.0', flag: 'not-applicable', value: byte})
      expect(r.reason).to.match(phrase)
    }
  })

  it('set --force --method dfu on a 4.x device writes the byte and says it is for a planned downgrade', async () => {
    const e = env(spec({mode: 'normal'}))
    const [found] = await e.found()
    const r = await setSetupFlag(found, {backend: e.backend, clock: e.clock, done: true, dryRun: false, force: true, method: 'dfu', timeoutMs: 1000})
    e.usb.close()
    expect(r.error).to.equal(undefined)
    expect(r).to.include({after: 1, afterDowngrade: 'done', before: 0xff, changed: true, method: 'dfu'})
    expect(r.steps.join(' ')).to.match(/Written for a planned downgrade/)
    expect(e.usb.specs()[0].setupDone).to.equal(1)
    expect(e.usb.violations).to.deep.equal([])
  })

  it('without --force nothing is written, and the step names the way for a planned downgrade', async () => {
    const e = env(spec({mode: 'normal'}))
    const [found] = await e.found()
    const r = await setSetupFlag(found, {backend: e.backend, clock: e.clock, done: true, dryRun: false, force: false, method: 'dfu', timeoutMs: 1000})
    e.usb.close()
    expect(r.changed).to.equal(false)
    expect(r.steps.join(' ')).to.match(/for a planned downgrade below 4\.0, --force --method dfu writes it/)
    expect(e.usb.specs()[0].setupDone).to.equal(0xff)
  })
})
