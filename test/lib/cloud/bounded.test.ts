// Cloud answers are bounded in size through the HTTP agent particle-api-js is given (src/lib/cloud/bounded.ts):
// a real server on 127.0.0.1 and Node's own http client, with a small bound so the cases stay small.
import {expect} from 'chai'
import {Agent, createServer, get, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {type AddressInfo} from 'node:net'
import {gzipSync} from 'node:zlib'

import {ANSWER_COMPRESSED, ANSWER_TOO_LARGE, boundAnswers} from '../../../src/lib/cloud/bounded.js'

const LIMIT = 64 * 1024

interface Got {
  body: number
  error?: NodeJS.ErrnoException
}

describe('cloud answers are bounded (agent)', () => {
  let server: Server
  let answer: (res: ServerResponse) => void
  let seen: IncomingHttpHeaders
  /** Bytes the server managed to hand over before the client stopped reading. */
  let sent: number

  beforeEach(async () => {
    sent = 0
    server = createServer((req, res) => {
      seen = req.headers
      res.on('error', () => {})
      answer(res)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  })
  afterEach(async () => {
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  })

  function fetchOnce(): Promise<Got> {
    const agent = boundAnswers(new Agent(), LIMIT)
    return new Promise((resolve) => {
      let body = 0
      const req = get({agent, host: '127.0.0.1', path: '/', port: (server.address() as AddressInfo).port}, (res: IncomingMessage) => {
        res.on('data', (d: Buffer) => (body += d.length))
        res.on('end', () => resolve({body}))
        res.on('error', () => {})
      })
      req.on('error', (error) => resolve({body, error}))
    })
  }

  /** Stream `total` bytes in 16 KiB chunks, following backpressure, until done or the client goes away. */
  function stream(res: ServerResponse, total: number, headers: Record<string, string> = {}): void {
    res.writeHead(200, {'content-type': 'application/json', ...headers})
    const chunk = Buffer.alloc(16 * 1024, 'a')
    const pump = () => {
      while (sent < total && !res.destroyed) {
        sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end()
    }
    pump()
  }

  it('asks for the body as it is (Accept-Encoding: identity) and passes an answer under the bound untouched', async () => {
    answer = (res) => stream(res, LIMIT - 16 * 1024)
    const got = await fetchOnce()
    expect(seen['accept-encoding']).to.equal('identity')
    expect(got.error).to.equal(undefined)
    expect(got.body).to.equal(LIMIT - 16 * 1024)
  })

  it('a streamed answer past the bound fails its request with ANSWER_TOO_LARGE, and reading stops there', async () => {
    const total = 1024 * LIMIT // 64 MiB offered
    answer = (res) => stream(res, total)
    const got = await fetchOnce()
    expect(got.error?.code).to.equal(ANSWER_TOO_LARGE)
    expect(got.body).to.be.at.most(LIMIT + 64 * 1024)
    // The server could hand over little more than what socket buffers hold: the rest was never read.
    expect(sent).to.be.below(total / 4)
  })

  it('an answer that declares a Content-Length past the bound fails before its body is read', async () => {
    answer = (res) => stream(res, 4 * LIMIT, {'content-length': String(4 * LIMIT)})
    const got = await fetchOnce()
    expect(got.error?.code).to.equal(ANSWER_TOO_LARGE)
    expect(got.body).to.equal(0)
  })

  it('an answer compressed although identity was asked for is refused (it could expand without bound)', async () => {
    answer = (res) => {
      res.writeHead(200, {'content-encoding': 'gzip', 'content-type': 'application/json'})
      res.end(gzipSync(Buffer.alloc(LIMIT * 16, ' ')))
    }
    const got = await fetchOnce()
    expect(got.error?.code).to.equal(ANSWER_COMPRESSED)
  })

  it('an event stream is bounded per event: many small events pass, one event past the bound fails', async () => {
    const event = `event: spark/status\ndata: ${'x'.repeat(1000)}\n\n`
    answer = (res) => {
      res.writeHead(200, {'content-type': 'text/event-stream'})
      for (let i = 0; i < (4 * LIMIT) / event.length; i++) res.write(event)
      res.end()
    }
    const small = await fetchOnce()
    expect(small.error).to.equal(undefined)
    expect(small.body).to.be.above(3 * LIMIT)

    answer = (res) => {
      res.writeHead(200, {'content-type': 'text/event-stream'})
      res.write(event)
      res.write(`event: spark/status\ndata: `)
      for (let i = 0; i < 8; i++) res.write('y'.repeat(LIMIT / 4)) // one event, twice the bound, no blank line
      res.end('\n\n')
    }
    const big = await fetchOnce()
    expect(big.error?.code).to.equal(ANSWER_TOO_LARGE)
  })
})
