// PARTICLE_VIRTUAL_CLOUD: the commands run against a virtual Particle Cloud in their own process, built from a
// fixture (the bundled `fleet`, or a file): the audit of a product, names, the firmware method and the field rescue,
// without an account. The same server the rest of the suite drives directly (src/lib/cloud/virtual.ts).
import {expect} from 'chai'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {SetReport} from '../../src/lib/flag.js'

import {ROOT, runCli, runJson, tempDir} from '../support/cli.js'

const CLOUD = {COLUMNS: '120', PARTICLE_VIRTUAL_CLOUD: 'fleet'}

/** A fixture file of our own, for what the bundled one does too slowly for a test (a device coming online at once). */
function fixture(doc: unknown): string {
  const file = join(tempDir('setup-flag-cloud-'), 'cloud.json')
  writeFileSync(file, JSON.stringify(doc))
  return file
}

describe('PARTICLE_VIRTUAL_CLOUD: a cloud to try things on, without an account', function () {
  this.timeout(60_000)

  it('`audit --product pumps` on the bundled fleet prints exactly the README\'s example', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const example = /```console\n\$ particle-setup-flag audit --product pumps\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(example, 'the README shows `audit --product pumps`').to.be.a('string')
    const r = await runCli(['audit', '--product', 'pumps'], {env: CLOUD})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(example)
  })

  it('names: a virtual device on USB shows its cloud name, and is found by it', async () => {
    const env = {...CLOUD, PARTICLE_VIRTUAL_DEVICES: 'stuck-argon'}
    const all = await runJson<{devices: Array<{id: string; name?: string}>}>(['get'], {env})
    expect(all.code, all.stderr).to.equal(0)
    expect(all.json.devices[0]).to.include({id: 'e00fce681a2b3c4d5e6f7a8b', name: 'bench-argon'})
    const named = await runJson<{devices: Array<{id: string}>}>(['get', 'bench-argon'], {env})
    expect(named.code, named.stderr).to.equal(0)
    expect(named.json.devices.map((d) => d.id)).to.deep.equal(['e00fce681a2b3c4d5e6f7a8b'])
  })

  it('the firmware method on an online device of the fleet: compile, flash, the result event, production back', async () => {
    const production = join(tempDir(), 'production.bin')
    writeFileSync(production, 'PRODUCTION v7')
    const r = await runJson<{devices: SetReport[]}>(['set', 'gate-boron', '--method', 'firmware', '--yes', '--restore', production], {env: CLOUD})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.json.devices[0]).to.include({after: 1, changed: true, flag: 'done', id: 'e00fce681a2b3c4d5e6f7b01', method: 'firmware', name: 'gate-boron'})
    expect(r.json.devices[0].steps.join('\n')).to.contain('production.bin')
  })

  it('the field rescue: an offline device comes online (a fixture event as soon as someone listens), is flashed, reports back', async () => {
    const file = fixture({
      devices: [{deviceOs: '2.3.1', id: 'e00fce681a2b3c4d5e6f7c01', name: 'field-boron', online: false, platform: 'boron'}],
      events: [
        {data: 'online', device: 'field-boron', name: 'spark/status'},
        {data: '{"f":[],"v":{},"p":13,"m":[]}', device: 'field-boron', name: 'spark/status/safe-mode'},
      ],
    })
    const r = await runJson<{devices: SetReport[]}>(['set', 'field-boron', '--method', 'firmware', '--wait-online', '60', '--yes'], {env: {PARTICLE_VIRTUAL_CLOUD: file}})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.json.devices[0]).to.include({after: 1, flag: 'done', id: 'e00fce681a2b3c4d5e6f7c01', method: 'firmware'})
    // Both events come at once: whichever the rescue reads first says it came online.
    expect(r.json.devices[0].steps.join('\n')).to.match(/field-boron came online( in Safe Mode)?\.\nFlashed it over the air\.\nThe device reported 01\./)
  })

  it('a mistyped name lists the bundled ones; a devices file is told apart; exit 2 either way', async () => {
    const typo = await runJson(['audit'], {env: {PARTICLE_VIRTUAL_CLOUD: 'fleeet'}})
    expect(typo.code).to.equal(2)
    expect(typo.json).to.have.nested.property('error.code', 'SETUP_FLAG_VIRTUAL_CLOUD')
    expect((typo.json as {error: {message: string}}).error.message).to.contain('fleeet').and.contain('(bundled: fleet)')
    const devices = await runJson(['audit'], {env: {PARTICLE_VIRTUAL_CLOUD: 'stuck-argon'}})
    expect(devices.code).to.equal(2)
    expect((devices.json as {error: {message: string}}).error.message).to.contain('PARTICLE_VIRTUAL_DEVICES')
  })

  it('needs no login, yet --offline still means no cloud at all; `audit --offline` says why and what to do', async () => {
    const flag = await runCli(['audit', '--offline'], {env: CLOUD})
    expect(flag.code).to.equal(2)
    expect(flag.stderr).to.contain('The audit reads the Particle Cloud and nothing else, which --offline turns off')
    expect(flag.stderr).to.contain('Drop --offline').and.contain('PARTICLE_VIRTUAL_CLOUD=fleet particle-setup-flag audit --product pumps')
    const env = await runJson(['audit'], {env: {PARTICLE_OFFLINE: '1'}})
    expect(env.code).to.equal(2)
    expect(JSON.stringify(env.json)).to.contain('which PARTICLE_OFFLINE=1 (in the environment) turns off').and.contain('Unset PARTICLE_OFFLINE')
  })
})
