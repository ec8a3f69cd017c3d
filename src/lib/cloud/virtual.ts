/**
 * A Particle Cloud on 127.0.0.1, in-process: a real HTTP server reached by particle-api-js through its normal base
 * URL, answering the endpoints we call with the real response and error shapes (device records, product pages
 * with `meta.total_pages`, compile, binary download, flash, Server-Sent Events), and recording every request.
 *
 * One implementation for two uses: the test suite drives it directly (and replaces answers through its hooks),
 * and PARTICLE_VIRTUAL_CLOUD=<file or bundled example> runs a command against it (`startVirtualCloud`), built from
 * a fixture: devices with names, platforms, Device OS versions and online state, products with their devices, and
 * events the devices send. The fixture's shape is the `VirtualCloudFixture` type below.
 *
 * The preparatory firmware it "compiles" is a stand-in: the binary names the byte the firmware would write, and a
 * device flashed with it reports that byte back in `setup-flag/result`, as the real firmware does.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {type AddressInfo} from 'node:net'

export interface VirtualCloudDevice {
  connected?: boolean
  /** Product devices: ignores product firmware releases. */
  development?: boolean
  id: string
  last_handshake_at?: string
  last_heard?: string
  name: null | string
  platform_id: number
  /** The product it belongs to (a developer device reports its platform ID here). */
  product_id?: number
  system_firmware_version?: string
}

/** A product's fleet, served page by page at GET /v1/products/:id-or-slug/devices. */
export interface VirtualProduct {
  /** Entries that are not VirtualCloudDevice objects are served as they are (malformed records). */
  devices: unknown[]
  id: number
  slug: string
}

/** What `pageHook` may answer instead of a product page: an HTTP error, or a 200 with any body. */
export interface PageOverride {
  body?: unknown
  retryAfter?: string
  status: number
}

export interface RecordedRequest {
  authorization?: string
  body: string
  method: string
  path: string
  /** The query string, without the "?" ('' when none). */
  query?: string
}

/** One request as the routes see it. */
interface Exchange {
  body: string
  method: string
  res: ServerResponse
  send: (status: number, json: unknown) => void
  url: URL
}

export class VirtualCloud {
  /** Compiled binaries by id: the fake "binary" names the byte the preparatory firmware writes. */
  readonly binaries = new Map<string, Buffer>()
  devices: VirtualCloudDevice[] = []
  /** What the device reports after running the preparatory firmware (default: the byte it was built to write). */
  eventData?: string
  /** Binaries flashed, in order, per device. */
  readonly flashed: Array<{data: string; deviceId: string}> = []
  /** When false, flashed devices never report back. */
  reports = true
  /** Product fleets (GET /v1/products/:id-or-slug/devices?page&per_page; meta.total_pages). */
  readonly products: VirtualProduct[] = []
  /** Called for each product page request (page, how many times that page was asked for): undefined serves it. */
  pageHook?: (page: number, attempt: number) => PageOverride | undefined
  /** Called for each flash (PUT /v1/devices/:id) with the binary's first line: an override answers instead. */
  flashHook?: (data: string) => PageOverride | undefined
  /** Awaited before a product page is answered: lets a test hold answers until several requests are waiting. */
  pageGate?: (page: number) => Promise<void>
  /** Product page requests being answered right now, and the most at once (for bounded-concurrency checks). */
  inFlight = 0
  maxInFlight = 0
  private readonly pageAttempts = new Map<number, number>()
  /** Waiters for an event stream to open (see `waitForStream`). */
  private readonly streamWaiters: Array<{deviceId: string; name: string; resolve: () => void}> = []
  private readonly streams: Array<{deviceId: string; name: string; res: ServerResponse}> = []
  /**
   * Answer every request with this status and body instead (e.g. 500, or 429 for the next N requests); a 429 says
   * Retry-After: `retryAfter` (default 0).
   */
  failWith?: {body?: unknown; count?: number; retryAfter?: string; status: number}
  readonly requests: RecordedRequest[] = []
  token = 'tok-3f1c9a2b7d'
  /**
   * Events a device sends once someone listens (a fixture's `events`): each is published `afterSeconds` after the
   * first event stream that receives it opens (for its device, with a name that is a prefix of the event's), once
   * per run. `spark/status` "online" also puts the device online.
   */
  readonly scheduled: ScheduledEvent[] = []
  private server?: Server
  private unref = false

