import {Args, Command} from '@oclif/core'

import {reportFailure} from '../../lib/base-command.js'
import {Output} from '../../lib/output.js'
import {errors} from '../../lib/errors.js'
import {oneLine} from '../../lib/redact.js'
import {profileFile, type Shell, shellScript, SHELLS} from '../../lib/shell-init.js'
import {commandHelp} from '../../lib/text/help.js'

export interface ShellInitResult {
  script: string
  shell: Shell
}

const help = commandHelp('shell-init', {profileFile})

/** Prints text only: it touches no device, no cloud and no file, so it needs none of BaseCommand's flags. */
export default class ShellInitCommand extends Command {
  static override args = {
    shell: Args.string({description: 'The shell to print the function for.', options: [...SHELLS], required: true}),
  }

  static override description = help.description

  static override enableJsonFlag = true

  static override examples = help.examples

  static override summary = help.summary

  /** Errors as every other command renders them (one JSON error object under --json, exit 2 for a bad shell). */
  protected override async catch(err: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    reportFailure(this, err)
    return undefined
  }

  async run(): Promise<ShellInitResult> {
    // oclif checks the raw argument but echoes it without its control characters ("Expected bash to be one of"):
    // say plainly that such an argument is no shell name.
    const raw = this.argv.find((a) => !a.startsWith('-'))
    if (raw !== undefined && oneLine(raw) !== raw) throw errors.notAChoice('shell name', raw, SHELLS)
    const {args} = await this.parse(ShellInitCommand)
    const shell = args.shell as Shell
    const script = shellScript(shell)
    if (!this.jsonEnabled()) new Output({cli: {bin: this.config.bin}, json: false}).data(script)
    return {script, shell}
  }
}
