// Text that fits: tables in the first of three layouts that fits the width (never a row wrapped), `get`'s notes one
// per cause with its devices in order, the progress line cut after a whole word, long commands broken between words.
import {expect} from 'chai'

import {STANDALONE} from '../../../src/lib/cli.js'
import {oneRow} from '../../../src/lib/output.js'
import {platformByName} from '../../../src/lib/particle/platforms.js'
import {type DeviceReport, newReport, verdict} from '../../../src/lib/setup-flag/report.js'
import {fitTable} from '../../../src/lib/text/layout.js'
import {groupedNotes} from '../../../src/lib/text/notes.js'
import {renderReports, setSummaryLine} from '../../../src/lib/text/render.js'
import {errors} from '../../../src/lib/errors.js'
import {wrapText} from '../../../src/lib/wrap.js'

const ROWS = [
  ['DEVICE', 'PLATFORM', 'MODE', 'DEVICE OS', 'SETUP FLAG'],
  ['e00fce681a2b3c4d5e6f7a01', 'Argon', 'listening', '3.3.1 (usb)', 'NOT DONE'],
  ['e00fce681a2b3c4d5e6f7a05', 'Asset Tracker / Monitor One', 'normal', '4.2.0 (usb)', 'n/a'],
]
const words = (text: string) => text.split(/\s+/).filter(Boolean)
const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length))
/** Every cell of every row is on the screen whole, in its row's order. */
function cellsInOrder(text: string): void {
  let at = 0
  for (const cell of ROWS.slice(1).flat()) {
    const i = text.indexOf(cell, at)
    expect(i, cell).to.be.greaterThan(-1)
    at = i + cell.length
  }
}

describe('tables that fit', () => {
  it('columns when they fit; a row on two lines when that fits; else a line per cell; never wider than the room', () => {
    const full = fitTable(ROWS, 200)
    expect(full.split('\n')).to.have.length(3)
    expect(full.split('\n')[1]).to.match(/^e00fce681a2b3c4d5e6f7a01 {2}Argon +listening {2}3\.3\.1 \(usb\) {2}NOT DONE$/)
    const two = fitTable(ROWS, 60)
    expect(two.split('\n')).to.deep.equal([
      'DEVICE                    PLATFORM',
      '  MODE       DEVICE OS    SETUP FLAG',
      'e00fce681a2b3c4d5e6f7a01  Argon',
      '  listening  3.3.1 (usb)  NOT DONE',
      'e00fce681a2b3c4d5e6f7a05  Asset Tracker / Monitor One',
      '  normal     4.2.0 (usb)  n/a',
    ])
    const narrow = fitTable(ROWS, 40)
    expect(narrow.split('\n').slice(0, 5)).to.deep.equal(['e00fce681a2b3c4d5e6f7a01', '  PLATFORM: Argon', '  MODE: listening', '  DEVICE OS: 3.3.1 (usb)', '  SETUP FLAG: NOT DONE'])
    for (const [room, text] of [[200, full], [60, two]] as const) expect(widest(text), String(room)).to.be.at.most(room)
    for (const text of [full, two, narrow]) cellsInOrder(text)
    // A cell too long for the narrowest layout is one line of words, which the output port wraps (below).
    expect(wrapText(narrow, 40).split('\n').every((l) => [...l].length <= 40)).to.equal(true)
  })
})

function report(n: number, platform: string, o: Partial<DeviceReport> = {}): DeviceReport {
  const r = newReport({id: `e00fce68${n.toString(16).padStart(16, '0')}`, mode: 'normal', platform: platformByName(platform)!})
  return Object.assign(r, {mode: 'listening'}, o)
}

