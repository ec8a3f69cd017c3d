// `set` through the built binary against virtual devices: every method from every mode on every Gen3 platform
// and version, then `get` in a new process; the guards; the faults; many devices at once.
import {expect} from 'chai'

import type {FlagReport} from '../../src/lib/flag.js'
import type {SetReport} from '../../src/lib/flag.js'

import {devicesFile, readDevices, runCli, runJson, testDevice, testId} from '../support/cli.js'

type SetJson = {devices: SetReport[]; warnings: string[]}
type GetJson = {devices: FlagReport[]}

const id = testId
const dev = testDevice

describe('setup-flag set (built binary, virtual devices)', function () {
  this.timeout(180_000)

  for (const method of ['auto', 'usb', 'dfu']) {
    it(`--method ${method}: fixes every Gen3 platform on 1.5.x/2.3.x/3.3.1 from listening, normal, safe and DFU mode; get agrees`, async () => {
      const specs = []
      let n = 1
      for (const platform of ['argon', 'boron', 'bsom', 'b5som', 'tracker'])
        for (const deviceOs of ['1.5.2', '2.3.1', '3.3.1'])
          for (const mode of ['listening', 'normal', 'safe', 'dfu']) specs.push(dev(n++, platform, deviceOs, mode, mode === 'normal' ? 0 : 255))
      const file = devicesFile(specs)
      const env = {PARTICLE_VIRTUAL_DEVICES: file}
      const set = await runJson<SetJson>(['set', '--all', '--method', method], {env})
      expect(set.code, set.stderr).to.equal(0)
      expect(set.json.devices).to.have.length(specs.length)
      for (const r of set.json.devices) {
        const spec = specs.find((s) => s.id === r.id)!
        const what = `${JSON.stringify(spec)} -> ${JSON.stringify(r)}`
        expect(r.error, what).to.equal(undefined)
        expect(r.changed, what).to.equal(true)
        expect(r.flag, what).to.equal('done')
        expect(r.after, what).to.equal(1)
        expect(r.method, what).to.equal(method === 'auto' ? (spec.mode === 'dfu' ? 'dfu' : 'usb') : method)
        if (r.method === 'dfu') expect(r.before, what).to.equal(spec.setupDone)
        if (spec.mode === 'listening' || r.method === 'dfu') expect(r.mode, what).to.equal('normal')
      }
      const file2 = readDevices(file)
      expect(file2.violations).to.equal(undefined)
      for (const d of file2.devices) expect(d.setupDone, String(d.id)).to.equal(1)

      const get = await runJson<GetJson>(['get'], {env})
      expect(get.json.devices.map((d) => d.flag)).to.deep.equal(specs.map(() => 'done'))
      for (const d of get.json.devices) expect(d.mode).not.to.equal('listening')
    })
  }

  it('is idempotent: a second run writes nothing', async () => {
    const file = devicesFile([dev(1, 'argon', '3.3.1', 'listening', 255), dev(2, 'boron', '2.3.1', 'dfu', 255)])
    const env = {PARTICLE_VIRTUAL_DEVICES: file}
    expect((await runJson<SetJson>(['set', '--all'], {env})).code).to.equal(0)
    const again = await runJson<SetJson>(['set', '--all'], {env})
    expect(again.code).to.equal(0)
    for (const r of again.json.devices) {
      expect(r.changed).to.equal(false)
      expect(r.method).to.equal(null)
      expect(r.before).to.equal(1)
      expect(r.after).to.equal(1)
    }
  })

  it('--not-done clears the flag (0xFF), and the device listens after its next reset', async () => {
    const file = devicesFile([dev(1, 'argon', '3.3.1', 'normal', 1), dev(2, 'bsom', '2.3.1', 'dfu', 1)])
    const {code, json} = await runJson<SetJson>(['set', '--all', '--not-done'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(code).to.equal(0)
    expect(json.devices.map((r) => [r.changed, r.after, r.flag])).to.deep.equal([
      [true, 255, 'not-done'],
      [true, 255, 'not-done'],
    ])
    expect(readDevices(file).devices.map((d) => d.setupDone)).to.deep.equal([255, 255])
    // the DFU one was restarted: the boot check found the flag clear
    expect(readDevices(file).devices[1].mode).to.equal('listening')
  })

  it('--dry-run says what it would do and touches nothing', async () => {
    const specs = [dev(1, 'argon', '3.3.1', 'listening', 255), dev(2, 'boron', '3.3.1', 'dfu', 255), dev(3, 'b5som', '2.3.1', 'normal', 0)]
    const file = devicesFile(specs)
    for (const method of ['auto', 'usb', 'dfu']) {
      const {code, json} = await runJson<SetJson>(['set', '--all', '--dry-run', '--method', method], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code).to.equal(0)
      for (const r of json.devices) {
        expect(r.changed).to.equal(false)
        expect(r.steps.join(' ')).to.match(/Would /)
      }
    }
    const after = readDevices(file)
    expect(after.devices.map((d) => [d.mode, d.setupDone])).to.deep.equal(specs.map((s) => [s.mode, s.setupDone]))
  })

  it('leaves 4.x, Realtek and Gen2 devices untouched, with the right explanation; --force writes and says it has no effect', async () => {
    const specs = [
      dev(1, 'argon', '4.2.0', 'listening', 255),
      dev(2, 'p2', '5.9.0', 'listening', 255),
      dev(3, 'msom', '6.2.0', 'normal', 255),
      dev(4, 'electron', '2.3.1', 'listening', 255),
      dev(5, 'photon', '1.5.2', 'listening', 255),
      dev(6, 'boron', '6.2.0', 'dfu', 255),
    ]
    const file = devicesFile(specs)
    const env = {PARTICLE_VIRTUAL_DEVICES: file}
    const {code, json, stdout} = await runJson<SetJson>(['set', '--all'], {env})
    expect(code).to.equal(0)
    for (const r of json.devices) {
      expect(r.changed, r.id).to.equal(false)
      expect(r.flag, r.id).to.equal('not-applicable')
    }
    expect(json.devices[0].reason).to.match(/4\.0 or later/)
    expect(json.devices[3].reason).to.match(/Electron.*another cause.*E Series.*contact Particle support/s)
    expect(readDevices(file).devices.map((d) => [d.mode, d.setupDone])).to.deep.equal(specs.map((s) => [s.mode, s.setupDone]))
    expect(stdout).not.to.contain('✔')

    const forced = await runJson<SetJson>(['set', id(1), '--force'], {env})
    expect(forced.code).to.equal(0)
    expect(forced.json.devices[0].steps.join(' ')).to.match(/no effect/)
  })

  it('picks the only device; with several, a non-interactive run fails and lists them', async () => {
    const one = devicesFile([dev(1, 'argon', '3.3.1', 'listening', 255)])
    expect((await runJson<SetJson>(['set'], {env: {PARTICLE_VIRTUAL_DEVICES: one}})).json.devices[0].changed).to.equal(true)
    const two = devicesFile([dev(1, 'argon', '3.3.1', 'listening', 255), dev(2, 'boron', '3.3.1', 'listening', 255)])
    const r = await runCli(['set'], {env: {PARTICLE_VIRTUAL_DEVICES: two}})
    expect(r.code).to.equal(3)
    expect(r.stderr).to.contain('Found 2 Particle devices')
    expect(r.stderr).to.contain(id(1))
    expect(r.stderr).to.contain(id(2))
    expect(readDevices(two).devices.map((d) => d.setupDone)).to.deep.equal([255, 255])
  })

  describe('faults', () => {
    it('firmware that never answers: tries itself, then gives the exact Safe Mode steps (exit 6), writes nothing', async () => {
      const file = devicesFile([dev(1, 'boron', '3.3.1', 'listening', 255, {blockedSystemThread: true})])
      const {code, json} = await runJson<SetJson>(['set', '--timeout', '1'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code).to.equal(6)
      const r = json.devices[0]
      expect(r.changed).to.equal(false)
      expect(r.error!.suggestions.join(' ')).to.contain('hold MODE and RESET, release RESET, release MODE when the LED blinks magenta, then run the command again')
      expect(r.steps.join(' ')).to.match(/raw request 302/)
      expect(r.steps.join(' ')).to.match(/Safe Mode \(request 60\)/)
      expect(readDevices(file).devices[0].setupDone).to.equal(255)
    })

    it('a system thread stuck connecting: aborting the connection lets the write through', async () => {
      const file = devicesFile([dev(1, 'boron', '3.3.1', 'normal', 0, {blockedSystemThread: 'connecting'})])
      const {code, json} = await runJson<SetJson>(['set', '--timeout', '1'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code, JSON.stringify(json)).to.equal(0)
      expect(json.devices[0]).to.include({after: 1, changed: true})
      expect(readDevices(file).devices[0].setupDone).to.equal(1)
    })

    it('in Safe Mode the same device is fixed', async () => {
      const file = devicesFile([dev(1, 'boron', '3.3.1', 'safe', 255, {blockedSystemThread: true})])
      const {code} = await runJson<SetJson>(['set', '--timeout', '1'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code).to.equal(0)
      expect(readDevices(file).devices[0].setupDone).to.equal(1)
    })

    it('BUSY: backs off and retries', async () => {
      const file = devicesFile([dev(1, 'argon', '3.3.1', 'listening', 255, {busy: 3})])
      const {code, json} = await runJson<SetJson>(['set'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code).to.equal(0)
      expect(json.devices[0].changed).to.equal(true)
    })

    it('unplugged mid-way: "disconnected", the byte unknown, exit 6', async () => {
      for (const [mode, after] of [['listening', 8], ['dfu', 20]] as const) {
        const file = devicesFile([dev(1, 'argon', '3.3.1', mode, 255, {unplugAfterTransfers: after})])
        const {code, json} = await runJson<SetJson>(['set'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
        expect(code, mode).to.equal(6)
        expect(json.devices[0].error!.code, mode).to.equal('SETUP_FLAG_DISCONNECTED')
        expect(json.devices[0].flag, mode).to.equal('unknown')
        expect(json.devices[0].error!.message, mode).to.contain('disconnected')
      }
    })

    it('permission denied: the udev rule, exit 5', async () => {
      const file = devicesFile([dev(1, 'argon', '3.3.1', 'listening', 255, {accessDenied: true})])
      const r = await runCli(['set'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(r.code).to.equal(5)
      expect(r.stdout).to.contain('ATTRS{idVendor}=="2b04"')
    })

    it('DFU write error: reported, the device left usable, no endless retries', async () => {
      const file = devicesFile([dev(1, 'argon', '3.3.1', 'dfu', 255, {dfuWriteError: true})])
      const {code, json} = await runJson<SetJson>(['set'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code).to.equal(8) // the write did not take
      expect(json.devices[0].error!.code).to.equal('SETUP_FLAG_DFU')
      const after = readDevices(file)
      expect(after.devices[0].setupDone).to.equal(255)
      expect(after.violations).to.equal(undefined)
      // usable: a plain get still reads it over DFU
      const get = await runJson<GetJson>(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(get.json.devices[0]).to.include({flag: 'not-done', mode: 'dfu', value: 255})
    })

    it('stalls: a clear error, exit 6', async () => {
      const file = devicesFile([dev(1, 'argon', '3.3.1', 'listening', 255, {stallControl: true})])
      const {code, json} = await runJson<SetJson>(['set'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code).to.equal(6)
      expect(json.devices[0].error!.code).to.equal('SETUP_FLAG_USB_STALL')
    })

    it('Device Protection: not applicable, nothing written', async () => {
      const file = devicesFile([dev(1, 'bsom', '6.2.0', 'dfu', 255, {protected: true}), dev(2, 'bsom', '6.2.0', 'normal', 255, {protected: true})])
      const {json} = await runJson<SetJson>(['set', '--all'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      for (const r of json.devices) expect(r.changed).to.equal(false)
      expect(readDevices(file).violations).to.equal(undefined)
    })

    it('one failure does not stop the others; the exit status reflects it', async () => {
      const file = devicesFile([dev(1, 'argon', '3.3.1', 'listening', 255), dev(2, 'argon', '3.3.1', 'listening', 255, {stallControl: true}), dev(3, 'boron', '3.3.1', 'dfu', 255)])
      const {code, json} = await runJson<SetJson>(['set', '--all'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code).to.equal(6)
      expect(json.devices.map((r) => r.changed)).to.deep.equal([true, false, true])
    })
  })
})
