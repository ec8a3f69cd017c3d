// The doctor through the built binary: unattended (--yes --json), refusal without a terminal, and two runs in
// a real terminal (tmux) where the test types answers and "presses the buttons" by editing the devices file.
import {expect} from 'chai'
import {readFileSync, renameSync, writeFileSync} from 'node:fs'

import type {DoctorReport} from '../../src/lib/doctor/doctor.js'

import {devicesFile, readDevices, runCli, runJson} from '../support/cli.js'
import {type Terminal, withTerminal} from '../support/tmux.js'

const ID = 'e00fce681a2b3c4d5e6f7a8b'
const argon = (over: Record<string, unknown> = {}) => ({deviceOs: '3.3.1', faults: {}, id: ID, mode: 'listening', platform: 'argon', setupDone: 255, ...over})

describe('setup-flag doctor (built binary)', function () {
  this.timeout(120_000)

  it('--yes --json fixes a stuck Argon unattended and reports every step', async () => {
    const file = devicesFile([argon()])
    const {code, json} = await runJson<DoctorReport>(['doctor', '--yes'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(code).to.equal(0)
    expect(json.outcome).to.equal('fixed')
    expect(json.steps.map((s) => s.step)).to.deep.equal(['find', 'identify', 'diagnose', 'write-usb', 'restart', 'confirm'])
    expect(json.device?.mode, 'the last known state, not the one first read').to.equal('normal')
    expect(json.steps.find((s) => s.step === 'diagnose')?.outcome).to.equal('found')
    expect(readDevices(file).devices[0]).to.include({mode: 'normal', setupDone: 1})
  })

  it('--yes --json on a 4.x device: the right diagnosis, nothing written', async () => {
    const file = devicesFile([argon({deviceOs: '4.2.0'})])
    const {code, json} = await runJson<DoctorReport>(['doctor', '--yes'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(code).to.equal(0)
    expect(json).to.include({cause: 'not-applicable', outcome: 'not-the-flag'})
    expect(readDevices(file).devices[0]).to.include({mode: 'listening', setupDone: 255})
  })

  it('refuses without a terminal and without --yes, suggesting --yes', async () => {
    const file = devicesFile([argon()])
    const r = await runCli(['doctor'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('--yes')
    expect(readDevices(file).devices[0].setupDone).to.equal(255)
  })

  describe('in a real terminal (tmux)', () => {
    // Each terminal on a tmux server of its own (test/support/tmux.ts): on a shared server, killing the last
    // session of one test raced the next test's new session ("server exited unexpectedly").
    const terminal = withTerminal()
    let term: Terminal
    const start = (file: string, args: string[] = []) => {
      term = terminal.start(['doctor', ...args], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    }

    const keys = (...k: string[]) => term.keys(...k)
    /** The screen once it shows `pattern` (what the program asks for); bounded. */
    const waitFor = async (pattern: RegExp, ms?: number) => {
      await term.waitFor(pattern, ms)
      return term.screen()
    }

    it('a person fixes a stuck Argon by pressing Enter', async () => {
      const file = devicesFile([argon()])
      start(file)
      await waitFor(/Set the setup-done flag now over USB/)
      keys('Enter')
      await waitFor(/Restart the device now/)
      keys('Enter')
      const s = await waitFor(/EXIT=\d+/)
      expect(s).to.contain('The setup-done flag is not set')
      expect(s).to.contain('Fixed.')
      expect(s).to.match(/EXIT=0/)
      expect(readDevices(file).devices[0]).to.include({mode: 'normal', setupDone: 1})
    })

    it('a device whose firmware does not answer is fixed through the Safe Mode buttons', async () => {
      const file = devicesFile([argon({faults: {blockedSystemThread: true}, platform: 'boron'})])
      start(file, ['--timeout', '1'])
      await waitFor(/Fix it in Safe Mode/)
      keys('Enter')
      await waitFor(/Put the device in Safe Mode: hold MODE and RESET/)
      // "press the buttons": the device restarts in Safe Mode
      const json = JSON.parse(readFileSync(file, 'utf8'))
      json.devices[0].mode = 'safe'
      writeFileSync(`${file}.tmp`, JSON.stringify(json, null, 2))
      renameSync(`${file}.tmp`, file)
      const s = await waitFor(/EXIT=\d+/, 60_000)
      expect(s).to.contain('Fixed.')
      expect(s).to.match(/EXIT=0/)
      expect(readDevices(file).devices[0]).to.include({mode: 'normal', setupDone: 1})
    })
  })
})
