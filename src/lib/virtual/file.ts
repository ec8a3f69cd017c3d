/**
 * The file-backed bus behind PARTICLE_VIRTUAL_DEVICES. The file is the devices' flash and state: every state
 * change is written back atomically, so `set` then `get` in two processes agree; and the file is re-read when it
 * changes on disk (and on every getDevices()), so a test or a person "presses the buttons" by editing a device's
 * `mode`.
 *
 * Several processes may share one file (a station runs many `set`s at once): every writer takes the file's
 * advisory lock (`<file>.lock`) and merges only its own devices' changes into the file as it is on disk at that
 * moment, so nobody's update is lost. Symlinks are followed and the file's mode kept.
 */
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  type FSWatcher,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  watch,
  writeFileSync,
  writeSync,
} from 'node:fs'
import {createHash} from 'node:crypto'
import {basename, dirname} from 'node:path'

import type {Clock} from '../clock.js'
import {SetupFlagError} from '../errors.js'
import {virtualErrors} from '../virtual-errors.js'
import {VirtualUsb} from './bus.js'
import {checkDevicesDocument, SpecProblem} from './spec.js'
import type {VirtualDeviceSpec, VirtualDevicesFile, VirtualUsbOptions} from './types.js'

/** Validate a parsed devices document; throws the devices-file SetupFlagError naming the exact problem. */
export function validateDevicesFile(json: unknown, file: string): VirtualDevicesFile {
  try {
    return {devices: checkDevicesDocument(json)}
  } catch (error) {
    if (error instanceof SpecProblem) throw virtualErrors.devicesFile(file, error.message, error)
    throw error
  }
}

/** Larger than any devices file a person or a bench writes (10,000 devices take about 2 MB). */
const MAX_FILE_BYTES = 64 * 1024 * 1024

/**
 * Where a devices file really lives: a symlink is followed, so write-backs update its target (a rename over the
 * link would turn it into a plain file and leave the target behind).
 */
export function devicesFileTarget(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

function readText(path: string): string {
  let fd: number | undefined
  try {
    // Only a regular file of sane size: /dev/zero, a FIFO or a terminal would hang or fill memory.
    const s = statSync(path)
    if (!s.isFile()) throw virtualErrors.devicesFile(path, 'it is not a regular file (a device, FIFO or directory cannot hold devices)')
    if (s.size > MAX_FILE_BYTES) throw virtualErrors.devicesFile(path, `it is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`)
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
    return readFileSync(fd, 'utf8')
  } catch (error) {
    if (error instanceof SetupFlagError) throw error
    const code = (error as NodeJS.ErrnoException).code
    const problem = code === 'ENOENT' ? 'it does not exist' : `it cannot be read (${code ?? (error as Error).message})`
    throw virtualErrors.devicesFile(path, problem, error)
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

function parseJson(text: string, path: string): unknown {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw virtualErrors.devicesFile(path, `not valid JSON (${(error as Error).message})`, error)
  }
  if (deeperThan(json, MAX_DEPTH)) throw virtualErrors.devicesFile(path, `its arrays and objects nest more than ${MAX_DEPTH} levels deep (a devices file needs 4)`)
  return json
}

/**
 * How deep a devices file may nest. Its own shape needs 4 levels (document, devices, device, faults); unknown keys
 * are kept and written back, and writing back recurses (JSON.stringify), so a document nested thousands deep would
 * fail at the first write-back on the stack's size, long after it was read.
 */
const MAX_DEPTH = 64

/** Whether `value` nests arrays and objects more than `limit` deep (walked without recursion). */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (depth >= limit) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
  }
  return false
}

