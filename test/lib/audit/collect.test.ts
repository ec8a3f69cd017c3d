// Reading a product page by page, in process, on a fake clock against the loopback cloud: the bound on requests
// in flight, Retry-After pacing shared by every request, bounded retries, and pages without a page count.
import {expect} from 'chai'

import {type AuditRow, collectFleet, type CollectOptions} from '../../../src/lib/audit/collect.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {Cloud} from '../../../src/lib/cloud/cloud.js'
import {VirtualCloud} from '../../../src/lib/cloud/virtual.js'
import {fleet} from '../../support/fleet.js'

describe('audit: reading a fleet', function () {
  this.timeout(60_000)
  let fake: VirtualCloud
  let clock: FakeClock
  let cloud: Cloud
  const arrivals: Array<{at: number; page: number}> = []

  beforeEach(async () => {
    fake = await new VirtualCloud().start()
    fake.products.push({devices: fleet(1000), id: 7, slug: 'seven'})
    clock = new FakeClock(1_000_000)
    cloud = new Cloud({accessToken: fake.token, apiUrl: fake.url, from: 'test', offline: false, profile: 'particle'}, clock)
    arrivals.length = 0
  })
  afterEach(() => fake.close())

  async function collect(extra: Partial<CollectOptions> = {}) {
    const pages: AuditRow[][] = []
    const result = await collectFleet({clock, cloud, onRows: (rows, i) => (pages[i] = rows), perPage: 100, product: 'seven', ...extra})
    return {result, rows: pages.flat()}
  }

  function hook(fn: (page: number, attempt: number) => ReturnType<NonNullable<VirtualCloud['pageHook']>>) {
    fake.pageHook = (page, attempt) => {
      arrivals.push({at: clock.now(), page})
      return fn(page, attempt)
    }
  }

  it('keeps at most --parallel requests in flight, and reads every page once', async () => {
    hook(() => undefined)
    // The cloud holds its answers until as many requests wait as may (so the bound is reached), and the client's
    // requests are counted as they leave and return.
    const parallel = 3
    let released = 0
    let waiting: Array<() => void> = []
    fake.pageGate = (page) =>
      new Promise<void>((resolve) => {
        waiting.push(resolve)
        if (page === 1 || waiting.length >= Math.min(parallel, 10 - released)) {
          released += waiting.length
          for (const r of waiting) r()
          waiting = []
        }
      })
    let inFlight = 0
    let most = 0
    const counted = {
      deviceRecord: cloud.deviceRecord.bind(cloud),
      async devicePage(o: Parameters<Cloud['devicePage']>[0]) {
        most = Math.max(most, ++inFlight)
        try {
          return await cloud.devicePage(o)
        } finally {
          inFlight--
        }
      },
    }
    const {result, rows} = await collect({cloud: counted, parallel})
    expect(result).to.deep.include({failures: [], notRead: 0, pages: 10, read: 1000})
    expect(rows).to.have.length(1000)
    expect(most).to.equal(parallel)
    expect(fake.maxInFlight).to.equal(parallel)
    expect(arrivals.map((a) => a.page).sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })

  it('a 429 holds every request until its Retry-After has passed, then the page is read', async () => {
    let t429 = 0
    hook((page, attempt) => {
      if (page === 2 && attempt === 1) {
        t429 = clock.now()
        return {retryAfter: '30', status: 429}
      }
      return undefined
    })
    const {result} = await collect({parallel: 4})
    expect(result).to.deep.include({failures: [], read: 1000})
    const retry = arrivals.filter((a) => a.page === 2)[1]
    expect(retry.at - t429).to.be.at.least(30_000)
    // Only requests already on their way when the 429 came back arrive during the pause.
    expect(arrivals.filter((a) => a.at > t429 && a.at < t429 + 30_000).length).to.be.at.most(3)
  })

  it('a Retry-After beyond the longest pause is shortened to it', async () => {
    let t429 = 0
    hook((page, attempt) => {
      if (page !== 3 || attempt > 1) return undefined
      t429 = clock.now()
      return {retryAfter: '86400', status: 429}
    })
    const {result} = await collect({maxRetryAfterMs: 60_000})
    expect(result.read).to.equal(1000)
    expect(arrivals.filter((a) => a.page === 3)[1].at - t429).to.be.within(60_000, 61_000)
  })

  it('a page that keeps failing is tried a bounded number of times, then reported; the others are read', async () => {
    hook((page) => (page === 4 ? {status: 502} : page === 10 ? {status: 500} : undefined))
    const {result, rows} = await collect({attempts: 3})
    expect(arrivals.filter((a) => a.page === 4)).to.have.length(3)
    expect(result.failures.map((f) => [f.page, f.attempts, f.code])).to.have.deep.members([
      [4, 3, 'SETUP_FLAG_CLOUD_UNAVAILABLE'],
      [10, 3, 'SETUP_FLAG_CLOUD_UNAVAILABLE'],
    ])
    expect(result).to.deep.include({notRead: 200, notReadExact: false, read: 800}) // the last page's size is not known
    expect(rows).to.have.length(800)
  })

  it('without a page count, reads on one page at a time until a short page', async () => {
    const devices = fleet(250)
    fake.products[0].devices = devices
    hook((page) => ({body: {devices: devices.slice((page - 1) * 100, page * 100)}, status: 200}))
    const {result, rows} = await collect()
    expect(result).to.deep.include({failures: [], pages: 3, read: 250})
    expect(rows.map((r) => r.id)).to.deep.equal(devices.map((d) => d.id))
  })

  it('when even the first page cannot be read, the audit stops with the cloud error (nothing to count)', async () => {
    hook((page) => (page === 1 ? {status: 503} : undefined))
    await collect({attempts: 2}).then(
      () => expect.fail('should fail'),
      (error) => expect(error).to.include({code: 'SETUP_FLAG_CLOUD_UNAVAILABLE', exit: 7}),
    )
    expect(arrivals).to.have.length(2)
  })

  it('a bad token or an unknown product stops the audit with a clear error', async () => {
    const bad = new Cloud({accessToken: 'wrong', apiUrl: fake.url, from: 'test', offline: false, profile: 'particle'}, clock)
    await collectFleet({clock, cloud: bad, onRows: () => {}, product: 'seven'}).then(
      () => expect.fail('should fail'),
      (error) => expect(error.code).to.equal('SETUP_FLAG_INVALID_TOKEN'),
    )
    await collectFleet({clock, cloud, onRows: () => {}, product: 'eight'}).then(
      () => expect.fail('should fail'),
      (error) => expect(error).to.include({code: 'SETUP_FLAG_UNKNOWN_PRODUCT', exit: 7}),
    )
  })
})
