/**
 * Where devices come from: the real USB bus through the `usb` package's WebUSB implementation, or the
 * virtual bus when PARTICLE_VIRTUAL_DEVICES names a devices file. Decided once, in the composition root
 * (`../backends.ts`); everything below speaks only the W3C WebUSB `USB` interface.
 */
import {errors} from '../errors.js'
import {isAccessDenied, isNoUsbSubsystem} from './errors.js'

export interface UsbBackend {
  /** Stop watchers and timers so the process can exit. */
  close(): void
  /** Particle-relevant description for messages: where devices come from. */
  readonly description: string
  /** A virtual bus's devices file, as opened (a bundled example named bare is opened from its copy). */
  readonly file?: string
  /** The bundled example PARTICLE_VIRTUAL_DEVICES named by its bare name (`file` is then the copy runs share). */
  readonly example?: string
  readonly kind: 'usb' | 'virtual'
  readonly usb: USB
}

export const VIRTUAL_DEVICES_ENV = 'PARTICLE_VIRTUAL_DEVICES'

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