/** Read and validate a devices file. */
export function loadDevicesFile(path: string): VirtualDevicesFile {
  return validateDevicesFile(parseJson(readText(path), path), path)
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

// ---- the lock every writer takes -------------------------------------------------------------------------------

/** A lock older than this is a crashed writer's (a write-back holds it for milliseconds). */
const STALE_LOCK_MS = 10_000
/** How long a writer waits for another one before giving up with the write error. */
const LOCK_WAIT_MS = 30_000

const sleepArray = new Int32Array(new SharedArrayBuffer(4))
/** Write-backs are synchronous (they run inside state-change callbacks), so the wait for a lock is too. */
function sleepSync(ms: number): void {
  Atomics.wait(sleepArray, 0, 0, ms)
}

/** Whether a process runs (one of another user counts: it exists). */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function writeProblem(path: string, error: unknown): SetupFlagError {
  if (error instanceof SetupFlagError) return error
  const e = error as NodeJS.ErrnoException
  return virtualErrors.devicesFileWrite(path, e.code ? `${e.code}${e.syscall ? ` on ${e.syscall}` : ''}` : String(e.message ?? e), error)
}

/** Remove a lock whose writer is gone (its pid is dead, or it has held it far too long). */
function breakStaleLock(lock: string): void {
  let holder: number
  let age: number
  try {
    holder = Number.parseInt(readFileSync(lock, 'utf8'), 10)
    age = Date.now() - statSync(lock).mtimeMs
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return // released meanwhile
    throw error
  }
  // An empty lock is one being created (its pid not yet written): only age makes it stale.
  const dead = Number.isInteger(holder) && holder > 0 && !alive(holder)
  if (!dead && age < STALE_LOCK_MS) return
  try {
    unlinkSync(lock)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/**
 * Run `fn` holding the advisory lock of a devices file: `<file>.lock` beside the file's real target, created
 * exclusively and holding the writer's pid. Every writer of a devices file (the file bus, `updateDevicesFile`, a
 * gadget bridge) takes it, so read-merge-write sequences never interleave.
 */
export function withDevicesFileLock<R>(path: string, fn: () => R): R {
  const target = devicesFileTarget(path)
  const lock = `${target}.lock`
  const giveUp = Date.now() + LOCK_WAIT_MS
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o644)
      try {
        writeSync(fd, String(process.pid))
      } finally {
        closeSync(fd)
      }
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw writeProblem(target, error)
      try {
        breakStaleLock(lock)
      } catch (breakError) {
        throw writeProblem(target, breakError)
      }
      if (Date.now() > giveUp) throw virtualErrors.devicesFileWrite(target, `another process has held its lock ${lock} for ${LOCK_WAIT_MS / 1000} s`)
      sleepSync(Math.min(1 + attempt, 20) * (0.5 + Math.random()))
    }
  }
  try {
    return fn()
  } finally {
    try {
      unlinkSync(lock)
    } catch {
      // already broken by someone who thought us dead: nothing more to do
    }
  }
}

/**
 * Replace a devices file's content atomically (a temporary file beside its real target, then a rename), keeping
 * its permission bits and owner. Call it holding the lock: the temporary file's name is fixed. The text comes in
 * pieces, written as they come (one string of a 10,000-device file per write-back filled the old generation).
 * Returns the text's hash; false when the file changed since `basis` (merge again); with `same`, the hash of the
 * file's content now, an identical text is not written over it.
 */
function replaceFile(target: string, pieces: Iterable<string>, o: {basis?: string; same?: string} = {}): false | {hash: string; replaced: boolean} {
  const tmp = `${target}.tmp`
  let mode = 0o644
  let owner: {gid: number; uid: number} | undefined
  try {
    const s = statSync(target)
    mode = s.mode & 0o7777
    owner = {gid: s.gid, uid: s.uid}
  } catch {
    // a new file: the default mode
  }
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'w', mode)
    const hash = writePieces(fd, pieces)
    closeSync(fd)
    fd = undefined
    if (hash === o.same) {
      unlinkSync(tmp)
      return {hash, replaced: false}
    }
    chmodSync(tmp, mode) // the umask narrowed it
    if (owner && process.getuid?.() === 0 && (owner.uid !== 0 || owner.gid !== 0)) {
      try {
        chownSync(tmp, owner.uid, owner.gid)
      } catch {
        // not ours to give away: keep root's
      }
    }
    // A person adding devices (temporary file, then rename) takes no lock: if the file changed since it was read,
    // merge again rather than replace their edit.
    if (o.basis !== undefined && stamp(target) !== o.basis) {
      unlinkSync(tmp)
      return false
    }
    renameSync(tmp, target)
    return {hash, replaced: true}
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd)
      } catch {
        // already failing
      }
    }
    try {
      unlinkSync(tmp)
    } catch {
      // nothing was created
    }
    throw writeProblem(target, error)
  }
}

