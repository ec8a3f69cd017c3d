/**
 * Finding 3 of the hardening issue, replayed channel by channel: the access token, URL passwords and
 * Authorization values never reach stderr, stdout or --json, whatever the status code, and DEBUG=* output of our
 * dependencies (the proxy agent prints its URL) is filtered too.
 */
import {expect} from 'chai'
import {addSecret, forTerminal, oneLine, redact, redactDeep} from '../../src/lib/redact.js'
import {devicesFile, runCli} from '../support/cli.js'
import {VirtualCloud} from '../../src/lib/cloud/virtual.js'
import {profileHome} from './helpers.js'

const ARGON = 'e00fce681a2b3c4d5e6f7a01'


describe('adversarial: no secret in any output', function () {
  this.timeout(120_000)

  describe('redact()', () => {
    it('removes a known secret, URL passwords, Authorization values and access_token parameters', () => {
      addSecret('s3cr3t-token-value')
      expect(redact('echo: s3cr3t-token-value!')).to.equal('echo: [REDACTED]!')
      expect(redact('no answer from http://me:hunter22@proxy:8080/x')).to.equal('no answer from http://me:[REDACTED]@proxy:8080/x')
      expect(redact('Authorization: Bearer abc.def-1')).to.equal('Authorization: Bearer [REDACTED]')
      expect(redact('{"authorization":"Basic dXNlcjpwYXNz"}')).to.equal('{"authorization":"Basic [REDACTED]"}')
      expect(redact('https://api.particle.io/v1/devices?access_token=0123abcd&x=1')).to.equal('https://api.particle.io/v1/devices?access_token=[REDACTED]&x=1')
      expect(redactDeep({a: ['s3cr3t-token-value'], b: {c: 'bearer xyz'}})).to.deep.equal({a: ['[REDACTED]'], b: {c: 'bearer [REDACTED]'}})
    })

    it('strips terminal control: OSC titles, clear-screen, colours, CR, C1 (newlines kept only where ours)', () => {
      expect(forTerminal('a\u001B]0;pwned\u0007b\u001B[2Jc\r\nd\u009B31me\u001B[0m')).to.equal('abc\nde')
      expect(oneLine('evil\nname\u001B[31m\r')).to.equal('evilname')
    })
  })

  describe('through the built binary', () => {
    let cloud: VirtualCloud
    let file: string
    let env: NodeJS.ProcessEnv

    beforeEach(async () => {
      cloud = await new VirtualCloud().start()
      cloud.token = 'tok-9f8e7d6c5b4a39'
      cloud.devices = [{id: ARGON, name: 'my-argon', platform_id: 12, system_firmware_version: '3.3.1'}]
      file = devicesFile([{deviceOs: '3.3.1', faults: {}, id: ARGON, mode: 'listening', platform: 'argon', setupDone: 255}])
      env = {HOME: profileHome({access_token: cloud.token, apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: file}
    })
    afterEach(() => cloud.close())

    const echoing = (status: number) => ({
      body: {error: 'echo', error_description: `bad request with access_token=${cloud.token} (Authorization: Bearer ${cloud.token})`},
      status,
    })

    const commands: string[][] = [
      ['get', 'my-argon'],
      ['get', ARGON],
      ['set', ARGON, '--method', 'firmware', '--yes'],
      ['set', ARGON, '--dry-run'],
      ['doctor', ARGON, '--yes'],
    ]
    for (const status of [400, 418]) {
      for (const args of commands) {
        it(`HTTP ${status} echoing the token: \`${args.join(' ')}\` shows none of it (text and --json)`, async () => {
          for (const json of [false, true]) {
            cloud.failWith = echoing(status)
            const r = await runCli(json ? [...args, '--json'] : args, {env})
            const out = r.stdout + r.stderr
            expect(out, out).to.not.contain(cloud.token)
            expect(out).to.not.contain('tok-9f8e7d6c5b4a39')
            if (json) JSON.parse(r.stdout) // still parseable
          }
        })
      }
    }

    it('a password in PARTICLE_API_URL is not echoed in "no answer from …"', async () => {
      const r = await runCli(['get', 'my-argon', '--json'], {
        env: {HOME: profileHome({}), PARTICLE_ACCESS_TOKEN: cloud.token, PARTICLE_API_URL: 'http://user:Sup3rPassw0rd@127.0.0.1:9', PARTICLE_VIRTUAL_DEVICES: file},
      })
      expect(r.code).to.equal(7)
      expect(r.stdout).to.contain('user:[REDACTED]@127.0.0.1:9')
      expect(r.stdout + r.stderr).to.not.contain('Sup3rPassw0rd')
    })

    it('DEBUG=*: the proxy agent\'s debug output does not show the proxy password, nor the token', async () => {
      const r = await runCli(['get', 'my-argon'], {
        env: {...env, DEBUG: '*', HTTPS_PROXY: 'http://proxyuser:Pr0xyPassw0rd@127.0.0.1:9', HTTP_PROXY: 'http://proxyuser:Pr0xyPassw0rd@127.0.0.1:9'},
      })
      expect(r.stderr).to.contain('proxyuser') // the debug output is there
      expect(r.stdout + r.stderr).to.not.contain('Pr0xyPassw0rd')
      expect(r.stdout + r.stderr).to.not.contain(cloud.token)
    })
  })
})
