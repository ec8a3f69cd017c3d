import {Args, Flags, ux} from '@oclif/core'

import {BaseCommand, printJson} from '../../lib/base-command.js'
import {parseDeviceArgs} from '../../lib/device/select.js'
import {Doctor, type DoctorPerson, type DoctorReport} from '../../lib/doctor/doctor.js'
import {udevTarget} from '../../lib/doctor/udev.js'
import {errors, EXIT} from '../../lib/errors.js'

export default class DoctorCommand extends BaseCommand<typeof DoctorCommand> {
  static override args = {
    device: Args.string({description: 'Device ID or cloud device name. Omit to use the connected device (or wait for one).'}),
  }

  static override description = `A guided fix for a device that blinks dark blue, from plug-in to verified: it finds the device (and waits for you to plug it in), identifies it (platform, mode, LED, Device OS version), diagnoses whether the setup-done flag is the cause, fixes it with your consent (a USB control request; Safe Mode when the firmware does not answer, with the button steps; DFU mode as a last resort), restarts the device and checks that it no longer listens, and sums up what was wrong, what was done and what to do if it happens again.

It asks before it writes. --yes takes every recommended action without asking, for scripts and support staff; without a terminal, --yes is required. --json prints a report of every step.

Exit status: 0 when the doctor finished (fixed, nothing to fix, or another cause named); 1 a bug in this tool; 2 bad input, or no terminal without --yes; 3 no device; 4 no USB; 5 USB permission; 6 the device did not answer; 7 cloud; 8 the write did not take; 9 Device Protection; 130 not fixed because you declined the fix or cancelled a question (Ctrl-C or end of input).`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Walk through the fix for the connected device'},
    {command: '<%= config.bin %> <%= command.id %> my-argon', description: 'A named device'},
    {command: '<%= config.bin %> <%= command.id %> --yes --json', description: 'Unattended, with a JSON report'},
  ]

  static override flags = {
    wait: Flags.integer({default: 300, description: 'Seconds to wait for you to plug in the device or press its buttons.', min: 1}),
    yes: Flags.boolean({char: 'y', description: 'Take every recommended action without asking.'}),
  }

  static override summary = 'Walk through fixing a device that blinks dark blue.'

  async run(): Promise<DoctorReport> {
    const [arg] = parseDeviceArgs(this.args.device ? [this.args.device] : [])
    if (!this.flags.yes && !this.interactive) {
      throw errors.notInteractive()
    }
    const backend = await this.usb()
    const doctor = new Doctor({
      backend,
      clock: this.clock,
      cloud: this.cloud(),
      device: arg,
      person: this.person(),
      timeoutMs: this.flags.timeout * 1000,
      udev: udevTarget(backend),
      waitMs: this.flags.wait * 1000,
      yes: this.flags.yes,
    })
    // Ctrl-C while the doctor waits (for the buttons, a restart, an answer): a cancellation too, said with what
    // was already done, and the spinner stopped (at a question, the prompt turns Ctrl-C into a cancellation).
    const onSigint = () => {
      if (ux.action.running) ux.action.stop('cancelled')
      const done = doctor.whatWasDone()
      if (this.jsonEnabled()) printJson({error: errors.cancelled(done).toJSON()})
      else this.logToStderr(['', 'Cancelled.', ...done.map((l) => `  ${l}`)].join('\n'))
      // Exit once what was printed has left (a signal handler cannot end the command by throwing).
      process.stdout.write('', () => process.stderr.write('', () => process.exit(EXIT.INTERRUPTED)))
    }
    process.once('SIGINT', onSigint)
    const report = await doctor.run().finally(() => process.removeListener('SIGINT', onSigint))
    if (report.error) process.exitCode = report.error.exit
    if (!this.jsonEnabled()) {
      this.log('')
      const cancelled = report.error?.code === 'SETUP_FLAG_CANCELLED'
      this.log({cancelled: cancelled ? 'Cancelled.' : 'Not fixed.', failed: 'Not fixed.', fixed: 'Fixed.'}[report.outcome as string] ?? 'Summary:')
      for (const line of report.summary) this.log(`  ${line}`)
    }
    return report
  }

  private person(): DoctorPerson {
    const quiet = this.jsonEnabled()
    const spin = this.showProgress
    return {
      instruct: (kind, text) => {
        if (quiet) return
        ux.action.stop()
        this.log('')
        this.log(`👉 ${text}`)
        if (kind === 'safe-mode-buttons' || kind === 'dfu-buttons' || kind === 'replug') this.log('   (The doctor continues by itself when the device comes back.)')
      },
      prompter: this.flags.yes || !this.interactive ? undefined : {
        confirm: (message, def) => this.ask((p) => p.confirm(message, def)),
        select: (message, choices) => this.ask((p) => p.select(message, choices)),
      },
      say: (text) => {
        if (quiet) return
        if (ux.action.running) ux.action.stop()
        this.log(text)
      },
      waiting: (text) => {
        if (!spin) return
        if (text) ux.action.start(text)
        else if (ux.action.running) ux.action.stop()
      },
    }
  }
}
