/** Small pieces report texts share: how a device is named, a list of devices, a message with its suggestions. */

/** A device by its cloud name and ID (`my-argon [e00f…]`), or its ID. */
export function deviceLabel(r: {id: string; name: null | string}): string {
  return r.name ? `${r.name} [${r.id}]` : r.id
}

/** A message followed by its suggestions, one per line, each behind an arrow. */
export function withSuggestions(message: string, suggestions: readonly string[], indent = '  '): string {
  return [message, ...suggestions.map((x) => `${indent}→ ${x}`)].join('\n')
}

/** Up to ten devices by name, then how many more: "pump-07, pump-09 and 3 more". */
export function someDevices(labels: readonly string[], total: number): string {
  const more = total - labels.length
  return more > 0 ? `${labels.join(', ')} and ${more} more` : labels.join(', ')
}
