// --force never claims "set" where the flag does not exist; one byte spelling;
// a summary object in `set --all --json`; Wi-Fi vs cellular advice from @particle/device-constants.
import {expect} from 'chai'

import type {FlagReport} from '../../src/lib/flag.js'

import {otherCauses} from '../../src/lib/doctor/doctor.js'
import {devicesFile, runCli, runJson, testDevice} from '../support/cli.js'

const env = (file: string) => ({PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file})

describe('honest and consistent output', function () {
  this.timeout(60_000)

  it('set --force on a P2 says it had no effect and never claims the flag was set', async () => {
    const file = devicesFile([testDevice(1, 'p2', '5.9.0', 'listening', 255)])
    const r = await runCli(['set', '--force'], {env: env(file)})
    expect(r.code).to.equal(0)
    expect(r.stdout).to.contain('no effect')
    expect(r.stdout).not.to.match(/✔|flag set|not set → not set/)
    const j = await runJson<{summary: Record<string, number>}>(['set', '--force'], {env: env(file)})
    expect(j.json.summary).to.deep.include({fixed: 0, unchanged: 1})
  })

  it('set --all --json has a summary object; bytes are spelled 0xFF everywhere', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255), testDevice(2, 'p2', '5.9.0', 'normal', 255)])
    const got = await runCli(['get'], {env: env(devicesFile([testDevice(3, 'argon', '3.3.1', 'dfu', 255)]))}) // DFU reads the byte
    expect(got.stdout).to.contain('(0xFF)')
    expect(got.stdout).not.to.contain('0xff')
    const {code, json} = await runJson<{summary: Record<string, number>}>(['set', '--all'], {env: env(file)})
    expect(code).to.equal(0)
    expect(json.summary).to.deep.equal({failed: 0, fixed: 1, total: 2, unchanged: 1})
  })

  it('Wi-Fi or cellular advice follows the platform\'s features (an A SoM is Wi-Fi)', () => {
    const advice = (platform: string) => otherCauses(platform).join('\n')
    expect(advice('asom')).to.contain('Wi-Fi credentials')
    expect(advice('asom')).not.to.contain('SIM')
    expect(advice('boron')).to.contain('SIM')
    expect(advice('boron')).not.to.contain('Wi-Fi credentials')
    expect(advice('argon')).to.contain('Wi-Fi credentials')
  })
})
