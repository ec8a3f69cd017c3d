import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/base-command.js'
import {parseDeviceArgs} from '../../lib/device/select.js'
import {Doctor, type DoctorPerson, type DoctorReport} from '../../lib/doctor/doctor.js'
import {udevTarget} from '../../lib/doctor/udev.js'
import {errors} from '../../lib/errors.js'
import {stoppingText} from '../../lib/text/doctor.js'
import {commandHelp} from '../../lib/text/help.js'

const help = commandHelp('doctor')

/** The doctor's last line, by outcome. */
const CLOSING: Record<DoctorReport['outcome'], string> = {
  cancelled: 'Not fixed.',
  failed: 'Not fixed.',
  fixed: 'Fixed.',
  'not-the-flag': 'Summary:',
  'nothing-to-fix': 'Summary:',
}

export default class DoctorCommand extends BaseCommand<typeof DoctorCommand> {
  static override args = {
    device: Args.string({description: 'Device ID or cloud device name. Omit to use the connected device (or wait for one).'}),
  }

  static override description = help.description
  static override examples = help.examples

  static override flags = {
    wait: Flags.integer({default: 300, description: 'Seconds to wait for you to plug in the device or press its buttons.', min: 1}),
    yes: Flags.boolean({char: 'y', description: 'Take every recommended action without asking.'}),
  }

  static override summary = help.summary

  async run(): Promise<DoctorReport> {
    const [arg] = parseDeviceArgs(this.args.device ? [this.args.device] : [])
    if (!this.flags.yes && !this.interactive) throw errors.notInteractive()
    const backend = await this.usb()
    const stop = new AbortController()
    const doctor = new Doctor({
      backend,
      cli: this.cli,
      clock: this.clock,
      cloud: this.cloud(),
      device: arg,
      person: this.person(),
      signal: stop.signal,
      timeoutMs: this.flags.timeout * 1000,
      udev: udevTarget(backend),
      waitMs: this.flags.wait * 1000,
      yes: this.flags.yes,
    })
    // Ctrl-C while the device is being worked on: that work finishes (a device put into DFU mode leaves it, a write
    // is read back) and the doctor then stops and says what was done. Ctrl-C while it waits for a person (the
    // buttons, a plug), or a second Ctrl-C: a cancellation now, said with what was already done (at a question,
    // the prompt turns Ctrl-C into a cancellation).
    const onSigint = () => {
      if (doctor.busy && !stop.signal.aborted) {
        stop.abort()
        this.out.always(`${process.stderr.isTTY ? '\n' : ''}${stoppingText()}`)
        return
      }
      this.out.end('cancelled')
      const e = errors.cancelled(doctor.whatWasDone())
      this.out.error(e)
      // Exit once what was printed has left (a signal handler cannot end the command by throwing).
      process.stdout.write('', () => process.stderr.write('', () => process.exit(e.exit)))
    }
    process.on('SIGINT', onSigint)
    const report = await doctor.run().finally(() => process.removeListener('SIGINT', onSigint))
    if (report.error) process.exitCode = report.error.exit
    const cancelled = report.error?.code === 'SETUP_FLAG_CANCELLED'
    this.out.line('')
    this.out.line(cancelled ? 'Cancelled.' : CLOSING[report.outcome])
    for (const line of report.summary) this.out.line(`  ${line}`)
    return report
  }

  private person(): DoctorPerson {
    const {out} = this
    return {
      instruct: (kind, text) => {
        out.end('done')
        // What the hands must do is said under --json too (on stderr), so that a waiting run is never silent.
        const say = (line: string) => (out.json ? out.always(line) : out.line(line))
        if (!out.json) out.line('')
        say(`👉 ${text}`)
        if (kind === 'safe-mode-buttons' || kind === 'dfu-buttons' || kind === 'replug') say('   (The doctor continues by itself when the device comes back.)')
      },
      prompter:
        this.flags.yes || !this.interactive
          ? undefined
          : {confirm: (message, def) => this.ask((p) => p.confirm(message, def)), select: (message, choices) => this.ask((p) => p.select(message, choices))},
      say: (text) => out.line(text),
      waited: (how) => out.end(how),
      waiting: (text) => {
        if (text) out.start(text)
      },
    }
  }
}
