/**
 * Finding 5 of the hardening issue, replayed: results that were wrong, each now right.
 */
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {realClock} from '../../src/lib/clock.js'
import {devicesFile, readDevices, runCli, runJson, tempDir, testDevice, testId} from '../support/cli.js'
import {VirtualCloud} from '../../src/lib/cloud/virtual.js'
import {profileHome} from './helpers.js'

type Report = {after: null | number; changed: boolean; error?: {code: string; exit: number; message: string}; flag: string; reason: null | string; steps: string[]; value: null | number}
type Json = {devices: Report[]}


describe('adversarial: wrong results', function () {
  this.timeout(120_000)

  it('set (and --dry-run) on Photon, P1, Electron, P2, M SoM, Tracker M in DFU mode: n/a, exit 0, nothing written', async () => {
    const platforms = ['photon', 'p1', 'electron', 'p2', 'msom', 'trackerm']
    const file = devicesFile(platforms.map((p, i) => testDevice(i + 1, p, p === 'p2' || p === 'msom' || p === 'trackerm' ? '5.9.0' : '2.3.1', 'dfu', 0xff)))
    for (const extra of [['--dry-run'], []]) {
      const r = await runJson<Json>(['set', '--all', ...extra], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}})
      expect(r.code, r.stdout).to.equal(0)
      expect(r.json.devices.map((d) => d.flag)).to.deep.equal(platforms.map(() => 'not-applicable'))
      expect(r.json.devices.every((d) => !d.error && !d.changed)).to.equal(true)
    }
    const after = readDevices(file)
    expect(after.devices.map((d) => d.setupDone)).to.deep.equal(platforms.map(() => 0xff))
    expect(after.violations).to.equal(undefined)
  })

  it('an odd byte (0x07) over USB: "not 0x01" said as what it is, the DFU read offered; --not-done writes 0xFF', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'normal', 0x07)])
    const env = {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}
    const text = await runCli(['get', testId(1)], {env})
    expect(text.code).to.equal(0)
    expect(text.stdout).to.contain('not 0x01')
    expect(text.stdout).to.contain('DFU mode')
    expect(text.stdout).to.not.match(/flag is not set, so this Argon boots into Listening Mode/)
    const json = await runJson<Json>(['get', testId(1)], {env})
    expect(json.json.devices[0].reason).to.contain('not 0x01')
    const clear = await runJson<Json>(['set', testId(1), '--not-done'], {env})
    expect(clear.code, clear.stdout).to.equal(0)
    expect(clear.json.devices[0].changed).to.equal(true)
    expect(readDevices(file).devices[0].setupDone).to.equal(0xff)
  })

  it('--not-done on a byte known to be 0xFF writes nothing', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'dfu', 0xff)])
    const r = await runJson<Json>(['set', testId(1), '--not-done'], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}})
    expect(r.json.devices[0].changed).to.equal(false)
  })

  describe('the firmware method (loopback cloud)', () => {
    let cloud: VirtualCloud
    const ARGON = testId(0x51)
    beforeEach(async () => {
      cloud = await new VirtualCloud().start()
    })
    afterEach(() => cloud.close())
    const env = () => ({HOME: profileHome({access_token: cloud.token, apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: devicesFile([])})

    it('with no known Device OS version: an error (exit 7), not "the flag does not apply"', async () => {
      cloud.devices = [{connected: true, id: ARGON, name: 'far-argon', platform_id: 12}]
      const r = await runJson<Json>(['set', 'far-argon', '--method', 'firmware', '--yes'], {env: env()})
      expect(r.code).to.equal(7)
      expect(r.json.devices[0].error?.code).to.equal('SETUP_FLAG_NO_VERSION')
      expect(cloud.flashed).to.have.length(0)
    })

    it('--restore failing after the device reported 01: the flag stays "done", and the report says it still runs the preparatory firmware', async () => {
      cloud.devices = [{connected: true, id: ARGON, name: 'far-argon', platform_id: 12, system_firmware_version: '3.3.1'}]
      const publish = cloud.publish.bind(cloud)
      cloud.publish = (deviceId: string, name: string, data: string) => {
        cloud.failWith = {status: 500} // the restore flash that follows fails
        publish(deviceId, name, data)
      }
      const dir = tempDir('restore-')
      writeFileSync(join(dir, 'production.bin'), 'PRODUCTION firmware')
      const r = await runJson<Json>(['set', 'far-argon', '--method', 'firmware', '--yes', '--restore', join(dir, 'production.bin')], {env: env()})
      const d = r.json.devices[0]
      expect(d.flag, JSON.stringify(d)).to.equal('done')
      expect(d.value).to.equal(1)
      expect(d.error?.code).to.equal('SETUP_FLAG_RESTORE_FAILED')
      expect(d.error?.message).to.contain('still runs the preparatory firmware')
      expect(r.code).to.equal(7)
    })
  })

  it('timers longer than 2^31-1 ms (doctor --wait 2147484) do not fire at once', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.name)
    process.on('warning', onWarning)
    let fired = false
    const cancel = realClock.setTimer(2_147_484_000, () => {
      fired = true
    })
    await new Promise<void>((r) => realClock.setTimer(30, r))
    cancel()
    process.off('warning', onWarning)
    expect(fired).to.equal(false)
    expect(warnings).to.not.include('TimeoutOverflowWarning')
  })
})
