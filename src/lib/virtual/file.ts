/**
 * The file-backed bus behind PARTICLE_VIRTUAL_DEVICES (design.md "The virtual device"). The file is the devices'
 * flash and state: every state change is written back atomically, so `set` then `get` in two processes agree;
 * and the file is re-read when it changes on disk (and on every getDevices()), so a test or a person "presses the
 * buttons" by editing a device's `mode`.
 */
import {type FSWatcher, readFileSync, renameSync, statSync, watch, writeFileSync} from 'node:fs'
import {basename, dirname} from 'node:path'

import type {Clock} from '../clock.js'
import {errors} from '../errors.js'
import {VirtualUsb} from './bus.js'
import {checkDevicesDocument, SpecProblem} from './spec.js'
import type {VirtualDeviceSpec, VirtualDevicesFile, VirtualTiming} from './types.js'

/** Validate a parsed devices document; throws the devices-file SetupFlagError naming the exact problem. */
export function validateDevicesFile(json: unknown, file: string): VirtualDevicesFile {
  try {
    return {devices: checkDevicesDocument(json)}
  } catch (error) {
    if (error instanceof SpecProblem) throw errors.devicesFile(file, error.message, error)
    throw error
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const problem = code === 'ENOENT' ? 'it does not exist' : `it cannot be read (${code ?? (error as Error).message})`
    throw errors.devicesFile(path, problem, error)
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw errors.devicesFile(path, `not valid JSON (${(error as Error).message})`, error)
  }
}

