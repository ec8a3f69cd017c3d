/**
 * What every setup-flag command shares: --json and --timeout, error rendering with stable codes and exit
 * statuses, a spinner that stays quiet under --json or off a TTY, and the seams tests replace (clock, USB
 * backend, interactivity).
 */
import {Command, Flags, type Interfaces, ux} from '@oclif/core'
import {copyFileSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type Clock, realClock} from './clock.js'
import {Cloud, type CloudDevice} from './cloud/cloud.js'
import {type CloudSettings, DEFAULT_API_URL, loadSettings} from './cloud/settings.js'
import {errors, EXIT, type ExitCode, isCancellation, isSetupFlagError, SetupFlagError} from './errors.js'
import {inquirerPrompter, type Prompter} from './prompts.js'
import {filterDebugOutput, forTerminal, redactDeep} from './redact.js'
import {commandLine, forHost, namedDevice, pickerLabels, withSuggestions} from './render.js'
import {openUsbBackend} from './backends.js'
import {type UsbBackend} from './usb/backend.js'
import {findParticleDevices, type FoundDevice} from './usb/discovery.js'
import {type DeviceArg, selectDevices} from './device/select.js'
import {interruptible, waitUntilOnline} from './fleet/rescue.js'

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
    if (ux.action.running) ux.action.stop(isCancellation(err) ? 'cancelled' : 'failed')
    return reportFailure(this, this.offlineAsSet(err), () => super.catch(err))
  }

  /** Offline hints name what the user set: the --offline flag, or PARTICLE_OFFLINE in the environment. */
  private offlineAsSet<E extends Error>(err: E): E {
    if (!isSetupFlagError(err) || err.code !== 'SETUP_FLAG_OFFLINE' || this.flags?.offline) return err
    const env = `PARTICLE_OFFLINE=${process.env.PARTICLE_OFFLINE ?? '1'}`
    const say = (t: string) => t.replace('which --offline turns off', `which ${env} (in the environment) turns off`).replace('drop --offline', 'unset PARTICLE_OFFLINE').replace('Drop --offline', 'Unset PARTICLE_OFFLINE')
    return errors.reworded(err, {message: say(err.message), suggestions: err.suggestions.map((x) => say(x))}) as unknown as E
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    // No spinner outlives the command, whatever way it ended.
    if (ux.action.running) ux.action.stop()
    this.backend?.close()
    return super.finally(err)
  }

  protected override async init(): Promise<void> {
    filterDebugOutput(process.env)
    await super.init()
    // Text for people is wrapped to the terminal; --json runs never load the wrapping libraries.
    if (!this.jsonEnabled()) wrapper = await import('./wrap.js')
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
        settings = loadSettings(process.env, join((this.ctor as typeof Command).plugin?.root ?? this.config.root, 'examples'))
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
    super.log(wrapped(forTerminal(forHost(message, this.config.bin)), process.stdout, this.config.bin), ...args)
  }

  override logToStderr(message = '', ...args: unknown[]): void {
    super.logToStderr(wrapped(forTerminal(forHost(message, this.config.bin)), process.stderr, this.config.bin), ...args)
  }

  /** JSON output passes the same redaction (JSON escapes control characters itself). */
  override logJson(json: unknown): void {
    printJson(json)
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
    this.backend ??= await BaseCommand.openBackend(withBundledExample(process.env, (this.ctor as typeof Command).plugin?.root ?? this.config.root), this.clock)
    return this.backend
  }

  /** DEVICE arguments, every device (--all), the only device, or (interactively) the one the person picks. */
  protected async pickDevices(args: DeviceArg[], all_: boolean): Promise<FoundDevice[]> {
    const backend = await this.usb()
    if (args.length > 0) return selectDevices(backend, args, this.cloud())
    const all = await findParticleDevices(backend)
    if (all.length === 0) throw errors.noDevices()
    if (all_ || all.length === 1) return all
    const known = await this.cloud().tryDevices(all.map((d) => d.id))
    if (!this.interactive) throw errors.multipleDevices(all.map((d) => namedDevice(d, known.get(d.id)?.name)))
    const labels = await pickerLabels(all, this.clock, this.flags.timeout * 1000, known)
    const id = await this.ask((p) => p.select('Which device?', all.map((d) => ({name: labels.get(d.id)!, value: d.id})))).catch((error) => {
      throw isCancellation(error) ? errors.cancelled(['Nothing was written.'], error) : error
    })
    return all.filter((d) => d.id === id)
  }

  /** The field rescue's wait: the card on stderr (also under --json: it is for the person on site), progress, Ctrl-C. */
  protected async waitOnlineWithCard(device: CloudDevice, seconds: number): Promise<string> {
    const who = device.name ?? device.id
    return interruptible((signal) =>
      waitUntilOnline({
        clock: this.clock,
        cloud: this.cloud(),
        device,
        onCard: (card) => process.stderr.write(`\n${card}\n\n`), // not this.logToStderr, which --json silences
        onProgress: (left) => {
          if (!this.showProgress) return
          if (left === undefined) ux.action.stop()
          else if (ux.action.running) ux.action.status = left
          else ux.action.start(`Waiting for ${who} to come online`, left)
        },
        signal,
        waitMs: seconds * 1000,
      }),
    )
  }

  /** Say what is being waited for, on the spinner line, when a person is watching. */
  protected waiting(what: string): void {
    if (this.showProgress) ux.action.start(what)
  }

  /** The firmware method's yes: the caveat, then --yes, or a question (none without a terminal). */
  protected async confirmFlash(who: string, caveat: string, yes: boolean): Promise<boolean> {
    if (!this.jsonEnabled()) this.logToStderr(`\n${caveat}\n`)
    if (yes) return true
    if (!this.interactive) {
      throw errors.needsYes(who)
    }
    return this.ask((p) => p.confirm(`Flash the preparatory firmware to ${who}?`, false)).catch((error) => {
      throw isCancellation(error) ? errors.cancelled([`Nothing was flashed to ${who}.`], error) : error
    })
  }

  /** The exit status of a run over several devices: the first failure's, else 0. */
  protected exitWithFirstFailure(reports: {error?: {exit: number}}[]): void {
    const failed = reports.find((r) => r.error)
    if (failed) process.exitCode = failed.error!.exit
  }

  /** A line on stdout that does not tear a running spinner. */
  protected logBesideSpinner(line: string): void {
    if (ux.action.running) ux.action.pauseAsync(async () => this.log(line)).catch(() => {})
    else this.log(line)
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

/**
 * PARTICLE_VIRTUAL_DEVICES may name a bundled example by its bare name (`stuck-argon`, or `stuck-argon.json`),
 * so the hints work after `npm install` anywhere: a path that exists is used as given; otherwise a bare name is
 * looked up in this package's examples/ folder. The virtual bus keeps device state in its file, so a bundled
 * example is copied first (to the same temporary file each run, fresh): the installed package is never written.
 */
export function withBundledExample(env: NodeJS.ProcessEnv, packageRoot: string): NodeJS.ProcessEnv {
  const value = env.PARTICLE_VIRTUAL_DEVICES
  if (!value || /[\\/]/.test(value) || existsSync(value)) return env
  const name = value.endsWith('.json') ? value : `${value}.json`
  const example = join(packageRoot, 'examples', name)
  if (!existsSync(example)) return env
  const copy = join(tmpdir(), `particle-setup-flag-${process.getuid?.() ?? 'user'}-${name}`)
  copyFileSync(example, copy)
  return {...env, PARTICLE_VIRTUAL_DEVICES: copy}
}

let wrapper: typeof import('./wrap.js') | undefined

/** Wrapped to the stream's width once the wrapping module is loaded (always, for people's text). */
function wrapped(text: string, stream: NodeJS.WriteStream, bin: string): string {
  return wrapper ? wrapper.wrapText(text, wrapper.widthOf(stream), bin) : text
}

type Failure = Error & {exitCode?: number; oclif?: {exit?: number}}

/**
 * The one error shape of every command, ours or oclif's (parse errors, missing or unknown arguments): under
 * --json exactly `{"error": {code, exit, message, suggestions}}` on stdout and nothing else, with the documented
 * exit status; for people, one clear message on stderr. `oclifRender` is oclif's own rendering for people.
 */
export async function reportFailure(cmd: Command, err: Failure, oclifRender: () => Promise<unknown>): Promise<unknown> {
  const bin = cmd.config.bin
  if (!isSetupFlagError(err) && !isCancellation(err) && err.oclif?.exit !== undefined) {
    process.exitCode = err.oclif.exit
    err.message = forTerminal(err.message) // it quotes argv
    if (!cmd.jsonEnabled()) return oclifRender()
    // oclif would serialise its whole parse state; core 4 also loses the exit code under --json.
    printJson({error: usageError(err, bin, cmd.id).toJSON()})
    return undefined
  }
  const e = isCancellation(err)
    ? isSetupFlagError(err) ? err : errors.cancelled([], err)
    : isSetupFlagError(err)
      ? err
      : errors.unexpected(err.message, {bug: true, cause: err})
  process.exitCode = e.exit
  if (cmd.jsonEnabled()) {
    const json = e.toJSON()
    printJson({error: {...json, suggestions: json.suggestions.map((s) => forHost(s, bin))}})
  } else {
    cmd.logToStderr(forHost(renderError(e), bin))
  }
  if (process.env.DEBUG && err.stack) cmd.logToStderr(err.stack)
  return undefined
}

/** Every JSON document we print passes the redaction of secrets (JSON escapes control characters itself). */
export function printJson(value: unknown): void {
  ux.stdout(JSON.stringify(redactDeep(value), null, 2))
}

/** An oclif usage error (bad flag value, missing or unknown argument) as ours: its whole message, one line. */
export function usageError(err: Error & {oclif?: {exit?: number}}, bin: string, id: string | undefined): SetupFlagError {
  const message = err.message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^See more help with/.test(l))
    .join(': ')
    .replaceAll(/\s*:\s*:\s*/g, ': ')
    .replaceAll(/ +: /g, ': ')
    .replaceAll(/ {2,}/g, ' ')
  const command = id ? commandLine(bin, `${id.replace(/^setup-flag:/, '').replaceAll(':', ' ')} --help`) : `${bin} --help`
  return errors.usage(message, [`See \`${command}\`.`], (err.oclif?.exit ?? EXIT.USAGE) as ExitCode)
}

export function renderError(e: SetupFlagError): string {
  // A cancellation is the person's choice, not a failure: "Cancelled." and what had already been done.
  if (e.code === 'SETUP_FLAG_CANCELLED') return [e.message, ...e.suggestions].join('\n')
  return `${withSuggestions(`Error: ${e.message}`, e.suggestions)}\n  (${e.code}, exit status ${e.exit})`
}
