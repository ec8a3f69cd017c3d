// A bundled example named bare (PARTICLE_VIRTUAL_DEVICES=blocked-boron) is a copy the runs using it share: fresh for
// a run that starts alone, the same for one that starts while another uses it (the doctor in one terminal,
// `virtual press` in another), fresh again once they have ended or died.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {realClock} from '../../src/lib/clock.js'
import {devicesFile, openUsbBackend, pressFile} from '../../src/lib/backends.js'
import {pressInFile} from '../../src/lib/virtual/buttons.js'
import {type VirtualUsb} from '../../src/lib/virtual/index.js'
import {ROOT} from '../support/cli.js'
import {failure} from '../support/failure.js'

const BORON = 'e00fce681a2b3c4d5e6f7b01'
const env = {PARTICLE_VIRTUAL_DEVICES: 'blocked-boron'}


describe('bundled examples: the copy the runs using one share', () => {
  const saved = process.env.TMPDIR
  let dir: string
  beforeEach(() => {
    // os.tmpdir() follows TMPDIR: each test has copies of its own (other runs on this machine use the real one).
    dir = mkdtempSync(join(tmpdir(), 'shared-copy-'))
    process.env.TMPDIR = dir
  })
  afterEach(() => {
    if (saved === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = saved
    rmSync(dir, {force: true, recursive: true})
  })

  it('a run that starts while another uses the copy sees its devices as they are; once both have left, a run starts fresh', async () => {
    const doctor = await openUsbBackend(env, realClock, ROOT)
    expect(doctor.example).to.equal('blocked-boron')
    expect(doctor.file).to.equal(join(dir, `particle-setup-flag-${process.getuid?.() ?? 'user'}-blocked-boron.json`))
    ;(doctor.usb as VirtualUsb).device(BORON)!.setSetupDone(1)
    const second = await openUsbBackend(env, realClock, ROOT)
    expect((second.usb as VirtualUsb).device(BORON)!.setupDone).to.equal(1)
    second.close()
    const third = await openUsbBackend(env, realClock, ROOT)
    expect((third.usb as VirtualUsb).device(BORON)!.setupDone).to.equal(1) // the doctor still runs
    third.close()
    doctor.close()
    const fresh = await openUsbBackend(env, realClock, ROOT)
    expect((fresh.usb as VirtualUsb).device(BORON)!.setupDone).to.equal(255)
    fresh.close()
  })

  it('virtual press reaches the copy while a run uses it, and is refused (exit 3) when none does: its press would be lost', async () => {
    const e = await failure(pressFile(env, ROOT))
    expect(e).to.include({code: 'SETUP_FLAG_VIRTUAL_PRESS', exit: 3})
    expect(e.message).to.contain('No run is using the bundled example blocked-boron now')
    const doctor = await openUsbBackend(env, realClock, ROOT)
    const file = await pressFile(env, ROOT)
    expect(file).to.equal(doctor.file)
    await pressInFile(file, ['safe-mode'])
    await (doctor.usb as VirtualUsb).getDevices()
    expect((doctor.usb as VirtualUsb).device(BORON)!.mode).to.equal('safe')
    doctor.close()
    expect((await failure(pressFile(env, ROOT))).code).to.equal('SETUP_FLAG_VIRTUAL_PRESS')
  })

  it('a run that died without leaving does not keep the copy: the next run starts fresh', async () => {
    const copy = (await devicesFile('blocked-boron', ROOT))!.file
    const doctor = await openUsbBackend(env, realClock, ROOT)
    ;(doctor.usb as VirtualUsb).device(BORON)!.setSetupDone(1)
    doctor.close()
    // A process that registered and died (killed: no exit handler ran).
    const child = spawn(process.execPath, ['-e', ''])
    const pid = child.pid!
    await new Promise((resolve) => child.on('exit', resolve))
    mkdirSync(`${copy}.runs`, {recursive: true})
    writeFileSync(join(`${copy}.runs`, String(pid)), '')
    writeFileSync(copy, readFileSync(copy, 'utf8').replace('"setupDone": 255', '"setupDone": 1'))
    const next = await openUsbBackend(env, realClock, ROOT)
    expect((next.usb as VirtualUsb).device(BORON)!.setupDone).to.equal(255)
    next.close()
  })

  it('PARTICLE_VIRTUAL_DEVICES as a path: no copy, the file itself; not set: virtual press says it needs virtual devices (exit 2)', async () => {
    expect(await devicesFile(join(ROOT, 'examples', 'stuck-argon.json'), ROOT)).to.deep.equal({file: join(ROOT, 'examples', 'stuck-argon.json')})
    expect(await pressFile({PARTICLE_VIRTUAL_DEVICES: join(ROOT, 'examples', 'stuck-argon.json')}, ROOT)).to.equal(join(ROOT, 'examples', 'stuck-argon.json'))
    expect(await failure(pressFile({}, ROOT))).to.include({code: 'SETUP_FLAG_VIRTUAL_PRESS', exit: 2})
  })
})
