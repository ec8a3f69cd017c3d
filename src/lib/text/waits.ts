/** Progress lines: what is being waited for, and for how long at most. */
import {type Wait} from '../setup-flag/session.js'
import {seconds} from '../words.js'

const RESTART: Record<Exclude<Extract<Wait, {kind: 'restart'}>['back'], never>, (id: string) => string> = {
  application: (id) => `Waiting for ${id} to restart its application`,
  dfu: (id) => `Waiting for ${id} to restart in DFU mode`,
  'dfu-buttons': () => 'Waiting for the device to come back in DFU mode (blinking yellow)',
  normal: (id) => `Waiting for ${id} to restart`,
  replug: () => 'Waiting for the device to be plugged in again',
  restart: (id) => `Waiting for ${id} to restart`,
  safe: (id) => `Waiting for ${id} to restart in Safe Mode`,
  'safe-buttons': () => 'Waiting for the device to come back in Safe Mode (breathing magenta)',
}

/** A request timed out and may still run: the restart it may cause. */
const LATE: Partial<Record<Extract<Wait, {kind: 'restart'}>['back'], string>> = {dfu: 'in DFU mode', restart: 'to reconnect to the cloud', safe: 'in Safe Mode'}

export function waitTitle(w: Wait): string {
  if (w.kind === 'report') return `Waiting for ${w.who} to report the flag (up to ${seconds(w.upToMs)})`
  const what = w.late ? `Waiting for ${w.id}: it may still restart ${LATE[w.back] ?? ''}`.trim() : RESTART[w.back](w.id)
  return `${what} (up to ${seconds(w.upToMs)})`
}

/** The limit of one request, for the texts of steps that wait on the firmware. */
export const perRequest = (timeoutMs: number) => `waiting up to ${seconds(timeoutMs)} for each answer`
