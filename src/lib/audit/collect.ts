/**
 * Read a fleet from the cloud: the account's devices (one request), a product's (every page), or devices named
 * one by one. Pages are turned into compact rows as they arrive (the raw answers are dropped at once), at most
 * `parallel` requests are in flight, a 429 pauses every request until its Retry-After has passed, and a page that
 * keeps failing is retried a bounded number of times and then reported, never dropped in silence.
 */
import type {Attempt, Cloud} from '../cloud/cloud.js'

import {type Clock} from '../clock.js'
import {mapLimit} from '../concurrency.js'
import {platformById} from '../particle/platforms.js'
import {errors, type SetupFlagError} from '../errors.js'
import {assessRisk, deviceOsLine, type Risk} from './risk.js'

/** One device as the audit reports it (JSON field names are an interface: add, never rename). */
export interface AuditRow {
  deviceOs: null | string
  deviceOsLine: string
  development: boolean | null
  fix: null | string
  id: string
  lastHandshake: null | string
  lastHeard: null | string
  name: null | string
  online: boolean | null
  platform: string
  platformId: null | number
  platformName: string
  productId: null | number
  reason: string
  risk: Risk
}

/** What could not be read: a page of a product's list, or a device named on the command line. */
export interface ReadFailure {
  attempts: number
  code: string
  device?: string
  message: string
  page?: number
}

export interface CollectOptions {
  clock: Clock
  cloud: Pick<Cloud, 'devicePage' | 'deviceRecord'>
  /** Device IDs or names to read one by one instead of a list. */
  devices?: string[]
  /** Longest pause a Retry-After may impose, in ms (a longer one is shortened to this). */
  maxRetryAfterMs?: number
  /** Called as pages (or named devices) arrive. */
  onProgress?: (done: number, total: number | undefined, read: number) => void
  /** Rows of one page, as soon as it is read (pages may arrive out of order; `index` is the page's place). */
  onRows: (rows: AuditRow[], index: number) => void
  /** Requests in flight at most. */
  parallel?: number
  perPage?: number
  product?: string
  /** Attempts per page or device before it is reported as not read. */
  attempts?: number
}

export interface CollectResult {
  failures: ReadFailure[]
  /** Devices the cloud said exist but that were not read (failed pages, failed names). */
  notRead: number
  /** False when the last page failed: its size is not known, so `notRead` counts it as full. */
  notReadExact: boolean
  pages: number
  read: number
}

export const DEFAULTS = {attempts: 5, maxRetryAfterMs: 120_000, parallel: 4, perPage: 100}

/** Limit on pages when the cloud gives no page count and we read until a short page. */
const MAX_PAGES = 10_000

type Outcome<T> = {attempts: number; error: SetupFlagError; ok: false} | {ok: true; value: T}

/** Shared pacing: after a 429 no request leaves before the moment its Retry-After names. */
class Pacer {
  private notBefore = 0
  constructor(private readonly clock: Clock) {}

  hold(ms: number): void {
    this.notBefore = Math.max(this.notBefore, this.clock.now() + ms)
  }

  async ready(): Promise<void> {
    for (let wait = this.notBefore - this.clock.now(); wait > 0; wait = this.notBefore - this.clock.now()) await this.clock.sleep(wait)
  }
}

