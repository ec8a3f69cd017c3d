// Exit statuses and hints. A short device ID is bad input (exit 2) before any cloud call; a
// named device online but not on USB is offered the firmware method; the offline hint names what the user set;
// the doctor's help lists every status it uses.
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {devicesFile, runCli, runJson, tempDir} from '../support/cli.js'
import {VirtualCloud} from '../../src/lib/cloud/virtual.js'

const BORON = 'e00fce681a2b3c4d5e6f7a02'

function loggedInHome(cloud: VirtualCloud): string {
  const dir = tempDir('setup-flag-home-')
  mkdirSync(join(dir, '.particle'))
  writeFileSync(join(dir, '.particle', 'particle.config.json'), JSON.stringify({access_token: cloud.token, apiUrl: cloud.url}))
  return dir
}

describe('exit statuses and hints', function () {
  this.timeout(60_000)
  let cloud: VirtualCloud

  beforeEach(async () => {
    cloud = await new VirtualCloud().start()
    cloud.devices = [{connected: true, id: BORON, name: 'remote-boron', platform_id: 13, system_firmware_version: '3.3.1'}]
  })
  afterEach(() => cloud.close())

  it('a short device ID is "24 hex digits", exit 2, and the cloud is never asked', async () => {
    const r = await runJson(['get', 'e00fce681a2b'], {env: {HOME: loggedInHome(cloud), PARTICLE_VIRTUAL_DEVICES: devicesFile([])}})
    expect(r.code).to.equal(2)
    expect((r.json as {error: {code: string; message: string}}).error).to.include({code: 'SETUP_FLAG_BAD_DEVICE_ID'})
    expect((r.json as {error: {message: string}}).error.message).to.contain('24 hexadecimal digits')
    expect(cloud.requests).to.have.length(0)
  })

  it('a named device online in the cloud but not on USB is offered --method firmware', async () => {
    const r = await runCli(['set', 'remote-boron'], {env: {HOME: loggedInHome(cloud), PARTICLE_VIRTUAL_DEVICES: devicesFile([])}})
    expect(r.code).to.equal(3)
    expect(r.stderr).to.contain('is online in the Particle Cloud')
    expect(r.stderr).to.contain('particle-setup-flag set remote-boron --method firmware')
  })

  it('PARTICLE_OFFLINE=1: the hint names the environment variable, not a flag the user never passed', async () => {
    const r = await runCli(['set', 'remote-boron'], {env: {HOME: loggedInHome(cloud), PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: devicesFile([])}})
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('PARTICLE_OFFLINE=1')
    expect(r.stderr).not.to.contain('--offline')
    const flag = await runCli(['set', 'remote-boron', '--offline'], {env: {HOME: loggedInHome(cloud), PARTICLE_VIRTUAL_DEVICES: devicesFile([])}})
    expect(flag.stderr).to.contain('--offline')
  })

  it('doctor --help lists every exit status the doctor uses: 10 for a declined fix, 130 for an interruption', async () => {
    const r = await runCli(['doctor', '--help'])
    const text = r.stdout.replaceAll(/\s+/g, ' ')
    for (const s of ['0 when', '1 a bug', '2 bad input', '3 no device', '4 no USB', '5 USB permission', '6 the device', '7 cloud', '8 the write', '9 Device Protection', '10 not fixed: you declined', '130 interrupted']) {
      expect(text).to.contain(s)
    }
  })
})
