/**
 * Validation and normalisation of device specs, shared by createVirtualUsb() and the devices file. Every problem
 * is reported as a short, precise sentence naming the offending path ("devices[2].id must be 24 hex digits"), so
 * a person editing a devices file by hand knows exactly what to fix.
 */
import {platformByName} from '../particle/platforms.js'
import {compareVersions, parseVersion} from '../particle/versions.js'
import {atLeast} from './rules.js'
import {FAULT_NAMES, VIRTUAL_MODES, type VirtualDeviceSpec, type VirtualFaults, type VirtualMode} from './types.js'

/** A spec or document that cannot be used; `message` is the problem alone. */
export class SpecProblem extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SpecProblem'
  }
}

const DEVICE_KEYS = ['id', 'name', 'platform', 'deviceOs', 'mode', 'listening', 'setupDone', 'cloudDisconnected', 'downgradedFrom', 'serial', 'unplugged', 'presses', 'faults']
const ID = /^[\da-f]{24}$/i

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const quoteList = (xs: readonly string[]) => xs.map((x) => `"${x}"`).join(', ')

function checkFaults(v: unknown, where: string): VirtualFaults {
  if (!isObject(v)) throw new SpecProblem(`${where} must be an object of faults`)
  const faults: VirtualFaults = {}
  for (const [key, value] of Object.entries(v)) {
    const at = `${where}.${key}`
    switch (key) {
      case 'blockedSystemThread': {
        if (typeof value !== 'boolean' && value !== 'app' && value !== 'connecting') {
          throw new SpecProblem(`${at} must be true, false, "app" or "connecting"`)
        }
        faults.blockedSystemThread = value
        break
      }
      case 'busy':
      case 'unplugAfterTransfers': {
        if (!Number.isInteger(value) || (value as number) < 0) throw new SpecProblem(`${at} must be a whole number (0 or more)`)
        faults[key] = value as number
        break
      }
      case 'usbError': {
        const calls = ['claimInterface', 'controlTransfer', 'open']
        if (!isObject(value) || Object.entries(value).some(([k, t]) => !calls.includes(k) || typeof t !== 'string' || t === '')) {
          throw new SpecProblem(`${at} must be an object of error texts for ${quoteList(calls)}`)
        }
        faults.usbError = {...(value as Record<string, string>)}
        break
      }
      case 'accessDenied':
      case 'claimForControl':
      case 'dfuWriteError':
      case 'noSystemPart':
      case 'protected':
      case 'stallControl': {
        if (typeof value !== 'boolean') throw new SpecProblem(`${at} must be true or false`)
        faults[key] = value
        break
      }
      default: {
        throw new SpecProblem(`${where} has an unknown fault "${key}" (known faults: ${quoteList(FAULT_NAMES)})`)
      }
    }
  }
  return faults
}

