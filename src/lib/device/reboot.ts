/**
 * Mode changes are re-enumerations: the device resets, its USBDevice goes away, and a new one appears with the
 * same serial number and (for DFU) another product ID. We wait for that new object on the bus's events.
 */
import type {Clock} from '../clock.js'
import type {UsbBackend} from '../usb/backend.js'
import {type FoundDevice, sameEnumeration} from '../usb/discovery.js'

import {errors} from '../errors.js'
import {DFU_BY_HAND} from '../instructions.js'
import {waitForDevice, WaitTimeout} from '../usb/wait.js'

export interface RebootWait {
  backend: UsbBackend
  clock: Clock
  onWaiting?: () => void
  timeoutMs: number
}

/**
 * Wait until device `id` is back as a new USB device in `mode` ('normal' also covers safe and listening,
 * which share the normal product ID).
 */
export async function waitForReturn(old: FoundDevice, mode: 'dfu' | 'normal', w: RebootWait, what: string): Promise<FoundDevice> {
  try {
    return await waitForDevice(w.backend, (d) => d.id === old.id && d.mode === mode && !sameEnumeration(d.usbDevice, old.usbDevice), {
      clock: w.clock,
      onWaiting: w.onWaiting,
      serialNumber: old.id,
      timeoutMs: w.timeoutMs,
    })
  } catch (error) {
    if (error instanceof WaitTimeout) {
      return Promise.reject(
        errors.noReturn(
          old.id,
          what,
          w.timeoutMs,
          mode === 'dfu'
            ? DFU_BY_HAND
            : 'Check the cable, tap RESET, and run the command again.',
        ),
      )
    }
    throw error
  }
}
