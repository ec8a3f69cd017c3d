// Text that fits the terminal, in a real one (tmux) at 40, 60, 100 and 200 columns: `get` on the bundled mixed-bench,
// `audit` on the bundled virtual fleet, the station (`set --watch`) and the doctor. Nothing is wider than the
// terminal, so the terminal never wraps a row itself (a table row broken at the edge, a word cut in two); every table
// row keeps its cells together and in order, whatever layout the width chose; and the words are those printed where
// nothing wraps, so none was cut or lost.
import {expect} from 'chai'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT, runCli, tempDir} from '../support/cli.js'
import {type Terminal, withTerminal} from '../support/tmux.js'

const WIDTHS = [40, 60, 100, 200]
const words = (text: string) => text.split(/\s+/).filter(Boolean)
const flat = (text: string) => words(text).join(' ')

/** What the terminal shows, after checking it had nothing to wrap: every line fits, and no row continues another. */
function fitted(term: Terminal, columns: number): string[] {
  const lines = term.lines()
  expect(term.lines(true), 'rows the terminal wrapped itself').to.deep.equal(lines)
  for (const l of lines) expect([...l].length, l).to.be.at.most(columns)
  return lines
}

/** A table as printed where nothing wraps (first paragraph of stdout), as rows of cells, without its header. */
const tableRows = (stdout: string) =>
  stdout
    .split('\n\n')[0]
    .split('\n')
    .slice(1)
    .map((l) => l.split(/ {2,}/))

/** Each row's cells are on the screen together and in order, before the next row begins. */
function rowsIntact(screen: string, rows: string[][]): void {
  const text = flat(screen)
  let from = 0
  for (const [i, row] of rows.entries()) {
    const start = text.indexOf(flat(row[0]), from)
    expect(start, row[0]).to.be.greaterThan(-1)
    const end = i + 1 < rows.length ? text.indexOf(flat(rows[i + 1][0]), start) : text.length
    let at = start
    for (const cell of row) {
      const j = text.indexOf(flat(cell), at)
      expect(j, `${row[0]}: "${cell}"`).to.be.within(at, end - 1)
      at = j + flat(cell).length
    }
    from = end
  }
}

/** The paragraphs after the table (the notes, the summary), without the shell's EXIT line. */
const afterTable = (text: string) => text.split('\n\n').slice(1).join('\n\n').replace(/\nEXIT=\d+$/, '')

/** The station's screen as its parts, words flattened: the watching note, each device's line (sorted), what ^C printed. */
function stationParts(lines: readonly string[]): string[] {
  const [first, ...rest] = flat(lines.join('\n')).split(/ (?=[✔–✖] e00fce68)| (?=\^C)/)
  const end = rest.pop()!
  return [first, ...rest.sort(), end]
}

describe('text that fits the terminal (tmux: 40, 60, 100 and 200 columns)', function () {
  this.timeout(180_000)
  const terminal = withTerminal()
  const bench = {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: 'mixed-bench'}
  const fleet = {PARTICLE_VIRTUAL_CLOUD: 'fleet'}
  // The station's devices file: one path for every run (its name is in the watching note), a fresh copy each time;
  // short enough for a line of 40 columns (a single word wider than the terminal is the one thing that cannot fit).
  const stationFile = join(tempDir('sf-'), 'bench.json')

  /** The station over a fresh copy of the bundled mixed-bench: every device's line, then Ctrl-C; its lines. */
  async function station(columns: number): Promise<string[]> {
    copyFileSync(join(ROOT, 'examples', 'mixed-bench.json'), stationFile)
    const term = terminal.start(['set', '--watch'], {columns, env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: stationFile}})
    await term.waitFor(/Ctrl-C\s+stops/)
    const deadline = Date.now() + 60_000
    while (term.lines(true).filter((l) => /^[✔–✖] e00fce68/.test(l)).length < 9) {
      if (Date.now() > deadline) throw new Error(`not every device's line within 60 s:\n${term.lines().join('\n')}`)
      // eslint-disable-next-line no-await-in-loop
      await term.waitFor(/./, 1000)
    }
    term.keys('C-c')
    expect(await term.exit()).to.equal(0)
    return fitted(term, columns)
  }

  /** The doctor on the bundled stuck-argon, answering its two questions; its lines. */
  async function doctor(columns: number): Promise<string[]> {
    const term = terminal.start(['doctor'], {columns, env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: 'stuck-argon'}})
    await term.answer(/Set the setup-done flag now/, 'Enter')
    await term.answer(/Restart the device now/, 'Enter')
    expect(await term.exit()).to.equal(0)
    return fitted(term, columns)
  }

  let getWide: string
  let auditWide: string
  let stationWide: string[]
  let doctorWide: string[]
  before(async () => {
    getWide = (await runCli(['get'], {env: {...bench, COLUMNS: '1000'}})).stdout
    auditWide = (await runCli(['audit', '--product', 'pumps'], {env: {...fleet, COLUMNS: '1000'}})).stdout
    expect(tableRows(getWide)).to.have.length(9)
    expect(tableRows(auditWide)).to.have.length(8)
  })

  for (const columns of WIDTHS) {
    describe(`${columns} columns`, () => {
      it('get (mixed-bench): no row wrapped, each row\'s cells together; the notes one per cause, no word cut', async () => {
        const term = terminal.start(['get'], {columns, env: bench})
        expect(await term.exit()).to.equal(0)
        const screen = fitted(term, columns).join('\n')
        rowsIntact(screen, tableRows(getWide))
        expect(words(afterTable(screen))).to.deep.equal(words(afterTable(getWide)))
        // One note per cause: the two devices read "not 0x01" over request 74 share one, and one command fixes both.
        expect(flat(screen)).to.contain('e00fce681a2b3c4d5e6f7a01, e00fce681a2b3c4d5e6f7a04: The setup-done byte is not 0x01')
        expect(flat(screen)).to.contain('Fix them: particle-setup-flag set e00fce681a2b3c4d5e6f7a01 e00fce681a2b3c4d5e6f7a04')
      })

      it('audit (the bundled fleet, --product pumps): no row wrapped, each row\'s cells together; the summary, no word cut', async () => {
        const term = terminal.start(['audit', '--product', 'pumps'], {columns, env: fleet})
        expect(await term.exit()).to.equal(0)
        const screen = fitted(term, columns).join('\n')
        rowsIntact(screen, tableRows(auditWide))
        expect(words(afterTable(screen))).to.deep.equal(words(afterTable(auditWide)))
      })

      it('set --watch (mixed-bench): each device\'s line and the summary fit, words as at 200 columns', async () => {
        stationWide ??= await station(200)
        const lines = await station(columns)
        // Lines come in the order devices finish: compared as a set.
        expect(stationParts(lines)).to.deep.equal(stationParts(stationWide))
        expect(lines.join('\n')).to.match(/\^C\nStopping\.\n/)
      })

      it('the doctor (stuck-argon): every line and question fits, words as at 200 columns', async () => {
        doctorWide ??= await doctor(200)
        const lines = await doctor(columns)
        expect(words(lines.join('\n'))).to.deep.equal(words(doctorWide.join('\n')))
      })
    })
  }
})
