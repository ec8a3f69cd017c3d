import {Args, Flags, ux} from '@oclif/core'

import {BaseCommand} from '../../lib/base-command.js'
import {mapLimit} from '../../lib/concurrency.js'
import {parseDeviceArgs, selectDevices} from '../../lib/device/select.js'
import {errors, isCancellation, SetupFlagError} from '../../lib/errors.js'
import {pickerLabels, progressLine, setSummaryLine} from '../../lib/render.js'
import {interruptible, WAIT_ONLINE_DEFAULT_S, waitUntilOnline, withWaitOnlineDefault} from '../../lib/fleet/rescue.js'
import {cloudReport, readRestoreFile, setByFirmware} from '../../lib/setup-flag/firmware.js'
import {type CloudDevice} from '../../lib/cloud/cloud.js'
import {applyCloud, withError} from '../../lib/setup-flag/read.js'
import {runStation} from '../../lib/setup-flag/run-station.js'
import {type SetResult, summaryOf} from '../../lib/setup-flag/station.js'
import {type Method, rebootTimeoutMs, setSetupFlag, type SetReport} from '../../lib/setup-flag/write.js'
import {describeFound, findParticleDevices, type FoundDevice} from '../../lib/usb/discovery.js'

/** Devices worked on at once: a 32-port hub takes about as long as one device. */
const PARALLEL = 32

export default class SetCommand extends BaseCommand<typeof SetCommand> {
  static override args = {
    device: Args.string({description: 'Device ID (24 hex digits) or cloud device name; several may be given.'}),
  }

