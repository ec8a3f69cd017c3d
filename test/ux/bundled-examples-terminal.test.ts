// Every bundled example can be finished end to end by a person following the screen, in a real terminal (tmux):
// the doctor in one terminal, and what it tells the person to do done as it says, by pressing the key it names or
// by running the `virtual press` command it shows in a second terminal (here: the test, with the same environment).
import {expect} from 'chai'

import {runCli, tempDir} from '../support/cli.js'
import {type Terminal, withTerminal} from '../support/tmux.js'

/** The screen's lines joined again where tmux wrapped them, and the `virtual press` command shown, as words. */
function shownPress(screen: string): {args: string[]; devices: string} {
  const m = /PARTICLE_VIRTUAL_DEVICES=(\S+) particle-setup-flag (virtual press [^\n]+)/.exec(screen)
  if (!m) throw new Error(`no virtual press command on the screen:\n${screen}`)
  return {args: m[2].trim().split(/\s+/), devices: m[1]}
}

describe('the bundled examples, finished end to end in a real terminal (tmux)', function () {
  this.timeout(120_000)
  const terminal = withTerminal()
  // Each test has the temporary folder of its own, so the copies of the bundled examples are its own too.
  let tmp: string
  beforeEach(() => {
    tmp = tempDir('setup-flag-bundled-')
  })
  const start = (args: string[], env: Record<string, string>): Terminal => terminal.start(args, {columns: 200, env: {PARTICLE_OFFLINE: '1', TMPDIR: tmp, ...env}})

  it('stuck-argon: the doctor finds it, sets the flag with a yes, restarts it with a yes: fixed', async () => {
    const term = start(['doctor'], {PARTICLE_VIRTUAL_DEVICES: 'stuck-argon'})
    await term.answer(/Set the setup-done flag now over USB/, 'Enter')
    await term.answer(/Restart the device now/, 'Enter')
    expect(await term.exit()).to.equal(0)
    const s = term.screen()
    expect(s).to.contain('✔ The device restarted and is not in Listening Mode.')
    expect(s).to.contain('Fixed.')
  })

  it('mixed-bench: the doctor asks which device blinks dark blue, and fixes the one chosen (the Argon in Listening Mode)', async () => {
    const term = start(['doctor'], {PARTICLE_VIRTUAL_DEVICES: 'mixed-bench'})
    const picker = await term.waitFor(/Which one blinks dark blue\?[\s\S]*navigate/)
    expect(picker).to.match(/❯ e00fce681a2b3c4d5e6f7a01 \(Argon\) – in Listening Mode/)
    term.keys('Enter')
    await term.answer(/Set the setup-done flag now over USB/, 'Enter')
    await term.answer(/Restart the device now/, 'Enter')
    expect(await term.exit()).to.equal(0)
    expect(term.screen()).to.contain('Fixed.')
  })

  it('mixed-bench: the B-SoM in DFU mode, named, is fixed in DFU mode and leaves it', async () => {
    const term = start(['doctor', 'e00fce681a2b3c4d5e6f7a03'], {PARTICLE_VIRTUAL_DEVICES: 'mixed-bench'})
    await term.answer(/Write the flag with DFU/, 'Enter')
    expect(await term.exit()).to.equal(0)
    expect(term.screen()).to.contain('✔ The device restarted and is not in Listening Mode.')
    expect(term.screen()).to.contain('Fixed.')
  })

  it('blocked-boron: the doctor asks for Safe Mode; the `virtual press` it shows, run in a second terminal, lets it finish', async () => {
    const term = start(['doctor', '--timeout', '1'], {PARTICLE_VIRTUAL_DEVICES: 'blocked-boron'})
    await term.answer(/Fix it in Safe Mode/, 'Enter')
    const screen = await term.waitFor(/virtual press safe-mode/)
    expect(screen).to.contain('👉 Put the device in Safe Mode: hold MODE and RESET, release RESET, release MODE when the LED blinks magenta.')
    const shown = shownPress(screen)
    expect(shown).to.deep.equal({args: ['virtual', 'press', 'safe-mode'], devices: 'blocked-boron'})
    const pressed = await runCli(shown.args, {env: {PARTICLE_VIRTUAL_DEVICES: shown.devices, TMPDIR: tmp}})
    expect(pressed.code, pressed.stderr).to.equal(0)
    expect(pressed.stdout).to.contain('it restarts in Safe Mode')
    expect(await term.exit()).to.equal(0)
    const s = term.screen()
    expect(s).to.contain('✔ The device restarted in Safe Mode.')
    expect(s).to.contain('✔ Wrote the flag (not set → 0x01) and read it back.')
    expect(s).to.contain('Fixed.')
  })

  it('blocked-boron: or the key the doctor names, pressed in its own terminal', async () => {
    const term = start(['doctor', '--timeout', '1'], {PARTICLE_VIRTUAL_DEVICES: 'blocked-boron'})
    await term.answer(/Fix it in Safe Mode/, 'Enter')
    await term.answer(/A virtual device: to do this, press P here/, 'p')
    expect(await term.exit()).to.equal(0)
    expect(term.screen()).to.contain('✔ The device restarted in Safe Mode.')
    expect(term.screen()).to.contain('Fixed.')
  })

  it('fleet (the virtual cloud): field-boron, offline, is fixed in the field the moment it comes online', async () => {
    const term = start(['doctor', 'field-boron'], {PARTICLE_OFFLINE: '', PARTICLE_VIRTUAL_CLOUD: 'fleet', PARTICLE_VIRTUAL_DEVICES: 'stuck-argon'})
    await term.waitFor(/field-boron is offline\. How do you want to fix it\?[\s\S]*In the field/)
    term.keys('Down', 'Enter')
    await term.answer(/Flash the preparatory firmware to field-boron now\? \(y\/N\)/, 'y', 'Enter')
    expect(await term.exit()).to.equal(0)
    const s = term.screen()
    expect(s).to.contain('For the person next to field-boron')
    expect(s).to.contain('✔ The preparatory firmware set the flag and reported 0x01.')
    expect(s).to.contain('Fixed.')
  })

  it('fleet (the virtual cloud): gate-boron, online, is fixed remotely; bench-argon, by its name, on USB (the stuck-argon)', async () => {
    const cloud = {PARTICLE_OFFLINE: '', PARTICLE_VIRTUAL_CLOUD: 'fleet', PARTICLE_VIRTUAL_DEVICES: 'stuck-argon'}
    const gate = start(['doctor', 'gate-boron'], cloud)
    await gate.waitFor(/gate-boron is online in the cloud\. How do you want to fix it\?[\s\S]*Remotely/)
    gate.keys('Down', 'Enter')
    await gate.answer(/Flash the preparatory firmware to gate-boron now\? \(y\/N\)/, 'y', 'Enter')
    expect(await gate.exit()).to.equal(0)
    expect(gate.screen()).to.contain('Fixed.')
    gate.kill()
    const bench = start(['doctor', 'bench-argon'], cloud)
    await bench.answer(/Set the setup-done flag now over USB/, 'Enter')
    await bench.answer(/Restart the device now/, 'Enter')
    expect(await bench.exit()).to.equal(0)
    expect(bench.screen()).to.contain('✔ Found e00fce681a2b3c4d5e6f7a8b (Argon) on USB.')
    expect(bench.screen()).to.contain('Fixed.')
  })
})
