/**
 * The virtual cloud's fixture (PARTICLE_VIRTUAL_CLOUD): devices with names, platforms, versions and online state,
 * products with pages, events, read and checked (a problem is named by its path), and the server started from it.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {basename, join} from 'node:path'

import {virtualErrors} from '../virtual-errors.js'
import {platformByName} from '../particle/platforms.js'
import {VirtualCloud, type VirtualCloudDevice} from './virtual.js'

// --- Fixtures: PARTICLE_VIRTUAL_CLOUD ---------------------------------------------------------------------------

/** One device of a fixture, in the words of the virtual devices file (platform by name, deviceOs). */
export interface VirtualCloudFixtureDevice {
  development?: boolean
  deviceOs?: string
  id: string
  lastHandshake?: string
  lastHeard?: string
  name?: null | string
  online?: boolean
  /** A platform name of @particle/device-constants (argon, boron, bsom, p2, xenon...). */
  platform?: string
  /** Instead of `platform`: the platform ID as the cloud reports it (also one no name is known for). */
  platformId?: number
}

export interface VirtualCloudFixture {
  /** The devices of your account (`GET /v1/devices`, and lookups by ID or name). */
  devices?: VirtualCloudFixtureDevice[]
  /** Sent by an account device once a command listens to its events (see `ScheduledEvent`). */
  events?: Array<{afterSeconds?: number; data?: string; device: string; name: string}>
  /** Products: `GET /v1/products/<id or slug>/devices`, page by page. */
  products?: Array<{devices: VirtualCloudFixtureDevice[]; id: number; slug: string}>
  /** Whether a device flashed with the preparatory firmware reports back (default true). */
  reports?: boolean
}

/** PARTICLE_VIRTUAL_CLOUD: a fixture file, or the name of one of this package's examples. */
export const VIRTUAL_CLOUD_ENV = 'PARTICLE_VIRTUAL_CLOUD'

const ID = /^[\da-f]{24}$/i
const FIXTURE_KEYS = ['devices', 'events', 'products', 'reports']
const DEVICE_KEYS = ['development', 'deviceOs', 'id', 'lastHandshake', 'lastHeard', 'name', 'online', 'platform', 'platformId']

class FixtureProblem extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function onlyKeys(v: Record<string, unknown>, keys: string[], where: string): void {
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw new FixtureProblem(`${where} has an unknown key "${k}" (known keys: ${keys.join(', ')})`)
  }
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) throw new FixtureProblem(`${where} must be a list`)
  return v
}

function fixtureDevice(v: unknown, where: string): VirtualCloudDevice {
  if (!isObject(v)) throw new FixtureProblem(`${where} must be an object`)
  onlyKeys(v, DEVICE_KEYS, where)
  if (typeof v.id !== 'string' || !ID.test(v.id)) throw new FixtureProblem(`${where}.id must be 24 hex digits`)
  let platformId: number
  if (v.platform !== undefined) {
    const p = typeof v.platform === 'string' ? platformByName(v.platform) : undefined
    if (!p) throw new FixtureProblem(`${where}.platform must be a platform name such as "argon", "boron", "bsom", "p2" or "xenon"`)
    platformId = p.id
  } else if (Number.isInteger(v.platformId)) {
    platformId = v.platformId as number
  } else {
    throw new FixtureProblem(`${where} needs "platform" (a name) or "platformId" (a number)`)
  }
  const text = (key: string) => {
    const x = v[key]
    if (x !== undefined && typeof x !== 'string') throw new FixtureProblem(`${where}.${key} must be a string`)
    return x as string | undefined
  }
  const flag = (key: string) => {
    const x = v[key]
    if (x !== undefined && typeof x !== 'boolean') throw new FixtureProblem(`${where}.${key} must be true or false`)
    return x as boolean | undefined
  }
  if (v.name !== undefined && v.name !== null && typeof v.name !== 'string') throw new FixtureProblem(`${where}.name must be a string or null`)
  return {
    connected: flag('online') ?? false,
    development: flag('development'),
    id: v.id.toLowerCase(),
    last_handshake_at: text('lastHandshake'),
    last_heard: text('lastHeard'),
    name: (v.name as null | string | undefined) ?? null,
    platform_id: platformId,
    system_firmware_version: text('deviceOs'),
  }
}

