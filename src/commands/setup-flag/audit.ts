import {Args, Flags} from '@oclif/core'

import {collectFleet, DEFAULTS, type AuditRow} from '../../lib/audit/collect.js'
import {type AuditSummary, CSV_COLUMNS, csvLine, csvRow, renderSummary, renderTable, Tally} from '../../lib/audit/report.js'
import {type Risk, RISKS} from '../../lib/audit/risk.js'
import {BaseCommand} from '../../lib/base-command.js'
import {errors} from '../../lib/errors.js'

export interface AuditResult {
  devices: AuditRow[]
  summary: AuditSummary
  warnings: string[]
}

export default class AuditCommand extends BaseCommand<typeof AuditCommand> {
  static override args = {
    device: Args.string({description: 'Device ID or cloud name to audit; several may be given. Omit to audit all your devices (or all of --product).'}),
  }

  static override description = `Lists which devices of a fleet can get stuck blinking dark blue because of the setup-done flag, from what the Particle Cloud knows of each (platform and Device OS version), and what to do about each. Read-only: it never changes a device or the cloud.

Risk: "at-risk" is an nRF52840 Gen3 device (Argon, Boron, B SoM, B5 SoM, Tracker, E SoM X, A SoM) below Device OS 4.0: a settings reset or an unfinished USB setup sends it to Listening Mode. "cannot-upgrade" is a mesh-only device (Xenon, X SoM) that never got Device OS 4.0: the flag is its permanent condition. "safe" is Device OS 4.0 or later, Realtek (P2 / Photon 2, M SoM) or Gen2, with the reason. "unknown" is a device that has not reported its Device OS yet.

The lasting fix for an at-risk device is Device OS 4.0 or later (which has no flag): product devices follow a product firmware release built for 4.x (development devices ignore releases), developer devices are flashed with firmware targeting 4.x; the cloud then upgrades Device OS through Safe Mode. A later downgrade below 4.0 brings the flag back.

Product lists are read page by page with at most --parallel requests in flight, pausing as long as a 429 answer's Retry-After asks; a page that keeps failing is reported (and counted as not read), never dropped.

Exit status: 0 when every device was read; 2 bad input, 7 the cloud failed (not logged in, unknown product, or some devices not read: the output still lists those read).`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Audit every device of your account'},
    {command: '<%= config.bin %> <%= command.id %> --product my-fleet --risk at-risk', description: 'The devices of a product that can get stuck'},
    {command: '<%= config.bin %> <%= command.id %> --product 12345 --csv > fleet.csv', description: 'A spreadsheet of a whole product'},
    {command: '<%= config.bin %> <%= command.id %> --product 12345 --online --json', description: 'Online devices only, for scripts'},
    {command: '<%= config.bin %> <%= command.id %> my-boron e00fce681a2b3c4d5e6f7a8b', description: 'Named devices'},
  ]

  static override flags = {
    csv: Flags.boolean({description: 'CSV for spreadsheets on stdout (one header line, one line per device); the summary goes to stderr.', exclusive: ['json']}),
    online: Flags.boolean({description: 'List only devices that are online now.'}),
    parallel: Flags.integer({default: DEFAULTS.parallel, description: 'Requests in flight at most while reading pages.', max: 16, min: 1}),
    'per-page': Flags.integer({default: DEFAULTS.perPage, description: 'Devices per page when reading a product.', max: 1000, min: 1}),
    product: Flags.string({description: 'Audit the devices of this product (ID or slug) instead of your own.'}),
    risk: Flags.option({delimiter: ',', description: 'List only devices with this risk (repeat it, or separate risks with commas).', multiple: true, options: RISKS})(),
  }

  static override strict = false

  static override summary = 'Audit a fleet: which devices can get stuck on the setup-done flag, and the lasting fix for each.'

  async run(): Promise<AuditResult | undefined> {
    const cloud = this.cloud()
    if (cloud.settings.offline) throw errors.auditOffline()
    if (!cloud.settings.accessToken) {
      throw errors.needsLogin('The audit reads the Particle Cloud', 'Log in with `particle login` (the same profile the official CLI uses), then run the command again.')
    }
    const names = this.positionals.length > 0 ? this.positionals : undefined
    const risks = new Set<Risk>((this.flags.risk as Risk[] | undefined) ?? [])
    const keep = (r: AuditRow) => (!this.flags.online || r.online === true) && (risks.size === 0 || risks.has(r.risk))
    const tally = new Tally()
    const pages: AuditRow[][] = []
    const bar = this.showProgress ? new ProgressBar() : undefined

    const result = await collectFleet({
      clock: this.clock,
      cloud,
      devices: names,
      onProgress: (done, total, read) => bar?.draw(done, total, read, names ? 'devices' : 'pages'),
      onRows: (rows, index) => {
        const kept = rows.filter((r) => keep(r))
        for (const r of kept) tally.add(r)
        pages[index] = kept
      },
      parallel: this.flags.parallel,
      perPage: this.flags['per-page'],
      product: this.flags.product,
    }).finally(() => bar?.clear())

    const devices = pages.flat()
    pages.length = 0
    const summary = tally.summary(result.read, result.failures, result.notRead, result.notReadExact)
    if (result.failures.length > 0) {
      const e = errors.notAllRead(result.notRead, result.notReadExact, result.failures.map((f) => (f.page === undefined ? `device ${f.device}` : `page ${f.page}`)))
      this.warning(`${e.message} ${e.suggestions[0]}`)
      process.exitCode = e.exit
    }

    if (this.jsonEnabled()) return {devices, summary, warnings: this.warnings}
    if (this.flags.csv) {
      // Written in slices so a large fleet never becomes one huge string.
      process.stdout.write(`${csvLine(CSV_COLUMNS)}\n`)
      for (let i = 0; i < devices.length; i += 500) process.stdout.write(`${devices.slice(i, i + 500).map((r) => csvRow(r)).join('\n')}\n`)
      this.logToStderr(renderSummary(summary, tally))
      return undefined
    }
    if (devices.length > 0) this.log(renderTable(devices))
    this.log(`${devices.length > 0 ? '\n' : ''}${renderSummary(summary, tally)}`)
    return undefined
  }

  /** Plain JSON without oclif's colouring pass, which tokenises the whole document (slow and large for a fleet). */
  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }
}

/**
 * A one-line progress bar on stderr while pages load. Hand-written: @oclif/core 4 no longer ships one, and a
 * dependency for twenty lines is not worth its start-up cost.
 */
class ProgressBar {
  private last = ''

  clear(): void {
    if (this.last) process.stderr.write(`\r${' '.repeat(this.last.length)}\r`)
    this.last = ''
  }

  draw(done: number, total: number | undefined, read: number, unit: string): void {
    const width = 30
    const filled = total ? Math.round((width * Math.min(done, total)) / total) : 0
    const bar = total ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : ''
    const line = `${bar}${done}${total ? `/${total}` : ''} ${unit}, ${read} devices read`
    process.stderr.write(`\r${line}${' '.repeat(Math.max(0, this.last.length - line.length))}`)
    this.last = line
  }
}