/** Read and validate a devices file. */
export function loadDevicesFile(path: string): VirtualDevicesFile {
  return validateDevicesFile(parseJson(readText(path), path), path)
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

/** The bus of openVirtualUsbFile(): a VirtualUsb that keeps a devices file and its own state in step. */
class FileVirtualUsb extends VirtualUsb {
  private readonly base: string
  private watcher: FSWatcher | undefined
  /** The parsed document as last read or written: its unknown top-level keys and their order are preserved. */
  private document: Record<string, unknown>
  /** The devices as the file last described them; edits are detected against this. */
  private fileSpecs: Map<string, VirtualDeviceSpec>
  /** The "violations" array as the file holds it (earlier processes' included: damage is never forgotten). */
  private fileViolations: unknown[]
  /** How many of this bus's violations are already in fileViolations. */
  private reported = 0
  /** Inside apply(): one write at the end instead of one per change. */
  private applying = false
  private lastWritten: string | undefined
  private lastSeen: {mtimeMs: number; size: number} | undefined
  private closed = false

  constructor(
    private readonly path: string,
    text: string,
    options: {clock?: Clock; timing?: Partial<VirtualTiming>},
  ) {
    const json = parseJson(text, path)
    const {devices} = validateDevicesFile(json, path)
    super({clock: options.clock, devices, timing: options.timing})
    this.base = basename(path)
    this.document = json as Record<string, unknown>
    this.fileSpecs = new Map(devices.map((d) => [d.id, d]))
    this.fileViolations = Array.isArray(this.document.violations) ? this.document.violations : []
    this.lastSeen = this.stat()
    this.lastWritten = text
    this.onStateChange(() => this.writeBack())
    this.watch()
  }

  override async getDevices(): Promise<USBDevice[]> {
    this.reread()
    return super.getDevices()
  }

  override close(): void {
    super.close() // may settle a pending reset, which writes the file
    this.closed = true
    this.watcher?.close()
    this.watcher = undefined
  }

  private stat(): {mtimeMs: number; size: number} | undefined {
    try {
      const s = statSync(this.path)
      return {mtimeMs: s.mtimeMs, size: s.size}
    } catch {
      return undefined
    }
  }

  private watch(): void {
    try {
      // The parent directory, because an atomic rename replaces the file's inode (a watch on the file would go stale).
      this.watcher = watch(dirname(this.path), {persistent: false}, (_event, filename) => {
        if (filename === null || filename.toString() === this.base) this.reread()
      })
      this.watcher.on('error', () => {
        this.watcher?.close()
        this.watcher = undefined
      })
      this.watcher.unref()
    } catch {
      // No watcher support: getDevices() still re-reads.
    }
  }

  /** Pick up edits made by someone else. A half-written or invalid file is ignored until it is valid again. */
  private reread(): void {
    if (this.closed) return
    const seen = this.stat()
    if (!seen || (this.lastSeen && seen.mtimeMs === this.lastSeen.mtimeMs && seen.size === this.lastSeen.size)) return
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch {
      return
    }
    if (text === this.lastWritten) {
      this.lastSeen = seen
      return
    }
    let json: unknown
    let devices: VirtualDeviceSpec[]
    try {
      json = JSON.parse(text)
      devices = checkDevicesDocument(json)
    } catch {
      return // leave lastSeen alone so the next look tries again
    }
    this.lastSeen = seen
    this.lastWritten = text
    this.document = json as Record<string, unknown>
    this.fileViolations = Array.isArray(this.document.violations) ? this.document.violations : []
    this.apply(devices)
  }

  /** Turn the differences between the file and what it said before into plugs, unplugs and button presses. */
  private apply(devices: VirtualDeviceSpec[]): void {
    const before = this.fileSpecs
    const wanted = new Set(devices.map((d) => d.id))
    this.applying = true
    try {
      this.applyDevices(before, wanted, devices)
    } finally {
      this.applying = false
    }
    this.writeBack()
  }

  private applyDevices(before: Map<string, VirtualDeviceSpec>, wanted: Set<string>, devices: VirtualDeviceSpec[]): void {
    for (const id of before.keys()) if (!wanted.has(id) && this.device(id)) this.removeDevice(id)
    for (const spec of devices) {
      const model = this.device(spec.id)
      const old = before.get(spec.id) ?? model?.spec()
      if (!model || !old) {
        this.addDevice(spec)
        continue
      }
      if (old.platform !== spec.platform || old.deviceOs !== spec.deviceOs) {
        // Other hardware or other firmware: a different device as far as the bus is concerned.
        this.removeDevice(spec.id)
        this.addDevice(spec)
        continue
      }
      model.name = spec.name
      if (!sameJson(old.faults, spec.faults)) model.setFaults(spec.faults)
      if (old.setupDone !== spec.setupDone) model.setSetupDone(spec.setupDone)
      const listeningChanged = spec.mode === 'safe' && Boolean(old.listening) !== Boolean(spec.listening)
      if (old.mode !== spec.mode || listeningChanged) {
        this.setMode(spec.id, spec.mode, {listening: spec.mode === 'safe' ? spec.listening : undefined})
      }
    }
  }

  private serialize(violations: unknown[]): string {
    const devices = this.specs()
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(this.document)) {
      if (key === 'devices') out.devices = devices
      else if (key === 'violations') {
        if (violations.length > 0) out.violations = violations
      } else out[key] = value
    }
    out.devices = devices
    if (violations.length > 0) out.violations = violations
    return `${JSON.stringify(out, null, 2)}\n`
  }

  /** Atomic write-back: a temporary file beside it, then rename over it. */
  private writeBack(): void {
    if (this.applying) return
    const violations = [...this.fileViolations, ...this.violations.slice(this.reported)]
    const text = this.serialize(violations)
    this.fileViolations = violations
    this.reported = this.violations.length
    if (text === this.lastWritten) return
    const tmp = `${this.path}.${process.pid}.tmp`
    writeFileSync(tmp, text)
    renameSync(tmp, this.path)
    this.lastWritten = text
    this.lastSeen = this.stat()
    this.fileSpecs = new Map(this.specs().map((d) => [d.id, d]))
  }
}

/** A virtual bus backed by a devices file (PARTICLE_VIRTUAL_DEVICES). Throws the devices-file error if it is unusable. */
export function openVirtualUsbFile(path: string, options: {clock?: Clock; timing?: Partial<VirtualTiming>} = {}): VirtualUsb {
  return new FileVirtualUsb(path, readText(path), options)
}
