/**
 * Findings 2 and 7 of the hardening issue, replayed: processes sharing one devices file never lose each other's
 * updates; the file's symlink, mode and unknown keys survive write-backs; unreadable things are refused at once;
 * a write-back that fails is its own error naming the file.
 */
import {expect} from 'chai'
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {chmodSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {FakeClock} from '../../src/lib/clock.js'
import {openVirtualUsbFile, saveDevices, updateDevicesFile, type VirtualUsb} from '../../src/lib/virtual/index.js'
import {readDevices, runCli, runJson, tempDir, testDevice, testId} from '../support/cli.js'

const stuck = (n: number) => testDevice(n, 'argon', '3.3.1', 'listening', 0xff)

/** Load made by the test itself: busy processes, one per core, for as long as the block runs. */
function makeLoad(count: number): ChildProcess[] {
  return Array.from({length: count}, () =>
    spawn(process.execPath, ['-e', 'for (;;) { Math.sqrt(Math.random()) }'], {stdio: 'ignore'}),
  )
}

describe('adversarial: the devices file', () => {
  const dirs: string[] = []
  const buses: VirtualUsb[] = []
  const dir = () => {
    const d = tempDir('adversarial-file-')
    dirs.push(d)
    return d
  }

  afterEach(() => {
    for (const b of buses.splice(0)) b.close()
    for (const d of dirs.splice(0)) rmSync(d, {force: true, recursive: true})
  })

  function writeDoc(file: string, doc: unknown): void {
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`)
  }

  it('two buses on one file: each one\'s change survives the other\'s write-back', async () => {
    const file = join(dir(), 'devices.json')
    writeDoc(file, {devices: [stuck(1), stuck(2)]})
    const a = openVirtualUsbFile(file, {clock: new FakeClock()})
    const b = openVirtualUsbFile(file, {clock: new FakeClock()})
    buses.push(a, b)
    a.device(testId(1))!.setSetupDone(0x01)
    b.device(testId(2))!.setSetupDone(0x01)
    a.device(testId(1))!.setSetupDone(0x02) // a writes again, after b: b's change must stay
    expect(readDevices(file).devices.map((d) => d.setupDone)).to.deep.equal([0x02, 0x01])
    // and a has learnt b's change (the file is the devices' flash)
    expect(a.device(testId(2))!.setupDone).to.equal(0x01)
  })

  it('30 pairs of concurrent `set` on one devices file under load: no lost update', async function () {
    this.timeout(600_000)
    const pairs = 30
    const d = dir()
    const file = join(d, 'devices.json')
    writeDoc(file, {devices: Array.from({length: pairs * 2}, (_, i) => stuck(i + 1))})
    const load = makeLoad(2)
    try {
      // A few pairs at a time (the machine is shared), each pair's two processes started together.
      const batch = 5
      for (let p = 0; p < pairs; p += batch) {
        const runs = []
        for (let q = p; q < Math.min(p + batch, pairs); q++) {
          for (const n of [2 * q + 1, 2 * q + 2]) runs.push(runCli(['set', testId(n), '--json'], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}}))
        }
        for (const r of await Promise.all(runs)) expect(r.code, r.stderr).to.equal(0)
      }
    } finally {
      for (const c of load) c.kill()
    }
    const lost = readDevices(file).devices.filter((x) => x.setupDone !== 0x01).map((x) => x.id)
    expect(lost).to.deep.equal([])
    expect(statSync(file).isFile()).to.equal(true)
    expect(() => statSync(`${file}.lock`)).to.throw() // no lock left behind
  })

  it('follows a symlinked devices file (the target is updated, the link stays a link) and keeps the mode', async () => {
    const d = dir()
    mkdirSync(join(d, 'real'))
    const target = join(d, 'real', 'devices.json')
    const link = join(d, 'link.json')
    writeDoc(target, {devices: [stuck(1)]})
    chmodSync(target, 0o600)
    symlinkSync(target, link)
    const r = await runJson(['set', testId(1)], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: link}})
    expect(r.code, r.stderr).to.equal(0)
    expect(lstatSync(link).isSymbolicLink()).to.equal(true)
    expect(realpathSync(link)).to.equal(target)
    expect(readDevices(target).devices[0].setupDone).to.equal(1)
    expect(statSync(target).mode & 0o777).to.equal(0o600)
  })

  it('keeps a top-level "__proto__" key and the other unknown keys in their order', () => {
    const file = join(dir(), 'devices.json')
    writeFileSync(file, `{"__proto__": {"x": 1}, "devices": [${JSON.stringify(stuck(1))}], "note": "mine"}\n`)
    const bus = openVirtualUsbFile(file, {clock: new FakeClock()})
    buses.push(bus)
    bus.device(testId(1))!.setSetupDone(0x01)
    const text = readFileSync(file, 'utf8')
    expect(text).to.contain('"__proto__": {')
    expect(Object.keys(JSON.parse(text))).to.deep.equal(['__proto__', 'devices', 'note'])
  })

  for (const [what, path] of [['/dev/zero', '/dev/zero'], ['a FIFO', 'fifo']] as const) {
    it(`refuses ${what} as a devices file at once (exit 2), instead of hanging`, async function () {
      this.timeout(30_000)
      let file: string = path
      if (path === 'fifo') {
        file = join(dir(), 'fifo')
        execFileSync('mkfifo', [file])
      }
      const r = await runJson(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
      expect(r.code).to.equal(2)
      expect((r.json.error as {code: string; message: string}).code).to.equal('SETUP_FLAG_DEVICES_FILE')
      expect((r.json.error as {message: string}).message).to.contain('not a regular file')
    })
  }

  it('a devices file that cannot be written back is its own error naming the file, not a device fault', async () => {
    const d = dir()
    const file = join(d, 'devices.json')
    writeDoc(file, {devices: [stuck(1)]})
    // Root writes through any mode bits: a directory where the temporary file must go blocks the write-back
    // for every user.
    mkdirSync(`${file}.tmp`)
    chmodSync(d, 0o555)
    try {
      const r = await runJson(['set', testId(1)], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}})
      const error = (r.json.devices as Array<{error?: {code: string; exit: number; message: string}}> | undefined)?.[0]?.error ?? (r.json.error as {code: string; exit: number; message: string})
      expect(error.code, JSON.stringify(r.json)).to.equal('SETUP_FLAG_DEVICES_FILE_WRITE')
      expect(error.message).to.contain(file)
      expect(r.code).to.equal(2)
      expect(`${r.stdout}${r.stderr}`).to.not.contain('DEBUG=setup-flag')
    } finally {
      chmodSync(d, 0o755)
    }
  })

  it('updateDevicesFile / saveDevices: any writer merges under the lock into the file as it is on disk', () => {
    const d = dir()
    mkdirSync(join(d, 'real'))
    const target = join(d, 'real', 'devices.json')
    const link = join(d, 'devices.json')
    writeDoc(target, {devices: [stuck(1), stuck(2)], keep: true})
    chmodSync(target, 0o640)
    symlinkSync(target, link)
    saveDevices(link, [{...stuck(2), setupDone: 1}] as never)
    updateDevicesFile(link, (devices) => {
      devices[0].setupDone = 0
    })
    const doc = JSON.parse(readFileSync(target, 'utf8'))
    expect(doc.devices.map((x: {setupDone: number}) => x.setupDone)).to.deep.equal([0, 1])
    expect(doc.keep).to.equal(true)
    expect(lstatSync(link).isSymbolicLink()).to.equal(true)
    expect(statSync(target).mode & 0o777).to.equal(0o640)
  })
})
