/**
 * Which connected devices a person may have meant when what they typed names none: every one, closest first by
 * edit distance (Levenshtein, from the fastest-levenshtein package) to its ID, or to its name when that is closer;
 * equally close ones keep the order they came in (ID order). Loaded only when something was not found.
 */
import {type Nearby} from '../words.js'

export interface Candidate {
  dfu?: boolean
  id: string
  name?: null | string
  platform: string
}

export async function nearby(typed: string, candidates: readonly Candidate[]): Promise<Nearby[]> {
  if (candidates.length === 0) return []
  const {distance} = await import('fastest-levenshtein')
  const t = typed.trim().toLowerCase()
  const ranked = candidates.map((c) => {
    const byName = c.name ? distance(t, c.name.toLowerCase()) : Number.POSITIVE_INFINITY
    const n: Nearby = {id: c.id, off: Math.min(distance(t, c.id.toLowerCase()), byName), platform: c.platform}
    if (c.name) n.name = c.name
    if (c.dfu) n.dfu = true
    return n
  })
  // Array.prototype.sort is stable: equally close devices stay in the order given.
  return ranked.sort((a, b) => a.off - b.off)
}