export async function collectFleet(opts: CollectOptions): Promise<CollectResult> {
  const attempts = opts.attempts ?? DEFAULTS.attempts
  const parallel = Math.max(1, opts.parallel ?? DEFAULTS.parallel)
  const perPage = opts.perPage ?? DEFAULTS.perPage
  const maxPause = opts.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs
  const pacer = new Pacer(opts.clock)
  const failures: ReadFailure[] = []
  let read = 0
  let done = 0

  /** One request with pacing and bounded retries; fatal answers (bad token, unknown product) throw. */
  async function fetch<T>(get: () => Promise<Attempt>, parse: (body: unknown) => string | T, fatal: (status?: number) => boolean): Promise<Outcome<T>> {
    let last: SetupFlagError | undefined
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await pacer.ready()
      const r = await get()
      if (r.ok) {
        const v = parse(r.body)
        if (typeof v !== 'string') return {ok: true, value: v}
        last = errors.cloudMalformed(v)
        continue
      }
      last = r.error
      if (r.status === 401 || fatal(r.status)) throw r.error
      if (r.status === 429) {
        pacer.hold(Math.min(r.retryAfterMs ?? 1000 * 2 ** (attempt - 1), maxPause))
        continue
      }
      if (r.status !== undefined && r.status < 500) return {attempts: attempt, error: r.error, ok: false} // a plain no: asking again will not help
      if (attempt < attempts) await opts.clock.sleep(Math.min(500 * 2 ** (attempt - 1), maxPause))
    }
    return {attempts, error: last!, ok: false}
  }

  const deliver = (rows: AuditRow[], index: number, total: number | undefined) => {
    read += rows.length
    done++
    opts.onRows(rows, index)
    opts.onProgress?.(done, total, read)
  }

  // Devices named one by one.
  if (opts.devices) {
    const names = opts.devices
    opts.onProgress?.(0, names.length, 0)
    await mapLimit(names, parallel, async (name, i) => {
      const r = await fetch(() => opts.cloud.deviceRecord(name, opts.product), (body) => (isRecord(body) ? toRow(body) : 'a device record that is not an object'), () => false)
      if (r.ok) return deliver([r.value], i, names.length)
      failures.push({attempts: r.attempts, code: r.error.code, device: name, message: r.error.message})
      done++
      opts.onProgress?.(done, names.length, read)
    })
    return {failures, notRead: failures.length, notReadExact: true, pages: names.length, read}
  }

  // The account's devices: one array.
  if (!opts.product) {
    opts.onProgress?.(0, 1, 0)
    const r = await fetch(() => opts.cloud.devicePage({}), (body) => (Array.isArray(body) ? body : 'a device list that is not an array'), () => false)
    if (!r.ok) throw r.error
    deliver(r.value.map((d) => toRow(d)), 0, 1)
    return {failures, notRead: 0, notReadExact: true, pages: 1, read}
  }

  // A product's devices, page by page.
  const product = opts.product
  const productFatal = (status?: number) => status === 403 || status === 404
  const getPage = (page: number) =>
    fetch(
      () => opts.cloud.devicePage({page, perPage, product}),
      (body) => parsePage(body),
      productFatal,
    ).catch((error: SetupFlagError) => {
      throw error.code === 'SETUP_FLAG_UNKNOWN_DEVICE' ? errors.productNotFound(product) : error
    })

  const first = await getPage(1)
  if (!first.ok) throw first.error
  const total = first.value.totalPages
  opts.onProgress?.(0, total, 0)
  deliver(first.value.rows, 0, total)
  let notRead = 0
  let notReadExact = true

  const failPage = (page: number, r: {attempts: number; error: SetupFlagError}, last: boolean) => {
    failures.push({attempts: r.attempts, code: r.error.code, message: r.error.message, page})
    notRead += perPage
    if (last) notReadExact = false
  }

  if (total !== undefined) {
    const rest = Array.from({length: Math.max(0, total - 1)}, (_, i) => i + 2)
    await mapLimit(rest, parallel, async (page) => {
      const r = await getPage(page)
      if (r.ok) deliver(r.value.rows, page - 1, total)
      else {
        failPage(page, r, page === total)
        done++
        opts.onProgress?.(done, total, read)
      }
    })
    return {failures, notRead, notReadExact, pages: total, read}
  }

  // No page count in the answer: read on, one page at a time, until a short page.
  let page = 1
  let size = first.value.rows.length
  while (size >= perPage && page < MAX_PAGES) {
    page++
    const r = await getPage(page)
    if (!r.ok) {
      failPage(page, r, true)
      break
    }
    deliver(r.value.rows, page - 1, undefined)
    size = r.value.rows.length
  }
  return {failures, notRead, notReadExact, pages: page, read}
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A product page: `{devices: [...], meta: {total_pages}}`; a string says what is wrong with it. */
function parsePage(body: unknown): string | {rows: AuditRow[]; totalPages: number | undefined} {
  if (!isRecord(body)) return 'a device page that is not an object'
  if (!Array.isArray(body.devices)) return 'a device page without a list of devices'
  const t = isRecord(body.meta) ? body.meta.total_pages : undefined
  const totalPages = typeof t === 'number' && Number.isInteger(t) && t >= 1 ? t : undefined
  return {rows: body.devices.map((d) => toRow(d)), totalPages}
}

const str = (v: unknown): null | string => (typeof v === 'string' && v !== '' ? v : null)
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null)
const int = (v: unknown): null | number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null)

/** One cloud device record as a row; a field of the wrong type reads as missing, a record that is not one is `unknown`. */
export function toRow(raw: unknown): AuditRow {
  const o = isRecord(raw) ? raw : {}
  const id = typeof o.id === 'string' && /^[\da-f]{24}$/i.test(o.id) ? o.id.toLowerCase() : null
  const platformId = int(o.platform_id)
  const platform = platformId === null ? undefined : platformById(platformId)
  const deviceOs = str(o.system_firmware_version)
  const productId = int(o.product_id)
  const development = bool(o.development)
  const online = bool(o.online) ?? bool(o.connected)
  const verdict = id
    ? assessRisk({development: development ?? undefined, platformId: platformId ?? undefined, productId: productId ?? undefined, version: deviceOs ?? undefined})
    : {fix: null, reason: `The cloud sent a device record without a valid device ID${isRecord(raw) ? '' : ' (not an object)'}.`, risk: 'unknown' as const}
  return {
    deviceOs,
    deviceOsLine: deviceOsLine(deviceOs ?? undefined),
    development,
    fix: verdict.fix,
    id: id ?? (typeof o.id === 'string' ? o.id.slice(0, 40) : ''),
    lastHandshake: str(o.last_handshake_at),
    lastHeard: str(o.last_heard),
    name: str(o.name)?.slice(0, 200) ?? null,
    online,
    platform: platform?.name ?? (platformId === null ? 'unknown' : `platform-${platformId}`),
    platformId,
    platformName: platform?.displayName ?? (platformId === null ? 'unknown platform' : `Platform ${platformId}`),
    productId,
    reason: verdict.reason,
    risk: verdict.risk,
  }
}
