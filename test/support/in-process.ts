/**
 * In-process runs of the library the commands use (setSetupFlag, readSetupFlag) on a virtual bus with a FakeClock:
 * fast and deterministic. Every bus made here is watched by the write guard: a test that leaves anything in
 * `usb.violations` (a write anywhere but DCT 8134 length 1, an erase, a write to internal or external flash) fails,
 * through the explicit check in `run*` and through a root-level afterEach as a safety net.
 */
import {expect} from 'chai'

import {FakeClock} from '../../src/lib/clock.js'
import {readSetupFlag, type FlagReport} from '../../src/lib/flag.js'
import {type Method, setSetupFlag, type SetReport} from '../../src/lib/flag.js'
import {type UsbBackend} from '../../src/lib/usb/backend.js'
import {findParticleDevices, type FoundDevice} from '../../src/lib/usb/discovery.js'
import {createVirtualUsb, type VirtualDeviceSpec, type VirtualTiming, type VirtualUsb} from '../../src/lib/virtual/index.js'

const watched = new Set<VirtualUsb>()

/** Fail unless no bus made through `guardedBus` recorded a write-guard violation. */
export function assertNoViolations(usb?: VirtualUsb): void {
  for (const bus of usb ? [usb] : watched) {
    expect(bus.violations, 'write guard (only DCT 8134, length 1, may ever be written)').to.deep.equal([])
  }
}

// Root-level hook (this module is imported by spec files, so it is registered on mocha's root suite once).
afterEach(function () {
  const buses = [...watched]
  watched.clear()
  for (const bus of buses) {
    bus.close()
    if (bus.violations.length > 0) {
      throw new Error(`write guard: ${this.currentTest?.fullTitle() ?? 'a test'} left violations: ${JSON.stringify(bus.violations)}`)
    }
  }
})

export interface Bus {
  backend: UsbBackend
  clock: FakeClock
  usb: VirtualUsb
}

export function guardedBus(devices: VirtualDeviceSpec[], timing?: Partial<VirtualTiming>): Bus {
  const clock = new FakeClock()
  const usb = createVirtualUsb({clock, devices, timing})
  watched.add(usb)
  return {backend: {close: () => usb.close(), description: 'virtual (test)', kind: 'virtual', usb}, clock, usb}
}

export async function findOne(bus: Bus, id: string): Promise<FoundDevice> {
  const found = (await findParticleDevices(bus.backend)).find((d) => d.id === id)
  if (!found) throw new Error(`device ${id} is not on the bus`)
  return found
}

export interface SetRun {
  report: SetReport
  /** The DCT byte afterwards (the device model's truth). */
  dct: number
}

export async function runSet(
  bus: Bus,
  id: string,
  opts: {done?: boolean; dryRun?: boolean; force?: boolean; method: Exclude<Method, 'firmware'>; timeoutMs?: number},
): Promise<SetRun> {
  const found = await findOne(bus, id)
  const report = await setSetupFlag(found, {
    backend: bus.backend,
    clock: bus.clock,
    done: opts.done ?? true,
    dryRun: opts.dryRun ?? false,
    force: opts.force ?? false,
    method: opts.method,
    timeoutMs: opts.timeoutMs ?? 10_000,
  })
  assertNoViolations(bus.usb)
  return {dct: bus.usb.device(id)!.setupDone, report}
}

export async function runGet(bus: Bus, id: string, timeoutMs = 10_000): Promise<{dct: number; report: FlagReport}> {
  const report = await readSetupFlag(await findOne(bus, id), {clock: bus.clock, timeoutMs})
  assertNoViolations(bus.usb)
  return {dct: bus.usb.device(id)!.setupDone, report}
}
