/**
 * Which connected devices a command means, from its DEVICE arguments: 24-hex device IDs, or cloud device
 * names (resolved with one request for one name, one `GET /v1/devices` for several), as `particle usb` does.
 */
import type {Cloud} from '../cloud/cloud.js'

import {errors, type OfflineBy} from '../errors.js'
import {type UsbBackend} from '../usb/backend.js'
import {DEVICE_ID_PATTERN, findParticleDevices, type FoundDevice} from '../usb/discovery.js'

export interface DeviceArg {
  /** What the user typed. */
  arg: string
  /** Lowercase device ID when the argument is one. */
  id?: string
  /** Device name, to resolve through the cloud. */
  name?: string
}

const NAME_PATTERN = /^[\w-]{1,64}$/

/** Validate DEVICE arguments before touching USB or the cloud, so bad input fails fast (exit 2). */
export function parseDeviceArgs(args: string[]): DeviceArg[] {
  return args.map((arg) => {
    const s = arg.trim()
    if (DEVICE_ID_PATTERN.test(s)) return {arg, id: s.toLowerCase()}
    // Something that looks like a mistyped ID is reported as such rather than sent to the cloud as a name.
    // (Hex digits only, with a digit among them, and 8 or more: a short or long ID, never sent to the cloud.)
    if ((/^[\da-f]{8,}$/i.test(s) && /\d/.test(s)) || !NAME_PATTERN.test(s)) throw errors.badDeviceId(arg)
    return {arg, name: s}
  })
}

/** Resolve names to IDs through the cloud. */
export async function resolveDeviceArgs(args: DeviceArg[], cloud: Cloud, offlineBy: OfflineBy = 'flag'): Promise<Map<string, string>> {
  const names = args.filter((a) => a.name).map((a) => a.name!)
  const resolved = new Map<string, string>()
  if (names.length === 0) return resolved
  if (!cloud.settings.accessToken) throw errors.notLoggedIn(names[0])
  if (cloud.settings.offline) throw errors.offline({name: names[0]}, offlineBy)
  if (names.length === 1) {
    resolved.set(names[0], (await cloud.device(names[0])).id)
    return resolved
  }
  const list = await cloud.devices()
  for (const name of names) {
    const d = list.find((x) => x.name?.toLowerCase() === name.toLowerCase())
    if (!d) throw errors.cloudDeviceNotFound(name)
    resolved.set(name, d.id)
  }
  return resolved
}

/**
 * The devices meant: every connected one when no argument is given, else exactly those (each must be
 * connected). Duplicates are taken once. With `online`, a named device that is not on USB but online in the
 * cloud is said to be so (the firmware method can fix it from here).
 */
export async function selectDevices(backend: UsbBackend, args: DeviceArg[], cloud?: Cloud, o: {offlineBy?: OfflineBy; online?: boolean} = {}): Promise<FoundDevice[]> {
  const names = cloud ? await resolveDeviceArgs(args, cloud, o.offlineBy) : new Map<string, string>()
  const all = await findParticleDevices(backend)
  if (args.length === 0) {
    if (all.length === 0) throw errors.noDevices()
    return all
  }
  const chosen = new Map<string, FoundDevice>()
  for (const a of args) {
    const id = a.id ?? names.get(a.name!)
    if (!id) throw errors.notLoggedIn(a.arg)
    const d = all.find((x) => x.id === id)
    if (!d) throw errors.notConnected({id, name: a.name, online: o.online && cloud?.usable ? await isOnline(cloud, a.name ?? id) : false})
    chosen.set(id, d)
  }
  return [...chosen.values()]
}

async function isOnline(cloud: Cloud, who: string): Promise<boolean> {
  const d = await cloud.device(who).catch(() => undefined)
  return Boolean(d && (d.online || d.connected))
}
