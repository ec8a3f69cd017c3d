/**
 * Tables that fit the terminal: rows laid out as columns when they fit, and otherwise stacked rather than wrapped
 * (a wrapped row breaks its cells mid-word and loses its columns). Widths are counted in code points, as the cells
 * are (IDs, platform names, versions, dates, a few words). The output port wraps the prose around them.
 */

const width = (s: string) => [...s].length
const widest = (lines: readonly string[]) => Math.max(0, ...lines.map((l) => width(l)))
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - width(s)))

/** Rows laid out as columns, two spaces apart (the last column unpadded). */
export function columns(rows: readonly (readonly string[])[], indent = ''): string[] {
  if (rows.length === 0) return []
  const widths = rows[0].map((_, c) => widest(rows.map((r) => r[c])))
  return rows.map((r) => indent + r.map((cell, c) => (c === r.length - 1 ? cell : pad(cell, widths[c]))).join('  '))
}

/**
 * A table (`rows[0]` its header) in at most `room` columns, in the first of three layouts that fits:
 * - columns, as wide as the cells;
 * - each row on two lines: its first columns, then the others as columns two in (the split that fits narrowest);
 * - each row's first cell, then one line per other cell, `HEADER: value` (the output port wraps a long one at its
 *   words, under itself).
 */
export function fitTable(rows: readonly (readonly string[])[], room: number): string {
  const full = columns(rows)
  if (widest(full) <= room) return full.join('\n')
  const splits = rows[0].slice(1).map((_, i) => {
    const first = columns(rows.map((r) => r.slice(0, i + 1)))
    const second = columns(rows.map((r) => r.slice(i + 1)), '  ')
    return {first, second, width: Math.max(widest(first), widest(second))}
  })
  const best = splits.filter((s) => s.width <= room).sort((a, b) => a.width - b.width)[0]
  if (best) return best.first.flatMap((line, i) => [line, best.second[i]]).join('\n')
  const [header, ...body] = rows
  return body.flatMap((r) => [r[0], ...r.slice(1).map((cell, c) => `  ${header[c + 1]}: ${cell}`)]).join('\n')
}
