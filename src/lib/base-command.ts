/**
 * What every setup-flag command shares: --json and --timeout, the output port (output.ts) through which everything
 * is printed, errors as stable codes and exit statuses, a progress line that stays quiet under --json or off a
 * terminal, and the seams tests replace (clock, USB backend, interactivity).
 */
import {Command, Flags, type Interfaces} from '@oclif/core'
import {join} from 'node:path'

import {openUsbBackend} from './backends.js'
import {type Cli} from './cli.js'
import {type Clock, realClock} from './clock.js'
import {Cloud, type CloudDevice} from './cloud/cloud.js'
import {CloudFacts} from './cloud/facts.js'
import {type CloudSettings, DEFAULT_API_URL, loadSettings} from './cloud/settings.js'
import {type DeviceArg, selectDevices} from './device/select.js'
import {asSetupFlagError, errorIs, errors, isCancellation, isSetupFlagError, type OfflineBy, type SetupFlagError} from './errors.js'
import {waitUntilOnline} from './setup-flag/online.js'
import {interruptible} from './signals.js'
import {Output} from './output.js'
import {inquirerPrompter, type Prompter} from './prompts.js'
import {filterDebugOutput} from './redact.js'
import {listeningStates} from './setup-flag/many.js'
import {type Ended, type OperationContext, type Progress} from './setup-flag/session.js'
import {type OnlineHow} from './setup-flag/steps.js'
import {caveatText, flashQuestion, onlineWaitTitle, onSiteCard} from './text/fleet.js'
import {TIMEOUT_HELP} from './text/help.js'
import {namedDevice, pickerLabel} from './text/render.js'
import {waitTitle} from './text/waits.js'
import {type UsbBackend} from './usb/backend.js'
import {findParticleDevices, type FoundDevice} from './usb/discovery.js'

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
      summary: TIMEOUT_HELP.device,
    }),
  }

  /** Seams for tests and embedding: time, where devices come from, whether a person is at a terminal. */
  static clock: Clock = realClock
  static override enableJsonFlag = true
  static isInteractive = (): boolean => Boolean(process.stdin.isTTY && process.stderr.isTTY)
  static openBackend: (env: NodeJS.ProcessEnv, clock: Clock, packageRoot: string) => Promise<UsbBackend> = openUsbBackend
  static prompter: Prompter = inquirerPrompter

  protected args!: BaseArgs<T>
  protected flags!: BaseFlags<T>
  /** The one way out (output.ts); made in init, before anything is printed. */
  protected out!: Output
  /** Every positional argument (commands that take DEVICE... are not strict). */
  protected positionals: string[] = []
  private backend?: UsbBackend
  private cloudClient?: Cloud

  /** The CLI the person typed: our bin, or the oclif host we run in. */
  protected get cli(): Cli {
    return {bin: this.config.bin}
  }

  protected get clock(): Clock {
    return BaseCommand.clock
  }

  /** Where this package is installed (its bundled examples live there). */
  protected get packageRoot(): string {
    return (this.ctor as typeof Command).plugin?.root ?? this.config.root
  }

  /** Render our errors ourselves: one clear sentence, what to do next, the documented exit status, no stack. */
  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    this.out ??= new Output({cli: this.cli, json: this.argv.includes('--json')})
    this.out.end(isCancellation(err) ? 'cancelled' : 'failed')
    const e = toOurs(err, this.id)
    process.exitCode = e.exit
    this.out.error(e)
    if (process.env.DEBUG && err.stack) process.stderr.write(`${err.stack}\n`)
    return undefined
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.out?.end(err ? 'failed' : 'done')
    this.backend?.close()
    return super.finally(err)
  }

  protected override async init(): Promise<void> {
    filterDebugOutput(process.env)
    await super.init()
    const json = this.argv.includes('--json')
    // Text for people is wrapped to the terminal; --json runs never load the wrapping libraries.
    const wrap = json ? undefined : (await import('./wrap.js')).wrapText
    this.out = new Output({cli: this.cli, json, wrap})
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

  /** Everything oclif itself prints goes through the port too. */
  override log(message = ''): void {
    this.out.line(message)
  }

  override logToStderr(message = ''): void {
    this.out.note(message)
  }

  override logJson(json: unknown): void {
    this.out.jsonDocument(json)
  }

  /** The Particle Cloud client for this run (the official CLI's active profile; nothing loaded until used). */
  protected cloud(): Cloud {
    if (!this.cloudClient) {
      let settings: CloudSettings
      try {
        settings = loadSettings(process.env, join(this.packageRoot, 'examples'))
      } catch (error) {
        // A broken settings file should not stop work that needs no cloud: warn, and carry on without it.
        const e = asSetupFlagError(error)
        this.out.warn(`${e.message} ${e.suggestions[0] ?? ''} Carrying on without the Particle Cloud.`.trim())
        settings = {apiUrl: DEFAULT_API_URL, from: 'none', offline: true, profile: 'particle'}
      }
      if (this.flags.offline) settings.offline = true
      // --timeout, when given, is also the deadline of each cloud request (default 15 s).
      if (this.argv.some((a) => a === '--timeout' || a.startsWith('--timeout='))) settings.timeoutMs = this.flags.timeout * 1000
      this.cloudClient = new Cloud(settings, this.clock, (m) => this.out.warn(m))
    }
    return this.cloudClient
  }

  /** Who turned the cloud off, as the person did it (the flag, or PARTICLE_OFFLINE in the environment). */
  protected get offlineBy(): OfflineBy {
    return this.flags.offline ? 'flag' : {env: process.env.PARTICLE_OFFLINE ?? '1'}
  }

  /** What the cloud knows of these devices, asked at most once. */
  protected facts(ids: readonly string[]): CloudFacts {
    return new CloudFacts(this.cloud(), ids)
  }

  /** A person can be asked: a terminal on both ends and not --json. */
  protected get interactive(): boolean {
    return !this.out.json && BaseCommand.isInteractive()
  }

  /** Ask, setting any progress line aside while the prompt owns the terminal. */
  protected async ask<R>(fn: (p: Prompter) => Promise<R>): Promise<R> {
    this.out.end('done')
    return fn(BaseCommand.prompter)
  }

  /** The USB backend, opened once per run. */
  protected async usb(): Promise<UsbBackend> {
    this.backend ??= await BaseCommand.openBackend(process.env, this.clock, this.packageRoot)
    return this.backend
  }

  /** What an operation on devices needs: the bus, the clock, the deadline, progress lines; `signal` for Ctrl-C. */
  protected async context(o: {cloud?: CloudFacts; signal?: AbortSignal} = {}): Promise<OperationContext> {
    return {backend: await this.usb(), clock: this.clock, cloud: o.cloud, progress: this.progressLines(), signal: o.signal, timeoutMs: this.flags.timeout * 1000}
  }

  /** Waits as progress lines: each ends "done", "timed out" or "failed" as it did. */
  protected progressLines(): Progress {
    return {waited: (how: Ended) => this.out.end(how), waiting: (w, before) => this.out.start(waitTitle(w), before)}
  }

  /** DEVICE arguments, every device (--all), the only device, or (interactively) the one the person picks. */
  protected async pickDevices(args: DeviceArg[], o: {all?: boolean; command: string}): Promise<FoundDevice[]> {
    const backend = await this.usb()
    if (args.length > 0) return selectDevices(backend, args, this.cloud(), {offlineBy: this.offlineBy, online: o.command === 'set'})
    const all = await findParticleDevices(backend)
    if (all.length === 0) throw errors.noDevices()
    if (o.all || all.length === 1) return all
    const known = await this.facts(all.map((d) => d.id)).known()
    if (!this.interactive) throw errors.multipleDevices(all.map((d) => namedDevice(d, known.get(d.id)?.name)), {all: o.all !== undefined, command: o.command})
    const listening = await listeningStates(all, await this.context())
    const choices = all.map((d) => ({name: pickerLabel(d, known.get(d.id)?.name, listening.get(d.id)), value: d.id}))
    const id = await this.ask((p) => p.select('Which device?', choices)).catch((error) => {
      throw isCancellation(error) ? errors.cancelled([{kind: 'nothing-written'}], error) : error
    })
    return all.filter((d) => d.id === id)
  }

  /** The field rescue's wait: the card on stderr (also under --json: it is for the person on site), progress, Ctrl-C. */
  protected async waitOnlineWithCard(device: CloudDevice, seconds: number): Promise<OnlineHow> {
    const who = device.name ?? device.id
    const wait = interruptible((signal) =>
      waitUntilOnline({
        clock: this.clock,
        cloud: this.cloud(),
        device,
        onCard: () => this.out.always(`\n${onSiteCard(who, seconds * 1000)}\n`),
        onProgress: (left) => {
          if (left === undefined) return
          if (this.out.progressing) this.out.status(left)
          else this.out.start(onlineWaitTitle(who))
        },
        signal,
        waitMs: seconds * 1000,
      }),
    )
    return wait.then(
      (how) => {
        this.out.end('done')
        return how
      },
      (error: unknown) => {
        this.out.end(errorIs.interrupted(error) ? 'cancelled' : 'timed out')
        throw error
      },
    )
  }

  /** The firmware method's yes: the caveat, then --yes, or a question (none without a terminal). */
  protected async confirmFlash(who: string, yes: boolean): Promise<boolean> {
    this.out.note(`\n${caveatText()}\n`)
    if (yes) return true
    if (!this.interactive) throw errors.needsYes(who)
    return this.ask((p) => p.confirm(flashQuestion(who), false)).catch((error) => {
      throw isCancellation(error) ? errors.cancelled([{kind: 'nothing-flashed', who}], error) : error
    })
  }

  /** The exit status of a run over several devices: the first failure's, else 0. */
  protected exitWithFirstFailure(reports: ReadonlyArray<{error?: SetupFlagError}>): void {
    const failed = reports.find((r) => r.error)
    if (failed) process.exitCode = failed.error!.exit
  }
}

