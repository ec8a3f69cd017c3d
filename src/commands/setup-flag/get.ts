import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/base-command.js'
import {mapLimit} from '../../lib/concurrency.js'
import {parseDeviceArgs, selectDevices} from '../../lib/device/select.js'
import {renderReports} from '../../lib/render.js'
import {applyCloud, type FlagReport, readSetupFlag} from '../../lib/setup-flag/read.js'

export interface GetResult {
  devices: FlagReport[]
  warnings: string[]
}

export default class GetCommand extends BaseCommand<typeof GetCommand> {
  static override args = {
    device: Args.string({description: 'Device ID (24 hex digits) or cloud device name; several may be given. Omit to read every connected Particle device.'}),
  }

  static override description = `Reads the one-byte "setup done" flag that Gen3 devices (Argon, Boron, B SoM, B5 SoM, Tracker, Xenon) on Device OS below 4.0 keep in their configuration flash (DCT offset 8134). While it is not set, the device boots into Listening Mode and blinks dark blue.

Works in normal, listening and safe mode (control request 74, plus the Device OS version over USB) and in DFU mode (a one-byte DfuSe read, plus the version from the system part's header). Nothing is ever written. On Device OS 4.0 and later, on P2 / Photon 2 / M SoM and on Gen2 devices the flag does not exist, and the output says so and why.

Exit status: 0 when every device was read (whatever the flag's value); 2 bad input, 3 no device, 4 no USB, 5 USB permission, 6 a device did not answer.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Read every connected device'},
    {command: '<%= config.bin %> <%= command.id %> e00fce681a2b3c4d5e6f7a8b', description: 'Read one device'},
    {command: '<%= config.bin %> <%= command.id %> --json', description: 'Machine-readable output for scripts'},
    {
      command: 'PARTICLE_VIRTUAL_DEVICES=mixed-bench <%= config.bin %> <%= command.id %>',
      description: 'Try it without hardware, on the bundled example devices (mixed-bench, stuck-argon, blocked-boron)',
    },
  ]

  static override flags = {
    unstick: Flags.boolean({
      description:
        'When the firmware does not answer, abort its connection attempt (raw request 302) and ask again. This takes the device off the cloud until it restarts.',
    }),
  }

  static override strict = false

  static override summary = 'Read the setup-done flag of connected devices.'

  async run(): Promise<GetResult> {
    const args = parseDeviceArgs(this.positionals)
    const backend = await this.usb()
    const cloud = this.cloud()
    const found = await selectDevices(backend, args, cloud)
    const what = `Reading ${found.length === 1 ? 'the device' : `${found.length} devices`} (waiting up to ${this.flags.timeout} s for each answer)`
    const [reports, known] = await this.withSpinner(what, () =>
      Promise.all([
        mapLimit(found, 8, (d) => readSetupFlag(d, {clock: this.clock, timeoutMs: this.flags.timeout * 1000, unstick: this.flags.unstick})),
        cloud.tryDevices(found.map((d) => d.id)),
      ]),
    )
    for (const r of reports) {
      const note = applyCloud(r, known.get(r.id))
      if (note) this.warning(note)
      if (r.cloudDisconnected) this.warning(`${r.id}: --unstick aborted its connection attempt (raw request 302); it stays off the cloud until it restarts (tap RESET).`)
    }

    this.exitWithFirstFailure(reports)
    if (!this.jsonEnabled()) this.log(renderReports(reports, this.config.bin))
    return {devices: reports, warnings: this.warnings}
  }
}
