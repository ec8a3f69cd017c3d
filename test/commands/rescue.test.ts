// The field rescue end to end on the loopback cloud: `set <device> --method firmware --wait-online` with a device
// that is offline, comes online later through the event stream, is flashed once, reports, and gets production
// firmware back; interrupted (or out of time) before it comes online, nothing is flashed.
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {SetReport} from '../../src/lib/flag.js'

import {withWaitOnlineDefault} from '../../src/lib/setup-flag/online.js'
import {runCli} from '../support/cli.js'
import {VirtualCloud} from '../../src/lib/cloud/virtual.js'
import {LiveCli} from '../support/live-cli.js'
import {profileHome} from '../support/cloud-home.js'

const FIELD = 'e00fce681a2b3c4d5e6f7c01'

describe('set --method firmware --wait-online (field rescue, loopback cloud)', function () {
  this.timeout(60_000)
  let cloud: VirtualCloud
  let env: NodeJS.ProcessEnv
  let production: string

  beforeEach(async () => {
    cloud = await new VirtualCloud().start()
    cloud.devices = [
      {connected: false, id: FIELD, name: 'field-boron', platform_id: 13, system_firmware_version: '2.3.1'},
      {connected: false, id: 'e00fce681a2b3c4d5e6f7c02', name: 'new-boron', platform_id: 13, system_firmware_version: '4.2.0'},
    ]
    const home = profileHome(cloud)
    production = join(home, 'production.bin')
    writeFileSync(production, 'PRODUCTION v9')
    env = {COLUMNS: '1000', HOME: home, PARTICLE_OFFLINE: ''} // messages matched whole, not wrapped
  })
  afterEach(() => cloud.close())

  /** Start the rescue and wait until the card is out and the status events are watched. */
  async function startRescue(extra: string[] = []): Promise<LiveCli> {
    const cli = new LiveCli(['set', 'field-boron', '--method', 'firmware', '--wait-online', '60', '--yes', ...extra], env)
    await cli.until('the on-site card', () => (cli.stderr.includes('Hold MODE and RESET') ? true : undefined))
    await cloud.waitForStream(FIELD, 'spark/status')
    return cli
  }

  it('offline, comes online in Safe Mode later: flashed once, the result read, production restored', async () => {
    const cli = await startRescue(['--restore', production, '--json'])
    expect(cloud.flashed, 'nothing flashed while offline').to.deep.equal([])
    expect(cli.stderr).to.contain('Waiting up to 60 s for it to come online; Ctrl-C stops the wait')
    expect(cloud.requests.map((r) => `${r.method} ${r.path}`)).to.include('POST /v1/binaries') // compiled while waiting
    cloud.bringOnline(FIELD, {safeMode: true})
    const {code, stdout, stderr} = await cli.exited
    expect(code, stderr).to.equal(0)
    const r = (JSON.parse(stdout) as {devices: SetReport[]}).devices[0]
    expect(r).to.include({after: 1, changed: true, flag: 'done', id: FIELD, method: 'firmware'})
    expect(r.steps.join('\n')).to.match(/came online\.[\s\S]*Flashed it over the air[\s\S]*reported 01[\s\S]*Flashed the production firmware back \(production\.bin\)/)
    expect(cloud.flashed.map((f) => f.data)).to.deep.equal(['FAKEBIN platform=13 version=2.3.1 wanted=01', 'PRODUCTION v9'])
    const paths = cloud.requests.map((q) => `${q.method} ${q.path}`)
    expect(paths.indexOf(`GET /v1/devices/${FIELD}/events/setup-flag/result`)).to.be.below(paths.indexOf(`PUT /v1/devices/${FIELD}`))
    expect(cloud.openStreams).to.deep.equal([])
  })

  it('a plain spark/status "online" is enough, and without --restore it reminds to flash production back', async () => {
    const cli = await startRescue()
    cloud.bringOnline(FIELD)
    const {code, stdout, stderr} = await cli.exited
    expect(code, stderr).to.equal(0)
    expect(stdout).to.match(/flash your production firmware back/i)
    expect(cloud.flashed).to.have.length(1)
  })

  it('interrupted before the device comes online: nothing is flashed, exit 130', async () => {
    const cli = await startRescue(['--restore', production])
    cli.kill('SIGINT')
    const {code, stdout, stderr} = await cli.exited
    expect(code).to.equal(130)
    expect(stdout + stderr).to.match(/Interrupted before field-boron came online; nothing was flashed/)
    cloud.bringOnline(FIELD) // too late: nobody is listening
    expect(cloud.flashed).to.deep.equal([])
    expect(cloud.requests.some((r) => r.method === 'PUT')).to.equal(false)
  })

  it('the wait is bounded: no device in time, nothing flashed, exit 6', async () => {
    const r = await runCli(['set', 'field-boron', '--method', 'firmware', '--wait-online', '1', '--yes'], {env})
    expect(r.code).to.equal(6)
    expect(r.stdout + r.stderr).to.match(/did not come online within 1 s; nothing was flashed/)
    expect(cloud.flashed).to.deep.equal([])
  })

  it('an online device is flashed at once, without the card', async () => {
    cloud.devices[0].connected = true
    const r = await runCli(['set', 'field-boron', '--method', 'firmware', '--wait-online', '--yes'], {env})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).not.to.contain('Hold MODE')
    expect(cloud.flashed).to.have.length(1)
  })

  it('where the flag does not apply, nothing waits and nothing is flashed; bad combinations are refused', async () => {
    const na = await runCli(['set', 'new-boron', '--method', 'firmware', '--wait-online', '5', '--yes'], {env})
    expect(na.code).to.equal(0)
    expect(na.stderr).not.to.contain('Hold MODE')
    expect((await runCli(['set', 'field-boron', '--wait-online'], {env})).code).to.equal(2) // not --method firmware
    expect((await runCli(['set', 'field-boron', 'new-boron', '--method', 'firmware', '--wait-online', '--yes'], {env})).code).to.equal(2)
    expect(cloud.flashed).to.deep.equal([])
  })

  it('a spark/status/safe-mode event alone counts as online; events of other devices do not', async () => {
    const {realClock} = await import('../../src/lib/clock.js')
    const {Cloud} = await import('../../src/lib/cloud/cloud.js')
    const {waitUntilOnline} = await import('../../src/lib/setup-flag/online.js')
    const {onSiteCard} = await import('../../src/lib/text/fleet.js')
    const c = new Cloud({accessToken: cloud.token, apiUrl: cloud.url, from: 'test', offline: false, profile: 'particle'}, realClock)
    const cards: string[] = []
    let carded = () => {}
    const card = new Promise<void>((resolve) => (carded = resolve))
    const waiting = waitUntilOnline({
      clock: realClock,
      cloud: c,
      device: {id: FIELD, name: 'field-boron'},
      onCard() {
        cards.push(onSiteCard('field-boron', 30_000))
        carded()
      },
      waitMs: 30_000,
    })
    await card // subscribed, looked up (offline), card shown: now the device connects
    cloud.publish('e00fce681a2b3c4d5e6f7c02', 'spark/status', 'online') // another device
    cloud.publish(FIELD, 'spark/status', 'offline')
    cloud.publish(FIELD, 'spark/status/safe-mode', '{"p":13}')
    expect(await waiting).to.equal('safe-mode')
    expect(cards).to.have.length(1)
    expect(cards[0]).to.match(/Hold MODE and RESET, release RESET, release MODE when the LED blinks magenta/)
  })

  it('a device the first look found offline, and the cloud now says online, came online (its event may still be on its way)', async () => {
    const {realClock} = await import('../../src/lib/clock.js')
    const {Cloud} = await import('../../src/lib/cloud/cloud.js')
    const {waitUntilOnline} = await import('../../src/lib/setup-flag/online.js')
    const c = new Cloud({accessToken: cloud.token, apiUrl: cloud.url, from: 'test', offline: false, profile: 'particle'}, realClock)
    // The record says online, and no event comes: as when the event is still in transit when the record is read.
    cloud.devices[0].connected = true
    const wait = (device: {connected?: boolean; id: string; name: string; online?: boolean}) =>
      waitUntilOnline({clock: realClock, cloud: c, device, onCard: () => expect.fail('no card: the device is online'), waitMs: 30_000})
    // Before: "field-boron is online." for a device the run had found offline (a race the virtual cloud showed).
    expect(await wait({connected: false, id: FIELD, name: 'field-boron', online: false})).to.equal('online')
    expect(await wait({connected: true, id: FIELD, name: 'field-boron', online: true})).to.equal('already')
    expect(await wait({id: FIELD, name: 'field-boron'})).to.equal('already') // nothing known of the first look
  })

  it('--wait-online takes an optional number of seconds', () => {
    expect(withWaitOnlineDefault(['x', '--wait-online'])).to.deep.equal(['x', '--wait-online', '1800'])
    expect(withWaitOnlineDefault(['--wait-online', '--yes', 'x'])).to.deep.equal(['--wait-online', '1800', '--yes', 'x'])
    expect(withWaitOnlineDefault(['--wait-online', '90', 'x'])).to.deep.equal(['--wait-online', '90', 'x'])
    expect(withWaitOnlineDefault(['--wait-online=90'])).to.deep.equal(['--wait-online=90'])
  })
})
