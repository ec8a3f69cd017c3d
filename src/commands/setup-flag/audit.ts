import {Args, Flags} from '@oclif/core'

import {collectFleet, DEFAULTS, type AuditRow} from '../../lib/audit/collect.js'
import {type AuditSummary, CSV_COLUMNS, csvLine, csvRow, renderSummary, renderTable, Tally} from '../../lib/audit/report.js'
import {type Risk, RISKS} from '../../lib/audit/risk.js'
import {BaseCommand} from '../../lib/base-command.js'
import {errors} from '../../lib/errors.js'
import {type Output} from '../../lib/output.js'
import {commandHelp, TIMEOUT_HELP} from '../../lib/text/help.js'

export interface AuditResult {
  devices: AuditRow[]
  summary: AuditSummary
  warnings: string[]
}

const help = commandHelp('audit')

export default class AuditCommand extends BaseCommand<typeof AuditCommand> {
  static override args = {
    device: Args.string({description: 'Device ID or cloud name to audit; several may be given. Omit to audit all your devices (or all of --product).'}),
  }

  /** --timeout is about the cloud here: the deadline of each cloud request, 15 s unless given. */
  static override baseFlags = {
    ...BaseCommand.baseFlags,
    timeout: Flags.integer({helpGroup: 'GLOBAL', max: 3600, min: 1, summary: TIMEOUT_HELP.cloud}),
  }

  static override description = help.description
  static override examples = help.examples

  static override flags = {
    csv: Flags.boolean({description: 'CSV for spreadsheets on stdout (one header line, one line per device); the summary goes to stderr.', exclusive: ['json']}),
    online: Flags.boolean({description: 'List only devices that are online now.'}),
    parallel: Flags.integer({default: DEFAULTS.parallel, description: 'Requests in flight at most while reading pages.', max: 16, min: 1}),
    'per-page': Flags.integer({default: DEFAULTS.perPage, description: 'Devices per page when reading a product.', max: 1000, min: 1}),
    product: Flags.string({description: 'Audit the devices of this product (ID or slug) instead of your own.'}),
    risk: Flags.option({delimiter: ',', description: 'List only devices with this risk (repeat it, or separate risks with commas).', multiple: true, options: RISKS})(),
  }

  static override strict = false

  static override summary = help.summary

  async run(): Promise<AuditResult | undefined> {
    const cloud = this.cloud()
    if (cloud.settings.offline) throw errors.offline('audit', this.offlineBy)
    if (!cloud.settings.accessToken) throw errors.needsLogin('audit')
    const names = this.positionals.length > 0 ? this.positionals : undefined
    const risks = new Set<Risk>((this.flags.risk as Risk[] | undefined) ?? [])
    const keep = (r: AuditRow) => (!this.flags.online || r.online === true) && (risks.size === 0 || risks.has(r.risk))
    const tally = new Tally()
    const pages: AuditRow[][] = []
    const bar = this.out.showsProgress ? new ProgressBar(this.out) : undefined

    const result = await collectFleet({
      cli: this.cli,
      clock: this.clock,
      cloud,
      devices: names,
      onProgress: (done, total, read) => bar?.draw(done, total, read, names ? 'devices' : 'pages'),
      onRows: (rows, index) => {
        pages[index] = rows.filter((r) => keep(r))
      },
      parallel: this.flags.parallel,
      perPage: this.flags['per-page'],
      product: this.flags.product,
    }).then(
      (r) => {
        bar?.clear(r.failures.length > 0)
        return r
      },
      (error: unknown) => {
        bar?.clear(true)
        throw error
      },
    )

    inReadOrder(result, names)
    const devices = pages.flat()
    pages.length = 0
    // Counted in the table's order (pages arrive in any order), so the devices each fix names are always the same.
    for (const r of devices) tally.add(r)
    const summary = tally.summary(result.read, result.failures, result.notRead, result.notReadExact)
    if (result.failures.length > 0) {
      const {unknown} = result
      const what = result.failures.map((f) => (f.page === undefined ? `device ${f.device}` : `page ${f.page}`))
      const e = errors.notAllRead({count: result.notRead, exact: result.notReadExact, unknown, what})
      this.out.warn([e.message, ...e.suggestions].join(' '))
      process.exitCode = e.exit
    }

    if (this.out.json) return {devices, summary, warnings: this.out.warnings}
    if (this.flags.csv) {
      // Written in slices so a large fleet never becomes one huge string.
      this.out.data(`${csvLine(CSV_COLUMNS)}\n`)
      for (let i = 0; i < devices.length; i += 500) this.out.data(`${devices.slice(i, i + 500).map((r) => csvRow(r)).join('\n')}\n`)
      this.out.note(renderSummary(summary, tally, this.cli))
      return undefined
    }
    if (devices.length > 0) this.out.line(renderTable(devices, this.out.width()))
    this.out.line(`${devices.length > 0 ? '\n' : ''}${renderSummary(summary, tally, this.cli)}`)
    return undefined
  }
}

/** Failures come as requests end: listed by page, or in the order the devices were named. */
function inReadOrder(r: {failures: Array<{device?: string; page?: number}>; unknown: string[]}, names: string[] | undefined): void {
  const place = (f: {device?: string; page?: number}) => f.page ?? names?.indexOf(f.device ?? '') ?? 0
  r.failures.sort((a, b) => place(a) - place(b))
  r.unknown.sort((a, b) => (names?.indexOf(a) ?? 0) - (names?.indexOf(b) ?? 0))
}

/**
 * A one-line progress bar on stderr while pages load. Hand-written: @oclif/core 4 no longer ships one, and a
 * dependency for twenty lines is not worth its start-up cost.
 */
class ProgressBar {
  constructor(private readonly out: Output) {}

  clear(failed = false): void {
    this.out.end(failed ? 'failed' : 'done')
  }

  draw(done: number, total: number | undefined, read: number, unit: string): void {
    const width = 20
    const filled = total ? Math.round((width * Math.min(done, total)) / total) : 0
    const bar = total ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : ''
    const line = `${bar}${done}${total ? `/${total}` : ''} ${unit}, ${read} devices read`
    if (!this.out.progressing) this.out.start('Reading the fleet')
    this.out.status(line)
  }
}
