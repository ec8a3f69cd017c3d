// `audit` end to end: the built CLI against the loopback cloud, a 10,000-device product in 100 pages, in all
// three output forms; filters; failures that must be reported, not dropped; malformed answers.
import {expect} from 'chai'

import type {AuditResult} from '../../src/commands/setup-flag/audit.js'

import {runCli, runJson, tempDir} from '../support/cli.js'
import {VirtualCloud} from '../../src/lib/cloud/virtual.js'
import {expectedCounts, fleet, fleetId} from '../support/fleet.js'
import {profileHome} from '../support/cloud-home.js'

const BIG = fleet(10_000)

/** The counts of the human summary ("by risk: at-risk 1, ...") as numbers. */
function summaryLine(text: string, label: string): Record<string, number> {
  const line = text.split('\n').find((l) => l.trim().startsWith(`by ${label}:`))
  if (!line) throw new Error(`no "by ${label}" line in:\n${text.slice(-2000)}`)
  return Object.fromEntries(
    line
      .split(':')
      .slice(1)
      .join(':')
      .split(',')
      .map((part) => {
        const m = /^\s*(.+) (\d+)\s*$/.exec(part)!
        return [m[1], Number(m[2])]
      }),
  )
}

/** CSV lines to records (our CSV quotes fields with commas; this parser handles RFC 4180 quoting). */
function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++
      else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') row.push(cell), (cell = '')
    else if (ch === '\n') row.push(cell), rows.push(row), (row = []), (cell = '')
    else cell += ch
  }
  const [header, ...body] = rows
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])))
}

