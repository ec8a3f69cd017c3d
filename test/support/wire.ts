/** Little-endian byte helpers and the service reply encoding (docs/protocol.md §2.3), for tests that build replies. */
export const u16 = (v: number) => [v & 0xff, (v >> 8) & 0xff]
export const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]

/** Flags, status, then id, size, result in that order, each present only when given. */
export function serviceReplyBytes(r: {id?: number; result?: number; size?: number; status: number}): number[] {
  const flags = 0x01 | (r.id === undefined ? 0 : 0x02) | (r.size === undefined ? 0 : 0x04) | (r.result === undefined ? 0 : 0x08)
  const bytes = [...u32(flags), ...u16(r.status)]
  if (r.id !== undefined) bytes.push(...u16(r.id))
  if (r.size !== undefined) bytes.push(...u32(r.size))
  if (r.result !== undefined) bytes.push(...u32(r.result))
  return bytes
}
