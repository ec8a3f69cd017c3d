/**
 * `web`: the page (dist/web) served on 127.0.0.1, which browsers count as a secure context (WebUSB works there),
 * and opened in the person's browser where this system has a way to. Written by hand rather than with a static-file
 * library: three files known at start (read once; anything else is a 404), nothing to resolve from a URL, so
 * nothing outside the folder can be asked for; and the browser is opened by the system's own command rather than
 * by a package, as the one call needs nothing more.
 */
import {spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {type AddressInfo} from 'node:net'
import {extname, join} from 'node:path'

import {errors} from './errors.js'

const TYPES: Record<string, string> = {'.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8'}

export interface PageServer {
  close(): Promise<void>
  /** The page's address: http://127.0.0.1:<port>/ */
  readonly url: string
}

/** The page's files by URL path ("/" is index.html), read once. */
function pageFiles(dir: string): Map<string, {body: Buffer; type: string}> {
  if (!existsSync(join(dir, 'index.html'))) throw errors.pageNotBuilt(dir)
  const files = new Map<string, {body: Buffer; type: string}>()
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)]
    if (type) files.set(`/${name}`, {body: readFileSync(join(dir, name)), type})
  }
  files.set('/', files.get('/index.html')!)
  return files
}

/** Serve `dir` on 127.0.0.1:`port` (0: a free port). */
export async function servePage(dir: string, port: number): Promise<PageServer> {
  const files = pageFiles(dir)
  const server: Server = createServer((req, res) => {
    const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(new URL(req.url ?? '/', 'http://127.0.0.1').pathname) : undefined
    if (!file) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405).end()
      return
    }
    res.writeHead(200, {'cache-control': 'no-store', 'content-length': file.body.length, 'content-type': file.type, 'x-content-type-options': 'nosniff'})
    res.end(req.method === 'HEAD' ? undefined : file.body)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? errors.portInUse(port, error) : error))
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const {port: bound} = server.address() as AddressInfo
  return {
    close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
    url: `http://127.0.0.1:${bound}/`,
  }
}

/** The system's own way to open an address in the default browser, or undefined where there is none. */
function opener(url: string, platform: NodeJS.Platform): [string, string[]] | undefined {
  if (platform === 'darwin') return ['open', [url]]
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""', url]]
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') return ['xdg-open', [url]]
  return undefined
}

/** Open `url` in the person's browser; resolves whether that worked (a missing command or no desktop: false). */
export function openBrowser(url: string, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  const how = opener(url, platform)
  if (!how) return Promise.resolve(false)
  return new Promise((resolve) => {
    const child = spawn(how[0], how[1], {detached: true, stdio: 'ignore', windowsHide: true})
    child.once('error', () => resolve(false))
    child.once('exit', (code) => resolve(code === 0))
    child.unref()
  })
}
