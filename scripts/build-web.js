#!/usr/bin/env node
// Build step: the web doctor (dist/web/: index.html, app.js, style.css) from the same src/lib modules as the CLI,
// bundled by esbuild for the browser. Nothing of Node goes in: two modules are swapped for their browser side, each
// a split between core and adapter, never a polyfill (docs/architecture.md, "The page"):
//   - src/lib/host.ts (the system, from process.platform) -> src/web/host.ts (the system, from the browser);
//   - @particle/device-constants (its index also requires a Linux helper that uses Node's Buffer) -> its own
//     platform table, src/constants.json, through src/web/device-constants.ts.
// The bundled examples (examples/*.json) are inlined as PAGE_EXAMPLES for the page's virtual devices.
// `buildWeb()` is also what test/web/bundle.test.ts runs, reading the metafile it returns.
import {build} from 'esbuild'
import {copyFileSync, mkdirSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const web = join(root, 'src', 'web')

/** examples/*.json that hold devices (virtual clouds are left to the page to reject), by bare name. */
export function bundledExamples() {
  const dir = join(root, 'examples')
  const out = {}
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const doc = JSON.parse(readFileSync(join(dir, f), 'utf8'))
    if (Array.isArray(doc.devices)) out[f.replace(/\.json$/, '')] = doc
  }
  return out
}

/** The two browser sides (see the top of this file). */
const browserSides = {
  name: 'browser-sides',
  setup(b) {
    b.onResolve({filter: /^@particle\/device-constants$/}, () => ({path: join(web, 'device-constants.ts')}))
    b.onResolve({filter: /(^|\/)host\.js$/}, (a) => {
      const target = join(a.resolveDir, a.path.replace(/\.js$/, '.ts'))
      return target === join(root, 'src', 'lib', 'host.ts') ? {path: join(web, 'host.ts')} : undefined
    })
  },
}

/**
 * Bundle the page into `outdir` (default dist/web). With `write: false` nothing is written (the test's way);
 * returns esbuild's result with its metafile.
 */
export async function buildWeb({outdir = join(root, 'dist', 'web'), write = true, entry = join(web, 'main.ts'), plugins = []} = {}) {
  const result = await build({
    bundle: true,
    define: {PAGE_EXAMPLES: JSON.stringify(bundledExamples())},
    entryPoints: {app: entry},
    format: 'esm',
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    minify: true,
    outdir,
    platform: 'browser',
    plugins: [browserSides, ...plugins],
    target: ['chrome110', 'edge110'],
    write,
  })
  if (write) {
    mkdirSync(outdir, {recursive: true})
    for (const f of ['index.html', 'style.css']) copyFileSync(join(web, f), join(outdir, f))
  }
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildWeb().catch((error) => {
    for (const e of error.errors ?? [error]) console.error(`build-web: ${e.text ?? e.message}${e.location ? ` (${e.location.file}:${e.location.line})` : ''}`)
    process.exit(1)
  })
}