  get url(): string {
    const addr = this.server!.address() as AddressInfo
    return `http://127.0.0.1:${addr.port}`
  }

  async close(): Promise<void> {
    if (!this.server) return
    for (const s of this.streams) s.res.end()
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server!.close(() => r()))
    this.server = undefined
  }

  /**
   * Listen on a free port of 127.0.0.1. `unref`: the server (and every connection it accepts) does not keep the
   * process alive, so a command run on it ends when its own work is done, without closing it (the CLI's case).
   */
  async start(opts: {unref?: boolean} = {}): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res))
    if (opts.unref) {
      this.unref = true
      this.server.on('connection', (socket) => socket.unref())
    }
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()))
    if (opts.unref) this.server.unref()
    return this
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = ''
    for await (const chunk of req) body += chunk
    const url = new URL(req.url ?? '/', 'http://x')
    this.requests.push({authorization: req.headers.authorization, body, method: req.method ?? '', path: url.pathname, query: url.search.slice(1)})
    const send = (status: number, json: unknown) => {
      res.writeHead(status, {'content-type': 'application/json'})
      res.end(JSON.stringify(json))
    }
    if (this.failWith) {
      const f = this.failWith
      if (f.count === undefined || f.count > 0) {
        if (f.count !== undefined) f.count--
        if (f.status === 429) res.setHeader('retry-after', f.retryAfter ?? '0')
        return send(f.status, f.body ?? {error: 'failure', error_description: `status ${f.status}`})
      }
    }
    const auth = req.headers.authorization
    if (!auth) return send(400, {error: 'invalid_request', error_description: 'The access token was not found'})
    if (auth !== `Bearer ${this.token}`) return send(401, {error: 'invalid_token', error_description: 'The access token provided is invalid.'})
    if (!this.route({body, method: req.method ?? 'GET', res, send, url})) send(404, {error: 'Not Found'})
  }

  /** The endpoints we call, each with the real answer's shape; false for anything else (404). */
  private route(r: Exchange): boolean {
    const {method, send, url} = r
    if (method === 'GET' && url.pathname === '/v1/devices') return send(200, this.devices.map((d) => this.deviceJson(d))), true
    const pd = /^\/v1\/products\/([^/]+)\/devices(?:\/([^/]+))?$/.exec(url.pathname)
    if (method === 'GET' && pd) return this.productDevices(decodeURIComponent(pd[1]), pd[2] && decodeURIComponent(pd[2]), url, r.res, send), true
    const m = /^\/v1\/devices\/([^/]+)$/.exec(url.pathname)
    if (method === 'GET' && m) return this.deviceRecord(decodeURIComponent(m[1]), send), true
    if (method === 'PUT' && m) return this.flash(decodeURIComponent(m[1]), r.body, send), true
    if (method === 'GET' && url.pathname === '/v1/user') return send(200, {username: 'tester@example.com'}), true
    if (method === 'POST' && url.pathname === '/v1/binaries') return this.compile(r.body, send), true
    const bin = /^\/v1\/binaries\/(\w+)$/.exec(url.pathname)
    if (method === 'GET' && bin) return this.binary(bin[1], r.res, send), true
    const ev = /^\/v1\/devices\/([^/]+)\/events\/(.+)$/.exec(url.pathname)
    if (method === 'GET' && ev) return this.eventStream(decodeURIComponent(ev[1]), decodeURIComponent(ev[2]), r.res), true
    return false
  }

  private deviceRecord(key: string, send: Exchange['send']): void {
    const d = this.devices.find((x) => x.id === key.toLowerCase() || x.name === key)
    if (!d) return send(403, {error: 'Permission Denied', info: "I didn't recognize that device name or ID, try opening https://api.particle.io/v1/devices?access_token=" + this.token})
    send(200, this.deviceJson(d))
  }

  /** The compiler: multipart with the source file, platform_id and build_target_version. */
  private compile(body: string, send: Exchange['send']): void {
    const wanted = /WANTED = 0x([\da-f]{2})/i.exec(body)?.[1]
    const platform = /name="platform_id"\r\n\r\n(\d+)/.exec(body)?.[1]
    const version = /name="build_target_version"\r\n\r\n([\w.-]+)/.exec(body)?.[1]
    if (!wanted || !platform || !version || !body.includes('dct_write_app_data')) return send(400, {error: 'Compiler failed', errors: ['bad source'], ok: false})
    const binaryId = `bin${this.binaries.size + 1}`
    this.binaries.set(binaryId, Buffer.from(`FAKEBIN platform=${platform} version=${version} wanted=${wanted}`))
    send(200, {binary_id: binaryId, binary_url: `/v1/binaries/${binaryId}`, expires_at: '2026-12-01T00:00:00.000Z', ok: true, sizeInfo: 'text data bss'})
  }

  private binary(id: string, res: ServerResponse, send: Exchange['send']): void {
    const data = this.binaries.get(id)
    if (!data) return send(404, {error: 'Not Found'})
    res.writeHead(200, {'content-type': 'application/octet-stream'})
    res.end(data)
  }

  private eventStream(deviceId: string, name: string, res: ServerResponse): void {
    res.writeHead(200, {'cache-control': 'no-cache', 'content-type': 'text/event-stream'})
    res.write(':ok\n\n')
    const stream = {deviceId, name, res}
    this.streams.push(stream)
    res.on('close', () => this.streams.splice(this.streams.indexOf(stream), 1))
    for (const w of this.streamWaiters.filter((x) => x.deviceId === stream.deviceId && x.name === stream.name)) {
      this.streamWaiters.splice(this.streamWaiters.indexOf(w), 1)
      w.resolve()
    }
    this.sendScheduled(stream.deviceId, stream.name)
  }

  /** A flash: recorded; the preparatory firmware reports the byte it was built for (unless told otherwise). */
  private flash(key: string, body: string, send: Exchange['send']): void {
    const d = this.devices.find((x) => x.id === key.toLowerCase() || x.name === key)
    if (!d) return send(403, {error: 'Permission Denied'})
    const data = /FAKEBIN[^\r\n]*|PRODUCTION[^\r\n]*/.exec(body)?.[0] ?? ''
    const override = this.flashHook?.(data)
    if (override) return send(override.status, override.body ?? {error: 'failure', error_description: `status ${override.status}`})
    this.flashed.push({data, deviceId: d.id})
    send(200, {id: d.id, status: 'Update started'})
    const wanted = /wanted=([\da-f]{2})/.exec(data)?.[1]
    if (wanted && this.reports) setImmediate(() => this.publish(d.id, 'setup-flag/result', this.eventData ?? wanted))
  }

  /** The scheduled events a new stream of a device would receive (its name is their prefix), each once, on its own timer. */
  private sendScheduled(key: string, stream: string): void {
    const device = this.devices.find((d) => d.id === key.toLowerCase() || d.name === key)
    const id = device?.id ?? key.toLowerCase()
    for (const e of this.scheduled.filter((x) => !x.sent && x.device === id && x.name.startsWith(stream))) {
      e.sent = true
      const timer = setTimeout(() => {
        if (e.name === 'spark/status' && e.data === 'online' && device) device.connected = true
        this.publish(e.device, e.name, e.data)
      }, e.afterSeconds * 1000)
      if (this.unref) timer.unref()
    }
  }

  /** Publish an event as the device would, to every open stream for it. */
  publish(deviceId: string, name: string, data: string): void {
    const payload = JSON.stringify({coreid: deviceId, data, published_at: new Date().toISOString(), ttl: 60})
    for (const s of this.streams) {
      if (s.deviceId === deviceId && name.startsWith(s.name)) s.res.write(`event: ${name}\ndata: ${payload}\n\n`)
    }
  }

  /** Resolve when a client has an event stream open for this device and event name (already open: at once). */
  waitForStream(deviceId: string, name: string): Promise<void> {
    if (this.streams.some((s) => s.deviceId === deviceId && s.name === name)) return Promise.resolve()
    return new Promise((resolve) => this.streamWaiters.push({deviceId, name, resolve}))
  }

  /** Open event streams now, as "deviceId name" (for checks that nothing is left subscribed). */
  get openStreams(): string[] {
    return this.streams.map((s) => `${s.deviceId} ${s.name}`)
  }

  /**
   * The device connects, as the cloud tells subscribers: `spark/status` "online", and from Safe Mode also
   * `spark/status/safe-mode` (its module description). Afterwards it is online in every device record.
   */
  bringOnline(deviceId: string, opts: {safeMode?: boolean} = {}): void {
    const d = this.devices.find((x) => x.id === deviceId)
    if (d) d.connected = true
    this.publish(deviceId, 'spark/status', 'online')
    if (opts.safeMode) this.publish(deviceId, 'spark/status/safe-mode', JSON.stringify({f: [], v: {}, p: d?.platform_id, m: []}))
  }

  private productDevices(key: string, deviceKey: string | undefined, url: URL, res: ServerResponse, send: (status: number, json: unknown) => void): void {
    const product = this.products.find((p) => String(p.id) === key || p.slug === key)
    if (!product) return send(404, {error: 'Product not found', ok: false})
    const json = (x: unknown) => (isCloudDevice(x) ? this.deviceJson(x, product.id) : x)
    if (deviceKey) {
      const d = product.devices.find((x) => isCloudDevice(x) && (x.id === deviceKey.toLowerCase() || x.name === deviceKey))
      return d ? send(200, json(d)) : send(404, {error: 'Device not found', ok: false})
    }
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
    const perPage = Math.max(1, Number(url.searchParams.get('per_page') ?? 25) || 25)
    const attempt = (this.pageAttempts.get(page) ?? 0) + 1
    this.pageAttempts.set(page, attempt)
    const override = this.pageHook?.(page, attempt)
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    // Answer on a later turn (after the gate, if any), so that requests sent together are in flight together.
    const answer = () => {
      this.inFlight--
      if (override) {
        if (override.retryAfter !== undefined) res.setHeader('retry-after', override.retryAfter)
        return send(override.status, override.body ?? {error: 'failure', error_description: `status ${override.status}`})
      }
      const slice = product.devices.slice((page - 1) * perPage, page * perPage)
      send(200, {customers: [], devices: slice.map((x) => json(x)), meta: {total_pages: Math.max(1, Math.ceil(product.devices.length / perPage))}})
    }
    void Promise.resolve(this.pageGate?.(page)).then(() => setImmediate(answer))
  }

  private deviceJson(d: VirtualCloudDevice, productId?: number) {
    return {
      cellular: false,
      connected: d.connected ?? false,
      development: d.development ?? false,
      id: d.id,
      last_handshake_at: d.last_handshake_at ?? '2026-11-19T08:00:00.000Z',
      last_heard: d.last_heard ?? '2026-11-20T10:00:00.000Z',
      name: d.name,
      notes: null,
      online: d.connected ?? false,
      platform_id: d.platform_id,
      product_id: productId ?? d.product_id ?? d.platform_id,
      status: 'normal',
      system_firmware_version: d.system_firmware_version,
    }
  }
}

function isCloudDevice(x: unknown): x is VirtualCloudDevice {
  return typeof x === 'object' && x !== null && typeof (x as VirtualCloudDevice).id === 'string' && typeof (x as VirtualCloudDevice).platform_id === 'number'
}

/** An event of a fixture, waiting for the first stream of its device. */
export interface ScheduledEvent {
  afterSeconds: number
  data: string
  /** The device's ID (lowercase). */
  device: string
  name: string
  sent?: boolean
}