/** Check one device; returns a normalised copy (lowercase id, copied faults). */
export function checkDeviceSpec(v: unknown, where: string): VirtualDeviceSpec {
  if (!isObject(v)) throw new SpecProblem(`${where} must be an object`)
  for (const key of Object.keys(v)) {
    if (!DEVICE_KEYS.includes(key)) throw new SpecProblem(`${where} has an unknown key "${key}" (known keys: ${quoteList(DEVICE_KEYS)})`)
  }
  if (typeof v.id !== 'string' || !ID.test(v.id)) throw new SpecProblem(`${where}.id must be 24 hex digits`)
  if (typeof v.platform !== 'string') throw new SpecProblem(`${where}.platform must be a platform name such as "argon"`)
  const platform = platformByName(v.platform)
  if (!platform) throw new SpecProblem(`${where}.platform: unknown platform "${v.platform}"`)
  if (!['gen2', 'nrf52840', 'realtek'].includes(platform.family) || !platform.productId || !platform.dfuProductId) {
    throw new SpecProblem(
      `${where}.platform: platform "${platform.name}" is not simulated (only Gen2, Gen3 nRF52840 and Realtek platforms are)`,
    )
  }
  const version = typeof v.deviceOs === 'string' ? parseVersion(v.deviceOs) : undefined
  if (!version) throw new SpecProblem(`${where}.deviceOs must be a Device OS version such as "3.3.1"`)
  if (typeof v.mode !== 'string' || !VIRTUAL_MODES.includes(v.mode as VirtualMode)) {
    throw new SpecProblem(`${where}.mode must be one of ${quoteList(VIRTUAL_MODES)}`)
  }
  if (!Number.isInteger(v.setupDone) || (v.setupDone as number) < 0 || (v.setupDone as number) > 255) {
    throw new SpecProblem(`${where}.setupDone must be an integer 0-255`)
  }
  if (v.listening !== undefined && typeof v.listening !== 'boolean') throw new SpecProblem(`${where}.listening must be true or false`)
  if (v.name !== undefined && typeof v.name !== 'string') throw new SpecProblem(`${where}.name must be a string`)
  if (v.downgradedFrom !== undefined) {
    const from = typeof v.downgradedFrom === 'string' ? parseVersion(v.downgradedFrom) : undefined
    if (!from || compareVersions(from, version) <= 0) throw new SpecProblem(`${where}.downgradedFrom must be a Device OS version newer than deviceOs`)
  }
  if (v.cloudDisconnected !== undefined && typeof v.cloudDisconnected !== 'boolean') {
    throw new SpecProblem(`${where}.cloudDisconnected must be true or false`)
  }
  if (v.serial !== undefined && typeof v.serial !== 'boolean') throw new SpecProblem(`${where}.serial must be true or false`)
  if (v.unplugged !== undefined && typeof v.unplugged !== 'boolean') throw new SpecProblem(`${where}.unplugged must be true or false`)
  if (v.presses !== undefined && (!Number.isSafeInteger(v.presses) || (v.presses as number) < 0)) throw new SpecProblem(`${where}.presses must be a whole number (0 or more)`)
  const faults = v.faults === undefined ? undefined : checkFaults(v.faults, `${where}.faults`)
  if (faults?.protected && !atLeast(version, '6.0.0')) {
    throw new SpecProblem(`${where}.faults.protected needs deviceOs 6.0.0 or later (Device Protection does not exist before)`)
  }
  const spec: VirtualDeviceSpec = {
    deviceOs: v.deviceOs as string,
    id: v.id.toLowerCase(),
    mode: v.mode as VirtualMode,
    platform: platform.name,
    setupDone: v.setupDone as number,
  }
  if (faults) spec.faults = faults
  if (v.listening !== undefined) spec.listening = v.listening
  if (v.name !== undefined) spec.name = v.name
  if (v.cloudDisconnected === true) spec.cloudDisconnected = true
  if (v.downgradedFrom !== undefined) spec.downgradedFrom = v.downgradedFrom as string
  if (v.serial === true) spec.serial = true
  if (v.unplugged === true) spec.unplugged = true
  if (typeof v.presses === 'number' && v.presses > 0) spec.presses = v.presses
  return spec
}

/** Check a list of devices (ids must be unique). `where` names the list, e.g. "devices". */
export function checkDeviceList(v: unknown, where = 'devices'): VirtualDeviceSpec[] {
  if (!Array.isArray(v)) throw new SpecProblem(`"${where}" must be an array`)
  const seen = new Map<string, number>()
  return v.map((d, i) => {
    const spec = checkDeviceSpec(d, `${where}[${i}]`)
    const first = seen.get(spec.id)
    if (first !== undefined) throw new SpecProblem(`${where}[${i}].id duplicates ${where}[${first}].id`)
    seen.set(spec.id, i)
    return spec
  })
}

/** Check a whole devices document: an object with a "devices" array (other top-level keys are kept by the caller). */
export function checkDevicesDocument(json: unknown): VirtualDeviceSpec[] {
  if (!isObject(json)) throw new SpecProblem('the top level must be a JSON object with a "devices" array')
  if (!('devices' in json)) throw new SpecProblem('the top level has no "devices" array')
  return checkDeviceList(json.devices)
}
