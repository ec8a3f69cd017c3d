// What the tool says is what happened: ten places where it once said otherwise, each held to what really happened
// (on the virtual bus in process, through the built CLI, and in a real terminal where a person reads it).
import {expect} from 'chai'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Prompter} from '../../src/lib/prompts.js'

import {FakeClock} from '../../src/lib/clock.js'
import {Doctor, type DoctorPerson} from '../../src/lib/doctor/doctor.js'
import {VirtualCloud} from '../../src/lib/cloud/virtual.js'
import {errors} from '../../src/lib/errors.js'
import {createVirtualUsb, type VirtualDeviceSpec} from '../../src/lib/virtual/index.js'
import {devicesFile, readDevices, runCli, runJson, testDevice} from '../support/cli.js'
import {profileHome} from '../support/cloud-home.js'
import {fleet} from '../support/fleet.js'
import {withTerminal} from '../support/tmux.js'

const ID = 'e00fce681a2b3c4d5e6f7a8b'
const offline = (file: string) => ({PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file})

/** A person who says yes (or what `answers` says) and whose progress lines are kept with how they ended. */
class Person implements DoctorPerson {
  readonly lines: string[] = []
  readonly said: string[] = []
  prompter?: Prompter
  private open?: string

  constructor(answers?: Array<'cancel' | boolean>) {
    if (!answers) return
    this.prompter = {
      confirm: async () => {
        const a = answers.shift()
        if (a === 'cancel') throw errors.cancelled()
        return a ?? true
      },
      select: async () => {
        throw new Error('no choice expected')
      },
    }
  }

  instruct(_kind: string, text: string): void {
    this.said.push(text)
  }

  say(text: string): void {
    this.said.push(text)
  }

  waited(how: string): void {
    if (this.open) this.lines.push(`${this.open}... ${how}`)
    this.open = undefined
  }

  waiting(text: string | undefined): void {
    if (this.open) this.waited('done')
    this.open = text
  }
}

function doctorOn(devices: VirtualDeviceSpec[], person: DoctorPerson, extra: Partial<ConstructorParameters<typeof Doctor>[0]> = {}) {
  const clock = new FakeClock()
  const usb = createVirtualUsb({clock, devices})
  const doctor = new Doctor({backend: {close: () => usb.close(), description: 'virtual', file: extra.udev ? 'x' : undefined, kind: 'virtual', usb}, clock, person, timeoutMs: 2000, waitMs: 60_000, yes: !person.prompter, ...extra})
  return {report: doctor.run().finally(() => usb.close()), usb}
}

