/**
 * Which connected devices a command means, from its DEVICE arguments: 24-hex device IDs, the first 6 or more hex
 * digits of a connected device's ID, or cloud device names (resolved with one request for one name, one
 * `GET /v1/devices` for several), as `particle usb` does. What names no connected device is answered at once, with
 * the devices that are connected, closest first (usb/nearby.ts).
 */
import type {Cloud} from '../cloud/cloud.js'

import {errorIs, errors, type Nearby, type OfflineBy} from '../errors.js'
import {type UsbBackend} from '../usb/backend.js'
import {DEVICE_ID_PATTERN, findParticleDevices, type FoundDevice} from '../usb/discovery.js'
import {nearby} from '../usb/nearby.js'

export interface DeviceArg {
  /** What the user typed. */
  arg: string
  /** Lowercase device ID when the argument is one. */
  id?: string
  /** Device name, to resolve through the cloud. */
  name?: string
  /** Lowercase hex digits that may start the ID of a connected device (6 to 23 of them). */
  prefix?: string
}

const NAME_PATTERN = /^[\w-]{1,64}$/

/**
 * The fewest hex digits taken as the start of an ID. Fewer could rarely tell devices apart (Gen3 device IDs share
 * their first digits, e00fce68 on most of them), and short words such as `a01` or `b2` are plausible cloud names.
 */
export const PREFIX_DIGITS = 6

/**
 * Validate DEVICE arguments before touching USB or the cloud, so bad input fails fast (exit 2). A word of hex digits
 * only is read as an ID, or as the start of one from 6 digits on; with a decimal digit among 8 or more it is never a
 * name (a mistyped ID is reported as such rather than sent to the cloud). A shorter hex word (`a01`) is a name.
 */
export function parseDeviceArgs(args: string[]): DeviceArg[] {
  return args.map((arg) => {
    const s = arg.trim()
    if (DEVICE_ID_PATTERN.test(s)) return {arg, id: s.toLowerCase()}
    const hex = /^[\da-f]+$/i.test(s)
    const idLike = hex && s.length >= 8 && /\d/.test(s)
    // The start of an ID; when no connected device's ID starts so, a word that may be a name is one (as before).
    if (hex && s.length >= PREFIX_DIGITS && s.length < 24) return idLike ? {arg, prefix: s.toLowerCase()} : {arg, name: s, prefix: s.toLowerCase()}
    if (idLike || !NAME_PATTERN.test(s)) throw errors.badDeviceId(arg)
    return {arg, name: s}
  })
}

/** The connected devices as candidates for what was typed, closest first; `names` from the cloud when known. */
export function nearbyFound(typed: string, all: readonly FoundDevice[], names?: ReadonlyMap<string, {name?: null | string}>): Promise<Nearby[]> {
  return nearby(typed, all.map((d) => ({dfu: d.mode === 'dfu', id: d.id, name: names?.get(d.id)?.name, platform: d.platform.displayName})))
}

/** Resolve names to IDs through the cloud; `near` lists the connected devices for a name that cannot be resolved. */
export async function resolveDeviceArgs(args: DeviceArg[], cloud: Cloud, offlineBy: OfflineBy = 'flag', near: (name: string) => Promise<Nearby[]> = async () => []): Promise<Map<string, string>> {
  const names = args.filter((a) => a.name).map((a) => a.name!)
  const resolved = new Map<string, string>()
  if (names.length === 0) return resolved
  if (!cloud.settings.accessToken) throw errors.notLoggedIn(names[0], await near(names[0]))
  if (cloud.settings.offline) throw errors.offline({name: names[0]}, offlineBy, await near(names[0]))
  if (names.length === 1) {
    const device = await cloud.device(names[0]).catch(async (error: unknown) => {
      throw errorIs.unknownDevice(error) ? errors.cloudDeviceNotFound(names[0], error, await near(names[0])) : error
    })
    resolved.set(names[0], device.id)
    return resolved
  }
  const list = await cloud.devices()
  for (const name of names) {
    const d = list.find((x) => x.name?.toLowerCase() === name.toLowerCase())
    if (!d) throw errors.cloudDeviceNotFound(name, undefined, await near(name))
    resolved.set(name, d.id)
  }
  return resolved
}

/**
 * The ID each argument means among the connected devices `all`: an ID as typed, the one connected device whose ID
 * starts with a prefix (several: refused with them), or a name's ID from the cloud.
 */
export async function resolveDeviceIds(args: DeviceArg[], all: readonly FoundDevice[], cloud?: Cloud, offlineBy?: OfflineBy): Promise<Map<DeviceArg, string>> {
  const ids = new Map<DeviceArg, string>()
  const byName: DeviceArg[] = []
  for (const a of args) {
    const matches = a.prefix ? all.filter((d) => d.id.startsWith(a.prefix!)) : []
    if (a.id) ids.set(a, a.id)
    else if (matches.length === 1) ids.set(a, matches[0].id)
    // eslint-disable-next-line no-await-in-loop
    else if (matches.length > 1) throw errors.ambiguousPrefix(a.arg, await nearbyFound(a.arg, matches))
    else if (a.name) byName.push(a)
    // eslint-disable-next-line no-await-in-loop
    else throw errors.badDeviceId(a.arg, {connected: await nearbyFound(a.arg, all), prefix: true})
  }
  if (byName.length === 0) return ids
  const near = (name: string) => nearbyFound(name, all)
  if (!cloud) throw errors.notLoggedIn(byName[0].arg, await near(byName[0].arg))
  const names = await resolveDeviceArgs(byName, cloud, offlineBy, near)
  for (const a of byName) ids.set(a, names.get(a.name!)!)
  return ids
}

/**
 * The devices meant: every connected one when no argument is given, else exactly those (each must be
 * connected). Duplicates are taken once. With `online`, a named device that is not on USB but online in the
 * cloud is said to be so (the firmware method can fix it from here).
 */
export async function selectDevices(backend: UsbBackend, args: DeviceArg[], cloud?: Cloud, o: {offlineBy?: OfflineBy; online?: boolean} = {}): Promise<FoundDevice[]> {
  const all = await findParticleDevices(backend)
  if (args.length === 0) {
    if (all.length === 0) throw errors.noDevices()
    return all
  }
  const ids = await resolveDeviceIds(args, all, cloud, o.offlineBy)
  const chosen = new Map<string, FoundDevice>()
  for (const a of args) {
    const id = ids.get(a)!
    const d = all.find((x) => x.id === id)
    // eslint-disable-next-line no-await-in-loop
    if (!d) throw errors.notConnected({connected: await connectedFor(a, all, cloud), id, name: a.name, online: o.online && cloud?.usable ? await isOnline(cloud, a.name ?? id) : false})
    chosen.set(id, d)
  }
  return [...chosen.values()]
}

/** The connected devices for a device that is not: named by the cloud too when the person typed a name. */
export async function connectedFor(a: DeviceArg, all: readonly FoundDevice[], cloud?: Cloud): Promise<Nearby[]> {
  const names = a.name && all.length > 0 && cloud?.usable ? await cloud.tryDevices(all.map((d) => d.id)) : undefined
  return nearbyFound(a.arg, all, names)
}

async function isOnline(cloud: Cloud, who: string): Promise<boolean> {
  const d = await cloud.device(who).catch(() => undefined)
  return Boolean(d && (d.online || d.connected))
}
