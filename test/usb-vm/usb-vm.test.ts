/**
 * Through a real Linux kernel USB stack: our CLI and dfu-util against the virtual devices served as
 * real USB gadgets in the usb-vm guest (QEMU + dummy_hcd + FunctionFS), PARTICLE_VIRTUAL_DEVICES unset, so the
 * CLI takes the `usb` package path users run. Each boot runs many cases; each case is also run on the WebUSB
 * virtual bus and the two must end alike (status, what the JSON says, the message).
 *
 * Needs the packages the README lists (qemu-system-x86, a 6.9+ kernel, busybox-static, dfu-util, usbutils) and
 * `npm run build`; run with `npm run test:usb-vm`.
 */
import {expect} from 'chai'

import {type Boot, boot, cli, device, deviceId as id, json, message, type StepResult} from './vm.js'

type Report = Record<string, unknown>

const KEYS = ['id', 'flag', 'value', 'mode', 'changed', 'before', 'after', 'method']

/** What a user can tell apart in a --json report (timings and free text left out). */
function project(r: StepResult | undefined): unknown {
  const text = (r?.stdout ?? '').trim()
  if (!text.startsWith('{')) return text
  // One pretty-printed document, or NDJSON (set --watch): one document per line.
  const docs = text.includes('\n{')
    ? text.split('\n').map((l) => JSON.parse(l) as {devices?: Report[]})
    : [JSON.parse(text) as {devices?: Report[]}]
  return docs.flatMap((d) => (d.devices ?? [d as Report]).map((x) => Object.fromEntries(KEYS.filter((k) => k in x).map((k) => [k, x[k]]))))
}

function sameAsVirtual(b: Boot, name: string): void {
  const real = b.real.get(name)
  const virtual = b.virtual.get(name)
  expect(real, `${name}: no result from the guest\n${b.runner.stderr}`).to.not.equal(undefined)
  expect(virtual, `${name}: no result on the virtual bus`).to.not.equal(undefined)
  expect(real!.status, `${name} status\nreal: ${real!.stderr}\nvirtual: ${virtual!.stderr}`).to.equal(virtual!.status)
  expect(project(real), `${name} output`).to.deep.equal(project(virtual))
  expect(message(real), `${name} message`).to.equal(message(virtual))
}

const times: string[] = []

