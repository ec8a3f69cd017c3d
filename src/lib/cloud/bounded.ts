/**
 * Every answer of the Particle Cloud is bounded in size. particle-api-js reads a whole body into memory before it
 * parses it (node-fetch under the hood, with no size limit it lets us set), so a cloud, proxy or portal that
 * answers with a gigabyte would be held in memory whole. The one seam the client offers is the HTTP agent it is
 * given: every request it makes goes through the agent's addRequest(), which is where we see the request and then
 * its response, and count the body as it streams in. Hand-written because no library bounds another library's
 * bodies through its agent.
 *
 * - We ask for the body as it is (Accept-Encoding: identity), so the bytes counted are the bytes parsed; an answer
 *   compressed anyway is refused, since a small compressed body can expand without bound.
 * - A body (or a declared Content-Length) past `maxBytes` fails its request at once: the request is destroyed with
 *   an error whose code (ANSWER_TOO_LARGE) survives node-fetch's and particle-api-js's wrapping, and Cloud turns it
 *   into errors.cloudAnswerTooLarge. Reading stops there; at most `maxBytes` were held.
 * - An event stream (text/event-stream) never ends by design, so there the bound is per event: the bytes since the
 *   last blank line, which is what the client's parser buffers.
 * The request deadline (Cloud.withDeadline) still covers the whole answer, body included.
 */
import type {Agent, ClientRequest, IncomingMessage} from 'node:http'

/** The code of the error a too-large answer fails its request with. */
export const ANSWER_TOO_LARGE = 'SETUP_FLAG_ANSWER_TOO_LARGE'
/** The code of the error an answer compressed against our Accept-Encoding fails its request with. */
export const ANSWER_COMPRESSED = 'SETUP_FLAG_ANSWER_COMPRESSED'

/**
 * The most bytes one cloud answer may have: 32 MiB. The largest real answers are far below it: a product page is
 * at most 1000 devices (`audit --per-page` stops there) of about 1-2 KB each, 2 MB; the account's list
 * (`GET /v1/devices`, not paged) holds well over 10,000 devices before it reaches this; a firmware binary is a few
 * MB. It is still small enough that a hostile answer costs little: reading stops at the bound.
 */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024

/** Bound every answer that comes through `agent` (the agent particle-api-js is given). */
export function boundAnswers(agent: Agent, maxBytes = MAX_ANSWER_BYTES): Agent {
  const raw = agent as Agent & {addRequest(req: ClientRequest, options: unknown): void}
  const addRequest = raw.addRequest.bind(agent)
  raw.addRequest = (req, options) => {
    // Headers go out with the request's first write, after this call: node-fetch's gzip,deflate is replaced.
    if (!req.headersSent) req.setHeader('accept-encoding', 'identity')
    req.once('response', (res) => watch(req, res, maxBytes))
    addRequest(req, options)
  }
  return agent
}

function watch(req: ClientRequest, res: IncomingMessage, maxBytes: number): void {
  const fail = (error: Error) => {
    res.removeListener('data', count)
    req.destroy(error)
  }
  const encoding = String(res.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  if (encoding !== 'identity' && encoding !== '') {
    fail(Object.assign(new Error(`the answer is compressed (${encoding.slice(0, 40)}) although none was asked for`), {code: ANSWER_COMPRESSED}))
    return
  }
  const tooLarge = () => Object.assign(new Error(`the answer is larger than ${maxBytes} bytes`), {code: ANSWER_TOO_LARGE})
  const declared = Number(res.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    fail(tooLarge())
    return
  }
  const events = /^text\/event-stream/i.test(String(res.headers['content-type'] ?? '')) && res.statusCode === 200
  let bytes = 0
  /** The last bytes of the previous chunk, so a blank line split across chunks is still seen. */
  let tail = ''
  function count(chunk: Buffer | string): void {
    if (events) {
      const text = tail + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'))
      const end = Math.max(text.lastIndexOf('\n\n'), text.lastIndexOf('\r\n\r\n'), text.lastIndexOf('\r\r'))
      bytes = end === -1 ? bytes + chunk.length : text.length - end
      tail = text.slice(-3)
    } else bytes += chunk.length
    if (bytes > maxBytes) fail(tooLarge())
  }
  res.on('data', count)
}
