// A device named that is not connected, while others are, is answered at once with what is connected (closest
// first); the start of a connected device's ID (6 hex digits or more) names it; a mistyped bundled example names
// the real ones. Through the built binary, as a person types it.
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {VirtualCloud} from '../../src/lib/cloud/virtual.js'
import {devicesFile, readDevices, runCli, runJson, tempDir, testDevice, testId} from '../support/cli.js'

type ErrorJson = {error: {code: string; exit: number; message: string}}
const ARGON = 'e00fce681a2b3c4d5e6f7a8b'
const argon = {deviceOs: '3.3.1', faults: {}, id: ARGON, mode: 'listening', platform: 'argon', setupDone: 255}
const flat = (s: string) => s.replaceAll(/\s+/g, ' ')

describe('a mistyped device is answered at once', function () {
  this.timeout(60_000)

  it('an ID one digit off the connected Argon: exit 3, the Argon listed first, named as one character different', async () => {
    // Another device sorts first by ID; the Argon is the closer one to what was typed.
    const file = devicesFile([testDevice(1, 'boron', '3.3.1', 'normal', 1), argon])
    const r = await runJson<ErrorJson>(['get', 'e00fce681a2b3c4d5e6f7a8c'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(r.code).to.equal(3)
    expect(r.json.error.code).to.equal('SETUP_FLAG_NOT_CONNECTED')
    const lines = r.json.error.message.split('\n')
    expect(lines[0]).to.equal('Device e00fce681a2b3c4d5e6f7a8c is not connected over USB. Connected now, closest first:')
    expect(lines.slice(1)).to.deep.equal([`  ${ARGON} (Argon), 1 character different`, `  ${testId(1)} (Boron)`])
  })

  it('set: the same, and nothing is written to any device', async () => {
    const file = devicesFile([argon])
    const r = await runCli(['set', 'e00fce681a2b3c4d5e6f7a8c'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(r.code).to.equal(3)
    expect(flat(r.stderr)).to.contain(`Connected now, closest first: ${ARGON} (Argon), 1 character different`)
    expect(readDevices(file).devices[0].setupDone).to.equal(255)
  })

  it('the first 6 hex digits or more of one connected device name it: get reads it, set sets only it', async () => {
    const file = devicesFile([argon, testDevice(1, 'boron', '3.3.1', 'listening', 255)])
    const got = await runJson<{devices: Array<{id: string}>}>(['get', 'E00FCE681A2B'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(got.code, got.stderr).to.equal(0)
    expect(got.json.devices.map((d) => d.id)).to.deep.equal([ARGON])
    const set = await runCli(['set', 'e00fce681a2b3c'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(set.code, set.stderr).to.equal(0)
    expect(readDevices(file).devices.map((d) => d.setupDone)).to.deep.equal([1, 255])
  })

  it('a start shared by several connected devices is refused with them (exit 3), and nothing is written', async () => {
    const file = devicesFile([argon, testDevice(1, 'boron', '3.3.1', 'listening', 255), testDevice(2, 'argon', '2.3.1', 'dfu', 255)])
    const r = await runJson<ErrorJson>(['set', 'e00fce68'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(r.code).to.equal(3)
    expect(r.json.error.code).to.equal('SETUP_FLAG_MULTIPLE_DEVICES')
    expect(r.json.error.message.split('\n')).to.deep.equal([
      '"e00fce68" starts the ID of 3 connected devices:',
      `  ${testId(1)} (Boron)`,
      `  ${testId(2)} (Argon, DFU)`,
      `  ${ARGON} (Argon)`,
    ])
    expect(readDevices(file).devices.map((d) => d.setupDone)).to.deep.equal([255, 255, 255])
  })

  it('hex digits that start no connected ID: exit 2 (not a device ID), with the connected devices; the cloud is not asked', async () => {
    const cloud = await new VirtualCloud().start()
    try {
      const home = tempDir('setup-flag-home-')
      mkdirSync(join(home, '.particle'))
      writeFileSync(join(home, '.particle', 'particle.config.json'), JSON.stringify({access_token: cloud.token, apiUrl: cloud.url}))
      const r = await runJson<ErrorJson>(['get', 'e00fce681a2c'], {env: {HOME: home, PARTICLE_VIRTUAL_DEVICES: devicesFile([argon])}})
      expect(r.code).to.equal(2)
      expect(r.json.error.code).to.equal('SETUP_FLAG_BAD_DEVICE_ID')
      expect(flat(r.json.error.message)).to.contain("No connected device's ID starts with it")
      expect(r.json.error.message).to.contain(`\n  ${ARGON} (Argon)`)
      expect(cloud.requests).to.have.length(0)
    } finally {
      await cloud.close()
    }
  })

  it('a short hex word (a01) is a name: not logged in says so, and lists the connected devices, the one ending in a01 first', async () => {
    const devices = [1, 2, 3].map((n) => ({...testDevice(n, 'argon', '3.3.1', 'listening', 255), id: `e00fce681a2b3c4d5e6f7a0${n}`}))
    const r = await runJson<ErrorJson>(['get', 'a01'], {env: {PARTICLE_VIRTUAL_DEVICES: devicesFile([...devices].reverse())}})
    expect(r.code).to.equal(7)
    expect(r.json.error.code).to.equal('SETUP_FLAG_NOT_LOGGED_IN')
    expect(r.json.error.message.split('\n').slice(1, 2)).to.deep.equal(['  e00fce681a2b3c4d5e6f7a01 (Argon)'])
  })

  it('a cloud name whose device is not connected: the connected ones are listed with their cloud names, closest name first', async () => {
    const cloud = await new VirtualCloud().start()
    try {
      cloud.devices = [
        {connected: false, id: testId(9), name: 'bench-argon', platform_id: 12, system_firmware_version: '3.3.1'},
        {connected: true, id: ARGON, name: 'bench-argon2', platform_id: 12, system_firmware_version: '3.3.1'},
        {connected: true, id: testId(1), name: 'gate', platform_id: 13, system_firmware_version: '3.3.1'},
      ]
      const home = tempDir('setup-flag-home-')
      mkdirSync(join(home, '.particle'))
      writeFileSync(join(home, '.particle', 'particle.config.json'), JSON.stringify({access_token: cloud.token, apiUrl: cloud.url}))
      const r = await runJson<ErrorJson>(['get', 'bench-argon'], {env: {HOME: home, PARTICLE_VIRTUAL_DEVICES: devicesFile([testDevice(1, 'boron', '3.3.1', 'normal', 1), argon])}})
      expect(r.code).to.equal(3)
      expect(r.json.error.message.split('\n').slice(1)).to.deep.equal([`  bench-argon2 ${ARGON} (Argon), 1 character different`, `  gate ${testId(1)} (Boron)`])
    } finally {
      await cloud.close()
    }
  })

  it('doctor <ID one digit off> --yes --json without a terminal: says at once what is connected, and on stderr what it waits for', async () => {
    const file = devicesFile([argon])
    const r = await runJson<{error: {code: string}; steps: Array<{detail: string; step: string}>}>(['doctor', 'e00fce681a2b3c4d5e6f7a8c', '--yes', '--wait', '1'], {
      env: {PARTICLE_VIRTUAL_DEVICES: file},
    })
    expect(r.code).to.equal(3)
    expect(r.json.steps[0].detail).to.equal(`Device e00fce681a2b3c4d5e6f7a8c is not connected over USB. Connected now, closest first:\n    ${ARGON} (Argon), 1 character different`)
    expect(flat(r.stderr)).to.contain('Connect e00fce681a2b3c4d5e6f7a8c to this computer with a USB data cable. Waiting up to 1 s for it...')
    expect(readDevices(file).devices[0].setupDone).to.equal(255) // the Argon was not taken instead
  })

  it('doctor without --json: the list comes before the wait', async () => {
    const r = await runCli(['doctor', 'e00fce681a2b3c4d5e6f7a8c', '--yes', '--wait', '1'], {env: {PARTICLE_VIRTUAL_DEVICES: devicesFile([argon])}})
    expect(r.code).to.equal(3)
    const listed = r.stdout.indexOf(`${ARGON} (Argon), 1 character different`)
    expect(listed).to.be.greaterThan(-1)
    expect(listed).to.be.lessThan(r.stdout.indexOf('Waiting up to 1 s'))
  })

  it('a mistyped bundled example: exit 2 naming the bundled examples, closest first (and not the virtual cloud)', async () => {
    const r = await runJson<ErrorJson>(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: 'stuck-argonn'}})
    expect(r.code).to.equal(2)
    expect(r.json.error.code).to.equal('SETUP_FLAG_DEVICES_FILE')
    expect(r.json.error.message).to.contain('The bundled examples, closest first: stuck-argon, blocked-boron, mixed-bench.')
    expect(r.json.error.message).not.to.contain('fleet')
  })
})
