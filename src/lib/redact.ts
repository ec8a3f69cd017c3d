/**
 * The one gate every text from outside passes before it reaches output (stderr, stdout, --json, debug output):
 * `redact()` removes secrets (the access token, passwords in URLs, Authorization values, access_token
 * parameters) whatever produced the text, and `forTerminal()` also removes control characters, so a device name,
 * an HTTP body or an argument cannot retitle the window, clear the screen, colour or overwrite lines.
 */

const MASK = '[REDACTED]'

/** Secrets known to this run (the access token, proxy passwords), removed wherever they appear. */
const secrets = new Set<string>()

/** Remember a secret so no output ever shows it (the token as loaded, a proxy or API URL's password). */
export function addSecret(secret: string | undefined): void {
  if (!secret) return
  const s = secret.trim()
  if (s.length >= 6) secrets.add(s) // shorter strings would mask ordinary words
  // its URL-encoded spelling too (a token echoed in a query string)
  const encoded = encodeURIComponent(s)
  if (encoded !== s && encoded.length >= 6) secrets.add(encoded)
}

/** Remember the password (and the user, when it is the only credential) of a URL. */
export function addUrlSecrets(url: string | undefined): void {
  if (!url) return
  try {
    const u = new URL(url)
    if (u.password) {
      addSecret(decodeURIComponent(u.password))
      addSecret(u.password)
    }
  } catch {
    // not a URL: the pattern in redact() still applies
  }
}

const PATTERNS: Array<[RegExp, string | ((...m: string[]) => string)]> = [
  // scheme://user:password@host -> scheme://user:[REDACTED]@host
  [/\b([a-z][\w+.-]*:\/\/[^\s/?#@:]*):[^\s/?#@]*@/gi, `$1:${MASK}@`],
  // Authorization: Bearer x / "authorization":"x" / authorization=x
  [/(\bauthorization\b["']?\s*[:=]\s*["']?)(?:(bearer|basic|token)\s+)?[^\s"',;}]+/gi, (_m, key, scheme) => `${key}${scheme ? `${scheme} ` : ''}${MASK}`],
  // a bare bearer credential
  [/\b(bearer)\s+[\w.~+/-]+=*/gi, `$1 ${MASK}`],
  // access_token=x, "access_token": "x", refresh tokens alike
  [/(\b(?:access|refresh)_token\b["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi, `$1${MASK}`],
]

/** `text` without any secret: the run's known secrets, URL passwords, Authorization values, access tokens. */
export function redact(text: string): string {
  let out = text
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK)
  // Most texts hold none of the patterns' anchors: skip the regular expressions for them (JSON of 10,000 devices).
  if (!MAY_MATCH.test(out)) return out
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement as string)
  return out
}

const MAY_MATCH = /:\/\/|authorization|bearer|_token/i

/**
 * Control characters that act on a terminal: C0 (but tab and newline), DEL and C1. ESC starts colour, clear-screen
 * and window-title (OSC) sequences; CR and backspace overwrite what is shown; C1 0x9b is a one-byte CSI.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g
// eslint-disable-next-line no-control-regex
const CONTROL_OR_NEWLINE = /[\u0000-\u001F\u007F-\u009F]/g
/** Whole escape sequences, so their printable tails ("]0;title", "[2J") go too. */
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001B(?:\][^\u0007\u001B]*(?:\u0007|\u001B\\)?|\[[\d;?]*[ -/]*[@-~]|[@-Z\\-_])|\u009B[\d;?]*[ -/]*[@-~]|\u009D[^\u0007\u009C]*[\u0007\u009C]?/g

/**
 * A string from outside (the cloud, the devices file, the firmware, argv) as one safe line: escape sequences and
 * every control character (newlines too) removed. For values placed inside our own messages.
 */
export function oneLine(text: string): string {
  return text.replace(ESCAPES, '').replace(CONTROL_OR_NEWLINE, '')
}

/**
 * Every control character (newlines too) shown as a `\xNN` escape: for echoing a value that is wrong because of
 * them, where removing them would show a different, valid-looking value.
 */
export function showControl(text: string): string {
  return text.replace(CONTROL_OR_NEWLINE, (c) => `\\x${c.codePointAt(0)!.toString(16).toUpperCase().padStart(2, '0')}`)
}

/** Control characters removed, newlines and tabs kept (our own multi-line messages). */
export function stripControl(text: string): string {
  return text.replace(ESCAPES, '').replace(CONTROL, '')
}

/** What may be printed on a terminal: redacted, and without control characters (newlines kept). */
export function forTerminal(text: string): string {
  return stripControl(redact(text))
}

/** A JSON value with every string redacted (JSON.stringify escapes control characters itself). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, {configurable: true, enumerable: true, value: redactDeep(v), writable: true})
    return out as T
  }
  if (value && typeof value === 'object' && typeof (value as {toJSON?: unknown}).toJSON === 'function') {
    return redactDeep((value as unknown as {toJSON(): unknown}).toJSON()) as T
  }
  return value
}

let streamsFiltered = false
/**
 * Our dependencies' debug output (DEBUG=*: the proxy agent prints its URL, password included) goes straight to
 * process.stderr: filter what is written there, and on stdout, through redact(). Done once, when DEBUG is set.
 */
export function filterDebugOutput(env: NodeJS.ProcessEnv = process.env): void {
  if (streamsFiltered || !env.DEBUG) return
  streamsFiltered = true
  for (const stream of [process.stderr, process.stdout]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : undefined
      return write(text === undefined ? chunk : redact(text), ...rest)
    }) as typeof stream.write
  }
}
