/**
 * The Particle Cloud, through particle-api-js (loaded lazily: commands that need no cloud never pay for it).
 * At most one request per device per run, one `GET /v1/devices` when several devices are looked up, answers
 * cached for the run, and HTTP failures turned into our errors. The access token goes only into the
 * Authorization header; it never appears in a message, an error or debug output.
 */
import type {Agent} from 'node:http'
import type {Duplex} from 'node:stream'

import type {Clock} from '../clock.js'

import {errors, SetupFlagError} from '../errors.js'
import {oneLine, redact} from '../redact.js'
import {ANSWER_COMPRESSED, ANSWER_TOO_LARGE, boundAnswers, MAX_ANSWER_BYTES} from './bounded.js'
import {type CloudSettings} from './settings.js'

/** How long one cloud request may take, connecting included, unless --timeout says otherwise. */
export const CLOUD_DEADLINE_MS = 15_000
/** A cloud compile legitimately takes tens of seconds: its deadline is at least this. */
export const COMPILE_DEADLINE_MS = 90_000

/** The fields of a cloud device we use. particle-api-js's DeviceInfo lacks `system_firmware_version`. */
export interface CloudDevice {
  connected?: boolean
  id: string
  name: null | string
  online?: boolean
  platform_id?: number
  system_firmware_version?: string
}

interface ApiError {
  body?: unknown
  code?: string
  /** What failed underneath (particle-api-js keeps node-fetch's error here; a bounded answer's code survives in it). */
  error?: {code?: string}
  message?: string
  shortErrorDescription?: string
  statusCode?: number
}

interface ParticleApi {
  compileCode(o: {auth: string; files: Record<string, Buffer>; platformId: number; targetVersion?: string}): Promise<{body: unknown}>
  downloadFirmwareBinary(o: {auth: string; binaryId: string}): Promise<ArrayBuffer | Buffer>
  flashDevice(o: {auth: string; deviceId: string; files: Record<string, Buffer>}): Promise<{body: unknown}>
  getDevice(o: {auth: string; deviceId: string}): Promise<{body: unknown}>
  getEventStream(o: {auth: string; deviceId: string; name?: string}): Promise<EventStream>
  listDevices(o: {auth: string}): Promise<{body: unknown}>
  listDevices(o: {auth: string; page?: number; perPage?: number; product?: number | string}): Promise<{body: unknown}>
  getDevice(o: {auth: string; deviceId: string; product?: number | string}): Promise<{body: unknown}>
}

/** One request's outcome for callers that pace and retry themselves (audit): the body, or the mapped error. */
export type Attempt = {body: unknown; ok: true} | {error: SetupFlagError; ok: false; retryAfterMs?: number; status?: number}

/** particle-api-js's event stream: an EventEmitter of `event` ({name, data, coreid, published_at}). */
export interface EventStream {
  abort(): void
  on(event: 'event', fn: (e: CloudEvent) => void): void
  /** particle-api-js keeps a 15 s idle timer that abort() leaves running; we stop it so the process can exit. */
  stopIdleTimeout?(): void
}

export interface CloudEvent {
  coreid?: string
  data?: string
  name: string
  published_at?: string
}

const RETRIES_429 = 3

export class Cloud {
  private api?: Promise<ParticleApi>
  private readonly byId = new Map<string, CloudDevice>()
  private readonly byName = new Map<string, CloudDevice>()
  private listed?: Promise<CloudDevice[]>
  private unavailable?: SetupFlagError

