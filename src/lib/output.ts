/**
 * The one way out, for every command, the station and the audit: text for people (wrapped to the terminal, on
 * stdout, or on stderr for notes and warnings), JSON, NDJSON and CSV for scripts, and a progress line. Everything
 * passes the redaction of secrets and the control-character filter here (redact.ts). The progress line lives on
 * stderr, only on a terminal and never under --json; it is always finished (or set aside and drawn again) before
 * anything else is printed, and it ends "done" only when its step succeeded.
 */
import {type Cli} from './cli.js'
import {type SetupFlagError} from './errors.js'
import {forTerminal, redactDeep} from './redact.js'
import {withSuggestions} from './text/labels.js'
import {type Ended} from './setup-flag/session.js'

export interface Stream {
  columns?: number
  isTTY?: boolean
  write(text: string): boolean
}

export interface OutputOptions {
  cli: Cli
  /** --json: stdout carries only JSON (or NDJSON); nothing for people is printed. */
  json: boolean
  /** Text wrapping, loaded only when text is printed for people (`--json` runs never load it). */
  wrap?: (text: string, width: number, bin: string) => string
  stderr?: Stream
  stdout?: Stream
}

/** Width when the stream is not a terminal: COLUMNS if set (the shell convention), else 80. */
export function widthOf(stream: Stream): number {
  if (stream.isTTY && stream.columns) return stream.columns
  const env = Number(process.env.COLUMNS)
  return Number.isInteger(env) && env > 20 ? env : 80
}

/** `title... status` in `room` columns: the title cut after its last whole word that fits ("…"), keeping the status. */
export function oneRow(title: string, status: string, room: number): string {
  const tail = status ? ` ${status}` : ''
  if ([...title].length + 3 + [...tail].length <= room) return `${title}...${tail}`
  const left = room - [...tail].length - 1
  // A status too long for the row itself (the audit's bar and counts): the status alone, cut after a word.
  return left >= 0 ? `${wordsUpTo(title, left)}…${tail}` : `${wordsUpTo(status, room - 1)}…`
}

/** The whole words of `text` that fit in `n` columns. */
function wordsUpTo(text: string, n: number): string {
  const chars = [...text]
  if (chars.length <= n) return text
  const cut = chars.slice(0, Math.max(0, n)).join('')
  return (chars[n] === ' ' ? cut : cut.slice(0, Math.max(0, cut.lastIndexOf(' ')))).trimEnd()
}

export class Output {
  readonly cli: Cli
  /** Warnings of this run: printed on stderr, and returned as `warnings` under --json. */
  readonly warnings: string[] = []
  private active?: {status: string; title: string}
  private readonly err: Stream
  private readonly out: Stream

  constructor(private readonly o: OutputOptions) {
    this.cli = o.cli
    this.out = o.stdout ?? process.stdout
    this.err = o.stderr ?? process.stderr
  }

  /** Whether a progress line can be shown: a person at a terminal, not --json. */
  get showsProgress(): boolean {
    return !this.o.json && this.err.isTTY === true
  }

  /** How many columns text for people may take on `on` (widthOf: the terminal's, else COLUMNS, else 80). */
  width(on: 'stderr' | 'stdout' = 'stdout'): number {
    return widthOf(on === 'stdout' ? this.out : this.err)
  }

  get json(): boolean {
    return this.o.json
  }

  /** Text for people on stdout; nothing under --json. */
  line(text = ''): void {
    if (!this.o.json) this.write(this.out, text)
  }

  /**
   * One line per item for people (the station's device lines): wrapped on a terminal, but a line of its own when
   * piped, so a log or a script reading it gets one line per device.
   */
  item(text: string, on: 'stderr' | 'stdout' = 'stdout'): void {
    if (this.o.json) return
    this.line1(on === 'stdout' ? this.out : this.err, text)
  }

  /** Text for people on stderr (notes, prompts' context); nothing under --json. */
  note(text = ''): void {
    if (!this.o.json) this.write(this.err, text)
  }

  /** Text on stderr in every mode (what a person at the device needs even under --json: the field card), as items are. */
  always(text: string): void {
    this.line1(this.err, text)
  }

  warn(message: string): void {
    this.warnings.push(message)
    this.note(`Warning: ${message}`)
  }

  /** An error for people: the message, what to do next, its code and exit status (a cancellation says what was done). */
  error(e: SetupFlagError): void {
    const w = e.words(this.cli)
    if (this.o.json) return this.jsonDocument({error: {...e.toJSON(this.cli)}})
    if (e.code === 'SETUP_FLAG_CANCELLED') return this.write(this.err, [w.message, ...w.suggestions.map((s) => `  ${s}`)].join('\n'))
    this.write(this.err, `${withSuggestions(`Error: ${w.message}`, w.suggestions)}\n  (${e.code}, exit status ${e.exit})`)
  }

  /** One JSON document on stdout, redacted (JSON escapes control characters itself). */
  jsonDocument(value: unknown): void {
    this.raw(this.out, `${JSON.stringify(redactDeep(value), null, 2)}\n`)
  }

  /** One JSON object per line (NDJSON), redacted. */
  jsonLine(value: unknown): void {
    this.raw(this.out, `${JSON.stringify(redactDeep(value))}\n`)
  }

  /** Lines for machines that are not JSON (CSV): redacted and filtered, never wrapped. */
  data(text: string): void {
    this.raw(this.out, forTerminal(text))
  }

  /** Start a progress line; one still shown ends first, with how its step ended (`before`, "done" unless said). */
  start(title: string, before: Ended = 'done'): void {
    if (this.active) this.end(before)
    if (!this.showsProgress) return
    this.active = {status: '', title: forTerminal(title)}
    this.draw()
  }

  /** A short status after the title ("29:41 left"), drawn again in place. */
  status(text: string): void {
    if (!this.active) return
    this.active.status = forTerminal(text)
    this.draw()
  }

  /** Finish the progress line with how its step ended. */
  end(how: Ended): void {
    if (!this.active) return
    const {title} = this.active
    this.active = undefined
    this.err.write('\r\u001B[K')
    this.write(this.err, `${title}... ${how}`)
  }

  get progressing(): boolean {
    return this.active !== undefined
  }

  private draw(): void {
    if (!this.active) return
    const {status, title} = this.active
    // One terminal row, never wrapped: a wrapped row could not be erased in place. A title too long for it is cut
    // after a whole word ("…"), keeping the status; the line that ends it is printed whole, wrapped.
    this.err.write(`\r\u001B[K${oneRow(title, status, Math.max(10, widthOf(this.err) - 1))}`)
  }

  /** Write for people: the progress line is set aside first and drawn again after. */
  private write(stream: Stream, text: string): void {
    this.raw(stream, `${this.wrapFor(stream, forTerminal(text))}\n`)
  }

  /** A line of its own when piped; wrapped on a terminal. */
  private line1(stream: Stream, text: string): void {
    this.raw(stream, `${stream.isTTY ? this.wrapFor(stream, forTerminal(text)) : forTerminal(text)}\n`)
  }

  private wrapFor(stream: Stream, text: string): string {
    return this.o.wrap && !this.o.json ? this.o.wrap(text, widthOf(stream), this.cli.bin) : text
  }

  private raw(stream: Stream, text: string): void {
    const progress = this.active !== undefined
    if (progress) this.err.write('\r\u001B[K')
    stream.write(text)
    if (progress) this.draw()
  }
}

