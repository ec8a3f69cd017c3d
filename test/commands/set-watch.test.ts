// `set --watch` (manufacturing station) through the built binary: devices are "plugged in" by adding them to the
// virtual devices file (written atomically) while the station runs; every wait is on the station's own output.
import {expect} from 'chai'

import type {SetReport} from '../../src/lib/flag.js'

import {devicesFile, readDevices, runCli, testDevice, testId} from '../support/cli.js'
import {LiveCli, writeAtomically} from '../support/live-cli.js'

const id = testId
const dev = testDevice

/** Edit the devices file as it is now (the station writes its devices' state back to it). */
function plug(file: string, edit: (devices: Array<Record<string, unknown>>) => Array<Record<string, unknown>>): void {
  const doc = readDevices(file)
  writeAtomically(file, JSON.stringify({...doc, devices: edit(doc.devices)}, null, 2) + '\n')
}

describe('setup-flag set --watch (built binary, virtual devices)', function () {
  this.timeout(120_000)

  it('fixes the device already plugged in and each one added, once each (DFU re-enumerations included); SIGINT sums up, exit 0', async () => {
    const file = devicesFile([dev(1, 'argon', '3.3.1', 'listening', 255)])
    // --method dfu: every device goes normal -> DFU -> normal, re-enumerating twice while it is handled.
    const cli = new LiveCli(['set', '--watch', '--json', '--method', 'dfu'], {PARTICLE_VIRTUAL_DEVICES: file})
    try {
      const first = (await cli.record(id(1))) as unknown as SetReport
      expect(first).to.include({after: 1, changed: true, flag: 'done', method: 'dfu'})

      plug(file, (d) => [...d, dev(2, 'boron', '2.3.1', 'dfu', 255), dev(3, 'bsom', '1.5.2', 'normal', 0), dev(4, 'p2', '5.9.0', 'listening', 255)])
      const [two, three, four] = (await Promise.all([cli.record(id(2)), cli.record(id(3)), cli.record(id(4))])) as unknown as SetReport[]
      expect(two).to.include({after: 1, before: 255, changed: true, method: 'dfu'})
      expect(three).to.include({after: 1, before: 0, changed: true, method: 'dfu'})
      expect(four).to.include({changed: false, flag: 'not-applicable'})

      // Unplug device 1 (and plug in 5), then plug device 1 in again (and 6): it is not touched a second time.
      plug(file, (d) => [...d.filter((x) => x.id !== id(1)), dev(5, 'tracker', '3.3.1', 'safe', 255)])
      await cli.record(id(5))
      const again = {...dev(1, 'argon', '3.3.1', 'normal', 255)} // even with its flag cleared meanwhile
      plug(file, (d) => [...d, again, dev(6, 'argon', '3.3.1', 'listening', 0)])
      await cli.record(id(6))
    } finally {
      cli.kill('SIGINT')
    }
    const {code, stderr} = await cli.exited
    expect(code, stderr).to.equal(0)
    expect(stderr).to.equal('Stopping.\n') // --json: the NDJSON on stdout; the Ctrl-C notice still on stderr

    const records = cli.records
    const summary = records.at(-1)
    expect(summary).to.deep.equal({summary: {failed: 0, failures: [], fixed: 5, interrupted: 0, total: 6, unchanged: 1}})
    const devices = records.slice(0, -1) as unknown as SetReport[]
    expect(devices.map((r) => r.id).sort()).to.deep.equal([1, 2, 3, 4, 5, 6].map((n) => id(n))) // once each
    for (const r of devices) expect(r.error, r.id).to.equal(undefined)

    const after = readDevices(file)
    expect(after.violations).to.equal(undefined)
    const flag = new Map(after.devices.map((d) => [d.id, d.setupDone]))
    for (const n of [2, 3, 5, 6]) expect(flag.get(id(n)), id(n)).to.equal(1)
    expect(flag.get(id(4))).to.equal(255) // P2: not applicable, untouched
    expect(flag.get(id(1))).to.equal(255) // plugged in again: not touched twice
  })

  it('text mode: one line per device, a failure and its exit status, a replugged failure is tried again; SIGTERM sums up with the failed IDs', async () => {
    const file = devicesFile([dev(1, 'argon', '3.3.1', 'dfu', 255, {dfuWriteError: true})])
    const cli = new LiveCli(['set', '--watch'], {PARTICLE_VIRTUAL_DEVICES: file})
    try {
      await cli.until('the Watching note', () => (cli.stderr.includes('Watching virtual devices') ? true : undefined))
      const failed = await cli.until('the failure line', () => cli.lines.find((l) => l.includes(id(1))))
      expect(failed.startsWith(`✖ ${id(1)} (Argon): DFU `), failed).to.equal(true)
      expect(failed).to.contain(' → Tap RESET')
      expect(failed).to.contain('unplug it and plug it in again: the station tries it again')

      plug(file, (d) => [...d.filter((x) => x.id !== id(1)), dev(2, 'argon', '3.3.1', 'listening', 255)])
      const fixed = await cli.until('the fixed line', () => cli.lines.find((l) => l.includes(id(2))))
      expect(fixed.startsWith(`✔ ${id(2)} (Argon): flag set by usb`), fixed).to.equal(true)
      plug(file, (d) => [...d, dev(1, 'argon', '3.3.1', 'dfu', 255, {dfuWriteError: true})])
      await cli.until('the note on the replugged device', () => (cli.stderr.includes(`${id(1)}: plugged in again after failing; trying again (attempt 2 of 3)`) ? true : undefined))
      await cli.until('the second failure line', () => (cli.lines.filter((l) => l.includes(id(1))).length === 2 ? true : undefined))
    } finally {
      cli.kill('SIGTERM')
    }
    const {code, stdout} = await cli.exited
    expect(code).to.equal(8) // the failure's: a DFU write that did not take
    const [stopped, title, line] = stdout.trim().split('\n').slice(-3)
    expect([stopped, title]).to.deep.equal(['Stopped. 2 devices: 1 fixed, 0 unchanged, 1 failed.', 'Failed:'])
    expect(line).to.match(new RegExp(`^  ✖ ${id(1)}: DFU write failed: `))
    expect(readDevices(file).devices.find((d) => d.id === id(1))!.setupDone).to.equal(255)
  })

  it('the summary lists the failed devices in ID order, whatever order they were plugged in (text and --json)', async () => {
    for (const json of [false, true]) {
      const file = devicesFile([dev(9, 'argon', '3.3.1', 'dfu', 255, {dfuWriteError: true})])
      const cli = new LiveCli(['set', '--watch', ...(json ? ['--json'] : [])], {PARTICLE_VIRTUAL_DEVICES: file})
      try {
        await cli.until('the failure of the device plugged in first', () => (cli.stdout.includes(id(9)) ? true : undefined))
        plug(file, (d) => [...d, dev(1, 'argon', '3.3.1', 'dfu', 255, {dfuWriteError: true})])
        await cli.until('the failure of the one plugged in second', () => (cli.stdout.includes(id(1)) ? true : undefined))
      } finally {
        cli.kill('SIGINT')
      }
      const {stdout} = await cli.exited
      if (json) {
        expect((cli.records.at(-1) as {summary: {failures: Array<{id: string}>}}).summary.failures.map((f) => f.id)).to.deep.equal([id(1), id(9)])
      } else {
        const failed = stdout.slice(stdout.indexOf('Failed:')).split('\n').slice(1, 3)
        expect(failed.map((l) => l.slice(4, 28))).to.deep.equal([id(1), id(9)])
        expect(stdout.indexOf(`✖ ${id(9)}`)).to.be.lessThan(stdout.indexOf(`✖ ${id(1)}`)) // the lines as they came
      }
    }
  })

  it('a second Ctrl-C while a device is being written quits at once: exit 130, counted as interrupted', async () => {
    // --method dfu on a normal-mode device takes a reset into DFU mode and one back (seconds of virtual boot).
    const file = devicesFile([dev(1, 'boron', '3.3.1', 'normal', 255)])
    const cli = new LiveCli(['set', '--watch', '--method', 'dfu'], {PARTICLE_VIRTUAL_DEVICES: file})
    await cli.until('the Watching note', () => (cli.stderr.includes('Watching virtual devices') ? true : undefined))
    cli.kill('SIGINT')
    await cli.until('the Stopping note', () => (cli.stderr.includes('Stopping: finishing 1 device in progress') ? true : undefined))
    cli.kill('SIGINT')
    const {code, stdout} = await cli.exited
    expect(code).to.equal(130)
    expect(stdout.trim().split('\n').at(-1)).to.equal('Stopped. 1 device: 0 fixed, 0 unchanged, 0 failed, 1 interrupted while being written.')
    expect(stdout).not.to.contain(id(1))
  })

  it('nothing plugged in: SIGINT gives an empty summary, exit 0', async () => {
    const cli = new LiveCli(['set', '--watch'], {PARTICLE_VIRTUAL_DEVICES: devicesFile([])})
    await cli.until('the Watching note', () => (cli.stderr.includes('Watching virtual devices') ? true : undefined))
    cli.kill('SIGINT')
    const {code, stdout} = await cli.exited
    expect(code).to.equal(0)
    expect(stdout).to.equal('\nStopped. 0 devices: 0 fixed, 0 unchanged, 0 failed.\n')
  })

  it('refuses DEVICE arguments and --method firmware (exit 2), as one JSON line under --json', async () => {
    const args = await runCli(['set', '--watch', id(1)])
    expect(args.code).to.equal(2)
    expect(args.stderr).to.contain('--watch takes every Particle device plugged in, so it takes no DEVICE')
    expect(args.stderr).to.contain('SETUP_FLAG_WATCH_ARGS')

    const firmware = await runCli(['set', '--watch', '--method', 'firmware', '--json'])
    expect(firmware.code).to.equal(2)
    expect(firmware.stdout.trim().split('\n')).to.have.length(1)
    expect(JSON.parse(firmware.stdout).error).to.include({code: 'SETUP_FLAG_WATCH_METHOD', exit: 2})

    const missing = await runCli(['set', '--watch', '--json'], {env: {PARTICLE_VIRTUAL_DEVICES: '/nonexistent/devices.json'}})
    expect(missing.code).to.equal(2)
    expect(JSON.parse(missing.stdout).error.code).to.equal('SETUP_FLAG_DEVICES_FILE')
  })
})