  constructor(
    readonly settings: CloudSettings,
    private readonly clock: Clock,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /** Whether the cloud may be asked at all: logged in and not offline. */
  get usable(): boolean {
    return Boolean(this.settings.accessToken) && !this.settings.offline && !this.unavailable
  }

  /** One device by ID or name (`GET /v1/devices/:idOrName`), or from an earlier list. */
  async device(idOrName: string): Promise<CloudDevice> {
    const key = idOrName.toLowerCase()
    const cached = this.byId.get(key) ?? this.byName.get(key)
    if (cached) return cached
    if (this.listed) {
      const list = await this.listed
      const hit = list.find((d) => d.id === key || d.name?.toLowerCase() === key)
      if (hit) return hit
    }
    const body = await this.call((api, auth) => api.getDevice({auth, deviceId: idOrName}), idOrName)
    return this.remember(toDevice(body))
  }

  /** Every device of the account, one request per run (`GET /v1/devices`). */
  async devices(): Promise<CloudDevice[]> {
    this.listed ??= this.call((api, auth) => api.listDevices({auth}), 'your devices', false).then((body) => {
      const list: unknown = Array.isArray(body) ? body : ((body as {devices?: unknown})?.devices ?? [])
      if (!Array.isArray(list)) throw errors.cloudBadAnswer('the device list', 'not a list of devices')
      return list.map((d) => this.remember(toDevice(d)))
    })
    return this.listed
  }

  /** Compile `files` in the cloud for a platform and Device OS version; returns the firmware binary. */
  async compile(files: Record<string, string>, platformId: number, targetVersion: string): Promise<Buffer> {
    const buffers = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)]))
    const body = (await this.call((api, auth) => api.compileCode({auth, files: buffers, platformId, targetVersion}), 'the compile request', false, Math.max(COMPILE_DEADLINE_MS, this.deadlineMs))) as {
      binary_id?: string
      errors?: string[]
      ok?: boolean
    }
    if (!body?.binary_id) throw errors.cloudUnavailable(`the compiler failed${Array.isArray(body?.errors) && body.errors.length > 0 ? `: ${oneLine(redact(body.errors.join('; '))).slice(0, 300)}` : ''}`)
    const bin = await this.call(async (api, auth) => ({body: await api.downloadFirmwareBinary({auth, binaryId: body.binary_id!})}), 'the firmware download', false)
    return Buffer.isBuffer(bin) ? bin : Buffer.from(bin as ArrayBuffer)
  }

  /** Flash a firmware binary over the air. */
  async flash(deviceId: string, binary: Buffer, filename = 'firmware.bin'): Promise<void> {
    await this.call((api, auth) => api.flashDevice({auth, deviceId, files: {[filename]: binary}}), deviceId)
  }

  /** Subscribe to one device's events named `name`; the caller aborts the stream when done. */
  async events(deviceId: string, name: string): Promise<EventStream> {
    const auth = this.settings.accessToken
    if (!auth) throw errors.notLoggedIn(deviceId)
    const api = await this.client()
    let stream: EventStream
    try {
      stream = await this.withDeadline(api.getEventStream({auth, deviceId, name}))
    } catch (error) {
      if (error instanceof SetupFlagError) throw error
      // event-stream failures reject with a plain object {statusCode, errorDescription}
      throw this.mapError(error as ApiError, deviceId)
    }
    // particle-api-js reconnects on its own timer after an idle close, and abort() does not stop a reconnect
    // already scheduled (it would open a stream nobody reads and keep the process alive): make abort final.
    const raw = stream as EventStream & {connect?: () => Promise<unknown>; reconnect?: () => void}
    const abort = stream.abort.bind(stream)
    stream.abort = () => {
      raw.reconnect = () => {}
      raw.connect = () => Promise.reject(new Error('aborted'))
      abort()
      stream.stopIdleTimeout?.()
    }
    return stream
  }

  /**
   * Best-effort lookups for display (names, versions): failures of reachability are warned about once and
   * then the cloud is left alone for the rest of the run; auth failures are warned about too.
   */
  async tryDevices(ids: string[]): Promise<Map<string, CloudDevice>> {
    const out = new Map<string, CloudDevice>()
    if (!this.usable || ids.length === 0) return out
    try {
      if (ids.length === 1) {
        out.set(ids[0], await this.device(ids[0]))
      } else {
        for (const d of await this.devices()) if (ids.includes(d.id)) out.set(d.id, d)
      }
    } catch (error) {
      if (error instanceof SetupFlagError && error.code === 'SETUP_FLAG_UNKNOWN_DEVICE') return out // not in this account
      this.degrade(error)
    }
    return out
  }

  /** After a failure that makes the cloud useless for this run: warn once, then stop asking. */
  degrade(error: unknown): void {
    if (this.unavailable) return
    const e = error instanceof SetupFlagError ? error : errors.cloudUnavailable(String((error as Error)?.message ?? error))
    this.unavailable = e
    this.warn(`${e.message} Carrying on from what the device reports over USB.${e.suggestions[0] ? ` ${e.suggestions[0]}` : ''}`)
  }

  /**
   * One page of devices: a product's (`GET /v1/products/:product/devices?page&per_page`, answering
   * `{devices, meta: {total_pages}}`), or the account's (`GET /v1/devices`, one array). One request, no retry.
   */
  async devicePage(o: {page?: number; perPage?: number; product?: string}): Promise<Attempt> {
    return this.attempt((api, auth) => api.listDevices({auth, ...o}), o.product ? `product ${o.product}` : 'your devices')
  }

  /** One device's full cloud record, in a product or the account. One request, no retry. */
  async deviceRecord(idOrName: string, product?: string): Promise<Attempt> {
    return this.attempt((api, auth) => api.getDevice({auth, deviceId: idOrName, product}), idOrName)
  }

  private async attempt(fn: (api: ParticleApi, auth: string) => Promise<{body: unknown}>, what: string, aboutDevice = true): Promise<Attempt> {
    const auth = this.settings.accessToken
    if (!auth) return {error: errors.notLoggedIn(what), ok: false}
    const api = await this.client()
    try {
      return {body: (await this.withDeadline(fn(api, auth))).body, ok: true}
    } catch (error) {
      if (error instanceof SetupFlagError) return {error, ok: false}
      const e = error as ApiError
      const seconds = retryAfterSeconds(e, this.clock.now())
      return {error: this.mapError(e, what, aboutDevice), ok: false, retryAfterMs: seconds === undefined ? undefined : seconds * 1000, status: e.statusCode}
    }
  }

  /**
   * One request; `what` names it in errors (a device ID or name when `aboutDevice`, else the request itself).
   * `deadlineMs` bounds the whole of it, retries included: a 429 is tried again after its Retry-After (else after
   * 1, 2, 4 s) only when that wait leaves time before the deadline; otherwise it fails at once, saying the wait.
   */
  private async call(fn: (api: ParticleApi, auth: string) => Promise<{body: unknown}>, what: string, aboutDevice = true, deadlineMs = this.deadlineMs): Promise<unknown> {
    if (this.unavailable) throw this.unavailable
    const auth = this.settings.accessToken
    if (!auth) throw errors.notLoggedIn(what)
    const api = await this.client()
    const started = this.clock.now()
    for (let attempt = 0; ; attempt++) {
      const left = deadlineMs - (this.clock.now() - started)
      try {
        return (await this.withDeadline(fn(api, auth), Math.max(left, 1), deadlineMs)).body
      } catch (error) {
        if (error instanceof SetupFlagError) throw error
        const e = error as ApiError
        if (e.statusCode !== 429) throw this.mapError(e, what, aboutDevice)
        const asked = retryAfterSeconds(e, this.clock.now())
        const waitMs = asked === undefined ? 1000 * 2 ** attempt : asked * 1000
        const fits = this.clock.now() - started + waitMs < deadlineMs
        if (attempt < RETRIES_429 && fits) {
          await this.clock.sleep(waitMs)
          continue
        }
        throw errors.cloudRateLimited(asked, fits || asked === undefined ? undefined : deadlineMs / 1000)
      }
    }
  }

  /** The deadline of one request (connecting included): --timeout when given, else CLOUD_DEADLINE_MS. */
  get deadlineMs(): number {
    return this.settings.timeoutMs ?? CLOUD_DEADLINE_MS
  }

  /**
   * particle-api-js has no timeouts: a cloud that accepts the connection and never answers (or drips a byte a
   * second) would hold us for ever. Race the request against the deadline and, when it passes, destroy the
   * connections so the request settles and nothing keeps the process alive. `sayMs` is the deadline named in the
   * error (the whole request's, when this is a retry with what is left of it).
   */
  private async withDeadline<R>(request: Promise<R>, deadlineMs = this.deadlineMs, sayMs = deadlineMs): Promise<R> {
    request.catch(() => {}) // settles after the deadline: nobody listens any more
    let timer: ReturnType<typeof setTimeout> | undefined
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy()
        this.sockets.clear()
        reject(errors.cloudUnavailable(`no answer from ${redact(this.settings.apiUrl)} within ${sayMs / 1000} s`))
      }, deadlineMs)
    })
    try {
      return await Promise.race([request, expired])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Connections opened for requests, destroyed when a deadline passes. */
  private readonly sockets = new Set<Duplex>()

  private track<S extends Duplex>(socket: S): S {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    return socket
  }

  /**
   * Our own agent (direct or through the proxy), so connections have a connect deadline and can be destroyed, and
   * every answer is bounded in size (bounded.ts).
   */
  private async agent(): Promise<Agent> {
    return boundAnswers(await this.connectingAgent())
  }

  private async connectingAgent(): Promise<Agent> {
    const connectMs = this.deadlineMs
    if (this.settings.proxyUrl) {
      const {HttpsProxyAgent} = await import('https-proxy-agent')
      const agent = new HttpsProxyAgent(this.settings.proxyUrl)
      const connect = agent.connect.bind(agent)
      agent.connect = async (req, opts) => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const late = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error('connect timed out'), {code: 'ETIMEDOUT'})), connectMs)
        })
        try {
          return this.track(await Promise.race([connect(req, opts), late]))
        } finally {
          clearTimeout(timer)
        }
      }
      return agent
    }
    // Loaded here, not at start-up: commands that never call the cloud do not pay for TLS.
    const agent = this.settings.apiUrl.startsWith('https:') ? new (await import('node:https')).Agent() : new (await import('node:http')).Agent()
    const raw = agent as unknown as {createConnection: (...args: unknown[]) => Duplex}
    const createConnection = raw.createConnection.bind(agent)
    raw.createConnection = (...args: unknown[]) => {
      const socket = this.track(createConnection(...args))
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connect timed out'), {code: 'ETIMEDOUT'})), connectMs)
      timer.unref()
      socket.once(this.settings.apiUrl.startsWith('https:') ? 'secureConnect' : 'connect', () => clearTimeout(timer))
      socket.once('close', () => clearTimeout(timer))
      return socket
    }
    return agent
  }

  private async client(): Promise<ParticleApi> {
    this.api ??= (async () => {
      if (this.settings.virtualCloud) {
        // PARTICLE_VIRTUAL_CLOUD: a cloud on 127.0.0.1 in this process, reached like the real one from here on.
        const {startVirtualCloud} = await import('./virtual-fixture.js')
        const virtual = await startVirtualCloud(this.settings.virtualCloud, this.settings.accessToken!)
        this.settings.apiUrl = virtual.url
      }
      const {default: Particle} = await import('particle-api-js')
      const httpAgent = await this.agent()
      return new Particle({baseUrl: this.settings.apiUrl, httpAgent}) as unknown as ParticleApi
    })()
    return this.api
  }

  private mapError(e: ApiError, what: string, aboutDevice = true): SetupFlagError {
    const status = e.statusCode
    const url = redact(this.settings.apiUrl)
    // An answer cut off by its bound (bounded.ts), whatever status it came with: its own error.
    const under = e.error?.code === undefined ? e : e.error
    if (under.code === ANSWER_TOO_LARGE) return errors.cloudAnswerTooLarge(what, MAX_ANSWER_BYTES)
    if (under.code === ANSWER_COMPRESSED) return errors.cloudBadAnswer(what, `HTTP ${status ?? '?'} from ${url} with a compressed body, although none was asked for`)
    if (status === 401) return errors.invalidToken()
    if ((status === 403 || status === 404) && !aboutDevice) return errors.cloudRefused(what, status)
    if (status === 403 || status === 404) return errors.cloudDeviceNotFound(oneLine(what))
    // A 2xx that failed: the body was not the JSON the API always sends (HTML from a portal, nothing, garbage).
    if (status !== undefined && status >= 200 && status < 300) return errors.cloudBadAnswer(what, `HTTP ${status} from ${url} with a body that is not JSON`)
    if (status === 429) return errors.cloudRateLimited(retryAfterSeconds(e, this.clock.now()))
    if (status !== undefined && status >= 500) return errors.cloudUnavailable(`HTTP ${status} from ${url}`)
    if (status === undefined) {
      const code = e.code ?? (e.body as {code?: string} | undefined)?.code
      return errors.cloudUnavailable(`no answer from ${url}${code ? `: ${oneLine(String(code))}` : ''}`)
    }
    // The server's own text may echo the request, token included: redacted, one line.
    const said = e.shortErrorDescription ? oneLine(redact(String(e.shortErrorDescription))).slice(0, 200) : ''
    return errors.cloudUnavailable(`HTTP ${status}${said ? `: ${said}` : ''}`)
  }

  private remember(d: CloudDevice): CloudDevice {
    this.byId.set(d.id, d)
    if (d.name) this.byName.set(d.name.toLowerCase(), d)
    return d
  }
}

