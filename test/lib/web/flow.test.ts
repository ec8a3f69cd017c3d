// The web doctor's flow on the virtual bus behind a browser's grants, on a fake clock: what each device needs, the
// fix end to end with the doctor's records, the second permission a mode change needs, the Safe Mode buttons, the
// advice where the flag is not the cause, several devices with "Fix all", and a cable pulled mid-write.
import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {eventText, summaryLines} from '../../../src/lib/text/doctor.js'
import {STANDALONE} from '../../../src/lib/cli.js'
import {type VirtualDeviceSpec} from '../../../src/lib/virtual/core.js'
import {type DeviceFlow} from '../../../src/lib/web/flow.js'
import {Grants} from '../../../src/lib/web/grants.js'
import {WebDoctor} from '../../../src/lib/web/page.js'
import {type Entry} from '../../../src/lib/web/state.js'
import {VirtualBench} from '../../../src/lib/web/virtual.js'

const ARGON = 'e00fce681a2b3c4d5e6f7a8b'
const BORON = 'e00fce681a2b3c4d5e6f7b01'
const spec = (over: Partial<VirtualDeviceSpec>): VirtualDeviceSpec => ({deviceOs: '3.3.1', faults: {}, id: ARGON, mode: 'listening', platform: 'argon', setupDone: 255, ...over})

/** A page over virtual devices; `onChange` sees every change (the test's person acts there). */
function page(devices: VirtualDeviceSpec[], onChange: (p: WebDoctor, b: VirtualBench) => void = () => {}) {
  const clock = new FakeClock()
  const choices: USBDevice[][] = []
  const changes = new EventTarget()
  let doctor!: WebDoctor
  const changed = () => {
    if (!doctor) return
    onChange(doctor, bench)
    changes.dispatchEvent(new Event('changed'))
  }
  const bench: VirtualBench = new VirtualBench(devices, {
    changed,
    // The person picks the first device not connected yet (the browser lists granted ones too).
    choose: async (shown) => {
      choices.push(shown)
      return shown.find((d) => !bench.usb.isGranted(d)) ?? shown[0]
    },
    clock,
  })
  doctor = new WebDoctor({changed, clock, grants: new Grants(), timeoutMs: 2000, usb: bench.usb, waitMs: 60_000})
  /** Resolves at the first change after which `done` holds. */
  const until = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      const look = () => {
        if (!done()) return
        changes.removeEventListener('changed', look)
        resolve()
      }
      changes.addEventListener('changed', look)
    })
  return {bench, choices, clock, doctor, until}
}

const words = (f: DeviceFlow) => f.entries.map((e: Entry) => ('event' in e ? eventText(e.event) : e.say.kind))
const summary = (f: DeviceFlow) => f.summary.flatMap((s) => summaryLines(s, STANDALONE))