/** Check a fixture and build the cloud it describes (not started). Throws FixtureProblem with the path. */
export function cloudFromFixture(doc: unknown): VirtualCloud {
  if (!isObject(doc)) throw new FixtureProblem('the document must be an object: {"devices": [...], "products": [...], "events": [...]}')
  onlyKeys(doc, FIXTURE_KEYS, 'the document')
  const cloud = new VirtualCloud()
  cloud.devices = list(doc.devices, 'devices').map((d, i) => fixtureDevice(d, `devices[${i}]`))
  for (const [i, p] of list(doc.products, 'products').entries()) {
    const where = `products[${i}]`
    if (!isObject(p)) throw new FixtureProblem(`${where} must be an object`)
    onlyKeys(p, ['devices', 'id', 'slug'], where)
    if (!Number.isInteger(p.id)) throw new FixtureProblem(`${where}.id must be a number (the product ID)`)
    if (typeof p.slug !== 'string' || p.slug === '') throw new FixtureProblem(`${where}.slug must be a text (the product's slug)`)
    cloud.products.push({devices: list(p.devices, `${where}.devices`).map((d, j) => fixtureDevice(d, `${where}.devices[${j}]`)), id: p.id as number, slug: p.slug})
  }
  for (const [i, e] of list(doc.events, 'events').entries()) {
    const where = `events[${i}]`
    if (!isObject(e)) throw new FixtureProblem(`${where} must be an object`)
    onlyKeys(e, ['afterSeconds', 'data', 'device', 'name'], where)
    const key = e.device
    const device = typeof key === 'string' ? cloud.devices.find((d) => d.id === key.toLowerCase() || d.name === key) : undefined
    if (!device) throw new FixtureProblem(`${where}.device must be the ID or name of one of "devices"`)
    if (typeof e.name !== 'string' || e.name === '') throw new FixtureProblem(`${where}.name must be an event name, e.g. "spark/status"`)
    if (e.data !== undefined && typeof e.data !== 'string') throw new FixtureProblem(`${where}.data must be a string`)
    const after = e.afterSeconds ?? 0
    if (typeof after !== 'number' || !(after >= 0 && after <= 3600)) throw new FixtureProblem(`${where}.afterSeconds must be a number of seconds from 0 to 3600`)
    cloud.scheduled.push({afterSeconds: after, data: (e.data as string | undefined) ?? '', device: device.id, name: e.name})
  }
  if (doc.reports !== undefined && typeof doc.reports !== 'boolean') throw new FixtureProblem('reports must be true or false')
  cloud.reports = doc.reports ?? true
  return cloud
}

/** The bundled fixtures (examples/*.json that are virtual clouds), by bare name. */
export function bundledClouds(examples: string | undefined): string[] {
  if (!examples || !existsSync(examples)) return []
  return readdirSync(examples)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => {
      try {
        cloudFromFixture(JSON.parse(readFileSync(join(examples, f), 'utf8')))
        return true
      } catch {
        return false
      }
    })
    .map((f) => basename(f, '.json'))
    .sort()
}

/**
 * PARTICLE_VIRTUAL_CLOUD's value as a file: a path that exists as given, else a bare name (`fleet` or
 * `fleet.json`) of a bundled example in `examples`. Undefined when it is neither.
 */
export function resolveVirtualCloud(value: string, examples: string | undefined): string | undefined {
  if (existsSync(value)) return value
  if (!examples || /[\\/]/.test(value)) return undefined
  const file = join(examples, value.endsWith('.json') ? value : `${value}.json`)
  return existsSync(file) ? file : undefined
}

/**
 * Start the virtual cloud PARTICLE_VIRTUAL_CLOUD names (`value`: a file, or a bundled example's name in
 * `examples`) for this process; it never keeps the process alive, and accepts exactly `token`.
 */
export async function startVirtualCloud(spec: {examples?: string; value: string}, token: string): Promise<VirtualCloud> {
  const file = resolveVirtualCloud(spec.value, spec.examples)
  if (!file) {
    const names = bundledClouds(spec.examples)
    throw virtualErrors.virtualCloud(spec.value, `no such file, and no bundled example by that name${names.length > 0 ? ` (bundled: ${names.join(', ')})` : ''}`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw virtualErrors.virtualCloud(file, error instanceof SyntaxError ? `not valid JSON (${error.message})` : String((error as Error).message), error)
  }
  let cloud: VirtualCloud
  try {
    cloud = cloudFromFixture(doc)
  } catch (error) {
    if (!(error instanceof FixtureProblem)) throw error
    const devicesFile = isObject(doc) && Array.isArray(doc.devices) && doc.devices.some((d) => isObject(d) && 'mode' in d)
    throw virtualErrors.virtualCloud(file, `${error.message}${devicesFile ? ' (a virtual devices file? that one is for PARTICLE_VIRTUAL_DEVICES)' : ''}`)
  }
  cloud.token = token
  return cloud.start({unref: true})
}
