/**
 * What every setup-flag command shares: --json and --timeout, error rendering with stable codes and exit
 * statuses, a spinner that stays quiet under --json or off a TTY, and the seams tests replace (clock, USB
 * backend, interactivity).
 */
import {Command, Flags, type Interfaces, ux} from '@oclif/core'

import {type Clock, realClock} from './clock.js'
import {Cloud} from './cloud/cloud.js'
import {type CloudSettings, DEFAULT_API_URL, loadSettings} from './cloud/settings.js'
import {EXIT, isSetupFlagError, SetupFlagError} from './errors.js'
import {inquirerPrompter, type Prompter} from './prompts.js'
import {filterDebugOutput, forTerminal, redactDeep} from './redact.js'
import {forHost, withSuggestions} from './render.js'
import {openUsbBackend, type UsbBackend} from './usb/backend.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    offline: Flags.boolean({
      default: false,
      helpGroup: 'GLOBAL',
      summary: 'Never call the Particle Cloud: no names, Device OS version from the device only (also PARTICLE_OFFLINE=1).',
    }),
    timeout: Flags.integer({
      default: 10,
      helpGroup: 'GLOBAL',
      max: 3600,
      min: 1,
      summary: 'Seconds to wait for a device to answer one request before giving up.',
    }),
  }

  /** Seams for tests and embedding: time, where devices come from, whether a person is at a terminal. */
  static clock: Clock = realClock
  static override enableJsonFlag = true
  static isInteractive = (): boolean => Boolean(process.stdin.isTTY && process.stderr.isTTY)
  static openBackend: (env: NodeJS.ProcessEnv, clock: Clock) => Promise<UsbBackend> = openUsbBackend
  static prompter: Prompter = inquirerPrompter

  protected args!: BaseArgs<T>
  protected flags!: BaseFlags<T>
  /** Every positional argument (commands that take DEVICE... are not strict). */
  protected positionals: string[] = []
  /** Warnings for this run: printed to stderr, and returned as `warnings` under --json. */
  protected readonly warnings: string[] = []
  private backend?: UsbBackend
  private cloudClient?: Cloud

  protected get clock(): Clock {
    return BaseCommand.clock
  }

  /** Render our errors ourselves: one clear sentence, what to do next, the documented exit status, no stack. */
  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    ux.action.stop('failed')
    if (!isSetupFlagError(err) && err.oclif?.exit !== undefined) {
      // oclif's own errors (bad flags, parse errors): its rendering for people; our error shape under --json
      // (oclif would serialise its whole parse state), and the exit code core 4 loses under --json.
      process.exitCode = err.oclif.exit
      err.message = forTerminal(err.message) // it quotes argv
      if (!this.jsonEnabled()) return super.catch(err)
      const message = err.message.split('\n')[0]
      this.logJson({error: {code: 'SETUP_FLAG_USAGE', exit: err.oclif.exit, message, suggestions: [`See \`${this.config.bin} ${this.id?.replaceAll(':', ' ') ?? ''} --help\`.`]}})
      return undefined
    }
    const e = isSetupFlagError(err)
      ? err
      : new SetupFlagError('SETUP_FLAG_UNEXPECTED', `Unexpected error: ${err.message}`, {
          cause: err,
          exit: EXIT.UNEXPECTED,
          suggestions: ['This is a bug: please report it with the output of the same command run with DEBUG=*.'],
        })
    process.exitCode = e.exit
    if (this.jsonEnabled()) {
      const json = e.toJSON()
      this.logJson({error: {...json, suggestions: json.suggestions.map((s) => forHost(s, this.config.bin))}})
    } else {
      this.logToStderr(renderError(e))
    }
    if (process.env.DEBUG && err.stack) this.logToStderr(err.stack)
    return undefined
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.backend?.close()
    return super.finally(err)
  }

  protected override async init(): Promise<void> {
    filterDebugOutput(process.env)
    await super.init()
    const {args, argv, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.positionals = argv.map(String)
  }

  /** True when progress may be drawn: a person at a terminal, not --json. */
  protected get showProgress(): boolean {
    return !this.jsonEnabled() && Boolean(process.stderr.isTTY)
  }

  /** The Particle Cloud client for this run (the official CLI's active profile; nothing loaded until used). */
  protected cloud(): Cloud {
    if (!this.cloudClient) {
      let settings: CloudSettings
      try {
        settings = loadSettings(process.env)
      } catch (error) {
        // A broken settings file should not stop work that needs no cloud: warn, and carry on without it.
        const e = error as SetupFlagError
        this.warning(`${e.message} ${e.suggestions?.[0] ?? ''} Carrying on without the Particle Cloud.`.trim())
        settings = {apiUrl: DEFAULT_API_URL, from: 'none', offline: true, profile: 'particle'}
      }
      if (this.flags.offline) settings.offline = true
      // --timeout, when given, is also the deadline of each cloud request (default 15 s).
      if (this.argv.some((a) => a === '--timeout' || a.startsWith('--timeout='))) settings.timeoutMs = this.flags.timeout * 1000
      this.cloudClient = new Cloud(settings, this.clock, (m) => this.warning(m))
    }
    return this.cloudClient
  }

  /** Everything printed for people names our commands as the running CLI spells them. */
  override log(message = '', ...args: unknown[]): void {
    super.log(forTerminal(forHost(message, this.config.bin)), ...args)
  }

  override logToStderr(message = '', ...args: unknown[]): void {
    super.logToStderr(forTerminal(forHost(message, this.config.bin)), ...args)
  }

  /** JSON output passes the same redaction (JSON escapes control characters itself). */
  override logJson(json: unknown): void {
    super.logJson(redactDeep(json))
  }

  /** A person can be asked: a terminal on both ends and not --json. */
  protected get interactive(): boolean {
    return !this.jsonEnabled() && BaseCommand.isInteractive()
  }

  /** Ask, pausing any spinner while the prompt owns the terminal. */
  protected async ask<R>(fn: (p: Prompter) => Promise<R>): Promise<R> {
    return ux.action.pauseAsync(() => fn(BaseCommand.prompter))
  }

  /** Record a warning; shown at once on stderr unless --json. */
  protected warning(message: string): void {
    this.warnings.push(message)
    if (!this.jsonEnabled()) this.logToStderr(`Warning: ${message}`)
  }

  /** The USB backend, opened once per run. */
  protected async usb(): Promise<UsbBackend> {
    this.backend ??= await BaseCommand.openBackend(process.env, this.clock)
    return this.backend
  }

  /** Run `fn` under a spinner when a person is watching; silent otherwise. */
  protected async withSpinner<R>(title: string, fn: () => Promise<R>): Promise<R> {
    if (!this.showProgress) return fn()
    ux.action.start(title)
    try {
      const r = await fn()
      ux.action.stop()
      return r
    } catch (error) {
      ux.action.stop('failed')
      throw error
    }
  }
}

export function renderError(e: SetupFlagError): string {
  return `${withSuggestions(`Error: ${e.message}`, e.suggestions)}\n  (${e.code}, exit status ${e.exit})`
}