/** Write text pieces in batches of about 64 KB; returns the hash of what was written (textHash's). */
function writePieces(fd: number, pieces: Iterable<string>): string {
  const hash = createHash('sha1')
  let batch = ''
  const write = () => {
    const bytes = Buffer.from(batch)
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at)
    hash.update(bytes)
    batch = ''
  }
  for (const piece of pieces) {
    batch += piece
    if (batch.length >= 65_536) write()
  }
  if (batch) write()
  return hash.digest('hex')
}

/** What stands for a file's whole text in comparisons (the text itself is not kept). */
function textHash(text: string): string {
  return createHash('sha1').update(text).digest('hex')
}

/** What identifies one version of a file on disk: a rename or a rewrite changes it. */
function stamp(path: string): string {
  try {
    const s = statSync(path)
    return `${s.ino}:${s.mtimeMs}:${s.size}`
  } catch {
    return 'missing'
  }
}

/**
 * A document's text as written back: its keys in their order (devices and violations in their place), pretty,
 * exactly as `JSON.stringify(document, null, 2)`, in pieces: a device at a time for the devices and violations.
 */
function* documentPieces(document: Record<string, unknown>, devices: VirtualDeviceSpec[], violations: unknown[]): Generator<string> {
  const out: Record<string, unknown> = {}
  const put = (key: string, value: unknown) => {
    // defineProperty: a "__proto__" key of the document stays a key (an assignment would set the prototype)
    Object.defineProperty(out, key, {configurable: true, enumerable: true, value, writable: true})
  }
  for (const key of Object.keys(document)) {
    if (key === 'devices') put('devices', devices)
    else if (key === 'violations') {
      if (violations.length > 0) put('violations', violations)
    } else put(key, document[key])
  }
  if (!Object.hasOwn(out, 'devices')) put('devices', devices)
  if (violations.length > 0 && !Object.hasOwn(out, 'violations')) put('violations', violations)
  // JSON.stringify leaves out keys whose value it cannot show.
  const keys = Object.keys(out).filter((k) => out[k] !== undefined && typeof out[k] !== 'function' && typeof out[k] !== 'symbol')
  if (keys.length === 0) {
    yield '{}\n'
    return
  }
  const indented = (text: string, pad: string) => text.replaceAll('\n', `\n${pad}`)
  yield '{\n'
  for (const [i, key] of keys.entries()) {
    const value = out[key]
    yield `  ${JSON.stringify(key)}: `
    if (Array.isArray(value) && value.length > 0 && (value === devices || value === violations)) {
      yield '[\n'
      for (const [j, item] of value.entries()) {
        const text = JSON.stringify(item, null, 2) ?? 'null'
        yield `    ${indented(text, '    ')}${j < value.length - 1 ? ',' : ''}\n`
      }
      yield '  ]'
    } else yield indented(JSON.stringify(value, null, 2), '  ')
    yield i < keys.length - 1 ? ',\n' : '\n'
  }
  yield '}\n'
}

interface DiskDocument {
  devices: VirtualDeviceSpec[]
  stamp: string
  document: Record<string, unknown>
  /** textHash of the file's text. */
  hash: string
  violations: unknown[]
}

/** The file as it is on disk now, or undefined when it is missing or (half-written by hand) invalid. */
function readDisk(path: string): DiskDocument | undefined {
  let text: string
  const before = stamp(path)
  try {
    text = readText(path)
  } catch {
    return undefined
  }
  try {
    const json = JSON.parse(text) as Record<string, unknown>
    if (deeperThan(json, MAX_DEPTH)) return undefined
    const devices = checkDevicesDocument(json)
    return {devices, document: json, hash: textHash(text), stamp: before, violations: Array.isArray(json.violations) ? json.violations : []}
  } catch {
    return undefined
  }
}

