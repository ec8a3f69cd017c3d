// Factory-fresh Gen3 devices (Device OS below 0.9.0: no USB control requests, docs/protocol.md §10) through the
// built CLI on the virtual bus: `get` says what they are, `set`, the doctor and the station fix them through the
// serial line and DFU mode with no button pressed. The same through the kernel stack: test/usb-vm.
import {expect} from 'chai'

import type {FlagReport, SetReport} from '../../src/lib/flag.js'

import {FakeClock} from '../../src/lib/clock.js'
import {readSetupFlag} from '../../src/lib/flag.js'
import {findParticleDevices} from '../../src/lib/usb/discovery.js'
import {createVirtualUsb} from '../../src/lib/virtual/index.js'
import {devicesFile, readDevices, runJson, testDevice, testId} from '../support/cli.js'
import {LiveCli, writeAtomically} from '../support/live-cli.js'

const offline = (file: string) => ({PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file})
/** A Boron as it leaves the factory: 0.8.0-rc.25 (system module 324), flag 0xFF, so Listening Mode. */
const fresh = (n: number, mode = 'listening') => testDevice(n, 'boron', '0.8.0-rc.25', mode, 255)

describe('factory-fresh Gen3 devices (Device OS below 0.9.0)', function () {
  this.timeout(120_000)

  it('get in Listening Mode says what it is, without sending a single vendor request (which would stall), exit 0', async () => {
    const clock = new FakeClock()
    const usb = createVirtualUsb({clock, devices: [{deviceOs: '0.8.0-rc.25', id: testId(1), mode: 'listening', platform: 'boron', setupDone: 255}]})
    const [found] = await findParticleDevices({close() {}, description: 'virtual', kind: 'virtual', usb})
    const r = await readSetupFlag(found, {clock, timeoutMs: 1000})
    usb.close()
    expect(r).to.include({flag: 'unknown', mode: 'unknown'})
    expect(r.error).to.equal(undefined)
    expect(r.reason).to.match(/^Device OS older than 0\.9\.0: no USB control requests/)
    expect(usb.log.filter((e) => /^(40|C0) /.test(e.setup))).to.deep.equal([]) // no vendor request went out
  })

  it('get in DFU mode reads the byte and names the release from the module table', async () => {
    const file = devicesFile([fresh(1, 'dfu')])
    const {code, json} = await runJson<{devices: FlagReport[]}>(['get'], {env: offline(file)})
    expect(code).to.equal(0)
    expect(json.devices[0]).to.include({deviceOsVersion: '0.8.0-rc.25', deviceOsVersionSource: 'dfu', flag: 'not-done', systemModuleVersion: 324, value: 255})
  })

  it('set fixes it with no button: the serial line (14400) to DFU mode, one byte at 8134, read back, out of DFU mode', async () => {
    const file = devicesFile([fresh(1)])
    const {code, json} = await runJson<{devices: SetReport[]; summary: Record<string, number>}>(['set'], {env: offline(file)})
    expect(code).to.equal(0)
    const [r] = json.devices
    expect(r).to.include({after: 1, before: 255, changed: true, flag: 'done', method: 'dfu'})
    expect(r.steps.join(' ')).to.match(/restarted the device in DFU mode through its serial line \(line coding 14400\)/)
    expect(r.steps.join(' ')).to.match(/left USB/) // below 0.8.0-rc.27 it is on USB only while it listens
    expect(json.summary).to.include({fixed: 1})
    expect(readDevices(file).devices[0]).to.include({mode: 'normal', setupDone: 1})
    expect(readDevices(file).violations).to.equal(undefined)
  })

  it('set --dry-run says what it would do and does nothing', async () => {
    const file = devicesFile([fresh(1)])
    const {code, json} = await runJson<{devices: SetReport[]}>(['set', '--dry-run'], {env: offline(file)})
    expect(code).to.equal(0)
    expect(json.devices[0].steps.join(' ')).to.match(/Would restart the device in DFU mode through its serial line/)
    expect(readDevices(file).devices[0]).to.include({mode: 'listening', setupDone: 255})
  })

  it('the doctor fixes it too, through DFU mode, with no button steps', async () => {
    const file = devicesFile([testDevice(1, 'boron', '0.8.0-rc.27', 'listening', 255)])
    const {code, json} = await runJson<{outcome: string; steps: Array<{detail: string; step: string}>}>(['doctor', '--yes'], {env: offline(file)})
    expect(code, JSON.stringify(json)).to.equal(0)
    expect(json.outcome).to.equal('fixed')
    expect(json.steps.map((s) => s.detail).join(' ')).to.match(/Device OS below 0\.9\.0 has no USB control requests/)
    expect(json.steps.map((s) => s.detail).join(' ')).not.to.match(/hold MODE/)
    expect(readDevices(file).devices[0]).to.include({setupDone: 1})
  })

  it('the station fixes a mixed batch of factory-fresh and 3.x devices in one run', async () => {
    const file = devicesFile([fresh(1), testDevice(2, 'argon', '3.3.1', 'listening', 255)])
    const cli = new LiveCli(['set', '--watch', '--json'], {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file})
    try {
      await Promise.all([cli.record(testId(1)), cli.record(testId(2))])
      const doc = readDevices(file)
      writeAtomically(file, JSON.stringify({...doc, devices: [...doc.devices, testDevice(3, 'boron', '0.8.0-rc.27', 'listening', 255)]}, null, 2) + '\n')
      await cli.record(testId(3))
    } finally {
      cli.kill('SIGINT')
    }
    const {code, stderr} = await cli.exited
    expect(code, stderr).to.equal(0)
    expect(cli.records.at(-1)).to.deep.equal({summary: {failed: 0, failures: [], fixed: 3, interrupted: 0, total: 3, unchanged: 0}})
    for (const d of readDevices(file).devices) expect(d.setupDone, String(d.id)).to.equal(1)
  })
})
