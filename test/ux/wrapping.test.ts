// Text for people wraps at word boundaries to the terminal's width (80 when not a terminal),
// keeps hanging indentation, and never breaks a URL or a command. In a real terminal (tmux) at 80 columns too.
import {expect} from 'chai'

import {wrapText} from '../../src/lib/wrap.js'
import {devicesFile, runCli, testDevice} from '../support/cli.js'
import {withTerminal} from '../support/tmux.js'

/** Every line fits, and no word was cut: the words, in order, are the original's. */
function checkWrapped(original: string, out: string, width: number): void {
  for (const line of out.split('\n')) expect(line.length, line).to.be.at.most(width)
  expect(out.split(/\s+/).filter(Boolean)).to.deep.equal(original.split(/\s+/).filter(Boolean))
}

describe('wrapping text for people', function () {
  this.timeout(60_000)

  it('wraps at word boundaries with a hanging indent, keeping commands and URLs whole', () => {
    const text = [
      'e00fce681a2b3c4d5e6f7a8b: The setup-done flag is not set, so this Argon boots into Listening Mode (blinking dark blue). Fix it: particle-setup-flag set e00fce681a2b3c4d5e6f7a8b',
      '  → No Wi-Fi credentials: add them with `particle wifi add` (or `particle serial wifi`) or the Particle setup at setup.particle.io.',
    ].join('\n')
    for (const width of [60, 80, 120]) {
      const out = wrapText(text, width)
      checkWrapped(text, out, width)
      expect(out).to.contain('setup.particle.io')
      expect(out).to.contain('particle-setup-flag set e00fce681a2b3c4d5e6f7a8b')
      expect(out).to.contain('`particle wifi add`')
      // continuation lines of the arrow line hang under its text
      const lines = out.split('\n')
      const arrow = lines.findIndex((l) => l.startsWith('  → '))
      for (const l of lines.slice(arrow + 1)) expect(l.startsWith('    '), l).to.equal(true)
    }
  })

  it('tables are left as they are', () => {
    const row = 'e00fce681a2b3c4d5e6f7a8b  Argon     listening  3.3.1 (usb)  NOT DONE   and more columns here'
    expect(wrapText(row, 60)).to.equal(row)
  })

  it('not a terminal: 80 columns', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255)])
    const r = await runCli(['get'], {env: {COLUMNS: '', PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}})
    const advice = r.stdout.split('\n\n')[1]
    checkWrapped(advice, advice, 80)
    expect(advice).to.match(/\n {2}Fix it: particle-setup-flag set e00fce680000000000000001\n?$/)
  })

  describe('in a real terminal (tmux, 80 columns)', () => {
    const terminal = withTerminal()

    it('the doctor\'s lines and questions break between words, never mid-word, and no question ends on a lone ")?"', async () => {
      const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255)])
      const term = terminal.start(['doctor'], {columns: 80, env: {PARTICLE_VIRTUAL_DEVICES: file}})
      await term.answer(/Set the setup-done flag now/, 'Enter')
      await term.answer(/Restart the device now/, 'Enter')
      expect(await term.exit()).to.equal(0)
      const s = term.screen()
      expect(s).not.to.match(/Listening Mod\s*\n\s*e\b/)
      expect(s).not.to.match(/^\s*\)\?/m)
      expect(s).to.match(/Listening Mode \(blinking\s+dark blue\)/)
      for (const line of s.split('\n')) expect(line.length, line).to.be.at.most(80)
      const summary = s.slice(s.indexOf('Fixed.'))
      for (const line of summary.split('\n').slice(1).filter((l) => l.trim() && !l.startsWith('EXIT'))) expect(line.startsWith('  '), line).to.equal(true)
    })
  })
})