/**
 * Change a devices file safely from any process: under its lock, `update` receives the devices as they are on
 * disk at that moment (and the whole document) and returns the devices to store (or nothing to keep them, after
 * changing them in place). The file is replaced atomically, symlinks followed and its mode kept. A problem
 * writing it is the devices-file write error naming the file. Returns what was written.
 */
export function updateDevicesFile(
  path: string,
  update: (devices: VirtualDeviceSpec[], document: Record<string, unknown>) => VirtualDeviceSpec[] | void,
): VirtualDevicesFile {
  const target = devicesFileTarget(path)
  return withDevicesFileLock(target, () => {
    const text = readText(target)
    const json = parseJson(text, target) as Record<string, unknown>
    const {devices} = validateDevicesFile(json, target)
    const wanted = update(devices, json) ?? devices
    const checked = validateDevicesFile({devices: wanted}, target).devices
    const violations = Array.isArray(json.violations) ? json.violations : []
    replaceFile(target, documentPieces(json, checked, violations), {same: textHash(text)})
    return {devices: checked}
  })
}

/**
 * Merge these devices' states into a devices file (replacing each by id, appending new ones), leaving every other
 * device as the file holds it now: what a writer that owns some devices calls to save them.
 */
export function saveDevices(path: string, specs: VirtualDeviceSpec[]): VirtualDevicesFile {
  return updateDevicesFile(path, (devices) => mergeSpecs(devices, new Map(specs.map((d) => [d.id.toLowerCase(), {...d, id: d.id.toLowerCase()}])), new Set()))
}

/**
 * The devices of a file with `changed` merged in: replaced in place by id (undefined: removed), new ones
 * appended unless `known` says the file had them once (someone removed them since: their removal stands).
 */
function mergeSpecs(disk: VirtualDeviceSpec[], changed: Map<string, VirtualDeviceSpec | undefined>, known: Set<string>): VirtualDeviceSpec[] {
  const merged: VirtualDeviceSpec[] = []
  const seen = new Set<string>()
  for (const d of disk) {
    seen.add(d.id)
    if (!changed.has(d.id)) merged.push(d)
    else {
      const mine = changed.get(d.id)
      if (mine) merged.push(mine)
    }
  }
  for (const [id, mine] of changed) if (mine && !seen.has(id) && !known.has(id)) merged.push(mine)
  return merged
}

/**
 * A device that hands pressed in another process since this one last read the file (its press count on disk is
 * higher) keeps what the file says: this process's change to it is dropped, and the press is acted out here.
 */
function handsWin(disk: VirtualDeviceSpec[], changed: Map<string, VirtualDeviceSpec | undefined>): void {
  if (changed.size === 0) return
  for (const d of disk) {
    const mine = d.presses ? changed.get(d.id) : undefined
    if (mine && d.presses! > (mine.presses ?? 0)) changed.delete(d.id)
  }
}

/** Buses with a write-back pending, flushed when the process exits. */
const pending = new Set<{flushNow(): void}>()
let exitHooked = false
function flushAtExit(bus: {flushNow(): void}): void {
  pending.add(bus)
  if (exitHooked) return
  exitHooked = true
  process.once('exit', () => {
    for (const b of [...pending]) b.flushNow()
  })
}

/**
 * Files with fewer devices are written back at every change (a person or test reading the file sees each change
 * at once). Bigger ones coalesce: after a write-back, the next waits FLUSH_BACKOFF times as long as it took, so
 * write-backs stay a fixed share of the run and 10,000 devices cost linear time, not a rewrite per change.
 */
const COALESCE_FROM_DEVICES = 100
/** After a slow write-back, the next one waits this many times as long as it took (coalescing what changes meanwhile). */
const FLUSH_BACKOFF = 10

/**
 * The bus of openVirtualUsbFile(): a VirtualUsb that keeps a devices file and its own state in step. Write-backs
 * merge this process's changes into the file as it is on disk at that moment, under the file's lock, so processes
 * sharing one file never lose each other's updates; others' changes found there are applied to this bus.
 */