describe("web doctor flow (virtual devices behind a browser's grants)", () => {
  it('a stuck Argon: connect, the cause named, fixed, restarted and confirmed; one byte written', async () => {
    const {bench, choices, doctor} = page([spec({})])
    await doctor.start()
    expect(doctor.flows).to.have.length(0) // nothing granted yet: getDevices() lists nothing
    await doctor.connect()
    expect(choices[0].map((d) => d.serialNumber)).to.deep.equal([ARGON])
    const [f] = doctor.flows
    expect(f.cause).to.equal('setup-flag')
    expect(f.canFix).to.equal(true)
    expect(words(f)).to.include('The setup-done flag is not set: this is why the Argon boots into Listening Mode.')
    await f.fix()
    expect(f.outcome).to.equal('fixed')
    expect(words(f)).to.include.members(['Wrote the flag (not set → 0x01) and read it back.', 'Restarted the device (request 40).', 'The device restarted and is not in Listening Mode.'])
    expect(summary(f)[0]).to.contain('the setup-done flag of this Argon was not set')
    expect(bench.views()[0]).to.include({byte: 1, led: 'breathing-cyan'})
    expect(bench.violations).to.deep.equal([])
  })

  it('a DFU-mode B SoM on 3.3.1: written over DFU, and the second permission asked when it leaves DFU mode', async () => {
    const BSOM = 'e00fce681a2b3c4d5e6f7a03'
    let asked = 0
    const {bench, doctor} = page([spec({id: BSOM, mode: 'dfu', platform: 'bsom'})])
    bench.bus.addEventListener('connect', (ev) => {
      const [f] = doctor.flows
      if (f?.permission && (ev as USBConnectionEvent).device.productId === f.permission.productId) {
        asked++
        void doctor.allow(f)
      }
    })
    await doctor.connect()
    const [f] = doctor.flows
    expect(f.report?.mode).to.equal('dfu')
    expect(f.report?.deviceOsVersion).to.equal('3.3.1')
    expect(f.cause).to.equal('setup-flag')
    await f.fix()
    expect(asked).to.equal(1)
    expect(f.outcome, words(f).join('\n')).to.equal('fixed')
    expect(f.permission).to.equal(null)
    expect(f.write).to.include({after: 1, before: 255, method: 'dfu'})
    expect(bench.views()[0].byte).to.equal(1)
  })

  it('a Boron whose firmware does not answer: request 60 left pending, the Safe Mode buttons, fixed', async () => {
    const pressed: string[] = []
    const {bench, doctor} = page([spec({faults: {blockedSystemThread: true}, id: BORON, platform: 'boron'})], (p, b) => {
      const f = p.flows[0]
      if (f?.phase.kind !== 'buttons' || pressed.length > 0) return
      pressed.push('buttons')
      queueMicrotask(() => {
        b.press(BORON, 'mode')
        b.press(BORON, 'reset')
        expect(b.views()[0].led).to.equal('blinking-magenta')
        b.press(BORON, 'mode') // released while it blinks magenta: Safe Mode
      })
    })
    await doctor.connect()
    const [f] = doctor.flows
    expect(words(f)).to.include('The device firmware does not answer USB requests, so the flag cannot be read as it runs.')
    expect(f.plan).to.equal('safe-mode')
    await f.fix()
    expect(pressed).to.deep.equal(['buttons'])
    expect(words(f)).to.include.members([
      'The firmware did not carry out the request to restart in Safe Mode (60): its application keeps the system busy.',
      'The device restarted in Safe Mode.',
      'Wrote the flag (not set → 0x01) and read it back.',
    ])
    expect(f.outcome).to.equal('fixed')
    expect(bench.views()[0].byte).to.equal(1)
  })

  it("a 4.2.0 Boron and a P2: not the flag, with the CLI's advice", async () => {
    const P2 = 'e00fce681a2b3c4d5e6f7a06'
    const {doctor} = page([spec({deviceOs: '4.2.0', id: BORON, platform: 'boron'}), spec({deviceOs: '5.9.0', id: P2, platform: 'p2'})])
    await doctor.connect()
    await doctor.connect()
    const [boron, p2] = doctor.flows
    expect(boron.outcome).to.equal('not-the-flag')
    expect(summary(boron)[0]).to.equal('Device OS 4.2.0 (4.0 or later) has no setup-done flag, so it cannot be what keeps this device in Listening Mode.')
    expect(summary(boron).join('\n')).to.contain('cellular')
    expect(p2.outcome).to.equal('not-the-flag')
    expect(summary(p2)[0]).to.equal('Photon 2 / P2 never had the setup-done flag: Listening Mode there means it lacks Wi-Fi credentials or network settings (`particle wifi add`, or setup.particle.io).')
    expect(doctor.fixable).to.deep.equal([])
  })

  it('two stuck devices: "Fix all" fixes both, one after the other', async () => {
    const {bench, doctor} = page([spec({}), spec({id: BORON, platform: 'boron'})])
    // Grant each: the browser's chooser picks one device per call.
    const usb = bench.usb
    for (const d of await bench.bus.getDevices()) {
      const got = await usb.requestDevice({filters: [{serialNumber: d.serialNumber!, vendorId: 0x2b04}]})
      expect(got.serialNumber).to.equal(d.serialNumber)
    }
    await doctor.start()
    expect(doctor.fixable.map((f) => f.id)).to.deep.equal([ARGON, BORON])
    await doctor.fixAll()
    expect(doctor.flows.map((f) => f.outcome)).to.deep.equal(['fixed', 'fixed'])
    expect(bench.views().map((v) => v.byte)).to.deep.equal([1, 1])
  })

  it('a cable pulled mid-write: said as it is, nothing written but 8134, read again once plugged in', async () => {
    // Where the write (the INIT of request 73) falls among the transfers of a whole fix; the cable comes out right
    // after it, before its result is read back.
    const probe = page([spec({})])
    await probe.doctor.connect()
    await probe.doctor.flows[0].fix()
    const write = probe.bench.bus.log.findIndex((r) => /^C0 01 .. .. 49 00/.test(r.setup))
    expect(write).to.be.greaterThan(0)
    const {bench, doctor, until} = page([spec({faults: {unplugAfterTransfers: write + 1}})])
    await doctor.connect()
    const [f] = doctor.flows
    await f.fix()
    expect(f.outcome).to.equal('failed')
    expect(f.error?.message).to.equal(`Device ${ARGON} disconnected during the operation.`)
    expect(f.writeUnknown).to.equal(true)
    expect(f.phase).to.deep.equal({kind: 'replug', why: 'unplugged'})
    expect(bench.violations).to.deep.equal([])
    expect(bench.views()[0].pluggedIn).to.equal(false)
    const readAgain = until(() => !f.busy && f.phase.kind === 'idle' && f.outcome !== 'failed' && f.report !== null)
    bench.cable(ARGON)
    await readAgain
    expect([f.cause, f.report?.flag]).to.deep.equal(bench.views()[0].byte === 1 ? ['not-listening', 'done'] : ['setup-flag', 'not-done'])
  })
})
