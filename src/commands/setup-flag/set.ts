import {Args, Flags, ux} from '@oclif/core'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {basename} from 'node:path'

import {BaseCommand} from '../../lib/base-command.js'
import {mapLimit} from '../../lib/concurrency.js'
import {parseDeviceArgs, selectDevices} from '../../lib/device/select.js'
import {errors, EXIT, SetupFlagError} from '../../lib/errors.js'
import {deviceLabel, withSuggestions} from '../../lib/render.js'
import {cloudReport, setByFirmware} from '../../lib/setup-flag/firmware.js'
import {type CloudDevice} from '../../lib/cloud/cloud.js'
import {applyCloud, withError} from '../../lib/setup-flag/read.js'
import {runStation} from '../../lib/setup-flag/station.js'
import {type Method, setSetupFlag, type SetReport} from '../../lib/setup-flag/write.js'
import {describeFound, findParticleDevices, type FoundDevice} from '../../lib/usb/discovery.js'

export interface SetResult {
  devices: SetReport[]
  warnings: string[]
}

/** Devices worked on at once: a 32-port hub takes about as long as one device. */
const PARALLEL = 32

export default class Set extends BaseCommand<typeof Set> {
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
  ]

  static override flags = {
    all: Flags.boolean({description: 'Every connected Particle device, each decided on its own (not with DEVICE arguments).'}),
    'dry-run': Flags.boolean({description: 'Read the devices and say what would be done; write nothing, restart nothing.'}),
    force: Flags.boolean({description: 'Write even where the flag does not apply or already holds the wanted value (it then has no effect).'}),
    method: Flags.option({default: 'auto', description: 'How to write the flag.', options: ['auto', 'usb', 'dfu', 'firmware'] as const})(),
    'not-done': Flags.boolean({description: 'Clear the flag (write 0xFF) instead of setting it.'}),
    restore: Flags.file({
      dependsOn: ['method'],
      description: 'With --method firmware: the production firmware binary to flash back once the flag is confirmed.',
    }),
    watch: Flags.boolean({
      description: 'Manufacturing station: keep running and fix every device the moment it is plugged in (and those already plugged in), each once, one line per device (--json: one JSON object per line); Ctrl-C or SIGTERM prints a summary. Exit status: 0 when none failed, else the first failure\'s.',
    }),
    yes: Flags.boolean({char: 'y', description: 'Answer yes to every question (for scripts).'}),
  }

  static override strict = false

  static override summary = 'Set the setup-done flag so the device stops blinking dark blue.'

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
      throw new SetupFlagError('SETUP_FLAG_USAGE', '--restore goes with --method firmware: it flashes production firmware back over the air.', {
        exit: EXIT.USAGE,
        suggestions: ['Add --method firmware, or drop --restore.'],
      })
    }
    if (this.flags.all && args.length > 0) {
      throw new SetupFlagError('SETUP_FLAG_USAGE', '--all means every connected device; it does not go with DEVICE arguments.', {
        exit: EXIT.USAGE,
        suggestions: ['Drop --all to fix the devices named, or drop the names to fix every connected device.'],
      })
    }
    if (method === 'firmware') return this.runFirmware(args)
    const backend = await this.usb()
    const cloud = this.cloud()
    const found = await this.chooseDevices(args)

    const reports = await mapLimit(found, PARALLEL, async (d) => {
      const r = await setSetupFlag(d, {
        backend,
        clock: this.clock,
        cloudVersion: async (id) => (await cloud.tryDevices([id])).get(id)?.system_firmware_version,
        done: !this.flags['not-done'],
        dryRun: this.flags['dry-run'],
        force: this.flags.force,
        method,
        onWaiting: (what) => this.waiting(what),
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
    if (!this.jsonEnabled() && reports.length > 1) this.log(summary(reports))
    return {devices: reports, warnings: this.warnings}
  }

  /** The remote path: the device is online in the cloud, not on USB. */
  private async runFirmware(args: ReturnType<typeof parseDeviceArgs>): Promise<SetResult> {
    if (args.length === 0) {
      throw new SetupFlagError('SETUP_FLAG_NEED_DEVICE', 'The firmware method needs the device named (its ID or cloud name): it works over the air.', {
        exit: EXIT.USAGE,
        suggestions: ['particle-setup-flag set my-boron --method firmware'],
      })
    }
    const restore = this.flags.restore ? readRestore(this.flags.restore) : undefined
    const cloud = this.cloud()
    if (cloud.settings.offline) throw new SetupFlagError('SETUP_FLAG_OFFLINE', 'The firmware method needs the Particle Cloud, which --offline turns off.', {exit: EXIT.USAGE})
    if (!cloud.settings.accessToken) {
      throw new SetupFlagError('SETUP_FLAG_NOT_LOGGED_IN', 'The firmware method works through the Particle Cloud, and you are not logged in.', {
        exit: EXIT.CLOUD,
        suggestions: ['Log in with `particle login`, then run the command again.'],
      })
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
        onWaiting: (what) => this.waiting(what),
        restore,
        waitMs: Math.max(120_000, this.flags.timeout * 1000),
      })
      ux.action.stop()
      this.progress(report)
      if (!this.jsonEnabled()) for (const s of report.steps.slice(-1)) if (!report.error) this.log(`  ${s}`)
      reports.push(report)
    }
    const failed = reports.find((r) => r.error)
    if (failed) process.exitCode = failed.error!.exit
    return {devices: reports, warnings: this.warnings}
  }

  private async confirmFlash(who: string, caveat: string): Promise<boolean> {
    if (!this.jsonEnabled()) this.logToStderr(`\n${caveat}\n`)
    if (this.flags.yes) return true
    if (!this.interactive) {
      throw new SetupFlagError('SETUP_FLAG_CONFIRM', `Flashing ${who} replaces its application, so it needs a yes.`, {
        exit: EXIT.USAGE,
        suggestions: ['Run it in a terminal to answer, or pass --yes.'],
      })
    }
    return this.ask((p) => p.confirm(`Flash the preparatory firmware to ${who}?`, false))
  }

  /** DEVICE arguments, --all, the only device, or (interactively) the one the user picks. */
  private async chooseDevices(args: ReturnType<typeof parseDeviceArgs>): Promise<FoundDevice[]> {
    const backend = await this.usb()
    if (args.length > 0) return selectDevices(backend, args, this.cloud())
    const all = await findParticleDevices(backend)
    if (all.length === 0) throw errors.noDevices()
    if (this.flags.all || all.length === 1) return all
    const known = await this.cloud().tryDevices(all.map((d) => d.id))
    const label = (d: FoundDevice) => `${known.get(d.id)?.name ? `${known.get(d.id)!.name} ` : ''}${describeFound(d)}`
    if (!this.interactive) throw errors.multipleDevices(all.map((d) => label(d)))
    const id = await this.ask((p) => p.select('Which device?', all.map((d) => ({name: label(d), value: d.id}))))
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

/** The production firmware for --restore, checked before anything is flashed. */
function readRestore(file: string): {binary: Buffer; name: string} {
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new SetupFlagError('SETUP_FLAG_BAD_FILE', `--restore: no firmware file at ${file}.`, {
      exit: EXIT.USAGE,
      suggestions: ['Give the path of your production firmware binary (.bin), e.g. from `particle compile`.'],
    })
  }
  // Application firmware is at most a few MB; a huge file is a mistake (and over 2 GiB Node cannot read it at all).
  const size = statSync(file).size
  if (size > MAX_RESTORE_BYTES) throw errors.restoreFile(file, `it is ${Math.round(size / 1024 / 1024)} MiB, and application firmware is at most a few MiB`)
  try {
    return {binary: readFileSync(file), name: basename(file)}
  } catch (error) {
    throw errors.restoreFile(file, `it cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, error)
  }
}

const MAX_RESTORE_BYTES = 64 * 1024 * 1024

/** A byte for people; null before a write means request 74 said "not done" without telling the byte. */
const hex = (v: null | number) => (v === null ? 'not set' : `0x${v.toString(16).padStart(2, '0').toUpperCase()}`)

export function progressLine(r: SetReport): string {
  const who = `${deviceLabel(r)} (${r.platformName})`
  if (r.error) return withSuggestions(`✖ ${who}: ${r.error.message}`, r.error.suggestions, '    ')
  if (r.changed) return `✔ ${who}: flag ${r.flag === 'not-done' ? 'cleared' : 'set'} by ${r.method} (${hex(r.before)} → ${hex(r.after)}). ${r.steps.filter((s) => /Stopped|restarted|Restarted|Listening/.test(s)).join(' ')}`.trim()
  if (r.flag === 'not-applicable') return `– ${who}: nothing to do. ${r.reason}`
  return `– ${who}: ${r.steps.at(-1) ?? 'nothing to do.'}`
}

function summary(reports: SetReport[]): string {
  const changed = reports.filter((r) => r.changed && !r.error).length
  const failed = reports.filter((r) => r.error).length
  const would = reports.filter((r) => !r.error && r.steps.some((s) => s.startsWith('Would '))).length
  if (would > 0) return `\n${reports.length} devices: ${would} would be fixed (dry run: nothing was written), ${failed} failed.`
  return `\n${reports.length} devices: ${changed} fixed, ${reports.length - changed - failed} unchanged, ${failed} failed.`
}
