import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/base-command.js'
import {parseDeviceArgs} from '../../lib/device/select.js'
import {errorIs, errors, isCancellation} from '../../lib/errors.js'
import {setAll, setEachByFirmware, setUsageProblem, withCloudFacts} from '../../lib/setup-flag/many.js'
import {WAIT_ONLINE_DEFAULT_S, withWaitOnlineDefault} from '../../lib/setup-flag/online.js'
import {type Method} from '../../lib/setup-flag/operation.js'
import {type DeviceReport, type SetSummary, summaryOf} from '../../lib/setup-flag/report.js'
import {twoStage} from '../../lib/signals.js'
import {runStation} from '../../lib/station-run.js'
import {commandHelp} from '../../lib/text/help.js'
import {progressLine, setSummaryLine} from '../../lib/text/render.js'
import {setJson, type SetReport} from '../../lib/text/report.js'
import {stepText} from '../../lib/text/steps.js'
import {interruptedText, quitNowText} from '../../lib/text/station.js'
import {perRequest} from '../../lib/text/waits.js'

export interface SetResult {
  devices: SetReport[]
  /** Counts over the devices, as the text summary and the station's give them. */
  summary: SetSummary
  warnings: string[]
}

const help = commandHelp('set')

export default class SetCommand extends BaseCommand<typeof SetCommand> {
  static override args = {
    device: Args.string({description: 'Device ID (24 hex digits) or cloud device name; several may be given.'}),
  }

  static override description = help.description
  static override examples = help.examples

  static override flags = {
    all: Flags.boolean({description: 'Every connected Particle device, each decided on its own (not with DEVICE arguments).'}),
    'dry-run': Flags.boolean({description: 'Read the devices and say what would be done; write nothing, restart nothing.'}),
    force: Flags.boolean({description: 'Write even where the flag does not apply or already holds the wanted value (it then has no effect).'}),
    method: Flags.option({default: 'auto', description: 'How to write the flag.', options: ['auto', 'usb', 'dfu', 'firmware'] as const})(),
    'not-done': Flags.boolean({description: 'Clear the flag (write 0xFF) instead of setting it.'}),
    restore: Flags.file({
      // No `dependsOn` (oclif would print `[--restore <value> --method …]` as if both were required): run() checks it.
      description: 'With --method firmware: the production firmware binary to flash back once the flag is confirmed.',
    }),
    watch: Flags.boolean({
      description:
        "Manufacturing station: keep running and fix every device the moment it is plugged in (and those already plugged in), each once, one line per device (--json: one JSON object per line); Ctrl-C or SIGTERM prints a summary. Exit status: 0 when none failed, else the first failure's.",
    }),
    'wait-online': Flags.integer({
      description: `With --method firmware, for one device that is offline: print the Safe Mode card for the person on site, wait up to SECONDS (default ${WAIT_ONLINE_DEFAULT_S}) for the device to come online (events spark/status, spark/status/safe-mode), and flash the moment it does. Ctrl-C while waiting flashes nothing (exit 130); no device in time exits 6.`,
      helpValue: '[SECONDS]',
      max: 86_400,
      min: 1,
    }),
    yes: Flags.boolean({char: 'y', description: 'Answer yes to every question (for scripts).'}),
  }

  static override strict = false
  static override summary = help.summary

  /** `--wait-online` with no number takes the default (oclif flags have no optional values). */
  protected override async init(): Promise<void> {
    this.argv = withWaitOnlineDefault(this.argv)
    await super.init()
  }

