import {Flags} from '@oclif/core'
import {join} from 'node:path'

import {BaseCommand} from '../../lib/base-command.js'
import {openBrowser, servePage} from '../../lib/page-server.js'
import {interruptible} from '../../lib/signals.js'
import {commandHelp} from '../../lib/text/help.js'
import {SERVE} from '../../lib/text/web.js'

const help = commandHelp('web')

export default class WebCommand extends BaseCommand<typeof WebCommand> {
  // It talks to no device and no cloud itself (the page does, in the browser): --offline and --timeout mean nothing here.
  static override baseFlags = {} as typeof BaseCommand.baseFlags
  static override description = help.description
  static override enableJsonFlag = false
  static override examples = help.examples

  static override flags = {
    open: Flags.boolean({allowNo: true, default: true, description: 'Open the page in the default browser (--no-open: only print its address).'}),
    port: Flags.integer({default: 0, description: 'Port on 127.0.0.1 to serve the page on (0: a free one).', max: 65_535, min: 0}),
  }

  static override summary = help.summary

  async run(): Promise<void> {
    const server = await servePage(join(this.packageRoot, 'dist', 'web'), this.flags.port)
    this.out.line(SERVE.serving(server.url))
    const opened = this.flags.open && (await openBrowser(server.url))
    this.out.line(opened ? SERVE.opened : SERVE.open)
    // Until Ctrl-C (or SIGTERM): the normal way to stop a server, so it ends with status 0.
    await interruptible((signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), {once: true})))
    await server.close()
    this.out.line(SERVE.stopped)
  }
}
