/**
 * Text for people, wrapped at word boundaries to the terminal's width with wrap-ansi and string-width (not
 * hand-written): each line keeps its indentation and hangs its continuation lines under its text (after a
 * leading mark such as "✔ ", "→ " or "- ", or an aligned label such as "by risk:   "), and a command (in backticks,
 * or starting with our bin or `particle`) or a URL is broken only when it does not fit on a line of its own, and
 * then between its words. Lines laid out as columns (tables, which text/layout.ts fits to the width) are left as
 * they are. Loaded only when text is printed for people, so `--json` runs never load it.
 */
import stringWidth from 'string-width'
import wrapAnsi from 'wrap-ansi'

/** Width when the stream is not a terminal: COLUMNS if set (the shell convention), else 80. */
export function widthOf(stream: NodeJS.WriteStream): number {
  if (stream.isTTY && stream.columns) return stream.columns
  const env = Number(process.env.COLUMNS)
  return Number.isInteger(env) && env > 20 ? env : 80
}

const NBSP = '\u00A0'
const MARK = /^(\s*)((?:[✔✖⚠•–→?👉-]|\d+\.)\s+|[^\s:][^:]*: {2,})?/u
/**
 * Spans that must stay on one line: `code`, and commands written out (our bin, the official CLI, or the oclif
 * host we run in), with their words up to the end of the sentence.
 */
function unbreakable(bin: string): RegExp {
  const names = ['particle-setup-flag', 'particle', bin].map((n) => n.replaceAll(/[$()*+.?[\\\]^{|}]/g, '\\$&')).join('|')
  return new RegExp(`\`[^\`\\n]+\`|(?:PARTICLE_\\w+=\\S+ )?\\b(?:${names})(?: (?![-–→])[^\\s.,;:!?)]+(?:[.,:][^\\s.,;:!?)]+)*)+`, 'g')
}

function wrapLine(line: string, width: number, keep: RegExp): string {
  if (stringWidth(line) <= width) return line
  const [, indent, mark = ''] = MARK.exec(line)!
  const text = line.slice(indent.length + mark.length)
  if (/\S {2,}\S/.test(text.trim())) return line
  // Symbols such as ✔ and ⚠ take one column in terminals (string-width counts them as emoji, two).
  const markWidth = mark.codePointAt(0)! < 0x1_f0_00 ? mark.length : stringWidth(mark)
  const hang = ' '.repeat(indent.length + markWidth)
  const room = Math.max(20, width - hang.length)
  // A command longer than a whole line breaks between its words rather than past the edge, mid-word.
  const body = text.replaceAll(keep, (m) => (stringWidth(m) <= room ? m.replaceAll(' ', NBSP) : m))
  // A single word wider than the line (a long path) cannot fit whole: it is broken here, under its hanging indent.
  const wrapped = wrapAnsi(body, room, {hard: true, trim: true, wordWrap: true}).replaceAll(NBSP, ' ').split('\n')
  return wrapped.map((l, i) => (i === 0 ? indent + mark + l : hang + l)).join('\n')
}

/** `bin`: the name of the CLI we run in (commands written with it stay whole too). */
export function wrapText(text: string, width: number, bin = 'particle-setup-flag'): string {
  const keep = unbreakable(bin)
  return text
    .split('\n')
    .map((l) => wrapLine(l, width, keep))
    .join('\n')
}
