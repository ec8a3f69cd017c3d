/**
 * Finding 1 of the hardening issue, replayed: the doctor never overwrites the host's udev rules. The official
 * CLI's 50-particle.rules and any line a person added stay byte for byte; our rule goes beside them, the change
 * is shown as a diff before consent, and a virtual device never points the doctor at the host's udev folder.
 */
import {expect} from 'chai'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {FakeClock} from '../../src/lib/clock.js'
import {Doctor, type DoctorPerson, type Instruction} from '../../src/lib/doctor/doctor.js'
import {OWN_RULES_FILE, planRule, udevTarget} from '../../src/lib/doctor/udev.js'
import {UDEV_RULE} from '../../src/lib/errors.js'
import {createVirtualUsb} from '../../src/lib/virtual/index.js'

const ID = 'e00fce681a2b3c4d5e6f7a8b'
const OFFICIAL = `# UDEV Rules for Particle boards
# Gen 2 (Photon/P1/Electron), Gen 3 (Argon/Boron/Xenon, SoM)
SUBSYSTEMS=="usb", ATTRS{idVendor}=="2b04", ATTRS{idProduct}=="[cd]0??", GROUP="plugdev", MODE="0666"
# added by a person
SUBSYSTEMS=="usb", ATTRS{idVendor}=="1234", MODE="0666"
`

class Person implements DoctorPerson {
  readonly asked: string[] = []
  readonly said: string[] = []
  constructor(private readonly act: (kind: Instruction) => void) {}
  prompter = {
    confirm: async (message: string) => {
      this.asked.push(message)
      return true
    },
    select: async <T>(): Promise<T> => {
      throw new Error('no choice expected')
    },
  }
  instruct(kind: Instruction, text: string): void {
    this.said.push(text)
    this.act(kind)
  }
  say(text: string): void {
    this.said.push(text)
  }
  waiting(): void {}
}

describe('adversarial: udev rules are never overwritten', () => {
  it('with the official 50-particle.rules in place: it stays byte for byte, ours goes beside it, the diff is shown first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udev-'))
    const official = join(dir, '50-particle.rules')
    writeFileSync(official, OFFICIAL)
    const clock = new FakeClock()
    const usb = createVirtualUsb({clock, devices: [{deviceOs: '3.3.1', faults: {accessDenied: true}, id: ID, mode: 'listening', platform: 'argon', setupDone: 255}]})
    const person = new Person((kind) => {
      if (kind === 'replug') {
        usb.device(ID)!.setFaults({})
        clock.setTimer(1000, () => usb.setMode(ID, 'listening'))
      }
    })
    const backend = {close() {}, description: 'virtual', kind: 'virtual' as const, usb}
    const r = await new Doctor({backend, clock, person, timeoutMs: 5000, udev: {canWrite: true, rulesFile: official}, waitMs: 60_000, yes: false}).run()
    expect(readFileSync(official, 'utf8')).to.equal(OFFICIAL)
    const ours = readFileSync(join(dir, OWN_RULES_FILE), 'utf8')
    expect(ours).to.contain(UDEV_RULE)
    const diffAt = person.said.findIndex((s) => s.includes(`+ ${UDEV_RULE}`))
    expect(diffAt, person.said.join('\n')).to.be.greaterThan(-1)
    expect(person.asked[0]).to.contain(OWN_RULES_FILE)
    expect(r.outcome).to.equal('fixed')
    usb.close()
  })

  it('adding to a file only adds lines; a file that has our rule needs nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'udev-'))
    const mine = join(dir, OWN_RULES_FILE)
    writeFileSync(join(dir, '50-particle.rules'), OFFICIAL)
    writeFileSync(mine, '# a person\'s note\n')
    const plan = planRule(join(dir, '50-particle.rules'))
    expect(plan.file).to.equal(mine)
    expect(plan.after.startsWith("# a person's note\n")).to.equal(true)
    expect(plan.after).to.contain(UDEV_RULE)
    writeFileSync(mine, plan.after)
    expect(planRule(join(dir, '50-particle.rules')).installed).to.equal(true)
  })

  it('a virtual bus never points at the host\'s udev folder', () => {
    const t = udevTarget({kind: 'virtual'}, {PARTICLE_VIRTUAL_DEVICES: '/tmp/x/devices.json'}, 'linux')
    expect(t?.rulesFile).to.equal('/tmp/x/devices.json.rules.d/50-particle.rules')
    expect(t?.rulesFile.startsWith('/etc/')).to.equal(false)
    expect(udevTarget({kind: 'usb'}, {}, 'linux')?.rulesFile).to.equal('/etc/udev/rules.d/50-particle.rules')
  })

  it('a bundled example named bare: the rule folder is beside the copy the bus opened, not in the current folder', () => {
    const t = udevTarget({file: '/tmp/particle-setup-flag-0-stuck-argon.json', kind: 'virtual'}, {PARTICLE_VIRTUAL_DEVICES: 'stuck-argon'}, 'linux')
    expect(t?.rulesFile).to.equal('/tmp/particle-setup-flag-0-stuck-argon.json.rules.d/50-particle.rules')
  })
})
