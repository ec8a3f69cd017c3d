/**
 * Mode changes are re-enumerations: the device resets, its USBDevice goes away, and a new one appears with the
 * same serial number and (for DFU) another product ID. We wait for that new object on the bus's events.
 */
import type {Clock} from '../clock.js'
import type {UsbBackend} from '../usb/backend.js'
import {type FoundDevice, sameEnumeration} from '../usb/discovery.js'

import {type Back, errors} from '../errors.js'
import {waitForDevice, WaitTimeout} from '../usb/wait.js'

export interface RebootWait {
  backend: UsbBackend
  /** What brings it back, for the message when it does not come: our own request (default), buttons, a replug. */
  by?: 'buttons' | 'replug' | 'request'
  clock: Clock
  onWaiting?: () => void
  signal?: AbortSignal
  timeoutMs: number
}

/**
 * Wait until device `id` is back as a new USB device in `mode` ('normal' also covers safe and listening,
 * which share the normal product ID).
 */
export async function waitForReturn(old: FoundDevice, mode: 'dfu' | 'normal', w: RebootWait, back: Back): Promise<FoundDevice> {
  try {
    return await waitForDevice(w.backend, (d) => d.id === old.id && d.mode === mode && !sameEnumeration(d.usbDevice, old.usbDevice), {
      clock: w.clock,
      onWaiting: w.onWaiting,
      signal: w.signal,
      serialNumber: old.id,
      timeoutMs: w.timeoutMs,
    })
  } catch (error) {
    if (error instanceof WaitTimeout) throw errors.noReturn({back, by: w.by ?? 'request', id: old.id, timeoutMs: w.timeoutMs})
    throw error
  }
}
