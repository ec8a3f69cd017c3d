/**
 * The built CLI as a long-running child process (`set --watch`): its stdout and stderr as they arrive, waits on a
 * line or on text (never on a timer; the deadline only turns a hang into a clear failure), signals, exit.
 */
import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import {renameSync, writeFileSync} from 'node:fs'

import {BIN, type CliResult, ROOT, tempDir} from './cli.js'

export class LiveCli {
  readonly exited: Promise<CliResult & {signal: NodeJS.Signals | null}>
  stderr = ''
  stdout = ''
  private readonly child: ChildProcessWithoutNullStreams
  private closed = false
  private readonly waiters = new Set<() => void>()

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    const fullEnv: NodeJS.ProcessEnv = {...process.env, CI: '1', HOME: tempDir('setup-flag-home-'), NODE_ENV: 'production', PARTICLE_OFFLINE: '1', ...env}
    for (const k of ['DEBUG', 'PARTICLE_ACCESS_TOKEN']) delete fullEnv[k]
    this.child = spawn(process.execPath, [BIN, ...args], {cwd: ROOT, env: fullEnv, stdio: ['pipe', 'pipe', 'pipe']})
    this.child.stdin.end()
    this.child.stdout.on('data', (d) => {
      this.stdout += d
      this.wake()
    })
    this.child.stderr.on('data', (d) => {
      this.stderr += d
      this.wake()
    })
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject)
      this.child.on('close', (code, signal) => {
        this.closed = true
        this.wake()
        resolve({code, signal, stderr: this.stderr, stdout: this.stdout})
      })
    })
  }

  /** Complete stdout lines so far. */
  get lines(): string[] {
    return this.stdout.split('\n').slice(0, -1)
  }

  /** Complete stdout lines parsed as JSON (NDJSON). */
  get records(): Array<Record<string, unknown>> {
    return this.lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }

  /** Resolve with the first value `probe` returns (checked on every output); fail at the deadline or on exit. */
  async until<T>(what: string, probe: () => T | undefined, deadlineMs = 60_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let v: T | undefined
        try {
          v = probe()
        } catch (error) {
          return done(error as Error)
        }
        if (v !== undefined) return done(undefined, v)
        if (this.closed) done(new Error(`the CLI exited while waiting for ${what}`))
      }
      const timer = setTimeout(() => done(new Error(`no ${what} within ${deadlineMs} ms`)), deadlineMs)
      const done = (error: Error | undefined, v?: T) => {
        clearTimeout(timer)
        this.waiters.delete(check)
        if (error) reject(new Error(`${error.message}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`))
        else resolve(v as T)
      }
      this.waiters.add(check)
      check()
    })
  }

  /** The NDJSON record of device `id`, once it has arrived. */
  record(id: string, deadlineMs?: number): Promise<Record<string, unknown>> {
    return this.until(`the line of ${id}`, () => this.records.find((r) => r.id === id), deadlineMs)
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }
}

/** Replace a file atomically (temporary file beside it, then rename), as a person's editor or a script would. */
export function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.test-${process.pid}.tmp`
  writeFileSync(tmp, text)
  renameSync(tmp, file)
}
