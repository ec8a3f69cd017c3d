// `get` through the built binary against virtual devices: the whole matrix of platforms, versions, modes and
// flag values in one run (which also exercises concurrency), and every bad-input and failure path.
import {expect} from 'chai'

import type {FlagReport} from '../../src/lib/flag.js'

import {REQUEST_NOT_DONE_REASON} from '../../src/lib/text/report.js'

import {devicesFile, readDevices, runCli, runJson} from '../support/cli.js'

type Json = {devices: FlagReport[]}

const id = (n: number) => `e00fce68${n.toString(16).padStart(16, '0')}`

describe('setup-flag get (built binary, virtual devices)', function () {
  this.timeout(120_000)

  it('reads every Gen3 platform on 1.5.x / 2.3.x / 3.3.1, flag set and not set, in every mode', async () => {
    const specs: Array<Record<string, unknown>> = []
    let n = 1
    for (const platform of ['argon', 'boron', 'bsom', 'b5som', 'tracker'])
      for (const deviceOs of ['1.5.2', '2.3.1', '3.3.1'])
        for (const setupDone of [1, 255, 0])
          for (const mode of ['normal', 'listening', 'safe', 'dfu']) specs.push({deviceOs, faults: {}, id: id(n++), mode, platform, setupDone})
    const file = devicesFile(specs)
    const before = readDevices(file)
    const {code, json} = await runJson<Json>(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(code).to.equal(0)
    expect(json.devices).to.have.length(specs.length)
    for (const spec of specs) {
      const r = json.devices.find((d) => d.id === spec.id)!
      const what = JSON.stringify(spec)
      expect(r, what).to.exist
      expect(r.platform, what).to.equal(spec.platform)
      expect(r.deviceOsVersion, what).to.equal(spec.deviceOs)
      expect(r.error, what).to.equal(undefined)
      if (spec.mode === 'dfu') {
        expect(r.mode, what).to.equal('dfu')
        expect(r.deviceOsVersionSource, what).to.equal('dfu')
        expect(r.value, what).to.equal(spec.setupDone) // the raw byte
      } else {
        expect(r.mode, what).to.equal(spec.mode === 'listening' ? 'listening' : spec.mode === 'safe' ? r.mode : 'normal')
        expect(r.deviceOsVersionSource, what).to.equal('usb')
        expect(r.value, what).to.equal(spec.setupDone === 1 ? 1 : null)
      }
      expect(r.flag, what).to.equal(spec.setupDone === 1 ? 'done' : 'not-done')
      // over USB, request 74's "not done" says only "not 0x01", and the reason says so
      expect(r.reason, what).to.equal(spec.setupDone !== 1 && spec.mode !== 'dfu' ? REQUEST_NOT_DONE_REASON : null)
    }
    // get never writes: the devices file is unchanged (apart from formatting) and nothing was flagged.
    const after = readDevices(file)
    expect(after.violations).to.equal(undefined)
    expect(after.devices.map((d) => [d.id, d.setupDone, d.mode])).to.deep.equal(before.devices.map((d) => [d.id, d.setupDone, d.mode]))
  })

  it('reports not-applicable, with the reason, on 4.x-6.x, Realtek and Gen2 devices in every mode', async () => {
    const specs = [
      {deviceOs: '4.0.0', platform: 'argon'},
      {deviceOs: '4.2.0', platform: 'boron'},
      {deviceOs: '5.9.0', platform: 'bsom'},
      {deviceOs: '6.2.0', platform: 'b5som'},
      {deviceOs: '6.2.0', platform: 'tracker'},
      {deviceOs: '5.9.0', platform: 'p2'},
      {deviceOs: '6.2.0', platform: 'msom'},
      {deviceOs: '2.3.1', platform: 'photon'},
      {deviceOs: '2.3.1', platform: 'electron'},
    ].flatMap((s, i) =>
      ['normal', 'listening', 'dfu'].map((mode, j) => ({...s, faults: {}, id: id(1000 + i * 10 + j), mode, setupDone: 255})),
    )
    const file = devicesFile(specs)
    const {code, json} = await runJson<Json>(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(code).to.equal(0)
    for (const spec of specs) {
      const r = json.devices.find((d) => d.id === spec.id)!
      const what = JSON.stringify(spec)
      expect(r.flag, what).to.equal('not-applicable')
      expect(r.reason, what).to.be.a('string').and.not.empty
      if (['photon', 'electron'].includes(spec.platform)) expect(r.reason, what).to.match(/Gen2/)
      else if (['p2', 'msom'].includes(spec.platform)) expect(r.reason, what).to.match(/never had the setup-done flag/)
      else expect(r.reason, what).to.match(/4\.0 or later/)
      if (spec.mode !== 'dfu') expect(r.deviceOsVersion, what).to.equal(spec.deviceOs)
    }
    expect(readDevices(file).violations).to.equal(undefined)
  })

  it('prints a table a person reads at a glance, with the next step', async () => {
    const file = devicesFile([{deviceOs: '3.3.1', faults: {}, id: id(1), mode: 'listening', platform: 'argon', setupDone: 255}])
    const {code, stdout} = await runCli(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(code).to.equal(0)
    expect(stdout).to.match(/DEVICE\s+PLATFORM\s+MODE\s+DEVICE OS\s+SETUP FLAG/)
    expect(stdout).to.match(new RegExp(`${id(1)}\\s+Argon\\s+listening\\s+3\\.3\\.1 \\(usb\\)\\s+NOT DONE`))
    expect(stdout).to.contain(`particle-setup-flag set ${id(1)}`)
  })

  it('reads only the devices named, and accepts the topic-less shorthand', async () => {
    const file = devicesFile([1, 2, 3].map((i) => ({deviceOs: '3.3.1', faults: {}, id: id(i), mode: 'normal', platform: 'boron', setupDone: 1})))
    const {json} = await runJson<Json>(['setup-flag', 'get', id(2).toUpperCase(), id(3)], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(json.devices.map((d) => d.id)).to.deep.equal([id(2), id(3)])
  })

  describe('bad input and failure: one sentence, a documented exit status, no stack trace, nothing written', () => {
    const noStack = (s: string) => expect(s).not.to.match(/\n\s+at .+:\d+:\d+/)

    it('an ID that is not 24 hex digits: exit 2', async () => {
      const file = devicesFile([{deviceOs: '3.3.1', faults: {}, id: id(1), mode: 'normal', platform: 'argon', setupDone: 255}])
      // The start of a connected device's ID names it (test/commands/mistyped-device.test.ts): this one starts none.
      const short = `${id(1).slice(0, 22)}f`
      const r = await runCli(['get', short], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(r.code).to.equal(2)
      expect(r.stderr.replaceAll(/\s+/g, " ")).to.contain(`"${short}" is not a device ID: a device ID is 24 hexadecimal digits.`)
      noStack(r.stderr)
      const j = await runJson<{error: {code: string; exit: number}}>(['get', 'bad name!'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(j.code).to.equal(2)
      expect(j.json.error).to.include({code: 'SETUP_FLAG_BAD_DEVICE_ID', exit: 2})
    })

    it('an ID that is not connected: exit 3', async () => {
      const file = devicesFile([{deviceOs: '3.3.1', faults: {}, id: id(1), mode: 'normal', platform: 'argon', setupDone: 255}])
      const r = await runCli(['get', id(9)], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(r.code).to.equal(3)
      expect(r.stderr).to.contain(`Device ${id(9)} is not connected over USB`)
      noStack(r.stderr)
    })

    it('no device at all: exit 3', async () => {
      const r = await runCli(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: devicesFile([])}})
      expect(r.code).to.equal(3)
      expect(r.stderr).to.contain('No Particle device is connected over USB')
      noStack(r.stderr)
    })

    it('a malformed devices file: exit 2, with what is wrong', async () => {
      const dir = devicesFile([]).replace(/devices\.json$/, '')
      const {writeFileSync} = await import('node:fs')
      writeFileSync(`${dir}bad.json`, '{"devices": [ {"id": 42 ')
      const r = await runCli(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: `${dir}bad.json`}})
      expect(r.code).to.equal(2)
      expect(r.stderr).to.match(/devices file .*bad\.json is not usable/)
      noStack(r.stderr)
      const r2 = await runCli(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: devicesFile([{id: 'zz', platform: 'argon'}])}})
      expect(r2.code).to.equal(2)
      expect(r2.stderr).to.match(/devices\[0\]/)
      const r3 = await runCli(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: `${dir}missing.json`}})
      expect(r3.code).to.equal(2)
    })

    it('permission denied: exit 5 and the udev rule', async () => {
      const file = devicesFile([{deviceOs: '3.3.1', faults: {accessDenied: true}, id: id(1), mode: 'listening', platform: 'argon', setupDone: 255}])
      const r = await runCli(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(r.code).to.equal(5)
      expect(r.stdout + r.stderr).to.contain('ATTRS{idVendor}=="2b04"')
      expect(r.stdout + r.stderr).to.contain('particle usb configure')
    })

    it('a device unplugged mid-read: exit 6, flag unknown', async () => {
      const file = devicesFile([{deviceOs: '3.3.1', faults: {unplugAfterTransfers: 3}, id: id(1), mode: 'listening', platform: 'argon', setupDone: 255}])
      const {code, json} = await runJson<Json>(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code).to.equal(6)
      expect(json.devices[0]).to.include({flag: 'unknown', value: null})
      expect(json.devices[0].error!.code).to.equal('SETUP_FLAG_DISCONNECTED')
    })

    it('a device whose firmware blocks the system thread: exit 6 with the Safe Mode steps', async () => {
      const file = devicesFile([{deviceOs: '3.3.1', faults: {blockedSystemThread: true}, id: id(1), mode: 'listening', platform: 'boron', setupDone: 255}])
      const {code, json} = await runJson<Json>(['get', '--timeout', '1'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code).to.equal(6)
      expect(json.devices[0].flag).to.equal('unknown')
      expect(json.devices[0].deviceOsVersion).to.equal('3.3.1') // the raw request still answers
      expect(json.devices[0].error!.suggestions.join(' ')).to.match(/Safe Mode: hold MODE and RESET/)
    })

    it('a device that stalls every vendor request: exit 6', async () => {
      const file = devicesFile([{deviceOs: '3.3.1', faults: {stallControl: true}, id: id(1), mode: 'normal', platform: 'argon', setupDone: 1}])
      const {code, json} = await runJson<Json>(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(code).to.equal(6)
      expect(json.devices[0].flag).to.equal('unknown')
    })

    it('a protected 6.x device: not applicable', async () => {
      const file = devicesFile(
        ['normal', 'dfu'].map((mode, i) => ({deviceOs: '6.2.0', faults: {protected: true}, id: id(i + 1), mode, platform: 'bsom', setupDone: 255})),
      )
      const {json} = await runJson<Json>(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      for (const r of json.devices) expect(r.flag).to.equal('not-applicable')
    })
  })
})
