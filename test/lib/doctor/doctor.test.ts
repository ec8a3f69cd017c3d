// The doctor's state machine, every branch, with a scripted person and a fake clock over the virtual bus.
import {expect} from 'chai'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Choice, Prompter} from '../../../src/lib/prompts.js'
import type {UsbBackend} from '../../../src/lib/usb/backend.js'

import {FakeClock, realClock} from '../../../src/lib/clock.js'
import {Cloud} from '../../../src/lib/cloud/cloud.js'
import {Doctor, type DoctorPerson, type Instruction} from '../../../src/lib/doctor/doctor.js'
import {createVirtualUsb, type VirtualDeviceSpec, type VirtualUsb} from '../../../src/lib/virtual/index.js'
import {VirtualCloud} from '../../../src/lib/cloud/virtual.js'

const ID = 'e00fce681a2b3c4d5e6f7a8b'
const ID2 = 'e00fce681a2b3c4d5e6f7a8c'
const spec = (over: Partial<VirtualDeviceSpec> = {}): VirtualDeviceSpec => ({
  deviceOs: '3.3.1',
  faults: {},
  id: ID,
  mode: 'listening',
  platform: 'argon',
  setupDone: 255,
  ...over,
})

/** A person who answers from a script and acts out instructions. */
class ScriptedPerson implements DoctorPerson {
  readonly asked: string[] = []
  /** The choices offered with each selection, as their labels. */
  readonly choices: string[][] = []
  /** The default answer offered with each yes/no question, in order. */
  readonly defaults: Array<boolean | undefined> = []
  readonly instructions: Instruction[] = []
  readonly said: string[] = []
  prompter?: Prompter

  constructor(
    answers: Array<boolean | string> | undefined,
    private readonly act: (kind: Instruction) => void = () => {},
  ) {
    if (!answers) return
    this.prompter = {
      confirm: async (message: string, defaultAnswer?: boolean) => {
        this.asked.push(message)
        this.defaults.push(defaultAnswer)
        const a = answers.shift()
        if (typeof a !== 'boolean') throw new Error(`unexpected question: ${message}`)
        return a
      },
      select: async <T>(message: string, choices: Array<Choice<T>>) => {
        this.asked.push(message)
        this.choices.push(choices.map((x) => x.name))
        const a = answers.shift()
        const c = choices.find((x) => x.value === a)
        if (!c) throw new Error(`unexpected choice for: ${message}`)
        return c.value
      },
    }
  }

  instruct(kind: Instruction, text: string): void {
    this.instructions.push(kind)
    this.said.push(text)
    this.act(kind)
  }

  say(text: string): void {
    this.said.push(text)
  }

  waiting(): void {}
}

function setup(devices: VirtualDeviceSpec[]) {
  const clock = new FakeClock()
  const usb = createVirtualUsb({clock, devices})
  const backend: UsbBackend = {close: () => usb.close(), description: 'virtual', kind: 'virtual', usb}
  return {backend, clock, usb}
}

function doctor(env: ReturnType<typeof setup>, person: DoctorPerson, extra: Partial<ConstructorParameters<typeof Doctor>[0]> = {}) {
  return new Doctor({backend: env.backend, clock: env.clock, person, timeoutMs: 2000, waitMs: 60_000, yes: false, ...extra}).run()
}

function noViolations(usb: VirtualUsb) {
  expect(usb.violations).to.deep.equal([])
}

