/** A virtual bus on a fake clock, as the in-process tests of the read and write paths use it. */
import {FakeClock} from '../../src/lib/clock.js'
import type {UsbBackend} from '../../src/lib/usb/backend.js'
import {type FoundDevice, findParticleDevices} from '../../src/lib/usb/discovery.js'
import {createVirtualUsb, type VirtualDeviceSpec, type VirtualUsb} from '../../src/lib/virtual/index.js'

export interface VirtualBackend {
  backend: UsbBackend
  clock: FakeClock
  usb: VirtualUsb
  /** The Particle devices on the bus now, as discovery finds them. */
  found(): Promise<FoundDevice[]>
}

export function virtualBackend(devices: VirtualDeviceSpec[]): VirtualBackend {
  const clock = new FakeClock()
  const usb = createVirtualUsb({clock, devices})
  const backend: UsbBackend = {close: () => usb.close(), description: 'virtual', kind: 'virtual', usb}
  return {backend, clock, found: () => findParticleDevices(backend), usb}
}
