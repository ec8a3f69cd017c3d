/** Which connected devices a command means, from its DEVICE arguments (IDs; names come through the cloud). */
import {errors} from '../errors.js'
import {type UsbBackend} from '../usb/backend.js'
import {DEVICE_ID_PATTERN, findParticleDevices, type FoundDevice} from '../usb/discovery.js'

/** Validate and normalise DEVICE arguments before touching USB, so bad input fails fast (exit 2). */
export function parseDeviceArgs(args: string[]): string[] {
  return args.map((a) => {
    const id = a.trim()
    if (!DEVICE_ID_PATTERN.test(id)) throw errors.badDeviceId(a)
    return id.toLowerCase()
  })
}

/**
 * The devices meant: every connected one when no ID is given, else exactly those IDs (each must be connected).
 * Duplicated IDs are taken once.
 */
export async function selectDevices(backend: UsbBackend, ids: string[]): Promise<FoundDevice[]> {
  const all = await findParticleDevices(backend)
  if (ids.length === 0) {
    if (all.length === 0) throw errors.noDevices()
    return all
  }
  const chosen: FoundDevice[] = []
  for (const id of new Set(ids)) {
    const d = all.find((x) => x.id === id)
    if (!d) throw errors.notConnected(id)
    chosen.push(d)
  }
  return chosen
}
