/**
 * Where devices come from: the real USB bus through the `usb` package's WebUSB implementation, or the
 * virtual bus when PARTICLE_VIRTUAL_DEVICES names a devices file. Decided once, where a command is set up;
 * everything below speaks only the W3C WebUSB `USB` interface.
 */
import {setMaxListeners} from 'node:events'

import type {Clock} from '../clock.js'

import {errors} from '../errors.js'
import {isAccessDenied, isNoUsbSubsystem} from './errors.js'

export interface UsbBackend {
  /** Stop watchers and timers so the process can exit. */
  close(): void
  /** Particle-relevant description for messages: where devices come from. */
  readonly description: string
  readonly kind: 'usb' | 'virtual'
  readonly usb: USB
}

export const VIRTUAL_DEVICES_ENV = 'PARTICLE_VIRTUAL_DEVICES'

export async function openUsbBackend(env: NodeJS.ProcessEnv, clock: Clock): Promise<UsbBackend> {
  const file = env[VIRTUAL_DEVICES_ENV]
  if (file) {
    const {openVirtualUsbFile} = await import('../virtual/index.js')
    const usb = openVirtualUsbFile(file, {clock})
    setMaxListeners(0, usb)
    return {close: () => usb.close(), description: `virtual devices from ${file}`, kind: 'virtual', usb}
  }

  let mod: typeof import('usb')
  try {
    mod = await import('usb')
  } catch (error) {
    throw errors.noUsbSubsystem(error)
  }
  const usb = new mod.WebUSB({allowAllDevices: true})
  // One 'connect' listener per device waiting to come back: a hub restarting 10 or more at once is normal.
  setMaxListeners(0, usb as unknown as EventTarget)
  return {close() {}, description: 'USB', kind: 'usb', usb: usb as unknown as USB}
}

/** `usb.getDevices()` with the failures of a whole bus mapped to our errors. */
export async function listUsbDevices(backend: UsbBackend): Promise<USBDevice[]> {
  try {
    return await backend.usb.getDevices()
  } catch (error) {
    if (isNoUsbSubsystem(error)) throw errors.noUsbSubsystem(error)
    if (isAccessDenied(error)) throw errors.accessDenied(undefined, error)
    throw error
  }
}