  static override description = `Fixes a Gen3 device (Argon, Boron, B SoM, B5 SoM, Tracker, Xenon) on Device OS below 4.0 that blinks dark blue because its setup-done flag is not set. Exactly one byte is written, the setup-done byte at DCT offset 8134, and read back; nothing is written when it already holds the wanted value or where the flag does not apply (Device OS 4.0+, P2 / Photon 2 / M SoM, Gen2).

Methods: "usb" sends control request 73 and then leaves Listening Mode (request 71), like \`particle usb setup-done\`; when the firmware does not answer it asks for Safe Mode (request 60) itself and writes there. "dfu" restarts the device in DFU mode (request 50), writes the byte with DfuSe as dfu-util does (no erase), reads it back and restarts the device. "auto" (default) picks dfu for a device in DFU mode, else usb.

Exit status: 0 when every device is as asked; 2 bad input, 3 no device or several without a choice, 4 no USB, 5 USB permission, 6 a device did not answer, 7 cloud, 8 the write did not take, 9 Device Protection.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Fix the one connected device'},
    {command: '<%= config.bin %> <%= command.id %> my-boron --method dfu', description: 'Fix a named device over DFU'},
    {command: '<%= config.bin %> <%= command.id %> --all --json', description: 'Fix every connected device, for a production line'},
    {command: '<%= config.bin %> <%= command.id %> --dry-run', description: 'Say what would be done, touch nothing'},
    {command: '<%= config.bin %> <%= command.id %> e00fce681a2b3c4d5e6f7a8b --not-done', description: 'Clear the flag again (the device listens after its next reset)'},
    {command: '<%= config.bin %> <%= command.id %> --watch --json', description: 'Manufacturing station: fix each device the moment it is plugged in, one JSON line per device; Ctrl-C sums up'},
    {
      command: '<%= config.bin %> <%= command.id %> field-boron --method firmware --wait-online 3600 --restore production.bin',
      description: 'Field rescue: print the card for the person on site, flash the moment the device comes online, then flash production back',
    },
  ]

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
      description: 'Manufacturing station: keep running and fix every device the moment it is plugged in (and those already plugged in), each once, one line per device (--json: one JSON object per line); Ctrl-C or SIGTERM prints a summary. Exit status: 0 when none failed, else the first failure\'s.',
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

  static override summary = 'Set the setup-done flag so the device stops blinking dark blue.'

  /** `--wait-online` with no number takes the default (oclif flags have no optional values). */
  protected override async init(): Promise<void> {
    this.argv = withWaitOnlineDefault(this.argv)
    await super.init()
  }

  async run(): Promise<SetResult | undefined> {
    const method = this.flags.method as Method
    if (this.flags.watch) {
      await runStation({
        args: this.positionals,
        clock: this.clock,
        done: !this.flags['not-done'],
        dryRun: this.flags['dry-run'],
        force: this.flags.force,
        json: this.jsonEnabled(),
        line: progressLine,
        method,
        openBackend: () => this.usb(),
        timeoutMs: this.flags.timeout * 1000,
      })
      return undefined // the station printed its own lines
    }
    const args = parseDeviceArgs(this.positionals)
    if (this.flags.restore && method !== 'firmware') {
      throw errors.usage('--restore goes with --method firmware: it flashes production firmware back over the air.', ['Add --method firmware, or drop --restore.'])
    }
    if (this.flags['wait-online'] !== undefined && (method !== 'firmware' || args.length !== 1)) {
      throw errors.usage('--wait-online goes with --method firmware and one device named: it waits for that device to come online in the field.', [
        'particle-setup-flag set my-boron --method firmware --wait-online',
      ])
    }
    if (this.flags.all && args.length > 0) {
      throw errors.usage('--all means every connected device; it does not go with DEVICE arguments.', [
        'Drop --all to fix the devices named, or drop the names to fix every connected device.',
      ])
    }
    if (method === 'firmware') return this.runFirmware(args)
    const backend = await this.usb()
    const cloud = this.cloud()
    const found = await this.chooseDevices(args).catch(async (error) => {
      throw await this.remoteHint(error, args)
    })

    this.waiting(`Setting the flag of ${found.length === 1 ? found[0].id : `${found.length} devices`} (waiting up to ${this.flags.timeout} s for each answer)`)
    const reports = await mapLimit(found, PARALLEL, async (d) => {
      const r = await setSetupFlag(d, {
        backend,
        clock: this.clock,
        cloudVersion: async (id) => (await cloud.tryDevices([id])).get(id)?.system_firmware_version,
        done: !this.flags['not-done'],
        dryRun: this.flags['dry-run'],
        force: this.flags.force,
        method,
        onWaiting: (what) => this.waiting(`${what} (up to ${Math.round(rebootTimeoutMs(this.flags.timeout * 1000) / 1000)} s)`),
        timeoutMs: this.flags.timeout * 1000,
      })
      this.progress(r)
      return r
    })
    ux.action.stop()

    const known = await cloud.tryDevices(found.map((d) => d.id))
    for (const r of reports) applyCloud(r, known.get(r.id))

    const failed = reports.find((r) => r.error)
    if (failed) process.exitCode = failed.error!.exit
    if (!this.jsonEnabled() && reports.length > 1) this.log(setSummaryLine(reports))
    return {devices: reports, summary: summaryOf(reports), warnings: this.warnings}
  }

  /** The remote path: the device is online in the cloud, not on USB. */
  private async runFirmware(args: ReturnType<typeof parseDeviceArgs>): Promise<SetResult> {
    if (args.length === 0) {
      throw errors.needDevice()
    }
    const restore = this.flags.restore ? readRestoreFile(this.flags.restore) : undefined
    const cloud = this.cloud()
    if (cloud.settings.offline) throw errors.offline('The firmware method needs the Particle Cloud', ['Drop --offline.'])
    if (!cloud.settings.accessToken) {
      throw errors.needsLogin('The firmware method works through the Particle Cloud', 'Log in with `particle login`, then run the command again.')
    }
    const reports: SetReport[] = []
    for (const a of args) {
      let device: CloudDevice
      try {
        device = await cloud.device(a.id ?? a.name!)
      } catch (error) {
        // One unknown name does not stop the others (earlier ones may already run the preparatory firmware).
        const report = withError(cloudReport({id: a.id ?? a.name!, name: null}), error) as SetReport
        this.progress(report)
        reports.push(report)
        continue
      }
      const report = await setByFirmware(device, {
        clock: this.clock,
        cloud,
        confirm: (caveat) => this.confirmFlash(device.name ?? device.id, caveat),
        done: !this.flags['not-done'],
        dryRun: this.flags['dry-run'],
        force: this.flags.force,
        onWaiting: (what) => this.waiting(`${what} (up to ${Math.round(Math.max(120_000, this.flags.timeout * 1000) / 1000)} s)`),
        restore,
        waitMs: Math.max(120_000, this.flags.timeout * 1000),
        waitOnline: this.flags['wait-online'] === undefined ? undefined : () => this.waitOnline(device, this.flags['wait-online']!),
      })
      ux.action.stop()
      this.progress(report)
      if (!this.jsonEnabled()) for (const s of report.steps.slice(-1)) if (!report.error) this.log(`  ${s}`)
      reports.push(report)
    }
    const failed = reports.find((r) => r.error)
    if (failed) process.exitCode = failed.error!.exit
    return {devices: reports, summary: summaryOf(reports), warnings: this.warnings}
  }

  /** A named device that is not on USB but online in the cloud: the firmware method can fix it from here. */
  private async remoteHint(error: unknown, args: ReturnType<typeof parseDeviceArgs>): Promise<unknown> {
    if (!(error instanceof SetupFlagError) || error.code !== 'SETUP_FLAG_NOT_CONNECTED' || !this.cloud().usable) return error
    for (const a of args) {
      const who = a.name ?? a.id!
      if (!error.message.includes(who)) continue
      // eslint-disable-next-line no-await-in-loop
      const d = await this.cloud().device(who).catch(() => undefined)
      if (d && (d.online || d.connected)) {
        return errors.reworded(error, {
          message: `${error.message.replace(/\.$/, '')}, but it is online in the Particle Cloud.`,
          suggestions: [`Fix it over the air: particle-setup-flag set ${d.name ?? who} --method firmware --restore <your-production-firmware.bin>`, ...error.suggestions],
        })
      }
    }
    return error
  }

  /** The field rescue's wait: the card on stderr (also under --json: it is for the person on site), progress, Ctrl-C. */
  private async waitOnline(device: CloudDevice, seconds: number): Promise<string> {
    const who = device.name ?? device.id
    return interruptible((signal) =>
      waitUntilOnline({
        clock: this.clock,
        cloud: this.cloud(),
        device,
        onCard: (card) => process.stderr.write(`\n${card}\n\n`), // not this.logToStderr, which --json silences
        onProgress: (left) => {
          if (!this.showProgress) return
          if (left === undefined) ux.action.stop()
          else if (ux.action.running) ux.action.status = left
          else ux.action.start(`Waiting for ${who} to come online`, left)
        },
        signal,
        waitMs: seconds * 1000,
      }),
    )
  }

  private async confirmFlash(who: string, caveat: string): Promise<boolean> {
    if (!this.jsonEnabled()) this.logToStderr(`\n${caveat}\n`)
    if (this.flags.yes) return true
    if (!this.interactive) {
      throw errors.needsYes(who)
    }
    return this.ask((p) => p.confirm(`Flash the preparatory firmware to ${who}?`, false)).catch((error) => {
      throw isCancellation(error) ? errors.cancelled([`Nothing was flashed to ${who}.`], error) : error
    })
  }

  /** DEVICE arguments, --all, the only device, or (interactively) the one the user picks. */
  private async chooseDevices(args: ReturnType<typeof parseDeviceArgs>): Promise<FoundDevice[]> {
    const backend = await this.usb()
    if (args.length > 0) return selectDevices(backend, args, this.cloud())
    const all = await findParticleDevices(backend)
    if (all.length === 0) throw errors.noDevices()
    if (this.flags.all || all.length === 1) return all
    const known = await this.cloud().tryDevices(all.map((d) => d.id))
    if (!this.interactive) throw errors.multipleDevices(all.map((d) => `${known.get(d.id)?.name ? `${known.get(d.id)!.name} ` : ''}${describeFound(d)}`))
    const labels = await pickerLabels(all, this.clock, this.flags.timeout * 1000)
    const label = (d: FoundDevice) => `${known.get(d.id)?.name ? `${known.get(d.id)!.name} ` : ''}${labels.get(d.id)}`
    const id = await this.ask((p) => p.select('Which device?', all.map((d) => ({name: label(d), value: d.id})))).catch((error) => {
      throw isCancellation(error) ? errors.cancelled(['Nothing was written.'], error) : error
    })
    return all.filter((d) => d.id === id)
  }

  private progress(r: SetReport): void {
    if (this.jsonEnabled()) return
    const line = progressLine(r)
    if (ux.action.running) ux.action.pauseAsync(async () => this.log(line)).catch(() => {})
    else this.log(line)
  }

  private waiting(what: string): void {
    if (this.showProgress) ux.action.start(what)
  }
}
