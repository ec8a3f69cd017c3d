/**
 * Our bin's help (package.json oclif.helpClass), and its answer to a command that is not one of ours. Usage lines
 * and examples are composed when shown, from the neutral forms in text/help.ts, with the CLI the person typed
 * (cli.ts): `particle-setup-flag set …`. The root help lists our commands, the doctor first. An oclif host
 * that runs our commands shows them with its own help class, and their examples in commandHelp's template form
 * (`<host> setup-flag set …`). The build bundles this entry with oclif (scripts/bundle-commands.js), so help starts
 * as fast as a command.
 */
import {CommandHelp, Help, type Interfaces} from '@oclif/core'

import {type Cli, commandLine, STANDALONE} from './lib/cli.js'
import {errors} from './lib/errors.js'
import {type CommandName} from './lib/exits.js'
import {Output, widthOf} from './lib/output.js'
import {profileFile} from './lib/shell-init.js'
import {exampleLine, helpExamples, ROOT_ORDER, rootHelp} from './lib/text/help.js'

const OURS = new Set<string>(ROOT_ORDER)
const NBSP = '\u00A0'

/** Our command's name from an oclif command ID (`setup-flag:get`, or `setup-flag get` once oclif has spaced it). */
function nameOf(id: string): CommandName | undefined {
  const name = id.split(/[ :]/).at(-1) ?? ''
  return OURS.has(name) ? (name as CommandName) : undefined
}

/** A usage line's bracketed parts (`[--timeout <value>]`) stay whole when the line wraps. */
function keepGroups(line: string): string {
  return line.replaceAll(/\[[^\]]*]|<[^>]*>/g, (g) => g.replaceAll(' ', NBSP))
}

/** Wrapped to the width left after `indent` columns, continuation lines two columns further in (ending `continued`). */
function hanging(f: Pick<CommandHelp, 'wrap'>, line: string, indent: number, continued = ''): string {
  const lines = f.wrap(keepGroups(line), indent + 2 + continued.length).replaceAll(NBSP, ' ').split('\n')
  return lines.map((l, i) => (i === 0 ? l : `  ${l}`)).join(`${continued}\n`)
}

class OurCommandHelp extends CommandHelp {
  private get cli(): Cli {
    return {bin: this.config.bin}
  }

  /** `$ particle-setup-flag get [DEVICE...] [--json] …`, its continuation lines under the command. */
  protected override usage(): string {
    const name = nameOf(this.command.id)
    if (!name) return super.usage()
    const own = typeof this.command.usage === 'string' ? this.command.usage : undefined
    const synopsis = (own ?? this.defaultUsage()).replace('<%= command.id %>', name)
    return this.hanging(`$ ${commandLine(this.cli, synopsis)}`, this.indentSpacing)
  }

  /** Each example: what it does, then its shell line as the person types it. */
  protected override examples(examples: Parameters<CommandHelp['examples']>[0]): string | undefined {
    const name = nameOf(this.command.id)
    if (!name) return super.examples(examples)
    return helpExamples(name, {profileFile})
      .map((e) => `${this.wrap(e.description, 2 * this.indentSpacing)}\n\n${this.indent(this.hanging(`$ ${exampleLine(e, this.cli)}`, 3 * this.indentSpacing, ' \\'))}`)
      .join('\n\n')
  }

  /**
   * oclif lays a list (flags, arguments) out in two columns, or, when a description would take more than five lines
   * there, each description under its name, indented four columns but wrapped for two fewer: at 60 columns its last
   * words went past the edge and the terminal cut them. Told the list is that deep, it wraps them to fit.
   */
  override renderList(input: Array<Array<string | undefined>>, opts: Parameters<CommandHelp['renderList']>[1]): string {
    const left = Math.max(0, ...input.map(([l]) => [...(l ?? '')].length))
    const deep = opts.multiline || input.some(([, r]) => r && this.wrap(r.trim(), opts.indentation + left + 2).split('\n').length > 5)
    return super.renderList(input, deep ? {...opts, indentation: opts.indentation + 2, multiline: true} : opts)
  }