describe('audit (loopback cloud)', function () {
  this.timeout(120_000)
  let cloud: VirtualCloud
  let env: NodeJS.ProcessEnv

  beforeEach(async () => {
    cloud = await new VirtualCloud().start()
    cloud.products.push({devices: BIG, id: 4242, slug: 'field-fleet'})
    const home = profileHome(cloud)
    env = {COLUMNS: '1000', HOME: home} // counts, not wrapping: one summary line each
  })
  afterEach(() => cloud.close())

  describe('10,000 devices in 100 pages: counts match the fixture in every output form', () => {
    const want = expectedCounts(BIG)

    it('--json', async () => {
      const {code, json, stderr} = await runJson<AuditResult>(['audit', '--product', 'field-fleet'], {env})
      expect(code, stderr).to.equal(0)
      expect(json.summary).to.deep.include({notRead: 0, read: 10_000, shown: 10_000})
      expect(json.summary.risk).to.deep.equal(want.risk)
      expect(json.summary.deviceOs).to.deep.equal(want.deviceOs)
      expect(json.summary.platform).to.deep.equal(want.platform)
      expect(json.devices).to.have.length(10_000)
      expect(json.devices.map((d) => d.id)).to.deep.equal(BIG.map((d) => d.id)) // page order kept
      const pages = cloud.requests.filter((r) => r.path === '/v1/products/field-fleet/devices')
      expect(pages).to.have.length(100)
      expect(cloud.requests.every((r) => r.method === 'GET'), 'read-only').to.equal(true)
      expect(cloud.maxInFlight).to.be.within(1, 4) // --parallel default
      const boron = json.devices.find((d) => d.id === fleetId(0))!
      expect(boron).to.include({development: true, deviceOs: '1.5.2', name: 'unit-0', online: true, platform: 'boron', productId: 4242, risk: 'at-risk'})
      expect(boron.fix).to.match(/^Development devices ignore product firmware releases/)
      expect(json.devices.find((d) => d.id === fleetId(1))!.fix).to.match(/^Release a product firmware built for Device OS 4\.x/)
    })

    it('--csv', async () => {
      const r = await runCli(['audit', '--product', '4242', '--csv'], {env})
      expect(r.code, r.stderr).to.equal(0)
      const rows = parseCsv(r.stdout)
      expect(rows).to.have.length(10_000)
      const risk: Record<string, number> = {'at-risk': 0, 'cannot-upgrade': 0, safe: 0, unknown: 0}
      const line: Record<string, number> = {}
      const platform: Record<string, number> = {}
      for (const row of rows) {
        risk[row.risk]++
        line[row.deviceOsLine] = (line[row.deviceOsLine] ?? 0) + 1
        platform[row.platform] = (platform[row.platform] ?? 0) + 1
      }
      expect(risk).to.deep.equal(want.risk)
      expect(line).to.deep.equal(want.deviceOs)
      expect(platform).to.deep.equal(want.platform)
      expect(summaryLine(r.stderr, 'risk')).to.deep.equal(want.risk) // the summary goes to stderr
    })

    it('the table and its summary', async () => {
      const r = await runCli(['audit', '--product', 'field-fleet'], {env})
      expect(r.code, r.stderr).to.equal(0)
      const table = r.stdout.split('\n\n')[0].split('\n')
      expect(table[0]).to.match(/^DEVICE\s+PLATFORM\s+DEVICE OS\s+ONLINE\s+LAST HEARD\s+DEV\s+RISK$/)
      expect(table).to.have.length(10_001)
      expect(r.stdout).to.contain('10000 devices.')
      expect(summaryLine(r.stdout, 'risk')).to.deep.equal(want.risk)
      expect(summaryLine(r.stdout, 'Device OS')).to.deep.equal(want.deviceOs)
      expect(Object.values(summaryLine(r.stdout, 'platform')).reduce((a, b) => a + b, 0)).to.equal(10_000)
      expect(r.stdout).to.match(/What to do:\n(  \d+ devices \(.*\): .*\n)*  \d+ devices \([^)]* and \d+ more\): Release a product firmware/)
      expect(r.stdout).to.contain('downgrade below Device OS 4.0 brings the flag back')
    })
  })

  it('--online and --risk filter the list and the counts, and the summary still says how many were read', async () => {
    const {code, json} = await runJson<AuditResult>(['audit', '--product', 'field-fleet', '--online', '--risk', 'at-risk,cannot-upgrade'], {env})
    expect(code).to.equal(0)
    const kept = BIG.filter((d) => d.connected)
    const want = expectedCounts(kept.filter((d) => ['at-risk', 'cannot-upgrade'].includes(expectedRiskOf(d))))
    expect(json.summary).to.deep.include({read: 10_000, shown: want.shown})
    expect(json.summary.risk).to.deep.equal({...want.risk})
    expect(json.devices.every((d) => d.online === true && (d.risk === 'at-risk' || d.risk === 'cannot-upgrade'))).to.equal(true)
  })

  it('a page the cloud refuses is reported with the devices not read, and exit 7', async () => {
    cloud.products[0].devices = BIG.slice(0, 1000)
    cloud.pageHook = (page) => (page === 7 ? {body: {error: 'bad_request', error_description: 'nope'}, status: 400} : undefined)
    const {code, json} = await runJson<AuditResult>(['audit', '--product', 'field-fleet'], {env})
    expect(code).to.equal(7)
    expect(json.summary).to.deep.include({notRead: 100, notReadExact: true, read: 900, shown: 900})
    expect(json.summary.failures).to.have.length(1)
    expect(json.summary.failures[0]).to.include({attempts: 1, page: 7})
    expect(json.warnings.join('\n')).to.match(/100 devices could not be read \(page 7\)/)
  })

  it('pages that fail are listed in page order, whatever order they failed in', async () => {
    cloud.products[0].devices = BIG.slice(0, 1000)
    // Page 2 fails after its retries (a 500 is asked again, after a pause), page 7 at once (a 400 is not): they end
    // in the order 7, 2.
    cloud.pageHook = (page) => {
      if (page === 7) return {body: {error: 'bad_request', error_description: 'nope'}, status: 400}
      if (page === 2) return {body: {error: 'server_error'}, status: 500}
      return undefined
    }
    const {code, json} = await runJson<AuditResult>(['audit', '--product', 'field-fleet'], {env})
    expect(code).to.equal(7)
    expect(json.summary.failures.map((f) => f.page)).to.deep.equal([2, 7]) // (the text's "not read" lines come from the same list)
    expect(json.warnings.join('\n')).to.match(/\(page 2, page 7\)/)
  })

  it('a 429 pauses for its Retry-After, then the page is read', async () => {
    cloud.products[0].devices = BIG.slice(0, 500)
    const seen: number[] = []
    cloud.pageHook = (page, attempt) => {
      if (page !== 3) return undefined
      seen.push(Date.now())
      return attempt === 1 ? {retryAfter: '1', status: 429} : undefined
    }
    const {code, json} = await runJson<AuditResult>(['audit', '--product', 'field-fleet'], {env})
    expect(code).to.equal(0)
    expect(json.summary).to.deep.include({notRead: 0, read: 500})
    expect(seen).to.have.length(2)
    expect(seen[1] - seen[0]).to.be.at.least(950) // Retry-After: 1 (s), honoured
  })

  it('malformed records read as unknown devices; nothing crashes', async () => {
    cloud.products[0].devices = [
      BIG[0],
      {id: 12_345, name: 7, platform_id: 13},
      'not a device',
      {id: fleetId(77), online: 'yes', platform_id: '13', system_firmware_version: 3},
      {id: fleetId(78), platform_id: 13, system_firmware_version: 'v-three'},
    ]
    const {code, json, stderr} = await runJson<AuditResult>(['audit', '--product', 'field-fleet'], {env})
    expect(code, stderr).to.equal(0)
    expect(json.devices.map((d) => d.risk)).to.deep.equal(['at-risk', 'unknown', 'unknown', 'unknown', 'unknown'])
    expect(json.devices[1].reason).to.match(/without a valid device ID/)
    expect(json.devices[3]).to.include({online: null, platformId: null})
    expect(json.summary.risk).to.deep.equal({'at-risk': 1, 'cannot-upgrade': 0, safe: 0, unknown: 4})
    const table = await runCli(['audit', '--product', 'field-fleet'], {env})
    expect(table.code).to.equal(0)
    expect(table.stdout).to.contain('(no ID)')
  })

  it('a malformed page (no list of devices) is retried, then reported', async () => {
    cloud.products[0].devices = BIG.slice(0, 300)
    cloud.pageHook = (page) => (page === 2 ? {body: {devices: 'many', meta: {total_pages: 3}}, status: 200} : undefined)
    const {code, json} = await runJson<AuditResult>(['audit', '--product', 'field-fleet'], {env})
    expect(code).to.equal(7)
    expect(json.summary.failures[0]).to.include({attempts: 5, code: 'SETUP_FLAG_CLOUD_MALFORMED', page: 2})
    expect(json.summary).to.deep.include({notRead: 100, read: 200})
  })

  it("your own devices (one list), and devices by name: an unknown one is reported, the others read", async () => {
    cloud.devices = BIG.slice(0, 30)
    const mine = await runJson<AuditResult>(['audit'], {env})
    expect(mine.code).to.equal(0)
    expect(mine.json.summary.risk).to.deep.equal(expectedCounts(BIG.slice(0, 30)).risk)
    expect(mine.json.devices[0].fix).to.match(/^Flash firmware targeting Device OS 4\.x/) // a developer device

    const named = await runJson<AuditResult>(['audit', 'unit-1', fleetId(2), 'nobody'], {env})
    expect(named.code).to.equal(7)
    expect(named.json.devices.map((d) => d.name)).to.deep.equal(['unit-1', 'unit-2'])
    expect(named.json.summary.failures).to.deep.equal([{attempts: 1, code: 'SETUP_FLAG_UNKNOWN_DEVICE', device: 'nobody', message: named.json.summary.failures[0].message}])
  })

  it('an unknown product, no login, --offline: clear errors', async () => {
    const unknown = await runJson<{error: {code: string}}>(['audit', '--product', 'nope'], {env})
    expect(unknown.code).to.equal(7)
    expect(unknown.json.error.code).to.equal('SETUP_FLAG_UNKNOWN_PRODUCT')
    const anon = await runCli(['audit'], {env: {HOME: tempDir()}})
    expect(anon.code).to.equal(7)
    expect(anon.stderr).to.match(/not logged in/)
    expect(anon.stderr).not.to.match(/\n\s+at /) // no stack trace
    const off = await runCli(['audit', '--offline'], {env})
    expect(off.code).to.equal(2)
    const both = await runCli(['audit', '--csv', '--json'], {env})
    expect(both.code).to.equal(2)
  })
})

function expectedRiskOf(d: (typeof BIG)[number]): string {
  return expectedCounts([d]).risk['at-risk'] ? 'at-risk' : expectedCounts([d]).risk['cannot-upgrade'] ? 'cannot-upgrade' : 'other'
}
