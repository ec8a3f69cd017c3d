// The hints to try the tool without hardware work outside the repository (after `npm install`):
// PARTICLE_VIRTUAL_DEVICES takes the bare name of a bundled example, and the bundled file is never written.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {errors} from '../../src/lib/errors.js'
import {BIN, ROOT, runCli, tempDir} from '../support/cli.js'

function runElsewhere(args: string[], devices: string) {
  const cwd = tempDir('setup-flag-elsewhere-')
  const env = {...process.env, HOME: cwd, PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: devices}
  return spawnSync(process.execPath, [BIN, ...args], {cwd, encoding: 'utf8', env})
}

describe('bundled examples by name', function () {
  this.timeout(60_000)

  it('PARTICLE_VIRTUAL_DEVICES=stuck-argon works from any folder, and `set` leaves the bundled file as shipped', () => {
    const shipped = readFileSync(join(ROOT, 'examples', 'stuck-argon.json'), 'utf8')
    const got = runElsewhere(['get'], 'stuck-argon')
    expect(got.status, got.stderr).to.equal(0)
    expect(got.stdout).to.contain('NOT DONE')
    const set = runElsewhere(['set'], 'stuck-argon.json')
    expect(set.status, set.stderr).to.equal(0)
    expect(readFileSync(join(ROOT, 'examples', 'stuck-argon.json'), 'utf8')).to.equal(shipped)
  })

  it('the hints name the bundled example by its bare name, never a path into the repository', async () => {
    const hint = errors.noUsbSubsystem().suggestions.join('\n')
    expect(hint).to.contain('PARTICLE_VIRTUAL_DEVICES=stuck-argon particle-setup-flag get')
    expect(hint).not.to.contain('examples/')
    const help = await runCli(['get', '--help'])
    expect(help.stdout).to.contain('PARTICLE_VIRTUAL_DEVICES=mixed-bench')
    expect(help.stdout).not.to.contain('examples/')
  })
})