  private hanging(line: string, indent: number, continued = ''): string {
    return hanging(this, line, indent, continued)
  }
}

export default class SetupFlagHelp extends Help {
  protected override CommandHelpClass = OurCommandHelp

  /** As wide as the rest of our text (Output's widthOf: the terminal, else COLUMNS, else 80). */
  constructor(config: Interfaces.Config, opts: Partial<Interfaces.HelpOptions> = {}) {
    super(config, {maxWidth: widthOf(process.stdout), ...opts})
  }

  private get cli(): Cli {
    return {bin: this.config.bin}
  }

  /** What the tool is, the way in, our commands in our order with one line each, where to read more. */
  protected override async showRootHelp(): Promise<void> {
    const r = rootHelp(this.cli)
    const list = this.renderList(
      r.commands.map(([name, line]) => [name, line]),
      {indentation: this.indentSpacing, spacer: '\n', stripAnsi: this.opts.stripAnsi},
    )
    this.log(
      [
        this.wrap(r.summary, 0),
        this.wrap(r.lead, 0),
        this.section(this.opts.usageHeader || 'USAGE', `$ ${r.usage}`),
        this.section('COMMANDS', list),
        ...r.more.map((m) => `${this.wrap(m.text, 0)}\n${this.indent(hanging(this, `$ ${m.command}`, this.indentSpacing))}`),
        this.section('VERSION', this.config.userAgent),
      ].join('\n\n') + '\n',
    )
  }

  /** A command's summary, wrapped to the width as everything else is. */
  protected override summary(c: Parameters<Help['summary']>[0]): string | undefined {
    const s = super.summary(c)
    return s === undefined ? s : this.wrap(s, 0)
  }

  /** Our topic is the whole tool: its help is the root help. */
  protected override async showTopicHelp(topic: Interfaces.Topic): Promise<void> {
    return topic.name === 'setup-flag' ? this.showRootHelp() : super.showTopicHelp(topic)
  }
}

/**
 * A command line whose first words are none of our commands (`gett`, `help gett`): the closest of our commands
 * when one is near, in our one error style (on stderr, or as the one JSON error under --json), exit status 2.
 * fastest-levenshtein gives the distance; near means at most a third of the word (at least one letter) differs.
 */
export async function notFound(typed: readonly string[], json: boolean): Promise<void> {
  const word = typed[0] === 'setup-flag' && typed.length > 1 ? typed[1] : typed[0]
  const {closest, distance} = await import('fastest-levenshtein')
  // Two neighbouring letters swapped (`wbe`, `gte`) is one slip of the fingers, though two edits for Levenshtein.
  const swapped = ROOT_ORDER.find((c) => c.length === word.length && [...word].some((_, i) => i + 1 < word.length && `${word.slice(0, i)}${word[i + 1]}${word[i]}${word.slice(i + 2)}` === c))
  const best = word.startsWith('-') ? undefined : (swapped ?? closest(word, [...ROOT_ORDER]))
  const near = best !== undefined && (best === swapped || best.startsWith(word) || distance(word, best) <= Math.max(1, Math.floor(word.length / 3)))
  await fail(errors.unknownCommand(typed, near ? best : undefined), json)
}

/** `--json` with no command. */
export async function jsonWithoutCommand(): Promise<void> {
  // The commands that answer in JSON (web serves a page until Ctrl-C: it has no --json).
  await fail(errors.jsonWithoutCommand(ROOT_ORDER.filter((c) => c !== 'web').sort()), true)
}

async function fail(e: ReturnType<typeof errors.unknownCommand>, json: boolean): Promise<void> {
  const wrap = json ? undefined : (await import('./lib/wrap.js')).wrapText
  new Output({cli: STANDALONE, json, wrap}).error(e)
  process.exitCode = e.exit
}
