// Ctrl-C at any moment of `set --all`, in every method and from every mode: the first Ctrl-C starts no new device
// and lets those under way reach a safe state, so no device ends in DFU mode unless it started there, and what the
// run prints (each device's `changed`, the summary) is what the devices file shows. The moments are chosen by the
// devices' own progress (the n-th change the virtual bus writes to its file), never by a timer.
import {expect} from 'chai'
import {readFileSync, watch} from 'node:fs'

import type {SetReport} from '../../src/lib/flag.js'

import {devicesFile, testDevice} from '../support/cli.js'
import {LiveCli} from '../support/live-cli.js'

const MODES = ['listening', 'normal', 'dfu', 'safe', 'listening', 'normal', 'dfu', 'listening']
const METHODS = ['usb', 'dfu', 'auto'] as const
const MOMENTS = 50

/** A small seeded generator (mulberry32): the same moments on every run, so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d_2b_79_f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Resolve after the devices file has changed `n` times (at once for 0), or when the CLI has exited. */
function afterChanges(file: string, n: number, exited: Promise<unknown>): Promise<void> {
  if (n === 0) return Promise.resolve()
  return new Promise((resolve) => {
    let seen = 0
    const w = watch(file, () => {
      if (++seen >= n) done()
    })
    const done = () => {
      w.close()
      resolve()
    }
    void exited.then(done)
  })
}

describe('Ctrl-C during set --all: nothing left in a mode the run put it in, and the words match the devices file', function () {
  this.timeout(600_000)
  const next = random(19)

  for (let i = 0; i < MOMENTS; i++) {
    const method = METHODS[i % METHODS.length]
    const changes = Math.floor(next() * 12)
    it(`moment ${i + 1}: --method ${method}, Ctrl-C after ${changes} device-state changes`, async () => {
      const file = devicesFile(MODES.map((mode, n) => testDevice(n + 1, 'argon', '3.3.1', mode, 255)))
      const cli = new LiveCli(['set', '--all', '--method', method, '--json'], {PARTICLE_VIRTUAL_DEVICES: file})
      await afterChanges(file, changes, cli.exited)
      cli.kill('SIGINT')
      const {code, signal, stderr, stdout} = await cli.exited
      const doc = JSON.parse(readFileSync(file, 'utf8')) as {devices: Array<{id: string; mode: string; setupDone: number}>; violations?: unknown}
      expect(doc.violations).to.equal(undefined)
      if (code === null) {
        // Ctrl-C before the command took its signals (while Node loads it): the default, the process ends by the
        // signal (a shell shows 130) before any device was touched.
        expect(signal).to.equal('SIGINT')
        expect(doc.devices.map((d) => [d.mode, d.setupDone])).to.deep.equal(MODES.map((m) => [m, 255]))
        return
      }
      expect([0, 130], stderr).to.include(code)
      // No device left in DFU mode that did not start there.
      for (const [n, d] of doc.devices.entries()) if (MODES[n] !== 'dfu') expect(d.mode, `${d.id} (started ${MODES[n]})`).not.to.equal('dfu')
      const json = JSON.parse(stdout) as {devices: SetReport[]; summary: {fixed: number; total: number}}
      expect(json.summary.total).to.equal(MODES.length)
      // What it says is what happened: a device is "changed" exactly when its byte is now 0x01.
      for (const r of json.devices) {
        const d = doc.devices.find((x) => x.id === r.id)!
        expect(r.changed, `${r.id}: ${JSON.stringify(r.steps)}`).to.equal(d.setupDone === 1)
      }
      expect(json.summary.fixed).to.equal(doc.devices.filter((d) => d.setupDone === 1).length)
    })
  }
})
