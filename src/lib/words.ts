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

/** Control requests by type, as messages name them. */
const REQUESTS: Record<number, string> = {
  30: 'the Device OS version request (30)', 40: 'the reset request (40)', 50: 'the DFU mode request (50)', 60: 'the Safe Mode request (60)',
  71: 'the stop-listening request (71)', 72: 'the device mode request (72)', 73: 'the setup-done write (73)', 74: 'the setup-done read (74)',
}
export const requestLabel = (type: number) => REQUESTS[type] ?? `control request ${type}`

/** How a DfuSe exchange went wrong, as the bootloader showed it. */
export type DfuProblem =
  | {kind: 'busy' | 'no-idle' | 'refused' | 'stalled'}
  | {kind: 'no-layout'; alt: number}
  | {kind: 'outside'; address: number; alt: number; length: number}
  | {kind: 'short'; asked: number; got: number}
  | {kind: 'state'; state: number; status?: number}

export const dfuDetail: {[K in DfuProblem['kind']]: (p: Extract<DfuProblem, {kind: K}>, step: string) => string} = {
  busy: () => 'the bootloader stayed busy',
  'no-idle': () => 'the bootloader would not return to dfuIDLE',
  'no-layout': (p) => `alt setting ${p.alt} has no memory layout`,
  outside: (p) => `0x${p.address.toString(16)}+${p.length} is outside alt setting ${p.alt}'s memory`,
  refused: (_, step) => (step === 'write' ? 'the bootloader refused the data' : step === 'leave' ? 'the bootloader refused to leave' : 'the bootloader refused the command'),
  short: (p) => `asked for ${p.asked} bytes, got ${p.got}`,
  stalled: (_, step) => (step === 'status' ? 'the bootloader stalled GETSTATUS' : 'the bootloader stalled'),
  state: (p, step) =>
    step === 'leave' ? `the bootloader answered state ${p.state}, status ${p.status}` : p.status === undefined ? `the bootloader ${step === 'abort' ? 'stayed' : 'is'} in state ${p.state}` : `the bootloader reported status ${p.status} in state ${p.state}`,
}

/** How a device we wait for comes back: the mode it restarts into, or what brings it back. */
export type Back = 'application' | 'dfu' | 'dfu-buttons' | 'normal' | 'replug' | 'restart' | 'safe' | 'safe-buttons'

/** The words of each way back, as in "did not come back in DFU mode". */
export const BACK: Record<Back, string> = {
  application: 'from Safe Mode',
  dfu: 'in DFU mode',
  'dfu-buttons': 'in DFU mode (blinking yellow)',
  normal: 'in normal mode',
  replug: 'plugged in again',
  restart: 'after the restart',
  safe: 'in Safe Mode',
  'safe-buttons': 'in Safe Mode (breathing magenta)',
}

/** What had been done to a device when a run stopped early (a question cancelled, a fix declined). */
export type DoneSoFar =
  | {kind: 'already'}
  | {kind: 'nothing-flashed'; who?: string}
  | {kind: 'nothing-written'}
  | {after: null | number; before: null | number; kind: 'written'; restarted: boolean}

export function doneText(d: DoneSoFar): string {
  switch (d.kind) {
    case 'already': return 'Nothing was written: the flag already held the wanted value.'
    case 'nothing-flashed': return d.who ? `Nothing was flashed to ${d.who}.` : 'Nothing was flashed.'
    case 'nothing-written': return 'Nothing was written.'
    case 'written': return `The flag was written (${byteText(d.before)} → ${byteText(d.after)}) and read back; the device was ${d.restarted ? '' : 'not '}restarted.`
  }
}

/** Who turned the cloud off: the flag, or PARTICLE_OFFLINE in the environment (said as the person set it). */
export type OfflineBy = {env: string} | 'flag'
export const offlineWords = (by: OfflineBy) => (by === 'flag' ? {drop: 'Drop --offline', name: '--offline'} : {drop: 'Unset PARTICLE_OFFLINE', name: `PARTICLE_OFFLINE=${by.env} (in the environment)`})


/** A connected device offered when the one typed is not there (usb/nearby.ts ranks them). */
export interface Nearby {
  dfu?: boolean
  id: string
  /** Its cloud name (or, in a devices file, its name), when known. */
  name?: string
  /** Edit distance from what was typed: to the ID, or to the name when that is closer. */
  off: number
  platform: string
}

/** How many are listed by name; the rest are counted. */
const NEARBY_SHOWN = 5

/** "bench-argon e00fce681a2b3c4d5e6f7a8b (Argon), 1 character different": the difference only when it looks like a typo. */
export function nearbyLabel(n: Nearby): string {
  const close = n.off > 0 && n.off <= 3 ? `, ${count(n.off, 'character')} different` : ''
  return `${n.name ? `${n.name} ` : ''}${n.id} (${n.platform}${n.dfu ? ', DFU' : ''})${close}`
}

/** The devices as indented lines under a sentence, closest first; past five, how many more. */
export function nearbyLines(list: readonly Nearby[]): string {
  const lines = list.slice(0, NEARBY_SHOWN).map((n) => `  ${nearbyLabel(n)}`)
  if (list.length > NEARBY_SHOWN) lines.push(`  and ${count(list.length - NEARBY_SHOWN, 'more device')}`)
  return lines.join('\n')
}

/** " Connected now, closest first:" and the devices, after a sentence about a device that is not there (nothing when none is). */
export const connectedNow = (list: readonly Nearby[] | undefined, lead = 'Connected now') => (list && list.length > 0 ? ` ${lead}, closest first:\n${nearbyLines(list)}` : '')
