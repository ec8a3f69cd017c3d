/**
 * The smallest pieces of wording, shared by errors.ts and the text layer (docs/architecture.md, "Words"): one byte
 * formatter, counts with their nouns, durations.
 */

/** A byte for people: 0x01, 0xFF. */
export const hex = (b: number) => `0x${b.toString(16).padStart(2, '0').toUpperCase()}`

/** A byte the device may or may not have told: request 74's "not done" carries no byte, said as "not set". */
export const byteText = (v: null | number) => (v === null ? 'not set' : hex(v))

/** "1 device", "3 devices". */
export const count = (n: number, noun: string, plural = `${noun}s`) => `${n} ${n === 1 ? noun : plural}`

/** Milliseconds as whole seconds for people: "30 s". */
export const seconds = (ms: number) => `${Math.round(ms / 1000)} s`

/** Items as an English list: "a", "a and b", "a, b and c". */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`
}
