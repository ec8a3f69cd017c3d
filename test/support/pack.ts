/**
 * `npm pack` exactly as a release would run it (prepack: build and `oclif manifest`; the README is shipped as tracked), on a copy of
 * the working tree so the tests never rewrite this checkout's README, dist or manifest. Once per test run; the
 * integration tests share the tarball. Plus small helpers to run npm and other programs with a deadline.
 */
import {spawn} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT, tempDir} from './cli.js'

/** Temporary folders that hold installs (tens of MB each): removed when the test process exits. */
const scratchDirs: string[] = []
process.once('exit', () => {
  for (const d of scratchDirs) rmSync(d, {force: true, recursive: true})
})

export function scratchDir(prefix: string): string {
  const d = tempDir(prefix)
  scratchDirs.push(d)
  return d
}

export interface RunResult {
  code: null | number
  stderr: string
  stdout: string
}

/** Run a program to its end, with a deadline (the child is killed at the deadline, and the promise rejects). */
export function run(cmd: string, args: string[], opts: {cwd: string; deadlineMs?: number; env?: NodeJS.ProcessEnv}): Promise<RunResult> {
  const deadlineMs = opts.deadlineMs ?? 120_000
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${cmd} ${args.join(' ')} took more than ${deadlineMs} ms\n--- stdout:\n${stdout}\n--- stderr:\n${stderr}`))
    }, deadlineMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stderr, stdout})
    })
  })
}

/** Run and require exit 0, with the output in the error otherwise. */
export async function runOk(cmd: string, args: string[], opts: {cwd: string; deadlineMs?: number; env?: NodeJS.ProcessEnv}): Promise<RunResult> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`)
  return r
}

/**
 * The environment for a nested npm: without the variables the outer `npm test` sets for its own run (they would
 * make the inner npm think it runs inside our package's lifecycle), with the same registry and cache.
 */
export function npmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(lifecycle|package|config_(prefix|global|local_prefix|argv))/i.test(k) || k === 'INIT_CWD') continue
    env[k] = v
  }
  return {...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra}
}

export interface Packed {
  /** The copy of the working tree that was packed. */
  dir: string
  /** Absolute path of the .tgz. */
  tarball: string
}

/** What a release packs from: everything `files` names plus what npm always adds; node_modules is linked. */
const COPY = ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'LICENSE', 'bin', 'scripts', 'src', 'examples']

let packing: Promise<Packed> | undefined

export function packOnce(): Promise<Packed> {
  packing ??= (async () => {
    const dir = join(scratchDir('setup-flag-pack-'), 'package')
    mkdirSync(dir)
    for (const f of COPY) if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(dir, f), {recursive: true})
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
    const out = scratchDir('setup-flag-tgz-')
    await runOk('npm', ['pack', '--pack-destination', out], {cwd: dir, deadlineMs: 150_000, env: npmEnv()})
    const [tgz] = readdirSync(out).filter((f) => f.endsWith('.tgz'))
    if (!tgz) throw new Error(`npm pack made no tarball in ${out}`)
    return {dir, tarball: join(out, tgz)}
  })()
  return packing
}