class FileVirtualUsb extends VirtualUsb {
  private readonly base: string
  /** The file's real location (symlinks followed). */
  private readonly target: string
  private watcher: FSWatcher | undefined
  /** The parsed document as last read or written: its unknown top-level keys and their order are preserved. */
  private document: Record<string, unknown>
  /** The devices as the file last described them; this process's changes are the differences from these. */
  private fileSpecs: Map<string, VirtualDeviceSpec>
  /** Every device id the file has ever held while we watched (a device removed there stays removed). */
  private readonly everInFile = new Set<string>()
  /** The "violations" array as the file holds it (earlier processes' included: damage is never forgotten). */
  private fileViolations: unknown[]
  /** How many of this bus's violations are already in fileViolations. */
  private reported = 0
  /** Inside apply(): one write at the end instead of one per change. */
  private applying = false
  /** textHash of the text last written or read. */
  private lastWritten: string | undefined
  private lastSeen: {mtimeMs: number; size: number} | undefined
  /**
   * The file's stamp when it was last known to hold exactly lastWritten (this process wrote or read it): while it
   * still has that stamp, a write-back merges into the state in memory instead of reading and checking the whole
   * file again (over 10,000 devices that was most of a write-back's time and garbage).
   */
  private diskStamp: string | undefined
  private closed = false
  /** Coalescing: no write-back before this time (Date.now()); changes meanwhile wait for the timer. */
  private nextFlushAt = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  /** The last write-back failure: every later transfer and listing fails with it, naming the file. */
  private failure: SetupFlagError | undefined
  private readonly guarded = new WeakSet<USBDevice>()
  /** Each device's state (as JSON) when the bus was last in step with the file: changes are measured from it. */
  private snapshot = new Map<string, string>()
  /**
   * The devices whose state changed since the snapshot (`all`: any may have): only they are compared with it, so a
   * write-back does not turn every device of a 10,000-device file into JSON again.
   */
  private touched: 'all' | Set<string> = new Set()

  constructor(
    path: string,
    text: string,
    options: Omit<VirtualUsbOptions, 'devices'>,
  ) {
    const json = parseJson(text, path)
    const {devices} = validateDevicesFile(json, path)
    super({borrowRules: options.borrowRules, clock: options.clock, devices, keepLog: options.keepLog, timing: options.timing})
    this.target = devicesFileTarget(path)
    this.base = basename(this.target)
    this.document = json as Record<string, unknown>
    this.fileSpecs = new Map(devices.map((d) => [d.id, d]))
    for (const id of this.fileSpecs.keys()) this.everInFile.add(id)
    this.fileViolations = Array.isArray(this.document.violations) ? this.document.violations : []
    this.lastSeen = this.stat()
    this.lastWritten = textHash(text)
    this.takeSnapshot(undefined, true)
    this.onStateChange((id) => {
      if (id === undefined) this.touched = 'all'
      else if (this.touched !== 'all') this.touched.add(id)
      this.writeBack()
    })
    this.addEventListener('connect', (ev) => {
      if (this.failure) this.guard(ev.device)
    })
    this.watch()
  }

  override async getDevices(): Promise<USBDevice[]> {
    if (this.failure) throw this.failure
    this.reread()
    return super.getDevices()
  }

  override close(): void {
    super.close() // may settle a pending reset, which writes the file
    this.flushNow()
    this.closed = true
    pending.delete(this)
    this.watcher?.close()
    this.watcher = undefined
  }

  /** Write pending changes now (at close and process exit; tests may call it too). */
  flushNow(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (!this.closed) this.flushSafely()
  }

  /** A devices file that cannot be written back fails every later transfer with that error (naming the file). */
  private guard(device: USBDevice): void {
    if (this.guarded.has(device)) return
    this.guarded.add(device)
    const d = device as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
    for (const method of ['open', 'controlTransferIn', 'controlTransferOut']) {
      const original = d[method].bind(device)
      d[method] = (...args: unknown[]) => (this.failure ? Promise.reject(this.failure) : original(...args))
    }
  }

  private stat(): {mtimeMs: number; size: number} | undefined {
    try {
      const s = statSync(this.target)
      return {mtimeMs: s.mtimeMs, size: s.size}
    } catch {
      return undefined
    }
  }