  async run(): Promise<SetResult | undefined> {
    const method = this.flags.method as Method
    const f = this.flags
    const common = {done: !f['not-done'], dryRun: f['dry-run'], force: f.force}
    if (f.watch) {
      await runStation({
        ...common,
        args: this.positionals,
        clock: this.clock,
        cloud: () => this.facts([]),
        method,
        openBackend: () => this.usb(),
        out: this.out,
        timeoutMs: f.timeout * 1000,
      })
      return undefined // the station printed its own lines
    }
    const args = parseDeviceArgs(this.positionals)
    const usage = setUsageProblem({all: f.all, restore: f.restore, waitOnline: f['wait-online']}, method, args)
    if (usage) throw usage
    const reports = method === 'firmware' ? await this.overTheAir(args, common) : await this.overUsb(args, method, common)
    this.exitWithFirstFailure(reports)
    if (method !== 'firmware' && reports.length > 1) this.out.line(`\n${setSummaryLine(reports)}`)
    return {devices: reports.map((r) => setJson(r, this.cli)), summary: summaryOf(reports), warnings: this.out.warnings}
  }

  /**
   * Over USB, every device asked for at once. The first Ctrl-C starts no new device and lets those under way finish
   * safely; the devices and what was done to each are then said, and the exit status is 130.
   */
  private async overUsb(args: ReturnType<typeof parseDeviceArgs>, method: Exclude<Method, 'firmware'>, common: {done: boolean; dryRun: boolean; force: boolean}): Promise<DeviceReport[]> {
    const found = await this.pickDevices(args, {all: this.flags.all, command: 'set'})
    const facts = this.facts(found.map((d) => d.id))
    const many = found.length > 1
    const title = `Setting the flag of ${many ? `${found.length} devices` : found[0].id} (${perRequest(this.flags.timeout * 1000)})`
    const underWay = new Set<string>()
    const quitNow = () => {
      this.out.end('cancelled')
      this.out.always(quitNowText([...underWay]))
      process.exit(errors.cancelled().exit)
    }
    return twoStage(async (signal) => {
      const ctx = await this.context({cloud: facts, signal})
      // One device: each wait is a progress line of its own; several: one line for all of them.
      if (many) ctx.progress = undefined
      this.out.start(title)
      const onReport = (r: DeviceReport) => {
        underWay.delete(r.id)
        this.report(r, many)
      }
      const reports = await setAll(found, ctx, {...common, method, onReport, onStart: (id) => underWay.add(id)})
      await withCloudFacts(reports, facts)
      if (many) this.out.end(reports.some((r) => r.error) ? 'failed' : 'done')
      if (signal.aborted) {
        process.exitCode = errors.cancelled().exit
        this.out.note(interruptedText(reports))
      }
      return reports
    }, quitNow)
  }

  /** One device's line, after its own progress line is finished (one device), or above the shared one (several). */
  private report(r: DeviceReport, many: boolean): void {
    if (!many) this.out.end(endOf(r))
    this.out.line(progressLine(r, this.cli))
  }

  private async overTheAir(args: ReturnType<typeof parseDeviceArgs>, common: {done: boolean; dryRun: boolean; force: boolean}): Promise<DeviceReport[]> {
    const f = this.flags
    const waitMs = Math.max(120_000, f.timeout * 1000)
    return setEachByFirmware(args, {
      cloud: () => this.cloud(),
      offlineBy: this.offlineBy,
      onReport: (r, flashed) => {
        this.out.end(endOf(r))
        this.out.line(progressLine(r, this.cli))
        const last = r.steps.at(-1)
        if (flashed && !r.error && last) this.out.line(`  ${stepText(last)}`)
      },
      optionsFor: (device, restore) => ({
        ...common,
        clock: this.clock,
        cloud: this.cloud(),
        confirm: () => this.confirmFlash(device.name ?? device.id, f.yes),
        progress: this.progressLines(),
        restore,
        waitMs,
        waitOnline: f['wait-online'] === undefined ? undefined : () => this.waitOnlineWithCard(device, f['wait-online']!),
      }),
      restoreFile: f.restore,
    })
  }
}

/** How a device's progress line ends: "done" only when its step succeeded. */
function endOf(r: DeviceReport): 'cancelled' | 'done' | 'failed' | 'timed out' {
  if (!r.error) return 'done'
  if (isCancellation(r.error)) return 'cancelled'
  return errorIs.noReturn(r.error) ? 'timed out' : 'failed'
}
