// The preparatory-firmware method end to end against the loopback cloud: compile, flash, event, reminder.
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {SetReport} from '../../src/lib/flag.js'

import {preparatoryFirmware} from '../../src/lib/setup-flag/firmware.js'
import {runCli, runJson, tempDir} from '../support/cli.js'
import {VirtualCloud} from '../../src/lib/cloud/virtual.js'

type SetJson = {devices: SetReport[]}
const BORON = 'e00fce681a2b3c4d5e6f7b02'

describe('set --method firmware (loopback cloud)', function () {
  this.timeout(60_000)
  let cloud: VirtualCloud
  let env: NodeJS.ProcessEnv

  beforeEach(async () => {
    cloud = await new VirtualCloud().start()
    cloud.devices = [
      {connected: true, id: BORON, name: 'field-boron', platform_id: 13, system_firmware_version: '2.3.1'},
      {connected: true, id: 'e00fce681a2b3c4d5e6f7b03', name: 'new-boron', platform_id: 13, system_firmware_version: '4.2.0'},
      {connected: false, id: 'e00fce681a2b3c4d5e6f7b04', name: 'sleepy-boron', platform_id: 13, system_firmware_version: '3.3.1'},
    ]
    const home = tempDir('setup-flag-home-')
    mkdirSync(join(home, '.particle'))
    writeFileSync(join(home, '.particle', 'particle.config.json'), JSON.stringify({access_token: cloud.token, apiUrl: cloud.url}))
    env = {HOME: home}
  })
  afterEach(() => cloud.close())

  it('generates firmware that writes one byte at 8134 without the removed constant, and publishes it', () => {
    const src = preparatoryFirmware(1)
    expect(src).to.contain('SETUP_DONE_OFFSET = 8134')
    expect(src).to.contain('WANTED = 0x01')
    expect(src).to.match(/dct_write_app_data\(&WANTED, SETUP_DONE_OFFSET, 1\)/)
    expect(src).to.contain('Particle.publish("setup-flag/result"')
    expect(src.replaceAll(/\/\/.*$/gm, '')).not.to.contain('DCT_SETUP_DONE_OFFSET') // only mentioned in a comment
  })

  it('compiles for the platform and version, flashes, waits for the event, and reminds to flash production back', async () => {
    const {code, json, stderr} = await runJson<SetJson>(['set', 'field-boron', '--method', 'firmware', '--yes'], {env})
    expect(code, stderr).to.equal(0)
    const r = json.devices[0]
    expect(r).to.include({after: 1, changed: true, flag: 'done', id: BORON, method: 'firmware', name: 'field-boron'})
    expect(r.steps.join('\n')).to.match(/flash your production firmware back/)
    const paths = cloud.requests.map((q) => `${q.method} ${q.path}`)
    expect(paths).to.include('POST /v1/binaries')
    expect(paths).to.include(`PUT /v1/devices/${BORON}`)
    expect(paths.indexOf(`GET /v1/devices/${BORON}/events/setup-flag/result`)).to.be.below(paths.indexOf(`PUT /v1/devices/${BORON}`))
    expect(cloud.flashed).to.deep.equal([{data: 'FAKEBIN platform=13 version=2.3.1 wanted=01', deviceId: BORON}])
  })

  it('shows the DCT caveat, and --restore flashes the production firmware back', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'production.bin'), 'PRODUCTION v7')
    const r = await runCli(['set', 'field-boron', '--method', 'firmware', '--yes', '--restore', join(dir, 'production.bin')], {env})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).to.contain('corrupt the DCT')
    expect(r.stdout).to.contain('Flashed the production firmware back (production.bin)')
    expect(cloud.flashed.map((f) => f.data)).to.deep.equal(['FAKEBIN platform=13 version=2.3.1 wanted=01', 'PRODUCTION v7'])
  })

  it('needs a yes: without a terminal and without --yes nothing is flashed', async () => {
    const r = await runCli(['set', 'field-boron', '--method', 'firmware'], {env})
    expect(r.code).to.equal(2)
    expect(r.stdout + r.stderr).to.contain('--yes')
    expect(cloud.flashed).to.have.length(0)
  })

  it('does nothing where the flag does not apply, or when the device is offline', async () => {
    const na = await runJson<SetJson>(['set', 'new-boron', '--method', 'firmware', '--yes'], {env})
    expect(na.code).to.equal(0)
    expect(na.json.devices[0]).to.include({changed: false, flag: 'not-applicable'})
    const off = await runJson<SetJson>(['set', 'sleepy-boron', '--method', 'firmware', '--yes'], {env})
    expect(off.code).to.equal(7)
    expect(off.json.devices[0].error!.message).to.contain('not online')
    expect(cloud.flashed).to.have.length(0)
  })

  it('fails loudly when the device reports another byte', async () => {
    cloud.eventData = 'ff'
    const {code, json} = await runJson<SetJson>(['set', 'field-boron', '--method', 'firmware', '--yes'], {env})
    expect(code).to.equal(8)
    expect(json.devices[0].error!.code).to.equal('SETUP_FLAG_VERIFY')
  })

  it('one unknown name does not stop the others, and its failure sets the exit status', async () => {
    const {code, json} = await runJson<SetJson>(['set', 'field-boron', 'nobodys-boron', '--method', 'firmware', '--yes'], {env})
    expect(code).to.equal(7)
    expect(json.devices.map((d) => [d.id, d.changed, d.error?.code])).to.deep.equal([
      [BORON, true, undefined],
      ['nobodys-boron', false, 'SETUP_FLAG_UNKNOWN_DEVICE'],
    ])
    expect(cloud.flashed).to.have.length(1)
  })

  it('--restore without --method firmware, and --all with names: usage errors before anything happens', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'production.bin'), 'PRODUCTION v7')
    const a = await runCli(['set', 'field-boron', '--restore', join(dir, 'production.bin')], {env})
    expect(a.code).to.equal(2)
    expect(a.stderr).to.contain('--restore goes with --method firmware')
    const b = await runCli(['set', '--all', BORON], {env})
    expect(b.code).to.equal(2)
    expect(b.stderr).to.contain('does not go with DEVICE arguments')
    expect(cloud.flashed).to.have.length(0)
  })

  it('needs a logged-in user and a device named', async () => {
    expect((await runCli(['set', '--method', 'firmware', '--yes'], {env})).code).to.equal(2)
    const r = await runCli(['set', 'field-boron', '--method', 'firmware', '--yes'], {env: {HOME: tempDir()}})
    expect(r.code).to.equal(7)
    expect(r.stderr).to.contain('particle login')
  })
})
