import {Args, Command} from '@oclif/core'

import {pressFile} from '../../lib/backends.js'
import {reportFailure} from '../../lib/base-command.js'
import {virtualErrors} from '../../lib/virtual-errors.js'
import {Output} from '../../lib/output.js'
import {commandHelp} from '../../lib/text/help.js'
import {pressLines} from '../../lib/text/virtual.js'
import {pressInFile, PRESS_WORDS, type PressReport} from '../../lib/virtual/buttons.js'

const help = commandHelp('virtual')

/** `virtual press <buttons> [DEVICE]`: hands on a virtual device. It touches no USB and no cloud, so it has none of their flags. */
export default class VirtualCommand extends Command {
  static override args = {
    action: Args.string({description: 'What to do: press.', options: ['press'], required: true}),
    buttons: Args.string({description: `The presses, in order: ${PRESS_WORDS.join(', ')} (separate words, or joined by commas), then the device when the devices file holds several (its ID, the first 6 or more digits of it, or its name).`}),
  }

  static override description = help.description
  static override enableJsonFlag = true
  static override examples = help.examples
  static override strict = false
  static override summary = help.summary
  static override usage = '<%= command.id %> press BUTTONS... [DEVICE] [--json]'

  /** Errors as every other command renders them (one JSON error object under --json). */
  protected override async catch(err: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    reportFailure(this, err)
    return undefined
  }

  async run(): Promise<PressReport> {
    const {argv} = await this.parse(VirtualCommand)
    const words = argv.map(String).slice(1)
    if (words.length === 0) throw virtualErrors.pressWords({presses: PRESS_WORDS})
    const root = (this.ctor as typeof Command).plugin?.root ?? this.config.root
    const report = await pressInFile(await pressFile(process.env, root), words)
    const out = new Output({cli: {bin: this.config.bin}, json: this.jsonEnabled(), wrap: this.jsonEnabled() ? undefined : (await import('../../lib/wrap.js')).wrapText})
    for (const line of pressLines(report)) out.line(line)
    return report
  }
}