describe('through a real kernel USB stack (usb-vm)', function () {
  this.timeout(600_000)

  after(() => {
    if (times.length > 0) process.stderr.write(`\n  usb-vm boots:\n${times.map((t) => `    ${t}`).join('\n')}\n`)
  })

  describe('get and set, every mode and Device OS line', () => {
    const devices = [
      device(1, 'argon', '3.3.1', 'listening', 255),
      device(2, 'argon', '3.3.1', 'normal', 0),
      device(3, 'boron', '2.3.1', 'dfu', 255),
      device(4, 'argon', '1.5.2', 'normal', 1),
      device(5, 'bsom', '4.2.0', 'normal', 1),
      device(6, 'boron', '6.2.0', 'safe', 255),
      device(7, 'p2', '5.9.0', 'normal', 1),
      device(8, 'photon', '1.5.2', 'normal', 1),
    ]
    const steps = [
      {name: 'get', run: cli('get', '--json', '--offline')},
      {name: 'set usb', run: cli('set', id(1), '--method', 'usb', '--json', '--offline')},
      {name: 'set dfu from normal', run: cli('set', id(2), '--method', 'dfu', '--json', '--offline')},
      {name: 'set dfu from dfu', run: cli('set', id(3), '--method', 'dfu', '--json', '--offline')},
      {name: 'not-done', run: cli('set', id(4), '--not-done', '--json', '--offline')},
      {name: 'get after', run: cli('get', id(1), id(2), id(3), id(4), '--json', '--offline')},
    ]
    let b: Boot
    before(async () => {
      b = await boot(devices, steps)
      times.push(`get/set: ${b.timing}`)
    })

    it('the guest ran every step', () => {
      expect(b.runner.code, b.runner.stderr).to.equal(0)
      expect([...b.real.keys()]).to.deep.equal(steps.map((s) => s.name))
    })

    it('get: every mode (normal, listening, safe, DFU) and line (1.5.2, 2.3.1, 3.3.1, 4.x, 6.x); P2 and Photon not applicable', () => {
      const got = json(b.real.get('get')).devices
      const by = new Map(got.map((d) => [d.id as string, d]))
      expect(by.get(id(1))).to.include({flag: 'not-done', mode: 'listening'})
      expect(by.get(id(2))).to.include({flag: 'not-done', mode: 'normal'})
      expect(by.get(id(3))).to.include({flag: 'not-done', mode: 'dfu'})
      expect(by.get(id(4))).to.include({flag: 'done', mode: 'normal'})
      expect(by.get(id(5))!.flag).to.be.oneOf(['done', 'not-applicable'])
      expect(by.get(id(6))!.mode).to.be.oneOf(['safe', 'normal']) // Safe Mode answers as "running"
      expect(by.get(id(7))).to.include({flag: 'not-applicable'})
      expect(by.get(id(8))).to.include({flag: 'not-applicable'})
      sameAsVirtual(b, 'get')
    })

    it('set --method usb from listening: flag read back, Listening Mode left', () => {
      const [r] = json(b.real.get('set usb')).devices
      expect(r).to.include({after: 1, changed: true, flag: 'done', method: 'usb', mode: 'normal'})
      expect(b.real.get('set usb')!.devices.find((d) => d.id === id(1))).to.include({mode: 'normal', setupDone: 1})
      sameAsVirtual(b, 'set usb')
    })

    it('set --method dfu from normal mode: request 50, re-enumeration to the DFU PID, DfuSe write, leave, back', () => {
      const [r] = json(b.real.get('set dfu from normal')).devices
      expect(r).to.include({after: 1, before: 0, changed: true, flag: 'done', method: 'dfu', mode: 'normal'})
      expect(b.real.get('set dfu from normal')!.devices.find((d) => d.id === id(2))).to.include({mode: 'normal', setupDone: 1})
      sameAsVirtual(b, 'set dfu from normal')
    })

    it('set --method dfu from DFU mode', () => {
      const [r] = json(b.real.get('set dfu from dfu')).devices
      expect(r).to.include({after: 1, before: 255, changed: true, flag: 'done', method: 'dfu'})
      sameAsVirtual(b, 'set dfu from dfu')
    })

    it('--not-done clears the flag', () => {
      const [r] = json(b.real.get('not-done')).devices
      expect(r).to.include({after: 255, changed: true, flag: 'not-done'})
      sameAsVirtual(b, 'not-done')
    })

    it('get afterwards reads what set wrote, through the kernel', () => {
      expect(json(b.real.get('get after')).devices.map((d) => d.flag)).to.deep.equal(['done', 'done', 'done', 'not-done'])
      sameAsVirtual(b, 'get after')
    })
  })

  describe('many devices, hot-plug and the Safe Mode path', () => {
    const add = device(0x26, 'argon', '3.3.1', 'listening', 255)
    const devices = [
      device(0x21, 'argon', '3.3.1', 'listening', 255),
      device(0x22, 'boron', '2.3.1', 'dfu', 255),
      device(0x23, 'bsom', '1.5.2', 'normal', 0),
      device(0x24, 'argon', '2.3.1', 'safe', 255),
      // A system thread stuck in a connection attempt: the doctor's request 60 aborts it (docs/protocol.md) and the
      // device restarts in Safe Mode for real (unbind, new enumeration), with no buttons.
      device(0x25, 'argon', '3.3.1', 'normal', 255, {faults: {blockedSystemThread: 'connecting'}}),
    ]
    const steps = [
      {name: 'doctor', run: cli('doctor', id(0x25), '--yes', '--json', '--offline')},
      {name: 'set --all', run: cli('set', '--all', '--json', '--offline')},
      {name: 'watch', watch: cli('set', '--watch', '--json', '--offline'), add},
    ]
    let b: Boot
    before(async () => {
      b = await boot(devices, steps)
      times.push(`many/hot-plug/doctor: ${b.timing}`)
    })

    it('doctor --yes on a device whose system thread is blocked: Safe Mode by request 60, fixed, restarted for real, as on the virtual bus', () => {
      const r = b.real.get('doctor')!
      expect(r.status, r.stdout + (r.stderr ?? '')).to.equal(0)
      expect(r.devices.find((d) => d.id === id(0x25))).to.include({setupDone: 1})
      const steps = (json(r) as unknown as {steps: Array<{outcome: string; step: string}>}).steps
      const virtualSteps = (json(b.virtual.get('doctor')) as unknown as {steps: Array<{outcome: string; step: string}>}).steps
      expect(steps.map((s) => `${s.step}: ${s.outcome}`)).to.deep.equal(virtualSteps.map((s) => `${s.step}: ${s.outcome}`))
      expect(steps.map((s) => `${s.step}: ${s.outcome}`)).to.include.members(['safe-mode: done', 'write-safe-mode: done', 'restart: done'])
    })

    it('set --all fixes 4 devices at once', () => {
      const r = json(b.real.get('set --all')).devices
      expect(r.filter((d) => d.changed)).to.have.length(4)
      for (const d of b.real.get('set --all')!.devices) expect(d.setupDone, String(d.id)).to.equal(1)
      sameAsVirtual(b, 'set --all')
    })

    it('set --watch: a device plugged in while it runs is fixed once; Ctrl-C sums up', () => {
      const r = b.real.get('watch')!
      expect(r.status, r.stderr).to.equal(0)
      const fixed = (r.lines ?? []).filter((l) => l.id === add.id)
      expect(fixed).to.have.length(1)
      expect(fixed[0]).to.include({after: 1, changed: true})
      expect((r.lines ?? []).at(-1)).to.have.property('summary')
      expect(r.devices.find((d) => d.id === add.id)).to.include({setupDone: 1})
    })
  })

  describe('factory-fresh Gen3 before 0.9.0: the serial line (docs/protocol.md §10)', () => {
    // A Boron as it leaves the factory: 0.8.0-rc.25, flag 0xFF, so Listening Mode; no USB control requests.
    const fresh = device(0x41, 'boron', '0.8.0-rc.25', 'listening', 255)
    // Another, fixed by our own `set` from Listening Mode; then a station over a mixed batch: a 3.x Argon already
    // plugged in, the first Boron (left in DFU mode above), and a 0.8.0-rc.27 Boron plugged in while it watches.
    const second = device(0x42, 'boron', '0.8.0-rc.25', 'listening', 255)
    const current = device(0x43, 'argon', '3.3.1', 'listening', 255)
    const later = device(0x44, 'boron', '0.8.0-rc.27', 'listening', 255)
    const steps = [
      {name: 'serial line', run: ['node', 'test/usb-vm/guest/serial-line.js', fresh.id]},
      {name: 'dfu-util upload', realOnly: true, run: ['dfu-util', '-d', '2b04:d00d', '-S', fresh.id, '-a', '1', '-s', '8134:1', '-U', '$DIR/fresh.bin']},
      {name: 'get in DFU mode', run: cli('get', fresh.id, '--json', '--offline')},
      {name: 'get listening', run: cli('get', second.id, '--json', '--offline')},
      {name: 'set listening', run: cli('set', second.id, '--json', '--offline')},
      {add: later, name: 'watch mix', watch: cli('set', '--watch', '--json', '--offline')},
    ]
    let b: Boot
    before(async () => {
      b = await boot([fresh, second, current], steps)
      times.push(`factory-fresh: ${b.timing}`)
    })

    it("the kernel's f_acm serves the CDC pair: the guest's cdc_acm binds and holds it, as the virtual bus models", () => {
      const real = JSON.parse(b.real.get('serial line')!.stdout!) as Record<string, unknown>
      const virtual = JSON.parse(b.virtual.get('serial line')!.stdout!) as Record<string, unknown>
      expect(real.error, b.real.get('serial line')!.stderr).to.equal(undefined)
      expect(real).to.include({hasTty: true, recognised: true})
      expect(real.before).to.deep.equal({mode: 'normal', productId: 0xc00d})
      expect(real.host).to.deep.equal({
        attach: 'ok',
        claimAgain: 'claimInterface error: interface is busy (errno 16)',
        claimHeld: 'claimInterface error: interface is busy (errno 16)',
        detach: 'ok',
        detachDataToo: 'detachKernelDriver error: no kernel driver attached (errno 61)',
      })
      expect(virtual.host).to.deep.equal(real.host)
      expect(virtual.recognised).to.equal(true)
    })

    it('SET_LINE_CODING 14400 from the guest (enterDfuBySerialLine) brings it to DFU mode, as on the virtual bus', () => {
      const real = JSON.parse(b.real.get('serial line')!.stdout!) as Record<string, unknown>
      const virtual = JSON.parse(b.virtual.get('serial line')!.stdout!) as Record<string, unknown>
      expect(real.after, `${b.real.get('serial line')!.stdout}${b.runner.stderr}`).to.deep.equal({mode: 'dfu', productId: 0xd00d})
      expect(virtual.after).to.deep.equal(real.after)
      expect(b.real.get('serial line')!.devices.find((d) => d.id === fresh.id)).to.include({mode: 'dfu', setupDone: 255})
    })

    it('then dfu-util reads the byte at 8134 (0xFF), and get names the release from the module header', async () => {
      const u = b.real.get('dfu-util upload')!
      expect(u.status, `${u.stderr}${u.stdout}`).to.equal(0)
      const {readFileSync} = await import('node:fs')
      expect([...readFileSync(`${b.dir}/fresh.bin`)]).to.deep.equal([0xff])
      const [r] = json(b.real.get('get in DFU mode')).devices
      expect(r).to.include({deviceOsVersion: '0.8.0-rc.25', deviceOsVersionSource: 'dfu', flag: 'not-done', mode: 'dfu'})
      sameAsVirtual(b, 'get in DFU mode')
    })

    it('get in Listening Mode says what it is (no USB control requests), without a stalled request and without error', () => {
      const g = b.real.get('get listening')!
      expect(g.status, g.stderr).to.equal(0)
      const [r] = json(g).devices
      expect(r).to.include({flag: 'unknown', mode: 'unknown'})
      expect(String(r.reason)).to.match(/Device OS older than 0\.9\.0: no USB control requests/)
      sameAsVirtual(b, 'get listening')
    })

    it('set fixes it with no button: the serial line to DFU mode, one byte at 8134, read back, out of DFU mode', () => {
      const r = b.real.get('set listening')!
      expect(r.status, r.stderr).to.equal(0)
      const [d] = json(r).devices as Array<Report & {steps: string[]}>
      expect(d).to.include({after: 1, before: 255, changed: true, method: 'dfu'})
      expect(d.steps.join(' ')).to.match(/through its serial line \(line coding 14400\)/)
      expect(r.devices.find((x) => x.id === second.id)).to.include({mode: 'normal', setupDone: 1})
      sameAsVirtual(b, 'set listening')
    })

    it('the station fixes a mixed batch of factory-fresh and 3.x devices in one run', () => {
      const r = b.real.get('watch mix')!
      expect(r.status, r.stderr).to.equal(0)
      const fixed = (r.lines ?? []).filter((l) => l.changed === true).map((l) => l.id)
      expect(fixed.sort()).to.deep.equal([fresh.id, current.id, later.id].sort())
      for (const d of [fresh, current, later]) expect(r.devices.find((x) => x.id === d.id), String(d.id)).to.include({setupDone: 1})
      expect((r.lines ?? []).at(-1)).to.have.property('summary')
    })
  })

  describe('the web doctor in Chromium, through the kernel stack', () => {
    // Debian's chromium of the host (the guest's / is the host's), through playwright-core, with the managed policy
    // WebUsbAllowDevicesForUrls granting vendor 0x2b04 to the page's origin: getDevices() returns the gadget with no
    // chooser (test/usb-vm/guest/web.js). Chromium needs more memory than the CLI alone.
    const devices = [device(0x31, 'argon', '3.3.1', 'listening', 255)]
    // Chromium under the guest's emulation takes minutes where the CLI takes seconds.
    const steps = [{limitMs: 480_000, name: 'web', run: [process.execPath, 'test/usb-vm/guest/web.js']}]
    let b: Boot
    before(async () => {
      b = await boot(devices, steps, {compare: false, env: {USB_VM_MEMORY: '2048'}})
      times.push(`web: ${b.timing}`)
    })

    it('reads the stuck Argon served by the gadget bridge, fixes it, and the devices file holds setupDone 1', () => {
      const r = b.real.get('web')
      expect(r, b.runner.stderr).to.not.equal(undefined)
      const page = JSON.parse(r!.stdout ?? '{}') as {error?: string; log?: string; outcome?: string; policy?: string[]; read?: string; stage?: string}
      expect(r!.status, `${page.stage}: ${page.error}\n${r!.stderr}`).to.equal(0)
      expect(page.policy).to.deep.equal([`2b04:c00c ${id(0x31)}`])
      expect(page.read).to.contain('The setup-done flag is not set: this is why the Argon boots into Listening Mode.')
      expect(page.outcome).to.equal('fixed')
      expect(page.log).to.contain('The device restarted and is not in Listening Mode.')
      expect(r!.devices.find((d) => d.id === id(0x31))).to.include({mode: 'normal', setupDone: 1})
    })
  })

  describe('dfu-util as a second client, faults, permissions', () => {
    const devices = [
      device(0x31, 'argon', '3.3.1', 'dfu', 255),
      device(0x32, 'argon', '3.3.1', 'dfu', 255),
      device(0x33, 'argon', '3.3.1', 'dfu', 255, {faults: {unplugAfterTransfers: 6}}),
      device(0x34, 'argon', '3.3.1', 'listening', 255, {faults: {blockedSystemThread: 'app'}}),
      device(0x35, 'argon', '3.3.1', 'listening', 255, {faults: {busy: 2}}),
      device(0x36, 'argon', '3.3.1', 'listening', 255, {faults: {stallControl: true}}),
      device(0x37, 'boron', '3.3.1', 'listening', 255),
      device(0x38, 'p2', '5.9.0', 'normal', 1),
      device(0x39, 'argon', '3.3.1', 'normal', 1, {faults: {unplugAfterTransfers: 2}}),
      device(0x3a, 'argon', '3.3.1', 'listening', 255),
      device(0x3b, 'argon', '3.3.1', 'normal', 1),
    ]
    const dir = '$DIR'
    const steps = () => [
      {bytes: [1], name: 'flag file', writeFile: `${dir}/flag.bin`},
      {name: 'dfu-util download', realOnly: true, run: ['dfu-util', '-d', '2b04:d00c', '-S', id(0x31), '-a', '1', '-s', '8134:leave', '-D', `${dir}/flag.bin`]},
      // dfu-util exits once the device has its leave request; the device re-enumerates on its own time after that.
      {enumerated: {id: id(0x31), mode: 'normal'}, name: 'back from dfu-util', realOnly: true},
      {name: 'get after dfu-util', realOnly: true, run: cli('get', id(0x31), '--json', '--offline')},
      {name: 'set for dfu-util', run: cli('set', id(0x32), '--method', 'dfu', '--json', '--offline')},
      {edit: {id: id(0x32), set: {mode: 'dfu'}}, name: 'back to DFU'},
      {name: 'dfu-util upload', realOnly: true, run: ['dfu-util', '-d', '2b04:d00c', '-S', id(0x32), '-a', '1', '-s', '8134:1', '-U', `${dir}/read.bin`]},
      {name: 'unplug mid-write', run: cli('set', id(0x33), '--json', '--offline')},
      {name: 'never answers', run: cli('set', id(0x34), '--method', 'usb', '--timeout', '3', '--json', '--offline')},
      {name: 'busy', run: cli('set', id(0x35), '--method', 'usb', '--json', '--offline')},
      {name: 'probe', run: ['node', 'test/usb-vm/guest/probe.js', id(0x36), id(0x38), id(0x39), id(0x3b)]},
      {name: 'stallControl', run: cli('set', id(0x36), '--method', 'usb', '--json', '--offline')},
      {name: 'no udev rule', realOnly: true, run: cli('get', id(0x37), '--offline'), user: 'nobody'},
      {name: 'udev rule', realOnly: true, udevRule: true},
      // Debian's 50-udev-default.rules sorts after 50-particle.rules and sets MODE 0664 again: the rule's GROUP
      // (plugdev, which desktop users are in) is what grants access.
      {groups: 'plugdev', name: 'with udev rule', realOnly: true, run: cli('get', id(0x37), '--json', '--offline'), user: 'nobody'},
      // Two restarts (into DFU mode and back), each a look for the device by its serial number among the bus's
      // devices, the stranger (guest.js) among them, which this user may not open.
      {groups: 'plugdev', name: 'set beside a stranger', realOnly: true, run: cli('set', id(0x3a), '--method', 'dfu', '--json', '--offline'), user: 'nobody'},
    ]
    let b: Boot
    before(async () => {
      b = await boot(devices, steps())
      times.push(`dfu-util/faults/permissions: ${b.timing}`)
    })

    it("dfu-util's DfuSe write (-s 8134:leave -D) is read by our get", () => {
      const d = b.real.get('dfu-util download')!
      expect(d.status, `${d.stderr}${d.stdout}`).to.equal(0)
      expect(d.devices.find((x) => x.id === id(0x31))).to.include({setupDone: 1})
      expect(b.real.get('back from dfu-util')?.error).to.equal(undefined)
      const g = b.real.get('get after dfu-util')!
      expect(g.status, `${g.stderr}${g.stdout}`).to.equal(0)
      expect(json(g).devices[0]).to.include({flag: 'done'})
    })

    it('dfu-util -U reads the byte our set --method dfu wrote', async () => {
      expect(b.real.get('set for dfu-util')!.status).to.equal(0)
      const u = b.real.get('dfu-util upload')!
      expect(u.status, `${u.stderr}${u.stdout}`).to.equal(0)
      const {readFileSync} = await import('node:fs')
      expect([...readFileSync(`${b.dir}/read.bin`)]).to.deep.equal([1])
    })

    for (const name of ['unplug mid-write', 'never answers', 'busy', 'stallControl']) {
      it(`fault: ${name} ends as on the WebUSB virtual bus (status, report, message)`, () => {
        sameAsVirtual(b, name)
      })
    }

    it('the usb package and the virtual bus reject alike: stall, timeout, unplug, invalid state, missing data, an object in use', () => {
      expect(b.real.get('probe')?.stdout, b.real.get('probe')?.stderr).to.match(/^\[/)
      const real = JSON.parse(b.real.get('probe')!.stdout!) as Array<Record<string, unknown>>
      const virtual = JSON.parse(b.virtual.get('probe')!.stdout!) as Array<Record<string, unknown>>
      const objects = (rows: Array<Record<string, unknown>>) => rows.find((r) => r.what === 'one object per enumeration')
      // Not mirrored on the virtual bus: the usb package hands out a new USBDevice on every getDevices(); our
      // code compares enumerations by bus and address instead (test/lib/virtual/usb-package.test.ts).
      expect(objects(real)).to.include({same: false})
      const rest = (rows: Array<Record<string, unknown>>) => rows.filter((r) => r !== objects(rows))
      expect(rest(real), JSON.stringify(real, undefined, 1)).to.deep.equal(rest(virtual))
      expect(real.find((r) => r.what === 'stalled IN')).to.include({error: 'controlTransferIn error: endpoint stalled'})
    })

    it('as an unprivileged user without our udev rule: the permission error (exit 5)', () => {
      const r = b.real.get('no udev rule')!
      expect(r.status, r.stderr).to.equal(5)
      expect(`${r.stdout}${r.stderr}`).to.contain('udev')
    })

    it('with our udev rule installed in the guest: it works (for a member of plugdev)', () => {
      expect(b.real.get('udev rule')?.error).to.equal(undefined)
      const r = b.real.get('with udev rule')!
      expect(r.status, `${r.stderr}${r.stdout}`).to.equal(0)
      expect(json(r).devices[0]).to.include({flag: 'not-done'})
    })

    it('beside a USB device without a serial number that the user may not open, set restarts the device and finds it again', () => {
      const r = b.real.get('set beside a stranger')!
      expect(r.status, `${r.stderr}${r.stdout}`).to.equal(0)
      expect(json(r).devices[0]).to.include({after: 1, flag: 'done', method: 'dfu'})
      expect(r.devices.find((x) => x.id === id(0x3a))).to.include({mode: 'normal', setupDone: 1})
    })
  })
})
