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
import {type Cli, STANDALONE} from '../cli.js'
import {errorIs, errors, type SetupFlagError} from '../errors.js'
import {riskText} from '../text/audit.js'
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
  /** The CLI the person typed, for commands named in the fixes. */
  cli?: Cli
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
  /** Names (or IDs) asked for that the cloud does not know at all (not found, as opposed to not read). */
  unknown: string[]
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
  const reader = new FleetReader(opts)
  if (opts.devices) return reader.named(opts.devices)
  if (!opts.product) return reader.account()
  return reader.product(opts.product)
}

/** One audit's reading: pacing, bounded retries, and the running counts. */
class FleetReader {
  private readonly attempts: number
  private done = 0
  private readonly failures: ReadFailure[] = []
  private readonly maxPause: number
  private readonly pacer: Pacer
  private readonly parallel: number
  private readonly perPage: number
  private read = 0
  private readonly unknown: string[] = []

  constructor(private readonly opts: CollectOptions) {
    this.attempts = opts.attempts ?? DEFAULTS.attempts
    this.parallel = Math.max(1, opts.parallel ?? DEFAULTS.parallel)
    this.perPage = opts.perPage ?? DEFAULTS.perPage
    this.maxPause = opts.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs
    this.pacer = new Pacer(opts.clock)
  }

  /** Devices named one by one. */
  async named(names: string[]): Promise<CollectResult> {
    this.opts.onProgress?.(0, names.length, 0)
    await mapLimit(names, this.parallel, async (name, i) => {
      const r = await this.fetch(() => this.opts.cloud.deviceRecord(name, this.opts.product), (body) => (isRecord(body) ? this.row(body) : 'a device record that is not an object'), () => false)
      if (r.ok) return this.deliver([r.value], i, names.length)
      this.failures.push({attempts: r.attempts, code: r.error.code, device: name, message: r.error.message})
      if (errorIs.unknownDevice(r.error)) this.unknown.push(name)
      this.skip(names.length)
    })
    return {failures: this.failures, notRead: this.failures.length, notReadExact: true, pages: names.length, read: this.read, unknown: this.unknown}
  }

  /** The account's devices: one array. */
  async account(): Promise<CollectResult> {
    this.opts.onProgress?.(0, 1, 0)
    const r = await this.fetch(() => this.opts.cloud.devicePage({}), (body) => (Array.isArray(body) ? body : 'a device list that is not an array'), () => false)
    if (!r.ok) throw r.error
    this.deliver(r.value.map((d) => this.row(d)), 0, 1)
    return {failures: this.failures, notRead: 0, notReadExact: true, pages: 1, read: this.read, unknown: []}
  }

  /** A product's devices, page by page: all pages at once when the first says how many, else until a short page. */
  async product(product: string): Promise<CollectResult> {
    const first = await this.page(product, 1)
    if (!first.ok) throw first.error
    const total = first.value.totalPages
    this.opts.onProgress?.(0, total, 0)
    this.deliver(first.value.rows, 0, total)
    const count = {notRead: 0, notReadExact: true}
    const fail = (page: number, r: {attempts: number; error: SetupFlagError}, last: boolean) => {
      this.failures.push({attempts: r.attempts, code: r.error.code, message: r.error.message, page})
      count.notRead += this.perPage
      if (last) count.notReadExact = false
    }
    const pages = total === undefined ? await this.untilShort(product, first.value.rows.length, fail) : await this.allPages(product, total, fail)
    return {failures: this.failures, ...count, pages, read: this.read, unknown: []}
  }

  private async allPages(product: string, total: number, fail: (page: number, r: {attempts: number; error: SetupFlagError}, last: boolean) => void): Promise<number> {
    const rest = Array.from({length: Math.max(0, total - 1)}, (_, i) => i + 2)
    await mapLimit(rest, this.parallel, async (page) => {
      const r = await this.page(product, page)
      if (r.ok) return this.deliver(r.value.rows, page - 1, total)
      fail(page, r, page === total)
      this.skip(total)
    })
    return total
  }

  /** No page count in the answer: read on, one page at a time, until a short page. */
  private async untilShort(product: string, firstSize: number, fail: (page: number, r: {attempts: number; error: SetupFlagError}, last: boolean) => void): Promise<number> {
    let page = 1
    let size = firstSize
    while (size >= this.perPage && page < MAX_PAGES) {
      page++
      const r = await this.page(product, page)
      if (!r.ok) {
        fail(page, r, true)
        break
      }
      this.deliver(r.value.rows, page - 1, undefined)
      size = r.value.rows.length
    }
    return page
  }

  private async page(product: string, page: number) {
    const fatal = (status?: number) => status === 403 || status === 404
    return this.fetch(() => this.opts.cloud.devicePage({page, perPage: this.perPage, product}), (body) => parsePage(body, (d) => this.row(d)), fatal).catch((error: SetupFlagError) => {
      throw errorIs.unknownDevice(error) ? errors.productNotFound(product) : error
    })
  }

  /** One request with pacing and bounded retries; fatal answers (bad token, unknown product) throw. */
  private async fetch<T>(get: () => Promise<Attempt>, parse: (body: unknown) => string | T, fatal: (status?: number) => boolean): Promise<Outcome<T>> {
    let last: SetupFlagError | undefined
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      await this.pacer.ready()
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
        this.pacer.hold(Math.min(r.retryAfterMs ?? 1000 * 2 ** (attempt - 1), this.maxPause))
        continue
      }
      if (r.status !== undefined && r.status < 500) return {attempts: attempt, error: r.error, ok: false} // a plain no: asking again will not help
      if (attempt < this.attempts) await this.opts.clock.sleep(Math.min(500 * 2 ** (attempt - 1), this.maxPause))
    }
    return {attempts: this.attempts, error: last!, ok: false}
  }

  private deliver(rows: AuditRow[], index: number, total: number | undefined): void {
    this.read += rows.length
    this.done++
    this.opts.onRows(rows, index)
    this.opts.onProgress?.(this.done, total, this.read)
  }

  private skip(total: number | undefined): void {
    this.done++
    this.opts.onProgress?.(this.done, total, this.read)
  }

  private row(raw: unknown): AuditRow {
    return toRow(raw, this.opts.cli)
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A product page: `{devices: [...], meta: {total_pages}}`; a string says what is wrong with it. */
function parsePage(body: unknown, toRow: (d: unknown) => AuditRow): string | {rows: AuditRow[]; totalPages: number | undefined} {
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
export function toRow(raw: unknown, cli: Cli = STANDALONE): AuditRow {
  const o = isRecord(raw) ? raw : {}
  const id = typeof o.id === 'string' && /^[\da-f]{24}$/i.test(o.id) ? o.id.toLowerCase() : null
  const platformId = int(o.platform_id)
  const platform = platformId === null ? undefined : platformById(platformId)
  const deviceOs = str(o.system_firmware_version)
  const productId = int(o.product_id)
  const development = bool(o.development)
  const online = bool(o.online) ?? bool(o.connected)
  const verdict = id
    ? assessRisk({development: development ?? undefined, platformId: platformId ?? undefined, productId: productId ?? undefined, version: deviceOs ?? undefined}, cli)
    : {fix: null, reason: riskText({kind: 'bad-record', object: isRecord(raw)}), risk: 'unknown' as const}
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