  private watch(): void {
    try {
      // The parent directory, because an atomic rename replaces the file's inode (a watch on the file would go stale).
      this.watcher = watch(dirname(this.target), {persistent: false}, (_event, filename) => {
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
    const disk = readDisk(this.target)
    if (!disk) return // leave lastSeen alone so the next look tries again
    this.lastSeen = seen
    if (disk.hash === this.lastWritten) {
      this.diskStamp = disk.stamp
      return
    }
    this.lastWritten = disk.hash
    this.diskStamp = disk.stamp
    this.document = disk.document
    this.fileViolations = disk.violations
    // This process's pending changes (differences from what the file said before) survive: they are merged at the
    // next write-back; the file's own edits are applied to the bus.
    const before = this.fileSpecs
    const mine = this.changes()
    handsWin(disk.devices, mine)
    this.fileSpecs = new Map(disk.devices.map((d) => [d.id, d]))
    for (const id of this.fileSpecs.keys()) this.everInFile.add(id)
    this.applyFile(before, mine, disk.devices)
    this.takeSnapshot(mine)
    this.writeBack()
  }

  /**
   * The devices this process changed since the last sync with the file (undefined: removed from this bus): their
   * state now differs from the snapshot taken then. What the file says of the others is not ours to overwrite.
   */
  private changes(): Map<string, VirtualDeviceSpec | undefined> {
    const changed = new Map<string, VirtualDeviceSpec | undefined>()
    if (this.touched !== 'all') {
      for (const id of this.touched) {
        const d = this.device(id)?.spec()
        if (!d) {
          if (this.snapshot.has(id)) changed.set(id, undefined)
        } else if (this.snapshot.get(id) !== JSON.stringify(d)) changed.set(id, d)
      }
      return changed
    }
    const ids = new Set<string>()
    for (const d of this.specs()) {
      ids.add(d.id)
      if (this.snapshot.get(d.id) !== JSON.stringify(d)) changed.set(d.id, d)
    }
    for (const id of this.snapshot.keys()) if (!ids.has(id)) changed.set(id, undefined)
    return changed
  }

  /**
   * Remember the bus's state as in step with the file, except the devices in `keep` (changes still to write): only
   * the devices touched since the last snapshot, unless `whole` (others' changes were applied, or any device may
   * have changed).
   */
  private takeSnapshot(keep?: Map<string, VirtualDeviceSpec | undefined>, whole = keep !== undefined): void {
    if (!whole && this.touched !== 'all') {
      for (const id of this.touched) {
        const d = this.device(id)?.spec()
        if (d) this.snapshot.set(id, JSON.stringify(d))
        else this.snapshot.delete(id)
      }
      this.touched = new Set()
      return
    }
    const next = new Map<string, string>()
    for (const d of this.specs()) next.set(d.id, keep?.has(d.id) ? (this.snapshot.get(d.id) ?? '') : JSON.stringify(d))
    if (keep) for (const [id, spec] of keep) if (!spec && this.snapshot.has(id)) next.set(id, this.snapshot.get(id)!)
    this.snapshot = next
    // The changes kept for later are still to be compared at the next write-back.
    this.touched = new Set(keep?.keys())
  }

  /** Apply the file's devices to the bus, except where this process has its own newer state (`mine`). */
  private applyFile(before: Map<string, VirtualDeviceSpec>, mine: Map<string, VirtualDeviceSpec | undefined>, devices: VirtualDeviceSpec[]): void {
    const baseline = new Map(before)
    for (const [id, spec] of mine) if (spec) baseline.set(id, spec)
    const wanted = new Set(devices.map((d) => d.id))
    this.applying = true
    try {
      this.applyDevices(baseline, wanted, devices.map((d) => (mine.has(d.id) && mine.get(d.id) ? mine.get(d.id)! : d)))
    } finally {
      this.applying = false
    }
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
      if (old.platform !== spec.platform || old.deviceOs !== spec.deviceOs || Boolean(old.serial) !== Boolean(spec.serial)) {
        // Other hardware or other firmware (an application with or without USB serial): a different device as far
        // as the bus is concerned.
        this.removeDevice(spec.id)
        this.addDevice(spec)
        continue
      }
      model.name = spec.name
      if (!sameJson(old.faults, spec.faults)) model.setFaults(spec.faults)
      if (old.setupDone !== spec.setupDone) model.setSetupDone(spec.setupDone)
      // Hands worked it in another process (`virtual press`): act it out here, a restart even into the same mode.
      if ((spec.presses ?? 0) > (old.presses ?? 0)) {
        model.followPresses(spec)
        continue
      }
      const listeningChanged = spec.mode === 'safe' && Boolean(old.listening) !== Boolean(spec.listening)
      if (old.mode !== spec.mode || listeningChanged) {
        this.setMode(spec.id, spec.mode, {listening: spec.mode === 'safe' ? spec.listening : undefined})
      }
    }
  }

  /** A state change: write back now, or (after a slow write-back) a little later together with what follows. */
  private writeBack(): void {
    if (this.applying) return
    if (this.closed) {
      this.flushSafely()
      return
    }
    const wait = this.nextFlushAt - Date.now()
    if (wait <= 0) {
      this.flushSafely()
      return
    }
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.flushSafely()
    }, wait)
    this.timer.unref()
    flushAtExit(this)
  }

