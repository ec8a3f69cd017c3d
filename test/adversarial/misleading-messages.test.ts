/**
 * Messages under faults say what happened: a devices file nested 20,000 deep, a shell name with control characters,
 * a cloud record whose platform_id is not a number, and a --restore that fails after the flag was set.
 */
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {SetReport} from '../../src/lib/flag.js'

import {devicesFile, runCli, runJson, tempDir, testDevice, testId} from '../support/cli.js'
import {profileHome} from '../support/cloud-home.js'
import {VirtualCloud as FakeCloud} from '../../src/lib/cloud/virtual.js'

const DEEP = 20_000

describe('adversarial: messages under faults say what happened', function () {
  this.timeout(60_000)

  describe('a devices file nested 20,000 deep', () => {
    const nested = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`
    const device = JSON.stringify(testDevice(1, 'argon', '3.3.1', 'listening', 255))
    const cases = {
      'as its devices': `{"devices": ${nested}}`,
      // Read fine before, and failed only at the first write-back, on the stack's size, "make the file writable".
      'in a key of its own beside the devices': `{"devices": [${device}], "notes": ${nested}}`,
      'in its violations': `{"devices": [${device}], "violations": ${nested}}`,
    }
    for (const [where, text] of Object.entries(cases)) {
      it(`${where}: get and set say it nests too deep (exit 2), not "Maximum call stack size exceeded" nor "make the file writable"`, async () => {
        const file = join(tempDir(), 'devices.json')
        writeFileSync(file, text)
        for (const args of [['get'], ['set', '--all']]) {
          const r = await runCli([...args, '--offline'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
          expect(r.code, `${args[0]}: ${r.stdout}${r.stderr}`).to.equal(2)
          expect(r.stderr).to.contain('SETUP_FLAG_DEVICES_FILE').and.match(/nest more than \d+ levels deep/)
          expect(r.stdout + r.stderr).to.not.match(/call stack|writable/i)
        }
      })
    }
  })

  describe('shell-init with control characters in its argument', () => {
    for (const [label, arg, shown] of [
      ['ESC', 'ba\u001Bsh', 'ba\\x1Bsh'],
      ['BEL', 'bash\u0007', 'bash\\x07'],
      ['a newline', 'fi\nsh', 'fi\\x0Ash'],
      ['a colour sequence', '\u001B[31mzsh', '\\x1B[31mzsh'],
    ]) {
      it(`${label}: says plainly it is not a shell name and shows the character, instead of "Expected bash to be one of"`, async () => {
        const r = await runCli(['shell-init', arg])
        expect(r.code).to.equal(2)
        expect(r.stdout).to.equal('') // no script to eval
        expect(r.stderr).to.contain(`"${shown}" is not a shell name: it holds control characters`)
        expect(r.stderr).to.not.match(/Expected \w+ to be one of/)
        const j = await runJson<{error: {code: string; message: string}}>(['shell-init', arg])
        expect(j.code).to.equal(2)
        expect(j.json.error.code).to.equal('SETUP_FLAG_USAGE')
        expect(j.json.error.message).to.contain(`"${shown}" is not a shell name`)
      })
    }

    it('a plain unknown name keeps oclif\'s message', async () => {
      const r = await runCli(['shell-init', 'tcsh'])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.contain('Expected tcsh to be one of: bash, zsh, fish, powershell')
    })
  })

  describe('the firmware method (loopback cloud)', () => {
    let cloud: FakeCloud

    beforeEach(async () => {
      cloud = await new FakeCloud().start()
    })
    afterEach(() => cloud.close())

    it('platform_id "x" from the cloud: says the record gives no platform, not "an unknown platform (undefined)"', async () => {
      cloud.devices = [{connected: true, id: testId(1), name: 'odd-one', platform_id: 'x' as unknown as number, system_firmware_version: '2.3.1'}]
      const {code, json} = await runJson<{devices: SetReport[]}>(['set', 'odd-one', '--method', 'firmware', '--yes'], {env: {HOME: profileHome(cloud)}})
      expect(code).to.equal(7)
      const error = json.devices[0].error!
      expect(error.code).to.equal('SETUP_FLAG_UNKNOWN_PLATFORM')
      expect(error.message).to.contain('does not say its platform (no numeric platform_id)')
      expect(error.message).to.not.contain('undefined')
      expect(cloud.flashed).to.have.length(0)
    })

    it('a --restore that fails: one full stop after the cause, and the command names the file as it was given', async () => {
      cloud.devices = [{connected: true, id: testId(2), name: 'field-boron', platform_id: 13, system_firmware_version: '2.3.1'}]
      cloud.flashHook = (data) => (data.startsWith('PRODUCTION') ? {status: 500} : undefined)
      const dir = join(tempDir(), 'my builds')
      mkdirSync(dir)
      const production = join(dir, 'prod.bin')
      writeFileSync(production, 'PRODUCTION v8')
      const {code, json} = await runJson<{devices: SetReport[]}>(['set', 'field-boron', '--method', 'firmware', '--yes', '--restore', production], {
        env: {HOME: profileHome(cloud)},
      })
      expect(code).to.equal(7)
      const error = json.devices[0].error!
      expect(error.code).to.equal('SETUP_FLAG_RESTORE_FAILED')
      expect(error.message).to.contain('but flashing prod.bin back failed: The Particle Cloud is unavailable (HTTP 500')
      expect(error.message).to.not.contain('..')
      expect(error.message).to.contain('). The device still runs the preparatory firmware.')
      expect(error.suggestions[0]).to.equal(`Flash your production firmware back: \`particle flash field-boron '${production}'\`.`)
    })
  })

  describe('a DFU-mode device without a readable system part: what keeps its version unknown', () => {
    const file = () => devicesFile([testDevice(1, 'argon', '3.3.1', 'dfu', 255, {noSystemPart: true})])

    it('under --offline it says to drop --offline, not to log in', async () => {
      const r = await runJson<{devices: SetReport[]}>(['set', '--offline'], {env: {PARTICLE_VIRTUAL_DEVICES: file()}})
      expect(r.code).to.equal(6)
      const said = r.json.devices[0].error!.suggestions.join(' ')
      expect(said).to.match(/Drop --offline/)
      expect(said).not.to.match(/particle login/)
    })

    it('logged in, with a cloud that fails (HTTP 500), it says the cloud did not answer, not to log in', async () => {
      const cloud = await new FakeCloud().start()
      try {
        cloud.failWith = {status: 500}
        const r = await runJson<{devices: SetReport[]}>(['set'], {env: {HOME: profileHome(cloud), PARTICLE_VIRTUAL_DEVICES: file()}})
        expect(r.code).to.equal(6)
        const said = r.json.devices[0].error!.suggestions.join(' ')
        expect(said).to.match(/did not answer/)
        expect(said).not.to.match(/particle login/)
      } finally {
        await cloud.close()
      }
    })
  })
})