/** The Retry-After header of a failed request in seconds (a number of seconds, or an HTTP date when `now` is given). */
function retryAfterSeconds(e: ApiError, now?: number): number | undefined {
  const headers = (e.body as {response?: {headers?: {get?: (k: string) => null | string}}})?.response?.headers
  const v = headers?.get?.('retry-after')?.trim()
  if (!v) return undefined
  const n = Number(v)
  if (Number.isFinite(n)) return Math.max(0, n)
  const at = now === undefined ? Number.NaN : Date.parse(v)
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now!) / 1000)) : undefined
}

function toDevice(raw: unknown): CloudDevice {
  const o = (raw ?? {}) as Record<string, unknown>
  const id = typeof o.id === 'string' ? o.id.toLowerCase() : ''
  if (!/^[\da-f]{24}$/.test(id)) throw errors.cloudUnavailable('an unexpected answer (no device ID)')
  return {
    connected: typeof o.connected === 'boolean' ? o.connected : undefined,
    id,
    // Names and versions reach terminals: control characters go here, where they enter.
    name: typeof o.name === 'string' && oneLine(o.name) !== '' ? oneLine(o.name) : null,
    online: typeof o.online === 'boolean' ? o.online : undefined,
    platform_id: typeof o.platform_id === 'number' ? o.platform_id : undefined,
    system_firmware_version:
      typeof o.system_firmware_version === 'string' && oneLine(o.system_firmware_version) !== '' ? oneLine(o.system_firmware_version) : undefined,
  }
}
