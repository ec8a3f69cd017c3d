/**
 * Findings 6 and 7 of the hardening issue, replayed: strings from the cloud, the devices file, the firmware and
 * argv reach the terminal without control characters; failures a user can cause have their own codes and
 * messages, never "Unexpected error" or a library's internals.
 */
import {expect} from 'chai'
import {closeSync, ftruncateSync, openSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'

import {devicesFile, runCli, runJson, tempDir, testDevice, testId} from '../support/cli.js'
import {VirtualCloud} from '../../src/lib/cloud/virtual.js'
import {profileHome} from './helpers.js'

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/
const EVIL = '\u001B]0;pwned\u0007\u001B[2J\u001B[31mred\rover\nline\u009B1m'


/** A server standing where the cloud should be, answering with whatever `route` says. */
async function oddCloud(route: (method: string, path: string) => {body: string; status: number; type?: string}): Promise<{close(): Promise<void>; url: string}> {
  const server: Server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const r = route(req.method ?? '', new URL(req.url ?? '/', 'http://x').pathname)
      res.writeHead(r.status, {'content-type': r.type ?? 'application/json'})
      res.end(r.body)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const {port} = server.address() as {port: number}
  return {
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
    url: `http://127.0.0.1:${port}`,
  }
}

describe('adversarial: terminal injection', function () {
  this.timeout(120_000)

  it('a cloud device name and version with escape sequences, CR and LF reach the terminal stripped', async () => {
    const cloud = await new VirtualCloud().start()
    try {
      cloud.devices = [{id: testId(1), name: `evil${EVIL}`, platform_id: 12, system_firmware_version: `3.1.0${EVIL}`}]
      const env = {HOME: profileHome({access_token: cloud.token, apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 0xff)])}
      const r = await runCli(['get', testId(1)], {env})
      expect(r.code).to.equal(0)
      expect(r.stdout).to.contain('evil')
      expect(r.stdout + r.stderr).to.not.match(CONTROL)
      const j = await runJson<{devices: Array<{name: string}>}>(['get', testId(1)], {env})
      expect(j.json.devices[0].name).to.not.match(CONTROL)
    } finally {
      await cloud.close()
    }
  })

  it('argv and devices-file keys are echoed without control characters', async () => {
    const a = await runCli(['get', `\u001B]0;pwned\u0007abc`], {env: {PARTICLE_VIRTUAL_DEVICES: devicesFile([])}})
    expect(a.code).to.not.equal(0)
    expect(a.stderr).to.contain('abc')
    expect(a.stderr).to.not.match(CONTROL)
    const file = devicesFile([{...testDevice(1, 'argon', '3.3.1', 'normal', 1), [`\u001B[2Jkey\r`]: 1}])
    const b = await runCli(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(b.code).to.equal(2)
    expect(b.stderr).to.contain('key')
    expect(b.stderr).to.not.match(CONTROL)
  })

  it('event data from the firmware is cleaned before it is shown', async () => {
    const cloud = await new VirtualCloud().start()
    try {
      cloud.devices = [{connected: true, id: testId(2), name: 'far', platform_id: 12, system_firmware_version: '3.3.1'}]
      cloud.eventData = `\u001B[2J${EVIL}`
      const env = {HOME: profileHome({access_token: cloud.token, apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: devicesFile([])}
      const r = await runCli(['set', 'far', '--method', 'firmware', '--yes'], {env})
      expect(r.code).to.equal(8)
      expect((r.stdout + r.stderr).replaceAll(/\s+/g, ' ')).to.contain('reported the setup-done byte') // wrapped for people
      expect(r.stdout + r.stderr).to.not.match(CONTROL)
    } finally {
      await cloud.close()
    }
  })
})

describe('adversarial: errors a user can cause have their own codes', function () {
  this.timeout(120_000)

  it('a --restore file over 2 GiB: SETUP_FLAG_RESTORE_FILE, exit 2, not "Unexpected error"', async () => {
    const dir = tempDir('restore-')
    const big = join(dir, 'big.bin')
    const fd = openSync(big, 'w')
    ftruncateSync(fd, 2 ** 31 + 4096) // sparse: no disk used
    closeSync(fd)
    const r = await runJson<{error: {code: string; message: string}}>(['set', 'far', '--method', 'firmware', '--restore', big], {
      env: {PARTICLE_ACCESS_TOKEN: 'tok-abcdef', PARTICLE_API_URL: 'http://127.0.0.1:9', PARTICLE_VIRTUAL_DEVICES: devicesFile([])},
    })
    expect(r.code).to.equal(2)
    expect(r.json.error.code).to.equal('SETUP_FLAG_RESTORE_FILE')
    expect(r.json.error.message).to.contain(big)
  })

  for (const [what, body, type] of [
    ['invalid JSON', '{"devices": [', 'application/json'],
    ['an HTML page', '<html><body>Portal login</body></html>', 'text/html'],
    ['an empty body', '', 'application/json'],
  ] as const) {
    it(`${what} with HTTP 200: SETUP_FLAG_CLOUD_BAD_ANSWER, not "HTTP 200"`, async () => {
      const cloud = await oddCloud(() => ({body, status: 200, type}))
      try {
        const r = await runJson<{error: {code: string; message: string}}>(['get', 'my-argon'], {
          env: {HOME: profileHome({access_token: 'tok-abcdef', apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: devicesFile([])},
        })
        expect(r.code).to.equal(7)
        expect(r.json.error.code).to.equal('SETUP_FLAG_CLOUD_BAD_ANSWER')
        expect(r.json.error.message).to.contain('not JSON')
      } finally {
        await cloud.close()
      }
    })
  }

  it('a device list that is not a list: its own warning, not "list.map is not a function"', async () => {
    const cloud = await oddCloud(() => ({body: JSON.stringify({devices: 'nope'}), status: 200}))
    try {
      const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'normal', 1), testDevice(2, 'boron', '3.3.1', 'normal', 1)])
      const r = await runJson<{warnings: string[]}>(['get'], {env: {HOME: profileHome({access_token: 'tok-abcdef', apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: file}})
      expect(r.code).to.equal(0)
      expect(r.json.warnings.join(' ')).to.contain('unexpected answer to the device list')
      expect(r.json.warnings.join(' ')).to.not.contain('is not a function')
    } finally {
      await cloud.close()
    }
  })

  it('a 403 on the compile request names the compile, not a device', async () => {
    const device = {connected: true, id: testId(3), name: 'far', online: true, platform_id: 12, system_firmware_version: '3.3.1'}
    const cloud = await oddCloud((method, path) => (method === 'GET' && path.startsWith('/v1/devices/') ? {body: JSON.stringify(device), status: 200} : {body: JSON.stringify({error: 'Forbidden'}), status: 403}))
    try {
      const r = await runJson<{devices: Array<{error: {code: string; message: string}}>}>(['set', 'far', '--method', 'firmware', '--yes'], {
        env: {HOME: profileHome({access_token: 'tok-abcdef', apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: devicesFile([])},
      })
      expect(r.code).to.equal(7)
      expect(r.json.devices[0].error.code).to.equal('SETUP_FLAG_CLOUD_REFUSED')
      expect(r.json.devices[0].error.message).to.contain('the compile request')
      expect(r.json.devices[0].error.message).to.not.contain('knows no device')
    } finally {
      await cloud.close()
    }
  })

  it('12 devices restarting at once (set --all --method dfu): no MaxListenersExceededWarning', async () => {
    const file = devicesFile(Array.from({length: 12}, (_, i) => testDevice(i + 1, 'argon', '3.3.1', 'listening', 0xff)))
    const r = await runCli(['set', '--all', '--method', 'dfu', '--yes'], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).to.not.contain('MaxListenersExceededWarning')
  })
})
