/**
 * The field rescue (`set <device> --method firmware --wait-online`): a device in the field is offline and stuck
 * blinking dark blue, and a person next to it can press buttons but has no computer. We give them a card (Safe
 * Mode: the device then connects from there), watch the device's status events, and return the moment it comes
 * online so the preparatory firmware, compiled beforehand, is flashed at once. The wait is bounded, shows how
 * long is left, and an interrupt ends it with nothing flashed.
 */
import type {Clock} from '../clock.js'

import {type Cloud, type CloudDevice, type CloudEvent} from '../cloud/cloud.js'
import {errors} from '../errors.js'
import {type OnlineHow} from './steps.js'

/** The prefix the cloud publishes connection events under: `spark/status` ("online"/"offline") and `spark/status/safe-mode`. */
export const STATUS_EVENT = 'spark/status'
export const SAFE_MODE_EVENT = 'spark/status/safe-mode'

/** Default bound on the wait (seconds) when `--wait-online` is given without a number. */
export const WAIT_ONLINE_DEFAULT_S = 1800

export interface WaitOnlineOptions {
  clock: Clock
  cloud: Pick<Cloud, 'deviceRecord' | 'events'>
  /** The device as first looked up: when that said offline, a record saying online now means it came online. */
  device: Pick<CloudDevice, 'connected' | 'id' | 'name' | 'online'>
  /** Show the card for the person on site (once, and only when the device is not online already). */
  onCard: () => void
  /** Progress while waiting (e.g. "29:41 left"); undefined when the wait is over. */
  onProgress?: (text: string | undefined) => void
  /** Aborting it (Ctrl-C) ends the wait: nothing is flashed. */
  signal?: AbortSignal
  waitMs: number
}

const isOnline = (body: unknown) => {
  const o = (body ?? {}) as {connected?: unknown; online?: unknown}
  return o.online === true || o.connected === true
}

/**
 * Resolve with how the device came online: at once if it already is, else on its first `spark/status` "online"
 * or `spark/status/safe-mode` event. Rejects after `waitMs` (nothing flashed) or when `signal` aborts.
 */
export async function waitUntilOnline(o: WaitOnlineOptions): Promise<OnlineHow> {
  const who = o.device.name ?? o.device.id
  if (o.signal?.aborted) throw errors.interrupted(who)
  // Subscribe first, then look: a device that connects in between is seen either way.
  const stream = await o.cloud.events(o.device.id, STATUS_EVENT)
  // Listen at once: an event that comes while we look the device up must not be lost.
  let seen: OnlineHow | undefined
  let notify = () => {}
  stream.on('event', (ev: CloudEvent) => {
    if (seen || (ev.coreid && ev.coreid.toLowerCase() !== o.device.id)) return
    if (ev.name === SAFE_MODE_EVENT) seen = 'safe-mode'
    else if (ev.name === STATUS_EVENT && ev.data === 'online') seen = 'online'
    if (seen) notify()
  })
  const cancels: Array<() => void> = []
  let onAbort = () => {}
  try {
    const fresh = await o.cloud.deviceRecord(o.device.id)
    if (seen) return seen
    // Online now, offline when first looked up: it came online in between (its event may still be on its way).
    if (fresh.ok && isOnline(fresh.body)) return o.device.online === false && o.device.connected !== true ? 'online' : 'already'
    o.onCard()
    const start = o.clock.now()
    return await new Promise<OnlineHow>((resolve, reject) => {
      if (seen) return resolve(seen)
      notify = () => resolve(seen!)
      cancels.push(o.clock.setTimer(o.waitMs, () => reject(errors.notOnlineInTime(who, o.waitMs))))
      onAbort = () => reject(errors.interrupted(who))
      o.signal?.addEventListener('abort', onAbort, {once: true})
      const tick = () => {
        const left = Math.max(0, Math.ceil((o.waitMs - (o.clock.now() - start)) / 1000))
        o.onProgress?.(`${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`)
        cancels.push(o.clock.setTimer(1000, tick))
      }
      if (o.onProgress) tick()
    })
  } finally {
    for (const c of cancels) c()
    o.signal?.removeEventListener('abort', onAbort)
    o.onProgress?.(undefined)
    stream.abort()
    stream.stopIdleTimeout?.()
  }
}

/**
 * `--wait-online` takes an optional number of seconds: oclif flags take a value or none, so a bare
 * `--wait-online` (last, or followed by something that is not a number) gets the default inserted.
 */
export function withWaitOnlineDefault(argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    out.push(argv[i])
    if (argv[i] === '--wait-online' && !/^\d+$/.test(argv[i + 1] ?? '')) out.push(String(WAIT_ONLINE_DEFAULT_S))
  }
  return out
}
