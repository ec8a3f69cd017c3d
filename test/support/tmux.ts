/**
 * The built CLI in a real terminal (tmux, each terminal on its own server socket so runs never meet): type keys,
 * read the screen, wait for what the program shows (polling the terminal, bounded; never a fixed sleep).
 */
import {execFileSync, spawnSync} from 'node:child_process'

import {BIN, ROOT, tempDir} from './cli.js'

export const hasTmux = spawnSync('tmux', ['-V']).status === 0

export class Terminal {
  private static count = 0
  readonly session: string
  /** A server of its own: killing the last session of a shared server races the next test's new session. */
  private readonly socket: string

  /** Start `particle-setup-flag <args>` in a terminal of `columns` x 50; the screen shows EXIT=<status> at the end. */
  constructor(args: string[], opts: {columns?: number; env?: Record<string, string>} = {}) {
    this.session = `t${process.pid}-${++Terminal.count}`
    this.socket = `setup-flag-test-${this.session}`
    const env = Object.entries({HOME: tempDir('setup-flag-home-'), ...opts.env}).map(([k, v]) => `${k}='${v}'`)
    const quoted = args.map((a) => `'${a}'`).join(' ')
    const cmd = `cd ${ROOT} && env -u CI -u PARTICLE_ACCESS_TOKEN ${env.join(' ')} node ${BIN} ${quoted}; echo "EXIT=$?"; read x`
    this.tmux('new-session', '-d', '-s', this.session, '-x', String(opts.columns ?? 140), '-y', '50', cmd)
  }

  /** Wait for a question, then type the answer. */
  async answer(question: RegExp, ...k: string[]): Promise<void> {
    await this.waitFor(question)
    this.keys(...k)
  }

  keys(...k: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...k)
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'])
  }

  /** Whether the terminal shows its cursor (a list prompt hides it while it is open). */
  cursorVisible(): boolean {
    return this.tmux('display-message', '-p', '-t', this.session, '#{cursor_flag}').trim() === '1'
  }

  /** The screen as shown (no joining of wrapped lines: what a person sees). */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-S', '-200', '-t', this.session)
  }

  /**
   * Every line printed so far, the history included, without trailing blanks: as shown, or `joined`, with each row
   * the terminal wrapped itself (a line wider than the terminal) joined back to the row it continues (tmux -J).
   */
  lines(joined = false): string[] {
    const lines = this.tmux('capture-pane', '-p', ...(joined ? ['-J'] : []), '-S', '-', '-t', this.session)
      .split('\n')
      .map((l) => l.trimEnd())
    while (lines.length > 0 && lines.at(-1) === '') lines.pop()
    return lines
  }

  /** Wait until the screen shows `pattern`; bounded so that a hang fails clearly. */
  async waitFor(pattern: RegExp, ms = 30_000): Promise<string> {
    const deadline = Date.now() + ms
    for (;;) {
      const s = this.screen()
      if (pattern.test(s)) return s
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${s}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** Wait for the program to end; its exit status. */
  async exit(ms?: number): Promise<number> {
    const s = await this.waitFor(/EXIT=\d+/, ms)
    return Number(/EXIT=(\d+)/.exec(s)![1])
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], {encoding: 'utf8'})
  }
}

/**
 * Terminals for the tests of the current `describe`: skipped without tmux (required in CI), each test's
 * terminal killed after it. `start` opens one.
 */
export function withTerminal(): {start: (args: string[], opts?: ConstructorParameters<typeof Terminal>[1]) => Terminal} {
  let term: Terminal | undefined
  before(function () {
    if (!hasTmux) {
      if (process.env.CI) throw new Error('tmux is required in CI (.ci/run installs it)')
      this.skip()
    }
  })
  afterEach(() => term?.kill())
  return {
    start(args, opts) {
      term = new Terminal(args, opts)
      return term
    },
  }
}