describe('doctor state machine', () => {
  it('plain fix: identifies, diagnoses the flag, writes with consent, restarts, confirms', async () => {
    const env = setup([spec()])
    const person = new ScriptedPerson([true, true])
    const r = await doctor(env, person)
    expect(r.outcome).to.equal('fixed')
    expect(r.cause).to.equal('setup-flag')
    expect(r.write).to.deep.equal({after: 1, before: null, changed: true, method: 'usb'})
    expect(r.steps.map((s) => s.step)).to.deep.equal(['find', 'identify', 'diagnose', 'write-usb', 'restart', 'confirm'])
    expect(person.asked[0]).to.match(/Set the setup-done flag now/)
    expect(person.asked[1]).to.match(/Restart the device/)
    expect(env.usb.device(ID)!.setupDone).to.equal(1)
    expect(env.usb.device(ID)!.mode).to.equal('normal')
    expect(r.summary.join(' ')).to.match(/full settings reset .* unsets the flag.*4\.0 or later removes the flag/s)
    noViolations(env.usb)
  })

  it('--yes takes every recommended action without asking', async () => {
    const env = setup([spec({platform: 'boron', deviceOs: '1.5.2'})])
    const r = await doctor(env, new ScriptedPerson(undefined), {yes: true})
    expect(r.outcome).to.equal('fixed')
    expect(env.usb.device(ID)!.setupDone).to.equal(1)
  })

  it('declining writes nothing', async () => {
    const env = setup([spec()])
    const r = await doctor(env, new ScriptedPerson([false]))
    expect(r.outcome).to.equal('cancelled')
    expect(r.error).to.include({code: 'SETUP_FLAG_DECLINED', exit: 10}) // not fixed, and not an interruption: scripts can tell
    expect(env.usb.device(ID)!.setupDone).to.equal(255)
    expect(env.usb.log.some((e) => e.setup.startsWith('40 03'))).to.equal(false) // no SEND: request 73 never went out
  })

  it('no device: says how to connect it and waits for it to be plugged in', async () => {
    const env = setup([])
    const person = new ScriptedPerson(undefined, (kind) => {
      if (kind === 'connect') env.clock.setTimer(5000, () => env.usb.addDevice(spec()))
    })
    const r = await doctor(env, person, {yes: true})
    expect(person.instructions).to.deep.equal(['connect'])
    expect(person.said.join(' ')).to.match(/USB data cable/)
    expect(r.outcome).to.equal('fixed')
  })

  describe('a device named that is not connected, while others are', () => {
    const TYPO = 'e00fce681a2b3c4d5e6f7a8c' // one digit off ID

    it('says so at once with the connected devices, closest first, and offers them: the one chosen is fixed', async () => {
      const env = setup([spec({id: 'e00fce680000000000000001', platform: 'boron'}), spec()])
      const person = new ScriptedPerson([ID, true, true])
      const r = await doctor(env, person, {device: {arg: TYPO, id: TYPO}})
      expect(person.said[0]).to.equal(`• Device ${TYPO} is not connected over USB. Connected now, closest first:\n    ${ID} (Argon), 1 character different\n    e00fce680000000000000001 (Boron)`)
      expect(person.asked[0]).to.equal(`${TYPO} is not connected, but these are (closest first). Which one do you mean?`)
      expect(person.choices[0]).to.deep.equal([`${ID} (Argon), 1 character different`, 'e00fce680000000000000001 (Boron)', `None of these: wait for ${TYPO} to be connected`])
      expect(r.outcome).to.equal('fixed')
      expect(env.usb.device(ID)!.setupDone).to.equal(1)
      expect(env.usb.device('e00fce680000000000000001')!.setupDone).to.equal(255)
      expect(person.instructions).to.deep.equal([]) // answered before any wait for a connection
    })

    it('"none of these" waits for the one named; --yes never takes another device, it waits for the one named', async () => {
      const env = setup([spec()])
      const waitFor = new ScriptedPerson(['', true, true], (kind) => {
        if (kind === 'connect') env.clock.setTimer(3000, () => env.usb.addDevice(spec({id: TYPO})))
      })
      const r = await doctor(env, waitFor, {device: {arg: TYPO, id: TYPO}})
      expect(waitFor.instructions).to.deep.equal(['connect'])
      expect(r.outcome).to.equal('fixed')
      expect(env.usb.device(TYPO)!.setupDone).to.equal(1)
      expect(env.usb.device(ID)!.setupDone).to.equal(255)

      const again = setup([spec()])
      const yes = new ScriptedPerson(undefined)
      const r2 = await doctor(again, yes, {device: {arg: TYPO, id: TYPO}, waitMs: 5000, yes: true})
      expect(yes.said[0]).to.contain(`${ID} (Argon), 1 character different`)
      expect(yes.said.find((t) => t.startsWith('Connect '))).to.equal(`Connect ${TYPO} to this computer with a USB data cable. Waiting up to 5 s for it...`)
      expect(r2.error!.code).to.equal('SETUP_FLAG_NO_DEVICE')
      expect(again.usb.device(ID)!.setupDone).to.equal(255)
    })

    it('the start of a connected ID names that device', async () => {
      const env = setup([spec()])
      const r = await doctor(env, new ScriptedPerson(undefined), {device: {arg: 'e00fce681a', prefix: 'e00fce681a'}, yes: true})
      expect(r.outcome).to.equal('fixed')
    })
  })

  it('no device and nobody plugs one in: gives up after the wait with a clear error', async () => {
    const env = setup([])
    const r = await doctor(env, new ScriptedPerson(undefined), {waitMs: 10_000, yes: true})
    expect(r.outcome).to.equal('failed')
    expect(r.error!.code).to.equal('SETUP_FLAG_NO_DEVICE')
    expect(env.clock.now()).to.be.at.least(10_000)
  })

  it('several devices: asks which', async () => {
    const env = setup([spec({setupDone: 1, mode: 'normal'}), spec({id: ID2})])
    const person = new ScriptedPerson([ID2, true, true])
    const r = await doctor(env, person)
    expect(person.asked[0]).to.match(/Which one blinks dark blue/)
    expect(r.device!.id).to.equal(ID2)
    expect(r.outcome).to.equal('fixed')
    expect(env.usb.device(ID)!.setupDone).to.equal(1)
  })

  it('several devices: the list names each one as the cloud knows it and shows which is in Listening Mode', async () => {
    const cloud = await new VirtualCloud().start()
    try {
      cloud.devices = [
        {connected: true, id: ID, name: 'bench-argon', platform_id: 12, system_firmware_version: '3.3.1'},
        {connected: false, id: ID2, name: 'stuck-argon', platform_id: 12, system_firmware_version: '3.3.1'},
      ]
      const env = setup([spec({mode: 'normal', setupDone: 1}), spec({id: ID2})])
      const cloudClient = new Cloud({accessToken: cloud.token, apiUrl: cloud.url, from: 'test', offline: false, profile: 'particle'}, env.clock)
      const person = new ScriptedPerson([ID2, true, true])
      const r = await doctor(env, person, {cloud: cloudClient})
      expect(person.choices[0]).to.have.length(2)
      expect(person.choices[0][0]).to.match(/^bench-argon /).and.not.to.contain('Listening Mode')
      expect(person.choices[0][1]).to.match(/^stuck-argon .*in Listening Mode/)
      expect(r.outcome).to.equal('fixed')
    } finally {
      await cloud.close()
    }
  })

  it('Device OS 4.x: the flag is not the cause, nothing is written, the other causes are listed', async () => {
    const env = setup([spec({deviceOs: '4.2.0'})])
    const r = await doctor(env, new ScriptedPerson([]))
    expect(r.outcome).to.equal('not-the-flag')
    expect(r.cause).to.equal('not-applicable')
    expect(r.summary.join(' ')).to.match(/4\.0 or later/)
    expect(r.summary.join(' ')).to.match(/Wi-Fi credentials/)
    expect(env.usb.log.some((e) => e.setup.startsWith('40 03'))).to.equal(false)
  })

  it('flag set but still listening: something else; flag set and running: nothing to fix', async () => {
    const listening = setup([spec({setupDone: 1, mode: 'listening', platform: 'boron'})])
    const a = await doctor(listening, new ScriptedPerson([]))
    expect(a).to.include({cause: 'other', outcome: 'not-the-flag'})
    expect(a.summary.join(' ')).to.match(/cellular|SIM/)
    const running = setup([spec({setupDone: 1, mode: 'normal'})])
    const b = await doctor(running, new ScriptedPerson([]))
    expect(b).to.include({cause: 'not-listening', outcome: 'nothing-to-fix'})
  })

  it('Electron, E Series, P2: what Particle recommends for those', async () => {
    for (const [platform, deviceOs, pattern] of [
      ['electron', '2.3.1', /E Series.*contact Particle support/],
      ['p2', '5.9.0', /never had the setup-done flag/],
      ['photon', '1.5.2', /Wi-Fi credentials/],
    ] as const) {
      const env = setup([spec({deviceOs, platform})])
      const r = await doctor(env, new ScriptedPerson([]))
      expect(r.outcome, platform).to.equal('not-the-flag')
      expect(r.summary.join(' '), platform).to.match(pattern)
    }
  })

  it('firmware that does not answer: the Safe Mode button steps, then the fix', async () => {
    const env = setup([spec({faults: {blockedSystemThread: true}, platform: 'boron'})])
    const person = new ScriptedPerson(undefined, (kind) => {
      if (kind === 'safe-mode-buttons') env.clock.setTimer(3000, () => env.usb.setMode(ID, 'safe'))
    })
    const r = await doctor(env, person, {yes: true})
    expect(person.instructions).to.deep.equal(['safe-mode-buttons'])
    expect(person.said.join(' ')).to.contain('hold MODE and RESET, release RESET, release MODE when the LED blinks magenta')
    expect(r.outcome, JSON.stringify(r)).to.equal('fixed')
    expect(env.usb.device(ID)!.setupDone).to.equal(1)
    expect(env.usb.device(ID)!.mode).to.equal('normal')
    expect(r.steps.map((s) => s.step)).to.include.members(['safe-mode', 'write-safe-mode', 'restart', 'confirm'])
    noViolations(env.usb)
  })

  for (const deviceOs of ['1.5.2', '3.3.1']) {
    it(`firmware stuck connecting (${deviceOs}): request 60 restarts it in Safe Mode, no buttons, then the fix`, async () => {
      // The INIT of request 60 aborts the connection attempt that holds the system thread (from 1.3.1-rc.1,
      // usb_control_request_channel.cpp@v1.3.1-rc.1:168); a read never does that, the doctor's fix may.
      const env = setup([spec({deviceOs, faults: {blockedSystemThread: 'connecting'}, mode: 'normal'})])
      const person = new ScriptedPerson([])
      const r = await doctor(env, person, {yes: true})
      expect(person.instructions).to.deep.equal([])
      expect(r.outcome, JSON.stringify(r)).to.equal('fixed')
      expect(r.steps.map((s) => `${s.step}: ${s.outcome}`)).to.include.members(['safe-mode: done', 'write-safe-mode: done', 'restart: done'])
      expect(env.usb.log.some((e) => /^C0 01 .. .. 3C 00/i.test(e.setup))).to.equal(true) // INIT (bRequest 1) of type 60 (wIndex)
      expect(env.usb.device(ID)).to.include({mode: 'normal', setupDone: 1})
      noViolations(env.usb)
    })
  }

  it('buttons pressed wrong (a plain reset): asks again, then succeeds', async () => {
    const env = setup([spec({faults: {blockedSystemThread: true}, platform: 'boron'})])
    let tries = 0
    const person = new ScriptedPerson(undefined, (kind) => {
      if (kind !== 'safe-mode-buttons') return
      tries++
      env.clock.setTimer(2000, () => env.usb.setMode(ID, tries === 1 ? 'listening' : 'safe'))
    })
    const r = await doctor(env, person, {yes: true})
    expect(person.instructions).to.deep.equal(['safe-mode-buttons', 'safe-mode-buttons'])
    expect(person.said.join(' ')).to.match(/does not seem to be in Safe Mode/)
    expect(r.outcome).to.equal('fixed')
  })

  it('firmware that does not answer, flag already set: says so after Safe Mode, names the other causes, writes nothing', async () => {
    const env = setup([spec({faults: {blockedSystemThread: true}, platform: 'boron', setupDone: 1})])
    const person = new ScriptedPerson([true], (kind) => {
      if (kind === 'safe-mode-buttons') env.clock.setTimer(3000, () => env.usb.setMode(ID, 'safe'))
    })
    const r = await doctor(env, person)
    expect(person.asked[0]).to.match(/Fix it in Safe Mode/)
    expect(r).to.include({cause: 'other', outcome: 'not-the-flag'})
    expect(r.write?.changed).to.equal(false)
    expect(r.summary.join(' ')).to.match(/already set, so it is not the cause/)
    expect(r.summary.join(' ')).not.to.match(/What was wrong/)
    expect(env.usb.log.some((e) => e.setup.startsWith('40 03') && e.dataOut === '08 01')).to.equal(false)
    expect(env.usb.device(ID)!.mode).to.equal('normal') // restarted out of Safe Mode
  })

  it('firmware that does not answer, and the person declines Safe Mode: nothing written', async () => {
    const env = setup([spec({faults: {blockedSystemThread: true}, platform: 'boron'})])
    const person = new ScriptedPerson([false])
    const r = await doctor(env, person)
    expect(r.outcome).to.equal('cancelled')
    expect(person.instructions).to.deep.equal([])
    expect(env.usb.device(ID)!.setupDone).to.equal(255)
  })

  it('a device in DFU mode with the flag set: restarts it and looks again', async () => {
    const env = setup([spec({mode: 'dfu', setupDone: 1})])
    const r = await doctor(env, new ScriptedPerson([true]))
    expect(r.steps.map((s) => s.step)).to.include('restart')
    expect(r).to.include({cause: 'not-listening', outcome: 'nothing-to-fix'})
    expect(env.usb.device(ID)!.mode).to.equal('normal')
    expect(env.usb.device(ID)!.setupDone).to.equal(1)
  })

  it('a device in DFU mode: written over DFU, restarted, confirmed', async () => {
    const env = setup([spec({mode: 'dfu', platform: 'bsom', deviceOs: '2.3.1'})])
    const r = await doctor(env, new ScriptedPerson([true]))
    expect(r.outcome).to.equal('fixed')
    expect(r.write).to.deep.equal({after: 1, before: 255, changed: true, method: 'dfu'})
    expect(env.usb.device(ID)!.mode).to.equal('normal')
    noViolations(env.usb)
  })

  it('USB requests refused: down the ladder to DFU with the button steps', async () => {
    const env = setup([spec({faults: {stallControl: true}})])
    const person = new ScriptedPerson([true, true], (kind) => {
      if (kind === 'dfu-buttons') env.clock.setTimer(2000, () => env.usb.setMode(ID, 'dfu'))
    })
    const r = await doctor(env, person)
    expect(person.instructions).to.deep.equal(['dfu-buttons'])
    expect(person.said.join(' ')).to.contain('hold MODE, tap RESET, release MODE when the LED blinks yellow')
    expect(r.write?.method).to.equal('dfu')
    expect(env.usb.device(ID)!.setupDone).to.equal(1)
    // after the restart the firmware still stalls requests: the doctor says it cannot confirm the mode
    expect(r.outcome).to.equal('fixed')
  })

  it('unplugged during the fix: fails with "disconnected" and says so', async () => {
    const env = setup([spec({faults: {unplugAfterTransfers: 12}})])
    const r = await doctor(env, new ScriptedPerson(undefined), {yes: true})
    expect(r.outcome).to.equal('failed')
    expect(r.error!.code).to.equal('SETUP_FLAG_DISCONNECTED')
  })

  it('a named device that is not on USB but online: offers the remote fix, and does it with consent', async () => {
    const cloud = await new VirtualCloud().start()
    try {
      cloud.devices = [{connected: true, id: ID, name: 'far-boron', platform_id: 13, system_firmware_version: '3.3.1'}]
      const env = setup([])
      const c = () => new Cloud({accessToken: cloud.token, apiUrl: cloud.url, from: 'test', offline: false, profile: 'particle'}, env.clock)
      // declined: nothing flashed, and the command for later
      const no = new ScriptedPerson(['remote', false])
      const r1 = await doctor(env, no, {cloud: c(), device: {arg: 'far-boron', name: 'far-boron'}})
      expect(no.asked[0]).to.match(/far-boron is online/)
      expect(no.asked[1]).to.match(/corrupt the DCT[\s\S]*Flash the preparatory firmware to far-boron now\?/)
      expect(no.defaults[0], 'right after the DCT-corruption warning, the default is No').to.equal(false)
      expect(r1.error).to.include({code: 'SETUP_FLAG_DECLINED', exit: 10})
      expect(r1.outcome).to.equal('cancelled')
      expect(r1.summary.join(' ')).to.contain('particle-setup-flag set far-boron --method firmware')
      expect(cloud.flashed).to.have.length(0)
      // accepted: compiled, flashed over the air, confirmed by the event, production firmware reminder
      const yes = new ScriptedPerson(['remote', true])
      // The event arrives over real HTTP, so this wait runs on the real clock (a fake one would jump its deadline).
      const r2 = await doctor(env, yes, {clock: realClock, cloud: c(), device: {arg: 'far-boron', name: 'far-boron'}})
      expect(r2.outcome, JSON.stringify(r2)).to.equal('fixed')
      expect(r2.write).to.deep.include({after: 1, changed: true, method: 'firmware'})
      expect(cloud.flashed.map((f) => f.data)).to.deep.equal(['FAKEBIN platform=13 version=3.3.1 wanted=01'])
      expect(r2.summary.join(' ')).to.match(/flash your production firmware back/)
    } finally {
      await cloud.close()
    }
  })
})

