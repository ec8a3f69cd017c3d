/**
 * The composition root for devices: the real USB bus (the `usb` package's WebUSB) or the virtual bus when
 * PARTICLE_VIRTUAL_DEVICES names a devices file, chosen once where a command is set up. It sits above both `usb/`
 * and `virtual/`, so the transport never knows the simulator (docs/architecture.md). What it chose (and the file
 * the virtual bus opened) travels in the backend; nothing reads the variable again.
 */
import {setMaxListeners} from 'node:events'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Clock} from './clock.js'

import {errors} from './errors.js'
import {virtualErrors} from './virtual-errors.js'
import {type UsbBackend, VIRTUAL_DEVICES_ENV} from './usb/backend.js'

export async function openUsbBackend(env: NodeJS.ProcessEnv, clock: Clock, packageRoot: string): Promise<UsbBackend> {
  const chosen = await devicesFile(env[VIRTUAL_DEVICES_ENV], packageRoot)
  if (chosen) {
    const [{openVirtualUsbFile}, shared] = await Promise.all([import('./virtual/index.js'), chosen.example ? import('./virtual/shared-copy.js') : undefined])
    const copy = chosen.example && shared?.useSharedCopy(chosen.example.source, chosen.file)
    let usb: ReturnType<typeof openVirtualUsbFile>
    try {
      usb = openVirtualUsbFile(chosen.file, {clock, keepLog: false})
    } catch (error) {
      if (copy) copy.leave()
      throw error
    }
    setMaxListeners(0, usb)
    const close = () => {
      usb.close()
      if (copy) copy.leave()
    }
    return {close, description: `virtual devices from ${chosen.file}`, example: chosen.example?.name, file: chosen.file, kind: 'virtual', usb}
  }

  let mod: typeof import('usb')
  try {
    // `usb` is CommonJS: require() loads it in ~8 ms, where import() first scans every file it re-exports for
    // named exports (20-37 ms on the bench machine, on every run that touches real USB).
    mod = createRequire(import.meta.url)('usb') as typeof import('usb')
  } catch (error) {
    throw errors.noUsbSubsystem(error)
  }
  const usb = new mod.WebUSB({allowAllDevices: true})
  // One 'connect' listener per device waiting to come back: a hub restarting 10 or more at once is normal.
  setMaxListeners(0, usb as unknown as EventTarget)
  return {close() {}, description: 'USB', kind: 'usb', usb: usb as unknown as USB}
}

/**
 * The devices file PARTICLE_VIRTUAL_DEVICES names. It may name a bundled example by its bare name (`stuck-argon`,
 * or `stuck-argon.json`), so the hints work after `npm install` anywhere: a path that exists is used as given;
 * otherwise a bare name is looked up in this package's examples/ folder (a bare name that is none of them is
 * refused with their names, closest first). The virtual bus keeps device state in its file, so a bundled example is
 * used through a copy in the temporary folder (the installed package is never written), fresh unless another run
 * uses it now (virtual/shared-copy.ts): `example` says which, and where its copy is.
 */
export async function devicesFile(value: string | undefined, packageRoot: string): Promise<undefined | {example?: {name: string; source: string}; file: string}> {
  if (!value) return undefined
  if (/[\\/]/.test(value) || existsSync(value)) return {file: value}
  const name = value.endsWith('.json') ? value : `${value}.json`
  const source = join(packageRoot, 'examples', name)
  if (!existsSync(source)) throw virtualErrors.unknownExample(value, await bundledExamples(packageRoot, value))
  const file = join(tmpdir(), `particle-setup-flag-${process.getuid?.() ?? 'user'}-${name}`)
  return {example: {name: name.slice(0, -'.json'.length), source}, file}
}

/**
 * The devices file `virtual press` presses in: the one PARTICLE_VIRTUAL_DEVICES names, or for a bundled example the
 * copy the runs using it share; none in use is refused (a press on a fresh copy would be lost at the next run).
 */
export async function pressFile(env: NodeJS.ProcessEnv, packageRoot: string): Promise<string> {
  const chosen = await devicesFile(env[VIRTUAL_DEVICES_ENV], packageRoot)
  if (!chosen) throw virtualErrors.virtualPress({kind: 'not-virtual'})
  if (!chosen.example) return chosen.file
  const {runsUsing} = await import('./virtual/shared-copy.js')
  if (runsUsing(chosen.file).length === 0 || !existsSync(chosen.file)) throw virtualErrors.virtualPress({example: chosen.example.name, kind: 'example-unused'})
  return chosen.file
}

/** The bundled examples that are devices files (examples/ holds a virtual cloud too), closest first to `typed`. */
async function bundledExamples(packageRoot: string, typed: string): Promise<string[]> {
  const [{distance}, {checkDevicesDocument}] = await Promise.all([import('fastest-levenshtein'), import('./virtual/spec.js')])
  const folder = join(packageRoot, 'examples')
  const names = readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => {
      try {
        checkDevicesDocument(JSON.parse(readFileSync(join(folder, f), 'utf8')))
        return true
      } catch {
        return false
      }
    })
    .map((f) => f.slice(0, -'.json'.length))
    .sort()
  const t = typed.replace(/\.json$/, '').toLowerCase()
  // Array.prototype.sort is stable: equally close names stay in alphabetical order.
  return names.sort((a, b) => distance(t, a) - distance(t, b))
}