  private flushSafely(): void {
    const started = performance.now()
    try {
      this.flush()
      this.failure = undefined
    } catch (error) {
      this.failure = writeProblem(this.target, error)
      // From now on every transfer of every device fails with it (devices that connect later too).
      for (const {id} of this.specs()) {
        const usbDevice = this.device(id)?.usbDevice
        if (usbDevice) this.guard(usbDevice)
      }
    }
    const took = performance.now() - started
    this.nextFlushAt = this.snapshot.size >= COALESCE_FROM_DEVICES ? Date.now() + took * FLUSH_BACKOFF : 0
  }

  /**
   * Merge this process's changes into the file as it is on disk now, under the lock: devices this bus changed
   * take their new state, every other device keeps what the file says (and that is applied to this bus).
   */
  private flush(): void {
    const changed = this.changes()
    const fresh = this.violations.slice(this.reported)
    if (changed.size === 0 && fresh.length === 0) return
    withDevicesFileLock(this.target, () => {
      for (let attempt = 0; ; attempt++) {
        const now = stamp(this.target)
        const disk = now === this.diskStamp ? this.inMemory(now) : readDisk(this.target)
        const document = disk?.document ?? this.document
        const diskDevices = disk?.devices ?? [...this.fileSpecs.values()]
        if (disk) handsWin(diskDevices, changed)
        const merged = mergeSpecs(diskDevices, changed, this.everInFile)
        const violations = [...(disk?.violations ?? this.fileViolations), ...fresh]
        const written = replaceFile(this.target, documentPieces(document, merged, violations), {basis: attempt < 10 ? disk?.stamp : undefined, same: disk?.hash})
        if (!written) continue
        // Others' changes found on disk reach this bus as plugs, unplugs and button presses.
        const others = disk !== undefined && disk.hash !== this.lastWritten
        if (others) this.applyFile(this.fileSpecs, changed, merged)
        this.document = document
        this.fileSpecs = new Map(merged.map((d) => [d.id, d]))
        for (const id of this.fileSpecs.keys()) this.everInFile.add(id)
        this.fileViolations = violations
        this.reported += fresh.length
        this.lastWritten = written.hash
        this.lastSeen = this.stat()
        this.diskStamp = written.replaced ? stamp(this.target) : disk?.stamp
        this.takeSnapshot(undefined, others)
        return
      }
    })
  }

  /** The file as this process last wrote or read it (its stamp says it still holds that). */
  private inMemory(now: string): DiskDocument {
    return {devices: [...this.fileSpecs.values()], document: this.document, hash: this.lastWritten!, stamp: now, violations: this.fileViolations}
  }
}

/** A virtual bus backed by a devices file (PARTICLE_VIRTUAL_DEVICES). Throws the devices-file error if it is unusable. */
export function openVirtualUsbFile(path: string, options: Omit<VirtualUsbOptions, 'devices'> = {}): VirtualUsb {
  return new FileVirtualUsb(path, readText(path), options)
}
