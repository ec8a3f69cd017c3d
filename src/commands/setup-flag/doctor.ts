import {Args, Flags} from '@oclif/core'
import {resolve} from 'node:path'

import {BaseCommand} from '../../lib/base-command.js'
import {parseDeviceArgs} from '../../lib/device/select.js'
import {Doctor, type DoctorPerson, type DoctorReport} from '../../lib/doctor/doctor.js'
import {udevTarget} from '../../lib/doctor/udev.js'
import {errors} from '../../lib/errors.js'
import {stoppingText} from '../../lib/text/doctor.js'
import {commandHelp} from '../../lib/text/help.js'
import {pressable, PRESS_KEY, pressHint, PRESSES_FOR} from '../../lib/text/virtual.js'
import {onKey, type Prompter} from '../../lib/prompts.js'
import {type UsbBackend} from '../../lib/usb/backend.js'
import {type VirtualUsb} from '../../lib/virtual/index.js'

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
      person: this.person(backend),
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
    const report = await doctor.run().finally(() => {
      process.removeListener('SIGINT', onSigint)
      this.stopKey()
    })
    if (report.error) process.exitCode = report.error.exit
    const cancelled = report.error?.code === 'SETUP_FLAG_CANCELLED'
    this.out.line('')
    this.out.line(cancelled ? 'Cancelled.' : CLOSING[report.outcome])
    for (const line of report.summary) this.out.line(`  ${line}`)
    return report
  }

  private person(backend: UsbBackend): DoctorPerson {
    const {out} = this
    const ask = <R>(fn: (p: Prompter) => Promise<R>) => {
      this.stopKey()
      return this.ask(fn)
    }
    return {
      instruct: (kind, text, device) => {
        out.end('done')
        // What the hands must do is said under --json too (on stderr), so that a waiting run is never silent.
        const say = (line: string) => (out.json ? out.always(line) : out.line(line))
        if (!out.json) out.line('')
        say(`👉 ${text}`)
        if (kind === 'safe-mode-buttons' || kind === 'dfu-buttons' || kind === 'replug') say('   (The doctor continues by itself when the device comes back.)')
        if (device && pressable(kind)) this.virtualHands(backend, kind, device, say)
      },
      prompter: this.flags.yes || !this.interactive ? undefined : {confirm: (message, def) => ask((p) => p.confirm(message, def)), select: (message, choices) => ask((p) => p.select(message, choices))},
      say: (text) => out.line(text),
      waited: (how) => {
        this.stopKey() // the device came back (or the wait ended): a key would press again
        out.end(how)
      },
      waiting: (text) => {
        if (text) out.start(text)
      },
    }
  }

  /** Stops listening for the key that presses a virtual device's buttons (nothing when not listening). */
  private stopKey: () => void = () => {}

  /**
   * A virtual device cannot be handled: say how to press its buttons (a command for another terminal), and at a
   * terminal listen for a key that presses them here.
   */
  private virtualHands(backend: UsbBackend, kind: Parameters<typeof pressHint>[0]['instruction'], device: string, say: (line: string) => void): void {
    const devices = backend.example ?? (backend.file && resolve(backend.file))
    const usb = backend.usb as Partial<VirtualUsb>
    if (backend.kind !== 'virtual' || !devices || !usb.press || !usb.specs) return
    // A device to connect is pressable only when the devices file holds it (unplugged by hand).
    if (kind === 'connect' && !usb.device?.(device)) return
    const key = this.interactive ? PRESS_KEY : undefined
    // The device's ID only when the bus holds several (the virtual bus knows its devices, plugged in or not).
    const hint = pressHint({devices, id: usb.specs().length > 1 ? device : undefined, instruction: kind, key}, this.cli)
    say(hint.lead)
    if (this.out.json) this.out.always(hint.command)
    else this.out.data(`${hint.command}\n`) // unwrapped: a command to copy
    if (!key) return
    this.stopKey()
    this.stopKey = onKey(key, () => {
      for (const p of PRESSES_FOR[kind]) usb.press!(device, p)
    })
  }
}
