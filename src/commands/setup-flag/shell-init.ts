import {Args, Command} from '@oclif/core'

import {reportFailure} from '../../lib/base-command.js'
import {Output} from '../../lib/output.js'
import {errors} from '../../lib/errors.js'
import {oneLine} from '../../lib/redact.js'
import {profileFile, type Shell, shellScript, SHELLS} from '../../lib/shell-init.js'

export interface ShellInitResult {
  script: string
  shell: Shell
}

/** Prints text only: it touches no device, no cloud and no file, so it needs none of BaseCommand's flags. */
export default class ShellInitCommand extends Command {
  static override args = {
    shell: Args.string({description: 'The shell to print the function for.', options: [...SHELLS], required: true}),
  }

  static override description = `For people who also use the official Particle CLI and want to type \`particle setup-flag get\`: prints a small shell function named \`particle\` that sends \`particle setup-flag ...\` to \`particle-setup-flag setup-flag ...\`, and every other command, with its arguments and exit status untouched, to the real \`particle\` (through \`command particle\` in bash, zsh and fish; through the application Get-Command finds in PowerShell).

Nothing is installed and the official CLI is not modified: add the line from the examples to your shell profile, and delete it to undo.

Exit status: 0; 2 for a missing or unknown shell.`

  static override enableJsonFlag = true

  static override examples = [
    {command: 'eval "$(<%= config.bin %> <%= command.id %> bash)"', description: `bash: put this line in ${profileFile('bash')}, then \`particle setup-flag get\` works`},
    {command: 'eval "$(<%= config.bin %> <%= command.id %> zsh)"', description: `zsh: put this line in ${profileFile('zsh')}`},
    {command: '<%= config.bin %> <%= command.id %> fish | source', description: `fish: put this line in ${profileFile('fish')}`},
    {command: '<%= config.bin %> <%= command.id %> powershell | Out-String | Invoke-Expression', description: 'PowerShell: put this line in $PROFILE'},
    {command: '<%= config.bin %> <%= command.id %> bash', description: 'Just look at the function'},
  ]

  static override summary = 'Print a shell function so that `particle setup-flag ...` works next to the official Particle CLI.'

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
