/**
 * A cloud that answers a device look-up with 1 GiB of JSON (streamed, or declared up front) costs a bounded amount
 * of memory and fails on its own clear error (SETUP_FLAG_CLOUD_TOO_LARGE, exit 7), not on the deadline and not as
 * "not JSON". The CLI runs as a child process; its peak resident memory (resourceUsage().maxRSS, recorded at exit)
 * is compared with the same command against an ordinary answer.
 */
import {expect} from 'chai'
import {readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {type AddressInfo} from 'node:net'
import {join} from 'node:path'

import {devicesFile, runCli, tempDir, testDevice, testId} from '../support/cli.js'
import {profileHome as cloudHome} from '../support/cloud-home.js'
import {VirtualCloud as FakeCloud} from '../../src/lib/cloud/virtual.js'
import {profileHome} from './helpers.js'

const GiB = 1024 ** 3
const MiB = 1024 ** 2

/** A cloud that answers every request with `status` and a JSON body of 1 GiB, produced as it is read. */
async function hugeCloud(opts: {declared: boolean; status: number}): Promise<{close(): Promise<void>; sent(): number; url: string}> {
  let sent = 0
  const chunk = Buffer.alloc(64 * 1024, 'a')
  const server: Server = createServer((req, res) => {
    res.on('error', () => {})
    res.writeHead(opts.status, {'content-type': 'application/json', ...(opts.declared ? {'content-length': String(GiB)} : {})})
    const head = Buffer.from(`{"id":"${testId(1)}","name":"`)
    res.write(head)
    sent += head.length
    const pump = () => {
      while (!res.destroyed && sent + chunk.length <= GiB - 2) {
        sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      if (!res.destroyed) res.end('"}')
    }
    pump()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    async close() {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
    sent: () => sent,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  }
}

/** Run the CLI and return its result with its peak resident memory in bytes. */
async function measured(args: string[], env: NodeJS.ProcessEnv) {
  const dir = tempDir('setup-flag-rss-')
  const out = join(dir, 'rss')
  const preload = join(dir, 'rss.cjs')
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS * 1024)))\n`)
  const r = await runCli(args, {env: {NODE_OPTIONS: `--require ${preload}`, ...env}})
  return {...r, rss: Number(readFileSync(out, 'utf8'))}
}

describe('adversarial: a huge cloud answer is bounded', function () {
  this.timeout(120_000)
  const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255)])
  let baseline: number

  before(async () => {
    const cloud = await new FakeCloud().start()
    try {
      cloud.devices = [{id: testId(1), name: 'my-device', platform_id: 12, system_firmware_version: '3.3.1'}]
      const r = await measured(['get', 'my-device', '--json', '--timeout', '3'], {HOME: cloudHome(cloud), PARTICLE_VIRTUAL_DEVICES: file})
      expect(r.code, r.stdout + r.stderr).to.equal(0)
      baseline = r.rss
    } finally {
      await cloud.close()
    }
  })

  for (const declared of [false, true]) {
    it(`get <name> --timeout 3, 1 GiB ${declared ? 'declared in Content-Length' : 'streamed (chunked)'}: its own error, exit 7, < 100 MiB above the ordinary answer, before the deadline`, async () => {
      const cloud = await hugeCloud({declared, status: 200})
      try {
        const env = {HOME: profileHome({access_token: 'tok-huge-123', apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: file}
        const r = await measured(['get', 'my-device', '--json', '--timeout', '3'], env)
        expect(r.code, r.stderr).to.equal(7)
        const error = JSON.parse(r.stdout).error
        // Its own error, not the deadline's ("no answer ... within 3 s") and not "a body that is not JSON".
        expect(error.code).to.equal('SETUP_FLAG_CLOUD_TOO_LARGE')
        expect(error.message).to.contain('my-device').and.contain('32 MiB')
        expect(r.rss - baseline, `peak ${Math.round(r.rss / MiB)} MiB, baseline ${Math.round(baseline / MiB)} MiB`).to.be.below(100 * MiB)
        expect(cloud.sent()).to.be.below(GiB / 8) // the rest was never asked for
      } finally {
        await cloud.close()
      }
    })
  }

  it('get <ID>: the cloud only adds a name, so the USB answer comes with a warning that says what happened', async () => {
    const cloud = await hugeCloud({declared: false, status: 200})
    try {
      const env = {HOME: profileHome({access_token: 'tok-huge-123', apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: file}
      const r = await measured(['get', testId(1), '--json'], env)
      expect(r.code, r.stderr).to.equal(0)
      const json = JSON.parse(r.stdout)
      expect(json.devices[0].flag).to.equal('not-done')
      expect(json.warnings.join(' ')).to.contain('larger than 32 MiB')
      expect(r.rss - baseline).to.be.below(100 * MiB)
    } finally {
      await cloud.close()
    }
  })

  it('an error status (500) with a 1 GiB body is bounded too', async () => {
    const cloud = await hugeCloud({declared: false, status: 500})
    try {
      const env = {HOME: profileHome({access_token: 'tok-huge-123', apiUrl: cloud.url}), PARTICLE_VIRTUAL_DEVICES: file}
      const r = await measured(['get', 'my-device', '--json'], env)
      expect(r.code, r.stderr).to.equal(7)
      expect(JSON.parse(r.stdout).error.code).to.equal('SETUP_FLAG_CLOUD_TOO_LARGE')
      expect(r.rss - baseline).to.be.below(100 * MiB)
    } finally {
      await cloud.close()
    }
  })
})
