// The station (`set --watch`) in process, on a virtual bus with a fake clock: many devices, re-enumerations,
// replugs, missed hot-plug events, stopping, and the bound on what it remembers.
import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {BoundedMap, Station, type StationOptions} from '../../../src/lib/setup-flag/station.js'
import type {DeviceReport as SetReport} from '../../../src/lib/setup-flag/report.js'
import type {UsbBackend} from '../../../src/lib/usb/backend.js'
import {waitForDevice} from '../../../src/lib/usb/wait.js'
import {createVirtualUsb, type VirtualDeviceSpec, type VirtualUsb} from '../../../src/lib/virtual/index.js'

const id = (n: number) => `e00fce68${n.toString(16).padStart(16, '0')}`
const spec = (n: number, over: Partial<VirtualDeviceSpec> = {}): VirtualDeviceSpec => ({
  deviceOs: '3.3.1',
  id: id(n),
  mode: 'listening',
  platform: 'argon',
  setupDone: 0xff,
  ...over,
})

/** Stations and buses of the current test: stopped and closed after it, pass or fail (a running one never ends). */
const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

/** A station on a virtual bus, with every report and every "plugged in again" recorded, and a wait for a report. */
function setup(over: Partial<StationOptions> = {}, devices: VirtualDeviceSpec[] = [], opts: {deaf?: boolean} = {}) {
  const clock = new FakeClock()
  const usb = createVirtualUsb({clock, devices})
  // A bus whose hot-plug events never arrive: only the re-scan can find devices.
  const deaf = {addEventListener() {}, getDevices: () => usb.getDevices(), removeEventListener() {}} as unknown as USB
  // Every listing of the bus, so a test can wait for the next re-scan.
  const listed: Array<() => void> = []
  const counting = new Proxy(opts.deaf ? deaf : usb, {
    get(target, prop) {
      if (prop === 'getDevices')
        return async () => {
          const list = await target.getDevices()
          for (const fn of listed.splice(0)) setImmediate(fn)
          return list
        }
      const v = Reflect.get(target, prop, target)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  const nextListing = () => new Promise<void>((resolve) => listed.push(resolve))
  const backend: UsbBackend = {close: () => usb.close(), description: 'virtual', kind: 'virtual', usb: counting}
  const reports: SetReport[] = []
  const repeats: Array<[string, string]> = []
  const waiting = new Map<string, (r: SetReport) => void>()
  const station = new Station({
    backend,
    clock,
    onRepeat: (i, outcome) => repeats.push([i, outcome]),
    onReport(r) {
      reports.push(r)
      waiting.get(r.id)?.(r)
    },
    set: {done: true, dryRun: false, force: false, method: 'auto', timeoutMs: 10_000},
    ...over,
  })
  cleanups.push(async () => {
    await station.stop({force: true})
    usb.close()
  })
  const reportOf = (i: string) => {
    const r = reports.find((x) => x.id === i)
    return r ? Promise.resolve(r) : new Promise<SetReport>((resolve) => waiting.set(i, resolve))
  }
  /** The next report of device `i` (for a device tried again). */
  const nextReportOf = (i: string) => new Promise<SetReport>((resolve) => waiting.set(i, resolve))
  return {clock, nextListing, nextReportOf, reportOf, reports, repeats, station, usb}
}

function noViolations(usb: VirtualUsb): void {
  expect(usb.violations).to.deep.equal([])
}

describe('station (set --watch), in process', function () {
  this.timeout(60_000)

  describe('BoundedMap', () => {
    it('keeps at most `capacity` entries and forgets the least recently used first', () => {
      const m = new BoundedMap<string, number>(3)
      m.set('a', 1)
      m.set('b', 2)
      m.set('c', 3)
      expect(m.get('a')).to.equal(1) // a is now the most recent
      m.set('d', 4)
      expect(m.size).to.equal(3)
      expect(m.get('b')).to.equal(undefined)
      expect([m.get('a'), m.get('c'), m.get('d')]).to.deep.equal([1, 3, 4])
      m.set('c', 30) // an update refreshes too
      m.set('e', 5)
      expect(m.get('a')).to.equal(undefined)
      expect(m.get('c')).to.equal(30)
      expect(() => new BoundedMap(0)).to.throw(RangeError)
    })
  })

  it('takes on the devices already plugged in, then each one plugged in, once each; DFU re-enumerations do not start a device again', async () => {
    const {reportOf, reports, repeats, station, usb} = setup({set: {done: true, dryRun: false, force: false, method: 'dfu', timeoutMs: 10_000}}, [spec(1), spec(2, {mode: 'dfu'})])
    await station.start()
    usb.addDevice(spec(3, {mode: 'normal', platform: 'boron', setupDone: 0}))
    usb.addDevice(spec(4, {deviceOs: '4.2.0'}))
    await Promise.all([1, 2, 3, 4].map((n) => reportOf(id(n))))
    // Device 1 went normal -> DFU -> normal: two more 'connect' events for it while it was being handled.
    expect(repeats).to.deep.equal([])
    // Unplug device 1 and plug it in again: said, not touched.
    usb.removeDevice(id(1))
    usb.addDevice(spec(1, {mode: 'listening', setupDone: 0xff}))
    expect(repeats).to.deep.equal([[id(1), 'fixed']])
    const summary = await station.stop()
    expect(summary).to.deep.equal({exit: 0, failed: 0, failures: [], fixed: 3, interrupted: 0, total: 4, unchanged: 1})
    expect(reports.map((r) => r.id).sort()).to.deep.equal([1, 2, 3, 4].map((n) => id(n)))
    expect(usb.device(id(1))!.spec().setupDone).to.equal(0xff) // the replugged one: untouched
    for (const n of [2, 3]) expect(usb.device(id(n))!.spec().setupDone).to.equal(1)
    noViolations(usb)
  })

  it('a device plugged in is read by every listener of its connect event, the station first (the usb package hands them one object)', async () => {
    const {clock, reportOf, station, usb} = setup()
    await station.start()
    // A second listener after the station's: a wait for a device to come back, as a `set` of another device has.
    const backend: UsbBackend = {close() {}, description: 'virtual', kind: 'virtual', usb}
    let waited!: Promise<{id: string}>
    await new Promise<void>((resolve) => {
      waited = waitForDevice(backend, (d) => d.id === id(1), {clock, onWaiting: () => queueMicrotask(resolve), recheckMs: 3_600_000, timeoutMs: 3_600_000})
    })
    // Before: the station began opening it inside the event, and the wait's listener, reading its vendorId next,
    // threw a borrow conflict from inside the event (the process ended in the usb-vm suite).
    usb.addDevice(spec(1))
    expect((await waited).id).to.equal(id(1))
    expect(await reportOf(id(1))).to.include({after: 1, changed: true})
    noViolations(usb)
  })

  it('a thousand devices through a 16-port hub, 200 IDs remembered: each handled once, memory within the bound', async () => {
    const {reportOf, reports, station, usb} = setup({memory: 200, parallel: 8})
    await station.start()
    let most = 0
    for (let batch = 0; batch < 1000 / 16; batch++) {
      const ns = Array.from({length: 16}, (_, i) => 1 + batch * 16 + i).filter((n) => n <= 1000)
      for (const n of ns) usb.addDevice(spec(n, n % 10 === 0 ? {mode: 'dfu', platform: 'bsom'} : n % 7 === 0 ? {deviceOs: '5.0.0'} : {}))
      await Promise.all(ns.map((n) => reportOf(id(n))))
      most = Math.max(most, station.remembered)
      for (const n of ns) usb.removeDevice(id(n)) // the operator takes the finished ones off the hub
    }
    const summary = await station.stop()
    expect(reports).to.have.length(1000)
    expect(new Set(reports.map((r) => r.id)).size).to.equal(1000)
    const unchanged = Array.from({length: 1000}, (_, i) => i + 1).filter((n) => n % 10 !== 0 && n % 7 === 0).length
    expect(summary).to.deep.equal({exit: 0, failed: 0, failures: [], fixed: 1000 - unchanged, interrupted: 0, total: 1000, unchanged})
    expect(most).to.be.at.most(200)
    expect(station.remembered).to.be.at.most(200)
    noViolations(usb)
  })

  it('a Particle device whose device ID cannot be read is said, not touched; other USB devices are ignored', async () => {
    const unreadable: string[] = []
    const {reports, station, usb} = setup({onUnreadable: (p) => unreadable.push(p)})
    await station.start()
    const plugged = (device: Partial<USBDevice>) => usb.dispatchEvent(Object.assign(new Event('connect'), {device}))
    plugged({productId: 0xc00c, serialNumber: undefined, vendorId: 0x2b04}) // an Argon, serial unreadable (no udev rule)
    plugged({productId: 0x0001, serialNumber: 'e00fce681a2b3c4d5e6f7a8b', vendorId: 0x1234}) // not Particle
    expect(unreadable).to.deep.equal(['Argon'])
    expect(station.busy).to.equal(0)
    expect(await station.stop()).to.include({total: 0})
    expect(reports).to.deep.equal([])
  })

  it('a missed hot-plug event: the re-scan finds the device', async () => {
    const {reportOf, station, usb} = setup({}, [], {deaf: true})
    await station.start()
    usb.addDevice(spec(1))
    expect((await reportOf(id(1))).changed).to.equal(true)
    await station.stop()
  })

  it('a device still plugged in is never forgotten, however many others pass (the re-scan keeps it fresh)', async () => {
    const {nextListing, reportOf, reports, station, usb} = setup({memory: 3}, [spec(1)])
    await station.start()
    await reportOf(id(1))
    for (let n = 2; n <= 12; n++) {
      usb.addDevice(spec(n))
      await reportOf(id(n))
      usb.removeDevice(id(n))
      await nextListing() // a re-scan: device 1 is seen again
      expect(station.remembered).to.be.at.most(3)
    }
    expect(reports.filter((r) => r.id === id(1))).to.have.length(1)
    await station.stop()
  })

  it('failures: counted and listed, the first one decides the exit status, not retried by a re-scan', async () => {
    const {nextListing, reportOf, repeats, reports, station, usb} = setup({}, [spec(1, {faults: {dfuWriteError: true}, mode: 'dfu'})])
    await station.start()
    expect((await reportOf(id(1))).error!.code).to.equal('SETUP_FLAG_DFU')
    usb.addDevice(spec(2, {faults: {accessDenied: true}}))
    expect((await reportOf(id(2))).error!.exit).to.equal(5)
    await nextListing() // still plugged in: a re-scan sees both again and tries neither
    expect(reports).to.have.length(2)
    expect(repeats).to.deep.equal([])
    // The first failure decides: a DFU write that did not take is exit 8 (then 5 for the permission).
    const summary = await station.stop()
    expect(summary).to.deep.include({exit: 8, failed: 2, fixed: 0, interrupted: 0, total: 2, unchanged: 0})
    expect(summary.failures.map((f) => [f.id, f.code])).to.deep.equal([[id(1), 'SETUP_FLAG_DFU'], [id(2), 'SETUP_FLAG_USB_ACCESS']])
  })

  it('a failed device plugged in again is tried again (and no longer counts as failed once fixed)', async () => {
    const {nextReportOf, reportOf, station, usb} = setup({}, [spec(1, {faults: {dfuWriteError: true}, mode: 'dfu'})])
    await station.start()
    expect((await reportOf(id(1))).error!.code).to.equal('SETUP_FLAG_DFU')
    const second = nextReportOf(id(1))
    usb.removeDevice(id(1))
    usb.addDevice(spec(1, {mode: 'dfu'})) // the operator replugs it (here: the fault is gone)
    expect((await second).error).to.equal(undefined)
    expect(await station.stop()).to.deep.equal({exit: 0, failed: 0, failures: [], fixed: 1, interrupted: 0, total: 1, unchanged: 0})
  })

  it('stop() lets the devices in flight finish; stop({force: true}) returns at once and counts them as interrupted', async () => {
    const a = setup({set: {done: true, dryRun: false, force: false, method: 'dfu', timeoutMs: 10_000}}, [spec(1, {mode: 'normal'})])
    await a.station.start()
    expect(a.station.busy).to.equal(1)
    expect(await a.station.stop()).to.include({fixed: 1, interrupted: 0, total: 1})
    expect(a.reports).to.have.length(1)

    const b = setup({set: {done: true, dryRun: false, force: false, method: 'dfu', timeoutMs: 10_000}}, [spec(1, {mode: 'normal'})])
    await b.station.start()
    expect(await b.station.stop({force: true})).to.deep.equal({exit: 130, failed: 0, failures: [], fixed: 0, interrupted: 1, total: 1, unchanged: 0})
    b.usb.addDevice(spec(2))
    expect(b.station.busy).to.equal(1) // nothing new is taken on after a stop
  })
})