describe('say only what happened', function () {
  this.timeout(90_000)
  const terminal = withTerminal()

  it('1. a DFU write that restarts the device is reported as the restart it was', async () => {
    const {report, usb} = doctorOn([{deviceOs: '1.5.2', id: ID, mode: 'dfu', platform: 'bsom', setupDone: 0xff}], new Person())
    const r = await report
    expect(r.outcome).to.equal('fixed')
    expect(usb.device(ID)!.mode).to.equal('normal')
    const confirm = r.steps.find((s) => s.step === 'confirm')!
    expect(confirm.detail).to.equal('The device restarted and is not in Listening Mode.')
    expect(r.summary.join(' ')).not.to.contain('was not restarted')
  })

  it('2. a progress line ends "done" only when its step succeeded (timed out, failed otherwise)', async () => {
    const person = new Person([true])
    const {report} = doctorOn([{deviceOs: '3.3.1', faults: {blockedSystemThread: true}, id: ID, mode: 'listening', platform: 'boron', setupDone: 0xff}], person, {waitMs: 20_000})
    const r = await report
    expect(r.outcome).to.equal('failed')
    expect(person.lines).to.include.members([
      `Reading ${ID} (waiting up to 2 s for each answer)... failed`,
      'Asking the device to restart in Safe Mode (request 60; waiting up to 2 s for each answer)... timed out',
      'Waiting for the device to come back in Safe Mode (breathing magenta) (up to 20 s)... timed out',
    ])
    expect(person.lines.filter((l) => l.endsWith('... done'))).to.deep.equal([])
  })

  it('2. in a terminal too: reading a device whose firmware never answers ends "failed"', async () => {
    const file = devicesFile([testDevice(1, 'boron', '3.3.1', 'listening', 255, {blockedSystemThread: true})])
    const term = terminal.start(['get', '--timeout', '1'], {env: offline(file)})
    expect(await term.exit()).to.equal(6)
    expect(term.screen()).to.match(/Reading the device \(waiting up to 1 s for each answer\)\.\.\. failed/)
  })

  it('3. set on a terminal finishes its progress line before the result it led to', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255)])
    const term = terminal.start(['set'], {env: offline(file)})
    expect(await term.exit()).to.equal(0)
    const lines = term.screen().split('\n')
    const progress = lines.findIndex((l) => /^Setting the flag of .*\.\.\. done$/.test(l))
    const result = lines.findIndex((l) => l.startsWith('✔ '))
    expect(progress, term.screen()).to.be.at.least(0)
    expect(result).to.be.greaterThan(progress)
  })

  it('4. doctor --yes --json agrees with itself: a flag written is "done" with no "not 0x01" reason beside it', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255)])
    const {code, json} = await runJson<{device: {flag: string; reason: null | string; value: number}; outcome: string}>(['doctor', '--yes'], {env: offline(file)})
    expect(code).to.equal(0)
    expect(json.outcome).to.equal('fixed')
    expect(json.device).to.include({flag: 'done', reason: null, value: 1})
  })

  it('5. an entry and its summary agree: `changed` means the byte changed', async () => {
    const p2 = devicesFile([testDevice(1, 'p2', '5.9.0', 'listening', 255)])
    const forced = await runJson<{devices: Array<{changed: boolean}>; summary: Record<string, number>}>(['set', '--force'], {env: offline(p2)})
    expect(forced.json.devices[0].changed).to.equal(false)
    expect(forced.json.summary).to.include({fixed: 0, unchanged: 1})
    const same = devicesFile([testDevice(1, 'argon', '3.3.1', 'dfu', 1)])
    const again = await runJson<{devices: Array<{after: number; before: number; changed: boolean; method: string}>; summary: Record<string, number>}>(['set', '--force'], {env: offline(same)})
    expect(again.json.devices[0]).to.include({after: 1, before: 1, changed: false, method: 'dfu'})
    expect(again.json.summary).to.include({fixed: 0, unchanged: 1})
    const stuck = devicesFile([testDevice(1, 'argon', '3.3.1', 'dfu', 255)])
    const fixed = await runJson<{devices: Array<{changed: boolean}>; summary: Record<string, number>}>(['set'], {env: offline(stuck)})
    expect(fixed.json.devices[0].changed).to.equal(true)
    expect(fixed.json.summary).to.include({fixed: 1, unchanged: 0})
  })

  it('6. the doctor suggests only its own flags when several devices are connected', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255), testDevice(2, 'boron', '3.3.1', 'listening', 255)])
    const r = await runCli(['doctor', '--yes'], {env: offline(file)})
    expect(r.code).to.equal(3)
    const said = r.stdout + r.stderr
    expect(said).to.contain('Found 2 Particle devices')
    expect(said).not.to.contain('--all')
    expect(said).to.contain('particle-setup-flag doctor <device>')
  })

  it('7. Ctrl-C at the restart question after the write: fixed, said so, no error; declining the fix: exit 10', async () => {
    const {report, usb} = doctorOn([{deviceOs: '3.3.1', id: ID, mode: 'listening', platform: 'argon', setupDone: 0xff}], new Person([true, 'cancel']))
    const r = await report
    expect(usb.device(ID)!.setupDone).to.equal(1)
    expect(r.outcome).to.equal('fixed')
    expect(r.error).to.equal(undefined)
    expect(r.summary.join(' ')).to.contain('The device was not restarted')
    const no = doctorOn([{deviceOs: '3.3.1', id: ID, mode: 'listening', platform: 'argon', setupDone: 0xff}], new Person([false]))
    expect((await no.report).error).to.include({code: 'SETUP_FLAG_DECLINED', exit: 10})
  })

  it('8. Ctrl-C during set: the line is finished, each device says what was done, nothing is left in DFU mode, exit 130', async () => {
    const file = devicesFile([1, 2, 3, 4].map((n) => testDevice(n, 'argon', '3.3.1', 'normal', 255)))
    const term = terminal.start(['set', '--all', '--method', 'dfu'], {env: offline(file)})
    await term.answer(/Setting the flag of 4 devices/, 'C-c')
    expect(await term.exit()).to.equal(130)
    const s = term.screen()
    expect(s).to.match(/Setting the flag of 4 devices \(.*\)\.\.\. (done|failed|cancelled)\n/)
    expect(s).to.contain('Interrupted:')
    const devices = readDevices(file).devices
    // Each is out of DFU mode: written and restarted, or (not written) restarted back into Device OS.
    expect(devices.map((d) => d.mode)).not.to.include('dfu')
    for (const d of devices) expect(s).to.contain(String(d.id))
  })

  it('8. the doctor too: Ctrl-C while it works lets that finish; before the write nothing is written, after it the device is fixed', async () => {
    const stop = new AbortController()
    const early = new Person()
    early.waiting = (text) => {
      if (text?.startsWith('Writing the flag over DFU')) stop.abort() // Ctrl-C just as the write begins
    }
    const a = doctorOn([{deviceOs: '3.3.1', id: ID, mode: 'dfu', platform: 'argon', setupDone: 0xff}], early, {signal: stop.signal})
    const r = await a.report
    expect(r.outcome).to.equal('cancelled')
    expect(r.error).to.include({code: 'SETUP_FLAG_CANCELLED', exit: 130})
    expect(r.summary).to.include('Nothing was written.')
    expect(a.usb.device(ID)).to.include({mode: 'dfu', setupDone: 0xff}) // as it was found: the run did not put it there

    const late = new AbortController()
    const person = new Person()
    person.waiting = (text) => {
      if (text?.startsWith(`Waiting for ${ID} to restart`)) late.abort() // written and read back, leaving DFU mode
    }
    const b = doctorOn([{deviceOs: '3.3.1', id: ID, mode: 'dfu', platform: 'argon', setupDone: 0xff}], person, {signal: late.signal})
    const fixed = await b.report
    expect(fixed.outcome).to.equal('fixed')
    expect(fixed.error).to.equal(undefined)
    expect(fixed.steps.map((x) => x.step)).not.to.include('confirm') // stopped after the write, as asked
    expect(b.usb.device(ID)).to.include({mode: 'normal', setupDone: 1})
  })

  it('9. when the device does not come back after installing the udev rule, the doctor says to replug it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udev-'))
    const {report} = doctorOn([{deviceOs: '3.3.1', faults: {accessDenied: true}, id: ID, mode: 'listening', platform: 'argon', setupDone: 0xff}], new Person(), {
      udev: {canWrite: true, rulesFile: join(dir, '50-particle.rules'), virtual: true},
      waitMs: 5000,
    })
    const r = await report
    expect(r.error).to.include({code: 'SETUP_FLAG_NO_RETURN'})
    expect(r.error!.suggestions.join(' ')).to.match(/Unplug the device and plug it in again/)
    expect(r.error!.suggestions.join(' ')).not.to.match(/Safe Mode/)
  })

  describe('10. the audit', () => {
    let cloud: VirtualCloud
    beforeEach(async () => {
      cloud = await new VirtualCloud().start()
    })
    afterEach(() => cloud.close())

    it('names the devices of each "What to do" (ten, then how many more)', async () => {
      cloud.devices = fleet(40)
      const r = await runCli(['audit'], {env: {COLUMNS: '1000', HOME: profileHome(cloud)}})
      expect(r.code, r.stderr).to.equal(0)
      const line = r.stdout.split('\n').find((l) => /^ {2}\d+ devices? \(/.test(l))
      expect(line, r.stdout).to.match(/^ {2}\d+ devices? \(unit-\d+(, unit-\d+)*( and \d+ more)?\): /)
    })

    it('a name the cloud does not know is "not found", not "busy"', async () => {
      cloud.devices = fleet(3)
      const r = await runCli(['audit', 'unit-1', 'nosuch'], {env: {COLUMNS: '1000', HOME: profileHome(cloud)}})
      expect(r.code).to.equal(7)
      expect(r.stderr).to.match(/Not found in the Particle Cloud: nosuch/)
      expect(r.stderr).not.to.match(/cloud may be busy/)
    })
  })
})
