// A cloud answering 429 where it only adds a name: Retry-After is respected, but never past the request's
// deadline, and the wait it asked for is said in seconds. In process, on a fake clock, against the loopback cloud.
import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {Cloud} from '../../../src/lib/cloud/cloud.js'
import {VirtualCloud as FakeCloud} from '../../../src/lib/cloud/virtual.js'
import {failure} from '../../support/failure.js'

const ARGON = 'e00fce681a2b3c4d5e6f7a01'

describe('cloud: 429 and Retry-After', () => {
  let fake: FakeCloud
  let clock: FakeClock
  const warnings: string[] = []

  beforeEach(async () => {
    fake = await new FakeCloud().start()
    fake.devices = [{id: ARGON, name: 'my-argon', platform_id: 12, system_firmware_version: '3.3.1'}]
    clock = new FakeClock(1_000_000)
    warnings.length = 0
  })
  afterEach(() => fake.close())

  const cloud = (timeoutMs?: number) =>
    new Cloud({accessToken: fake.token, apiUrl: fake.url, from: 'test', offline: false, profile: 'particle', timeoutMs}, clock, (m) => warnings.push(m))


  it('a Retry-After that fits in the deadline is waited for (on the clock), then the answer comes', async () => {
    fake.failWith = {count: 1, retryAfter: '3', status: 429}
    const start = clock.now()
    const d = await cloud(5000).device('my-argon')
    expect(d.id).to.equal(ARGON)
    expect(fake.requests).to.have.length(2)
    expect(clock.now() - start).to.be.within(3000, 5000)
  })

  it('a Retry-After longer than the deadline fails at once, saying the wait in seconds', async () => {
    fake.failWith = {retryAfter: '30', status: 429}
    const start = clock.now()
    const e = await failure(cloud(1000).device('my-argon'))
    expect(fake.requests).to.have.length(1)
    expect(clock.now() - start).to.be.below(1000)
    expect(e.code).to.equal('SETUP_FLAG_CLOUD_UNAVAILABLE')
    expect(e.exit).to.equal(7)
    expect(e.message).to.contain('asks to wait 30 s').and.contain('longer than the 1 s')
    expect(e.message).to.not.contain('minute')
    expect(e.suggestions[0]).to.contain('in 30 s')
  })

  it('waits add up against one deadline: a second wait that would pass it is not taken', async () => {
    fake.failWith = {retryAfter: '3', status: 429}
    const start = clock.now()
    const e = await failure(cloud(5000).device('my-argon'))
    expect(fake.requests).to.have.length(2) // 3 s fit once; 3 s more would end at 6 s, past 5 s
    expect(clock.now() - start).to.be.below(5000)
    expect(e.message).to.contain('asks to wait 3 s')
  })

  it('an HTTP date in Retry-After counts from now', async () => {
    fake.failWith = {retryAfter: new Date(clock.now() + 20_000).toUTCString(), status: 429}
    const e = await failure(cloud(10_000).device('my-argon'))
    expect(fake.requests).to.have.length(1)
    expect(e.message).to.match(/asks to wait (19|20) s, longer than the 10 s/)
  })

  it('without Retry-After: backs off 1, 2, 4 s within the deadline and says no wait was given', async () => {
    fake.failWith = {retryAfter: '', status: 429}
    const start = clock.now()
    const e = await failure(cloud().device('my-argon')) // 15 s: 1 + 2 + 4 fit, then three retries are spent
    expect(fake.requests).to.have.length(4)
    expect(clock.now() - start).to.be.within(7000, 15_000)
    expect(e.message).to.contain('it did not say how long to wait')
  })

  it('where the cloud only adds a name (tryDevices): one warning with the wait, and the run carries on', async () => {
    fake.failWith = {retryAfter: '45', status: 429}
    const known = await cloud(1000).tryDevices([ARGON])
    expect(known.size).to.equal(0)
    expect(fake.requests).to.have.length(1)
    expect(warnings).to.have.length(1)
    expect(warnings[0]).to.contain('asks to wait 45 s').and.contain('Carrying on from what the device reports over USB')
  })
})
