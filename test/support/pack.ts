/**
 * The package as a person gets it from a fresh clone of this tree: installed globally with `npm install -g .`
 * into a temporary prefix, and packed with `npm pack` exactly as a release would run it (prepack: build and
 * `oclif manifest`; the README is shipped as tracked). The clone is a copy, so the tests never rewrite this
 * checkout's README, dist or manifest. Once per test run; the integration tests share the clone and the tarball.
 * Plus small helpers to run npm and other programs with a deadline.
 */
import {execFileSync, spawn} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readdirSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'

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
  /** The fresh clone that was packed. */
  dir: string
  /** Absolute path of the .tgz. */
  tarball: string
}

export interface Clone {
  /** What `npm ci` and `npm run build` printed in the clone (a person's set-up). */
  build: RunResult
  dir: string
  /** The global prefix `npm install -g .` installed it into, and that install's output. */
  install: RunResult
  prefix: string
}

/**
 * A fresh clone of this work tree: the files git has (committed or not, nothing it ignores: no node_modules, dist
 * or manifest), in a folder of their own, as `git clone` of this tree would give them.
 */
export function freshClone(): string {
  const dir = join(scratchDir('setup-flag-clone-'), 'particle-plugin-setup-flag')
  mkdirSync(dir)
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {cwd: ROOT, encoding: 'utf8'}).split('\0').filter(Boolean)
  for (const f of files) {
    if (!existsSync(join(ROOT, f))) continue // deleted in the work tree, not yet committed
    mkdirSync(dirname(join(dir, f)), {recursive: true})
    cpSync(join(ROOT, f), join(dir, f))
  }
  return dir
}

let cloning: Promise<Clone> | undefined

/**
 * The README's install from a clone, once per test run: a fresh clone, its set-up (`npm ci`, `npm run build`),
 * then `npm install -g .` in it into a temporary prefix (npm links the built clone; no script runs).
 */
export function installedClone(): Promise<Clone> {
  cloning ??= (async () => {
    const dir = freshClone()
    const prefix = scratchDir('setup-flag-prefix-')
    const ci = await runOk('npm', ['ci', '--prefer-offline'], {cwd: dir, deadlineMs: 240_000, env: npmEnv()})
    const build = await runOk('npm', ['run', 'build'], {cwd: dir, deadlineMs: 120_000, env: npmEnv()})
    const install = await runOk('npm', ['install', '-g', '--prefix', prefix, '.'], {cwd: dir, deadlineMs: 120_000, env: npmEnv()})
    return {build: {code: 0, stderr: ci.stderr + build.stderr, stdout: ci.stdout + build.stdout}, dir, install, prefix}
  })()
  return cloning
}

let packing: Promise<Packed> | undefined

/** `npm pack` in the fresh clone (its prepack builds again; the tarball ships what a release would). */
export function packOnce(): Promise<Packed> {
  packing ??= (async () => {
    const {dir} = await installedClone()
    const out = scratchDir('setup-flag-tgz-')
    await runOk('npm', ['pack', '--pack-destination', out], {cwd: dir, deadlineMs: 150_000, env: npmEnv()})
    const [tgz] = readdirSync(out).filter((f) => f.endsWith('.tgz'))
    if (!tgz) throw new Error(`npm pack made no tarball in ${out}`)
    return {dir, tarball: join(out, tgz)}
  })()
  return packing
}

/** Where npm puts a global install's commands under `prefix`. */
export function globalBin(prefix: string, name: string): string {
  return process.platform === 'win32' ? join(prefix, `${name}.cmd`) : join(prefix, 'bin', name)
}
