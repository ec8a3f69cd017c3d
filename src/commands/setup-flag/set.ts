import {Args, Flags, ux} from '@oclif/core'

import {BaseCommand} from '../../lib/base-command.js'
import {parseDeviceArgs} from '../../lib/device/select.js'
import {progressLine, setSummaryLine} from '../../lib/render.js'
import {WAIT_ONLINE_DEFAULT_S, withWaitOnlineDefault} from '../../lib/fleet/rescue.js'
import {runStation} from '../../lib/setup-flag/run-station.js'
import {type SetResult, summaryOf} from '../../lib/setup-flag/station.js'
import {remoteHint, setEachByFirmware, setOverUsb, setUsageProblem, withCloudFacts} from '../../lib/setup-flag/methods.js'
import {type Method, type SetReport} from '../../lib/setup-flag/write.js'

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
    const f = this.flags
    const common = {clock: this.clock, done: !f['not-done'], dryRun: f['dry-run'], force: f.force}
    if (f.watch) {
      await runStation({...common, args: this.positionals, json: this.jsonEnabled(), line: progressLine, method, openBackend: () => this.usb(), timeoutMs: f.timeout * 1000})
      return undefined // the station printed its own lines
    }
    const args = parseDeviceArgs(this.positionals)
    const usage = setUsageProblem({all: f.all, restore: f.restore, waitOnline: f['wait-online']}, method, args)
    if (usage) throw usage
    let reports: SetReport[]
    if (method === 'firmware') {
      const waitMs = Math.max(120_000, f.timeout * 1000)
      reports = await setEachByFirmware(args, {
        cloud: () => this.cloud(),
        onReport: (r, flashed) => {
          if (flashed) ux.action.stop()
          this.progress(r)
          if (flashed && !this.jsonEnabled()) for (const s of r.steps.slice(-1)) if (!r.error) this.log(`  ${s}`)
        },
        optionsFor: (device, restore) => ({
          ...common,
          cloud: this.cloud(),
          confirm: (caveat) => this.confirmFlash(device.name ?? device.id, caveat, f.yes),
          onWaiting: (what) => this.waiting(`${what} (up to ${Math.round(waitMs / 1000)} s)`),
          restore,
          waitMs,
          waitOnline: f['wait-online'] === undefined ? undefined : () => this.waitOnlineWithCard(device, f['wait-online']!),
        }),
        restoreFile: f.restore,
      })
    } else {
      const backend = await this.usb()
      const cloud = this.cloud()
      const found = await this.pickDevices(args, this.flags.all).catch(async (error) => {
        throw await remoteHint(error, args, cloud)
      })
      this.waiting(`Setting the flag of ${found.length === 1 ? found[0].id : `${found.length} devices`} (waiting up to ${f.timeout} s for each answer)`)
      reports = await setOverUsb(found, {...common, backend, cloud, method, onReport: (r) => this.progress(r), onWaiting: (w) => this.waiting(w), timeoutMs: f.timeout * 1000})
      ux.action.stop()
      await withCloudFacts(reports, cloud)
    }
    this.exitWithFirstFailure(reports)
    if (method !== 'firmware' && !this.jsonEnabled() && reports.length > 1) this.log(setSummaryLine(reports))
    return {devices: reports, summary: summaryOf(reports), warnings: this.warnings}
  }

  private progress(r: SetReport): void {
    if (!this.jsonEnabled()) this.logBesideSpinner(progressLine(r))
  }
}
