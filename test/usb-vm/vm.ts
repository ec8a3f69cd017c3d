/**
 * One boot of the usb-vm guest for the suite: writes a devices file and a list of steps into a temporary
 * directory, runs them in the guest through the runner (`npm run usb-vm`'s script), and the same steps on the
 * host's WebUSB virtual bus (PARTICLE_VIRTUAL_DEVICES) from a copy of the same file, so every case can compare
 * the real kernel USB stack with the virtual bus.
 */
import {spawn} from 'node:child_process'
import {chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

export const ROOT = resolve(import.meta.dirname, '../..')
const RUNNER = join(ROOT, 'scripts/usb-vm/run.js')
const STEPS = join(ROOT, 'test/usb-vm/guest/steps.js')

export interface StepResult {
  devices: Array<Record<string, unknown>>
  error?: string
  lines?: Array<Record<string, unknown>>
  ms?: number
  name: string
  signal?: string | null
  skipped?: boolean
  status: number | null
  stderr?: string
  stdout?: string
}

export interface Boot {
  /** The directory of the devices file the guest used ($DIR in steps). */
  dir: string
  /** Step results through the real kernel USB stack, by name. */
  real: Map<string, StepResult>
  /** The same steps on the WebUSB virtual bus, by name. */
  virtual: Map<string, StepResult>
  runner: {code: number | null; ms: number; stderr: string; stdout: string}
  /** "guest modules … ms, devices … ms, command … ms; uptime … s" from the runner. */
  timing: string
}

function exec(argv: string[], env: NodeJS.ProcessEnv): Promise<{code: number | null; stderr: string; stdout: string}> {
  return new Promise((resolvePromise) => {
    const child = spawn(argv[0], argv.slice(1), {cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolvePromise({code, stderr, stdout}))
  })
}

function load(file: string): Map<string, StepResult> {
  try {
    return new Map((JSON.parse(readFileSync(file, 'utf8')) as StepResult[]).map((r) => [r.name, r]))
  } catch {
    return new Map()
  }
}

export async function boot(devices: unknown[], steps: unknown[], opts: {compare?: boolean; env?: NodeJS.ProcessEnv} = {}): Promise<Boot> {
  const dir = mkdtempSync(join(tmpdir(), 'usb-vm-test-'))
  chmodSync(dir, 0o755)
  const realDir = join(dir, 'real')
  const virtualDir = join(dir, 'virtual')
  mkdirSync(realDir, {mode: 0o777})
  mkdirSync(virtualDir)
  chmodSync(realDir, 0o777) // the unprivileged user's steps write their dfu-util files here
  const doc = `${JSON.stringify({devices}, null, 2)}\n`
  writeFileSync(join(realDir, 'devices.json'), doc)
  writeFileSync(join(virtualDir, 'devices.json'), doc)
  writeFileSync(join(dir, 'steps.json'), JSON.stringify(steps))
  copyFileSync(join(dir, 'steps.json'), join(realDir, 'steps.json'))

  const env: NodeJS.ProcessEnv = {...process.env, USB_VM_TIMES: '1', ...opts.env}
  delete env.PARTICLE_VIRTUAL_DEVICES
  const started = Date.now()
  const real = join(realDir, 'devices.json')
  const v = join(virtualDir, 'devices.json')
  // The virtual bus's run is light (no emulation): it runs alongside the boot.
  const [runner] = await Promise.all([
    exec([process.execPath, RUNNER, '--devices', real, '--', process.execPath, STEPS, join(realDir, 'steps.json'), join(realDir, 'results.json'), real], env),
    opts.compare === false ? undefined : exec([process.execPath, STEPS, join(dir, 'steps.json'), join(virtualDir, 'results.json'), v, 'virtual'], env),
  ])
  const ms = Date.now() - started
  const virtual = opts.compare === false ? new Map<string, StepResult>() : load(join(virtualDir, 'results.json'))
  const timing = /usb-vm: total .*/.exec(runner.stderr)?.[0] ?? ''
  return {dir: realDir, real: load(join(realDir, 'results.json')), runner: {...runner, ms}, timing, virtual}
}

/** A devices-file entry; ids differ in their last two digits. */
export function device(n: number, platform: string, deviceOs: string, mode: string, setupDone: number, extra: Record<string, unknown> = {}) {
  return {id: deviceId(n), platform, deviceOs, mode, setupDone, ...extra}
}

export function deviceId(n: number): string {
  return `e00fce6800000000000000${n.toString(16).padStart(2, '0')}`
}

export const cli = (...args: string[]) => ['./bin/run.js', ...args]

/** Parse a step's stdout as JSON (the CLI's --json). */
export function json<T = {devices: Array<Record<string, unknown>>}>(r: StepResult | undefined): T {
  if (!r?.stdout) throw new Error(`no output: ${JSON.stringify(r)}`)
  return JSON.parse(r.stdout) as T
}

/** The first line of stderr without ANSI colours: the message a user reads. */
export function message(r: StepResult | undefined): string {
  return (r?.stderr ?? '').replaceAll(/\u001B\[[\d;]*m/g, '').trim().split('\n')[0] ?? ''
}
