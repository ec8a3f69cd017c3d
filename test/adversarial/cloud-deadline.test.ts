/**
 * Finding 4 of the hardening issue, replayed: a cloud that accepts the connection and never answers, or drips a
 * byte a second, does not hold us: every request has a deadline (default 15 s, --timeout when given); where the
 * cloud only adds a display name, the USB answer still comes with a warning.
 */
import {expect} from 'chai'
import {createServer, type Server, type Socket} from 'node:net'

import {devicesFile, runCli, runJson} from '../support/cli.js'
import {profileHome} from './helpers.js'

const ARGON = 'e00fce681a2b3c4d5e6f7a01'

/** A TCP server that accepts and then says nothing (or one byte a second, never a whole HTTP answer). */
async function silentCloud(drip: boolean): Promise<{close(): Promise<void>; url: string}> {
  const sockets = new Set<Socket>()
  const timers = new Set<ReturnType<typeof setInterval>>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    if (drip) {
      socket.write('HTTP/1.1 200 OK\r\n')
      const t = setInterval(() => socket.write('X'), 1000)
      timers.add(t)
      socket.on('close', () => clearInterval(t))
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const {port} = server.address() as {port: number}
  return {
    async close() {
      for (const t of timers) clearInterval(t)
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
    url: `http://127.0.0.1:${port}`,
  }
}

describe('adversarial: a silent cloud does not hang us', function () {
  this.timeout(120_000)

  for (const drip of [false, true]) {
    it(`get <ID> --timeout 1 against a cloud that ${drip ? 'drips a byte a second' : 'never answers'}: the USB answer and a warning, within --timeout + 15 s`, async () => {
      const cloud = await silentCloud(drip)
      try {
        const file = devicesFile([{deviceOs: '3.3.1', faults: {}, id: ARGON, mode: 'listening', platform: 'argon', setupDone: 255}])
        const env = {HOME: profileHome({access_token: 'tok-silent-123', apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: file}
        const started = Date.now()
        const r = await runJson<{devices: Array<{flag: string}>; warnings: string[]}>(['get', ARGON, '--timeout', '1'], {env})
        const took = Date.now() - started
        expect(r.code, r.stderr).to.equal(0)
        expect(r.json.devices[0].flag).to.equal('not-done')
        expect(r.json.warnings.join(' ')).to.contain('within 1 s')
        expect(took).to.be.below(16_000)
        // set <ID> and doctor end too (they only want the cloud for names and versions here)
        for (const args of [['set', ARGON, '--timeout', '1'], ['doctor', ARGON, '--timeout', '1', '--yes']]) {
          const t0 = Date.now()
          const s = await runCli(args, {env})
          expect(Date.now() - t0, `${args[0]}: ${s.stderr}`).to.be.below(30_000)
          expect(s.stderr).to.not.contain('    at ') // no stack trace
        }
      } finally {
        await cloud.close()
      }
    })
  }
})