describe("get's notes: one per cause", () => {
  const reports = [
    report(1, 'argon', {flag: 'not-done', value: null}),
    report(2, 'boron', {flag: 'not-done', value: 255}),
    report(3, 'bsom', {flag: 'not-done', value: null}),
    report(4, 'p2'),
    report(5, 'msom'),
    report(6, 'boron', {flag: 'done', value: 1}),
    report(7, 'boron', {flag: 'not-done', value: 0}),
  ]
  verdict(reports[3], {flag: 'not-applicable', note: null, value: null, why: {kind: 'platform', platform: platformByName('p2')!}})
  verdict(reports[4], {flag: 'not-applicable', note: null, value: null, why: {kind: 'platform', platform: platformByName('msom')!}})

  it('groups devices by cause, in the order of their first device, each naming its devices in the table\'s order', () => {
    const notes = groupedNotes(reports, STANDALONE)
    expect(notes.map((n) => /^- ([^:]+):/.exec(n)![1])).to.deep.equal([
      'e00fce680000000000000001, e00fce680000000000000003',
      'e00fce680000000000000002, e00fce680000000000000007',
      'e00fce680000000000000004, e00fce680000000000000005',
      'e00fce680000000000000006',
    ])
    expect(notes[0]).to.contain('run particle-setup-flag get e00fce680000000000000001 e00fce680000000000000003 again')
    expect(notes[0]).to.match(/\n {2}Fix them: particle-setup-flag set e00fce680000000000000001 e00fce680000000000000003$/)
    expect(notes[1]).to.contain('so each boots into Listening Mode')
    expect(notes[2]).to.contain('Photon 2 / P2 and M-SoM never had the setup-done flag')
    expect(notes[2]).not.to.contain('Fix')
    expect(notes[3]).to.contain('something else keeps this device in Listening Mode')
    for (const n of notes) for (const l of n.split('\n').slice(1)) expect(l.startsWith('  '), l).to.equal(true)
    // Wrapped, every line of a note hangs under its text.
    for (const n of notes) for (const l of wrapText(n, 40).split('\n').slice(1)) expect(l.startsWith('  '), l).to.equal(true)
  })

  it('a host CLI spells the commands its way', () => {
    const text = renderReports([reports[1]], {bin: 'acme'})
    expect(text).to.contain('Fix it: acme setup-flag set e00fce680000000000000002')
    expect(text).not.to.contain('particle-setup-flag')
  })
})

describe("set's summary over several devices", () => {
  it('names the devices that failed, in the order of the reports (ID order, or the order asked), ten at most', () => {
    const reports = Array.from({length: 13}, (_, i) => report(i + 1, 'argon', i === 1 ? {} : {error: errors.noDevices()}))
    const line = setSummaryLine(reports)
    expect(line).to.match(/^13 devices: 0 fixed, 1 unchanged, 12 failed \(e00fce680000000000000001, e00fce680000000000000003, /)
    expect(line).to.match(/e00fce68000000000000000b and 2 more\)\.$/)
    expect(setSummaryLine(reports.slice(1, 2))).to.equal('1 device: 0 fixed, 1 unchanged, 0 failed.')
  })
})

describe('lines for people at any width from 40 columns', () => {
  it('a command longer than a line breaks between its words, never mid-word; one that fits stays whole', () => {
    const text = '  Fix them: particle-setup-flag set e00fce680000000000000001 e00fce680000000000000003'
    for (const width of [40, 60]) {
      const out = wrapText(text, width)
      for (const l of out.split('\n')) expect([...l].length, l).to.be.at.most(width)
      expect(out.split(/\s+/).filter(Boolean)).to.deep.equal(text.split(/\s+/).filter(Boolean))
    }
    expect(wrapText(text, 100)).to.equal(text)
    expect(wrapText('  Fix it: particle-setup-flag set e00fce680000000000000001 and more words here', 60)).to.contain('particle-setup-flag set e00fce680000000000000001')
  })

  it('an aligned label hangs its continuation under its value', () => {
    const out = wrapText('  by platform:  Argon 1, Boron 4, B-SoM 1, Photon 2 / P2 1, Xenon 1', 40).split('\n')
    expect(out[0]).to.equal('  by platform:  Argon 1, Boron 4, B-SoM')
    for (const l of out.slice(1)) expect(l.startsWith(' '.repeat(16)) && l[16] !== ' ', l).to.equal(true)
  })

  it('the progress line is cut after a whole word, keeping its status, and fits its row', () => {
    expect(oneRow('Reading 9 devices (waiting up to 10 s for each answer)', '', 39)).to.equal('Reading 9 devices (waiting up to 10 s…')
    expect(oneRow('Waiting for field-boron to come online', '29:41 left', 39)).to.equal('Waiting for field-boron to… 29:41 left')
    expect(oneRow('Reading the device', '', 39)).to.equal('Reading the device...')
    // The audit's bar: a status longer than the row is cut after a word too.
    const bar = '[##########..........] 50/100 pages, 5000 devices read'
    expect(oneRow('Reading the fleet', bar, 39)).to.equal('[##########..........] 50/100 pages,…')
    for (const room of [39, 59, 99]) {
      for (const [title, status] of [['Waiting for the Argon e00fce681a2b3c4d5e6f7a01 to come back in DFU mode', '12 s left'], ['Reading the fleet', bar]]) {
        const row = oneRow(title, status, room)
        expect([...row].length, row).to.be.at.most(room)
        expect(words(row.replace('…', ' ')).every((w) => words(`${title}... ${status}`).includes(w)), row).to.equal(true)
      }
    }
  })
})