describe('doctor: Linux USB permissions', () => {
  it('as root, with consent: installs the udev rule, asks for a replug, then fixes', async () => {
    const env = setup([spec({faults: {accessDenied: true}})])
    const dir = mkdtempSync(join(tmpdir(), 'udev-'))
    const person = new ScriptedPerson([true, true, true], (kind) => {
      if (kind === 'replug') {
        env.usb.device(ID)!.setFaults({})
        env.clock.setTimer(1000, () => env.usb.setMode(ID, 'listening'))
      }
    })
    const r = await doctor(env, person, {udev: {canWrite: true, rulesFile: join(dir, '50-particle.rules')}})
    expect(person.asked[0]).to.match(/Install the udev rule/)
    expect(readFileSync(join(dir, '50-particle.rules'), 'utf8')).to.contain('ATTRS{idVendor}=="2b04"')
    expect(person.instructions).to.deep.equal(['replug'])
    expect(r.outcome).to.equal('fixed')
  })

  it('as a normal user: prints the exact command that needs root (never runs sudo), then waits for the replug', async () => {
    const env = setup([spec({faults: {accessDenied: true}})])
    const dir = mkdtempSync(join(tmpdir(), 'udev-'))
    const person = new ScriptedPerson(undefined, (kind) => {
      if (kind === 'replug') {
        env.usb.device(ID)!.setFaults({})
        env.clock.setTimer(1000, () => env.usb.setMode(ID, 'listening'))
      }
    })
    const r = await doctor(env, person, {udev: {canWrite: false, rulesFile: join(dir, '50-particle.rules')}, yes: true})
    expect(person.instructions).to.deep.equal(['run-command', 'replug'])
    expect(person.said.join('\n')).to.match(/\| sudo tee .*50-particle\.rules && sudo udevadm control --reload-rules/)
    expect(existsSync(join(dir, '50-particle.rules'))).to.equal(false)
    expect(r.outcome).to.equal('fixed')
  })

  it('without udev (not Linux): the permission error, with the rule, and no prompt', async () => {
    const env = setup([spec({faults: {accessDenied: true}})])
    const r = await doctor(env, new ScriptedPerson(undefined), {yes: true})
    expect(r.error!.code).to.equal('SETUP_FLAG_USB_ACCESS')
    expect(r.summary.join(' ')).to.contain('particle usb configure')
  })
})