type Failure = Error & {exitCode?: number; oclif?: {exit?: number}}

/**
 * Anything a command ends with, as one of ours: oclif's parse errors (bad flag value, missing or unknown argument)
 * in our one style, the prompt library's cancellation, and anything else as a bug.
 */
export function toOurs(err: Failure, id: string | undefined): SetupFlagError {
  if (isSetupFlagError(err)) return err
  if (isCancellation(err)) return errors.cancelled([], err)
  if (err.oclif?.exit !== undefined) return errors.parse(oneLineMessage(err.message), id?.replace(/^setup-flag:/, '').replaceAll(':', ' '))
  return errors.unexpected(err.message, {bug: true, cause: err})
}

/** oclif's multi-line parse messages as one line (its "See more help" tail dropped: we say where help is). */
function oneLineMessage(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^See more help with/.test(l))
    .join(': ')
    .replaceAll(/\s*:\s*:\s*/g, ': ')
    .replaceAll(/ +: /g, ': ')
    .replaceAll(/ {2,}/g, ' ')
}

/** A command that does not extend BaseCommand (shell-init) fails the same way every other command does. */
export function reportFailure(cmd: Command, err: Failure): void {
  const out = new Output({cli: {bin: cmd.config.bin}, json: cmd.argv.includes('--json')})
  const e = toOurs(err, cmd.id)
  process.exitCode = e.exit
  out.error(e)
}
