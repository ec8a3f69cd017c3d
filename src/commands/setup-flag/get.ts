import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/base-command.js'
import {parseDeviceArgs, selectDevices} from '../../lib/device/select.js'
import {readAll, withCloudFacts} from '../../lib/setup-flag/many.js'
import {commandHelp} from '../../lib/text/help.js'
import {renderReports} from '../../lib/text/render.js'
import {flagJson, type FlagReport, remarkText} from '../../lib/text/report.js'
import {perRequest} from '../../lib/text/waits.js'

export interface GetResult {
  devices: FlagReport[]
  warnings: string[]
}

const help = commandHelp('get')

export default class GetCommand extends BaseCommand<typeof GetCommand> {
  static override args = {
    device: Args.string({description: 'Device ID (24 hex digits) or cloud device name; several may be given. Omit to read every connected Particle device.'}),
  }

  static override description = help.description
  static override examples = help.examples

  static override flags = {
    unstick: Flags.boolean({
      description:
        'When the firmware does not answer, abort its connection attempt (raw request 302) and ask again. This takes the device off the cloud until it restarts.',
    }),
  }

  static override strict = false
  static override summary = help.summary

  async run(): Promise<GetResult> {
    const args = parseDeviceArgs(this.positionals)
    const found = await selectDevices(await this.usb(), args, this.cloud(), {offlineBy: this.offlineBy})
    const facts = this.facts(found.map((d) => d.id))
    void facts.known() // the names are asked while the devices are read
    this.out.start(`Reading ${found.length === 1 ? 'the device' : `${found.length} devices`} (${perRequest(this.flags.timeout * 1000)})`)
    const reports = await readAll(found, {...(await this.context({cloud: facts})), progress: undefined}, {unstick: this.flags.unstick})
    await withCloudFacts(reports, facts)
    this.out.end(reports.some((r) => r.error) ? 'failed' : 'done')
    for (const r of reports) for (const remark of r.remarks) this.out.warn(remarkText(r.id, remark))
    this.exitWithFirstFailure(reports)
    this.out.line(renderReports(reports, this.cli, this.out.width()))
    return {devices: reports.map((r) => flagJson(r, this.cli)), warnings: this.out.warnings}
  }
}
