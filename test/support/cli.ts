/**
 * Run the built CLI (bin/run.js over dist/) as a user would: a child process with its own HOME, optional
 * virtual devices file, captured output and exit status.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: null | number
  stderr: string
  stdout: string
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv
  input?: string
}

export function tempDir(prefix = 'setup-flag-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Write a devices file in a fresh temp dir and return its path. */
export function devicesFile(devices: unknown[], dir = tempDir()): string {
  const file = join(dir, 'devices.json')
  writeFileSync(file, JSON.stringify({devices}, null, 2) + '\n')
  return file
}

export function readDevices(file: string): {devices: Array<Record<string, unknown>>; violations?: unknown[]} {
  return JSON.parse(readFileSync(file, 'utf8'))
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const home = tempDir('setup-flag-home-')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: '1',
    DEBUG: '',
    HOME: home,
    NODE_ENV: 'production',
    PARTICLE_VIRTUAL_CLOUD: '',
    PARTICLE_VIRTUAL_DEVICES: '',
    ...opts.env,
  }
  for (const [k, v] of Object.entries(env)) if (v === '' || v === undefined) delete env[k]
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolvePromise({code, stderr, stdout}))
    child.stdin.end(opts.input ?? '')
  })
}

/** Run with --json and parse stdout. */
export async function runJson<T = Record<string, unknown>>(args: string[], opts: CliOptions = {}): Promise<CliResult & {json: T}> {
  const r = await runCli([...args, '--json'], opts)
  let json: T
  try {
    json = JSON.parse(r.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr:\n${r.stderr}`)
  }
  return {...r, json}
}

/** A device ID from a number, for test devices. */
export const testId = (n: number) => `e00fce68${n.toString(16).padStart(16, '0')}`

/** A devices-file entry for a test device. */
export function testDevice(n: number, platform: string, deviceOs: string, mode: string, setupDone: number, faults: Record<string, unknown> = {}) {
  return {deviceOs, faults, id: testId(n), mode, platform, setupDone}
}
