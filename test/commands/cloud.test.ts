// The cloud through the built binary: the official CLI's profile files in a temporary HOME pointing at a real
// HTTP server on 127.0.0.1 (particle-api-js reaches it through its normal base URL; nothing is stubbed).
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {FlagReport} from '../../src/lib/flag.js'

import {devicesFile, runCli, runJson, tempDir} from '../support/cli.js'
import {VirtualCloud} from '../../src/lib/cloud/virtual.js'

type Json = {devices: FlagReport[]; warnings: string[]}

const ARGON = 'e00fce681a2b3c4d5e6f7a01'
const BORON = 'e00fce681a2b3c4d5e6f7a02'

/** A HOME as `particle login` (and `particle profile`) leave it. */
function home(profiles: Record<string, {access_token?: string; apiUrl?: string}>, active?: string): string {
  const dir = tempDir('setup-flag-home-')
  mkdirSync(join(dir, '.particle'))
  if (active) writeFileSync(join(dir, '.particle', 'profile.json'), JSON.stringify({name: active}))
  for (const [name, config] of Object.entries(profiles)) writeFileSync(join(dir, '.particle', `${name}.config.json`), JSON.stringify(config))
  return dir
}

describe('the Particle Cloud (loopback server, built binary)', function () {
  this.timeout(60_000)
  let cloud: VirtualCloud
  let file: string

  beforeEach(async () => {
    cloud = await new VirtualCloud().start()
    cloud.devices = [
      {id: ARGON, name: 'my-argon', platform_id: 12, system_firmware_version: '3.3.1'},
      {id: BORON, name: 'field-boron', platform_id: 13, system_firmware_version: '2.3.1'},
    ]
    file = devicesFile([
      {deviceOs: '3.3.1', faults: {}, id: ARGON, mode: 'listening', platform: 'argon', setupDone: 255},
      {deviceOs: '2.3.1', faults: {}, id: BORON, mode: 'normal', platform: 'boron', setupDone: 1},
    ])
  })
  afterEach(() => cloud.close())

  const loggedIn = () => ({HOME: home({particle: {access_token: cloud.token, apiUrl: cloud.url}}), PARTICLE_VIRTUAL_DEVICES: file})
  const noToken = (s: string) => expect(s).not.to.contain(cloud.token)

  it('resolves a device name for a logged-in user, with one request', async () => {
    const {code, json, stderr, stdout} = await runJson<Json>(['get', 'my-argon'], {env: loggedIn()})
    expect(code).to.equal(0)
    expect(json.devices).to.have.length(1)
    expect(json.devices[0]).to.include({flag: 'not-done', id: ARGON, name: 'my-argon', cloudDeviceOsVersion: '3.3.1'})
    expect(cloud.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal([`GET /v1/devices/my-argon`])
    expect(cloud.requests[0].authorization).to.equal(`Bearer ${cloud.token}`)
    noToken(stdout + stderr)
  })

  it('shows names next to IDs, with one GET /v1/devices for several devices', async () => {
    const {stdout} = await runCli(['get'], {env: loggedIn()})
    expect(stdout).to.contain(`my-argon [${ARGON}]`)
    expect(stdout).to.contain(`field-boron [${BORON}]`)
    expect(cloud.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['GET /v1/devices'])
    const two = await runJson<Json>(['get', 'my-argon', 'field-boron'], {env: loggedIn()})
    expect(two.json.devices.map((d) => d.name)).to.deep.equal(['my-argon', 'field-boron'])
    expect(cloud.requests.slice(1).map((r) => r.path)).to.deep.equal(['/v1/devices'])
  })

  it('follows the active profile of profile.json', async () => {
    const env = {
      HOME: home({particle: {access_token: 'wrong', apiUrl: 'http://127.0.0.1:9'}, staging: {access_token: cloud.token, apiUrl: cloud.url}}, 'staging'),
      PARTICLE_VIRTUAL_DEVICES: file,
    }
    const {code, json} = await runJson<Json>(['get', 'field-boron'], {env})
    expect(code).to.equal(0)
    expect(json.devices[0].name).to.equal('field-boron')
    // and PARTICLE_PROFILE picks another one
    const other = await runJson<Json>(['get', 'field-boron'], {env: {...env, PARTICLE_PROFILE: 'particle'}})
    expect(other.code).to.equal(7)
  })

  it('takes environment overrides for scripts', async () => {
    const env = {HOME: home({}), PARTICLE_ACCESS_TOKEN: cloud.token, PARTICLE_API_URL: cloud.url, PARTICLE_VIRTUAL_DEVICES: file}
    const {json} = await runJson<Json>(['get', 'my-argon'], {env})
    expect(json.devices[0].id).to.equal(ARGON)
  })

  it('says when the cloud disagrees with the device, and believes the device', async () => {
    cloud.devices[0].system_firmware_version = '3.1.0'
    const {json} = await runJson<Json>(['get', ARGON], {env: loggedIn()})
    expect(json.devices[0]).to.include({cloudDeviceOsVersion: '3.1.0', deviceOsVersion: '3.3.1', deviceOsVersionSource: 'usb'})
    expect(json.warnings.join(' ')).to.contain('the cloud last saw 3.1.0')
  })

  it('not logged in: a name fails with what to do, an ID carries on quietly without asking the cloud', async () => {
    const env = {HOME: home({}), PARTICLE_VIRTUAL_DEVICES: file}
    const byName = await runCli(['get', 'my-argon'], {env})
    expect(byName.code).to.equal(7)
    expect(byName.stderr).to.contain('particle login')
    expect(byName.stderr).to.contain('use the device ID')
    const byId = await runJson<Json>(['get', ARGON], {env})
    expect(byId.code).to.equal(0)
    expect(byId.json.warnings).to.deep.equal([])
    expect(byId.stderr).to.equal('')
    expect(cloud.requests).to.have.length(0)
  })

  it('an invalid or expired token points at `particle login`', async () => {
    const env = {HOME: home({particle: {access_token: 'expired-token-77', apiUrl: cloud.url}}), PARTICLE_VIRTUAL_DEVICES: file}
    const byName = await runCli(['get', 'my-argon'], {env})
    expect(byName.code).to.equal(7)
    expect(byName.stderr).to.contain('rejected your access token')
    expect(byName.stderr).to.contain('particle login')
    expect(byName.stderr).not.to.contain('expired-token-77')
    const byId = await runJson<Json>(['get', ARGON], {env})
    expect(byId.code).to.equal(0) // the flag is still read over USB
    expect(byId.json.warnings.join(' ')).to.contain('particle login')
  })

  it('an unknown name (or someone else\'s device) is named', async () => {
    const r = await runCli(['get', 'nobodys-boron'], {env: loggedIn()})
    expect(r.code).to.equal(7)
    expect(r.stderr).to.contain('knows no device "nobodys-boron"')
    noToken(r.stdout + r.stderr) // the 403 body carries the token in a URL; it must not leak
  })

  it('cloud down or 5xx: warns once and answers from USB; a name cannot be resolved', async () => {
    cloud.failWith = {status: 502}
    const five = await runJson<Json>(['get'], {env: loggedIn()})
    expect(five.code).to.equal(0)
    expect(five.json.warnings).to.have.length(1)
    expect(five.json.devices.map((d) => d.flag)).to.deep.equal(['not-done', 'done'])
    const env = loggedIn()
    await cloud.close()
    const down = await runCli(['get', ARGON], {env})
    expect(down.code).to.equal(0)
    expect(down.stderr.match(/Warning:/g)).to.have.length(1)
    expect(down.stderr).to.contain('Particle Cloud is unavailable')
    expect(down.stderr).to.contain('ECONNREFUSED')
    const name = await runCli(['get', 'my-argon'], {env})
    expect(name.code).to.equal(7)
    expect(name.stderr).to.contain('Particle Cloud is unavailable')
  })

  it('rate limiting: retries with back-off, then succeeds', async () => {
    cloud.failWith = {count: 2, status: 429}
    const {code, json} = await runJson<Json>(['get', 'my-argon'], {env: loggedIn()})
    expect(code).to.equal(0)
    expect(json.devices[0].id).to.equal(ARGON)
    expect(cloud.requests).to.have.length(3)
  })

  it('rate limiting where the cloud only adds a name: a Retry-After past --timeout is not waited for, and its seconds are said', async () => {
    cloud.failWith = {retryAfter: '30', status: 429}
    const {code, json} = await runJson<Json>(['get', ARGON, '--timeout', '1'], {env: loggedIn()})
    expect(code).to.equal(0)
    expect(json.devices[0]).to.include({flag: 'not-done', id: ARGON})
    expect(cloud.requests).to.have.length(1)
    expect(json.warnings.join(' ')).to.contain('asks to wait 30 s, longer than the 1 s').and.not.contain('minute')
  })

  it('--offline never calls the cloud', async () => {
    const {json} = await runJson<Json>(['get', '--offline'], {env: loggedIn()})
    expect(json.devices[0].name).to.equal(null)
    expect(cloud.requests).to.have.length(0)
  })

  it('never prints the token, not even with DEBUG=*', async () => {
    for (const args of [['get'], ['get', 'my-argon'], ['get', 'nobodys-boron'], ['get', '--json']]) {
      const r = await runCli(args, {env: {...loggedIn(), DEBUG: '*'}})
      noToken(r.stdout + r.stderr)
    }
  })
})

describe('the Device OS version in DFU mode (loopback cloud)', function () {
  this.timeout(60_000)

  it('the cloud decides when the device cannot say: a 4.x device in DFU is not-applicable with the version from the cloud', async () => {
    const cloud = await new VirtualCloud().start()
    try {
      const ids = ['e00fce681a2b3c4d5e6f7c01', 'e00fce681a2b3c4d5e6f7c02', 'e00fce681a2b3c4d5e6f7c03']
      cloud.devices = [
        {id: ids[0], name: 'dfu-boron-4', platform_id: 13, system_firmware_version: '4.2.0'},
        {id: ids[1], name: 'dfu-boron-3', platform_id: 13, system_firmware_version: '3.3.1'},
      ]
      const file = devicesFile([
        {deviceOs: '4.2.0', faults: {noSystemPart: true}, id: ids[0], mode: 'dfu', platform: 'boron', setupDone: 255},
        {deviceOs: '3.3.1', faults: {noSystemPart: true}, id: ids[1], mode: 'dfu', platform: 'boron', setupDone: 255},
        {deviceOs: '3.3.1', faults: {noSystemPart: true}, id: ids[2], mode: 'dfu', platform: 'boron', setupDone: 255},
      ])
      const env = {HOME: home({particle: {access_token: cloud.token, apiUrl: cloud.url}}), PARTICLE_VIRTUAL_DEVICES: file}
      const {code, json} = await runJson<Json>(['get'], {env})
      expect(code).to.equal(0)
      expect(json.devices[0]).to.include({deviceOsVersion: '4.2.0', deviceOsVersionSource: 'cloud', flag: 'not-applicable', value: 255})
      expect(json.devices[1]).to.include({deviceOsVersion: '3.3.1', deviceOsVersionSource: 'cloud', flag: 'not-done', value: 255})
      // not in the account: nobody can say
      expect(json.devices[2]).to.include({deviceOsVersionSource: null, flag: 'unknown', value: 255})
      expect(json.devices[2].reason).to.match(/version .* is unknown/)
      // offline: the same device is unknown, and says why
      const offline = await runJson<Json>(['get', '--offline'], {env})
      expect(offline.json.devices[0]).to.include({flag: 'unknown', value: 255})
    } finally {
      await cloud.close()
    }
  })

  it('the header decides when it can be read, and a disagreeing cloud is reported', async () => {
    const cloud = await new VirtualCloud().start()
    try {
      const id = 'e00fce681a2b3c4d5e6f7c09'
      cloud.devices = [{id, name: 'upgraded', platform_id: 12, system_firmware_version: '2.3.1'}]
      const file = devicesFile([{deviceOs: '4.2.0', faults: {}, id, mode: 'dfu', platform: 'argon', setupDone: 255}])
      const env = {HOME: home({particle: {access_token: cloud.token, apiUrl: cloud.url}}), PARTICLE_VIRTUAL_DEVICES: file}
      const {json} = await runJson<Json>(['get'], {env})
      expect(json.devices[0]).to.include({cloudDeviceOsVersion: '2.3.1', deviceOsVersion: '4.2.0', deviceOsVersionSource: 'dfu', flag: 'not-applicable'})
      expect(json.warnings.join(' ')).to.contain('the cloud last saw 2.3.1')
    } finally {
      await cloud.close()
    }
  })
})

describe('broken Particle CLI settings', function () {
  this.timeout(30_000)

  it('warn, and `get <id>` still answers from USB', async () => {
    const dir = tempDir('setup-flag-home-')
    mkdirSync(join(dir, '.particle'))
    writeFileSync(join(dir, '.particle', 'profile.json'), '{"name": ')
    const file = devicesFile([{deviceOs: '3.3.1', faults: {}, id: ARGON, mode: 'listening', platform: 'argon', setupDone: 255}])
    const {code, json} = await runJson<Json>(['get', ARGON], {env: {HOME: dir, PARTICLE_VIRTUAL_DEVICES: file}})
    expect(code).to.equal(0)
    expect(json.devices[0].flag).to.equal('not-done')
    expect(json.warnings.join(' ')).to.match(/profile\.json is not valid JSON/)
  })
})

describe('through an HTTP proxy (HTTPS_PROXY), as the official CLI 3.47+ does', function () {
  this.timeout(30_000)

  it('every cloud request goes through the proxy; NO_PROXY sends it direct', async () => {
    const {createServer} = await import('node:http')
    const {connect} = await import('node:net')
    const cloud = await new VirtualCloud().start()
    const tunnels: string[] = []
    // A CONNECT proxy on 127.0.0.1, as corporate proxies are: it records each tunnel and pipes it through.
    const proxy = createServer()
    proxy.on('connect', (req, client, head) => {
      tunnels.push(req.url ?? '')
      const [host, port] = (req.url ?? '').split(':')
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.write(head)
        upstream.pipe(client)
        client.pipe(upstream)
      })
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()))
    try {
      cloud.devices = [{id: ARGON, name: 'my-argon', platform_id: 12, system_firmware_version: '3.3.1'}]
      const file = devicesFile([{deviceOs: '3.3.1', faults: {}, id: ARGON, mode: 'listening', platform: 'argon', setupDone: 255}])
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as {port: number}).port}`
      const env = {HOME: home({particle: {access_token: cloud.token, apiUrl: cloud.url}}), HTTPS_PROXY: proxyUrl, PARTICLE_VIRTUAL_DEVICES: file}
      const {code, json} = await runJson<Json>(['get', 'my-argon'], {env})
      expect(code).to.equal(0)
      expect(json.devices[0].name).to.equal('my-argon')
      expect(tunnels).to.deep.equal([new URL(cloud.url).host])
      const direct = await runJson<Json>(['get', 'my-argon'], {env: {...env, NO_PROXY: '127.0.0.1'}})
      expect(direct.code).to.equal(0)
      expect(tunnels).to.have.length(1)
    } finally {
      proxy.closeAllConnections()
      await new Promise<void>((r) => proxy.close(() => r()))
      await cloud.close()
    }
  })
})
