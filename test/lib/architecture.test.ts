// The layer rule of docs/architecture.md, read from its table: every import in src/lib runs down a layer, no two
// folders import each other (directly or round about), src/lib never imports src/commands, and every unit is in
// the table. Imports are read from the source text (static, `export ... from`, `import type` and dynamic
// `import()`), so a type-only or lazy import up a layer fails too.
import {expect} from 'chai'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const lib = join(root, 'src/lib')

/** The layer table of docs/architecture.md: unit name (`usb/` or `errors`) to its layer. */
function layers(): Map<string, number> {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8')
  const out = new Map<string, number>()
  for (const m of doc.matchAll(/^\| (\d+) \| ([^|]+)\|/gm)) {
    for (const u of m[2].matchAll(/`([^`]+)`/g)) out.set(u[1], Number(m[1]))
  }
  return out
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    if (statSync(p).isDirectory()) return tsFiles(p)
    return p.endsWith('.ts') ? [p] : []
  })
}

/** The unit of a file under src/lib: its top folder (`usb/`) or its own name (`errors`). */
function unitOf(file: string): string {
  const parts = relative(lib, file).split('/')
  return parts.length > 1 ? `${parts[0]}/` : parts[0].replace(/\.ts$/, '')
}

interface Edge {
  file: string
  from: string
  to: string
}

function imports(files: string[]): Edge[] {
  const edges: Edge[] = []
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)) {
      const target = resolve(dirname(file), m[1]).replace(/\.js$/, '.ts')
      edges.push({file: relative(root, file), from: file, to: target})
    }
  }
  return edges
}

describe('architecture: the layer rule of docs/architecture.md', () => {
  const table = layers()
  const files = tsFiles(lib)
  const edges = imports(files).filter((e) => e.to.startsWith(lib + '/'))

  it('has a layer for every folder and file of src/lib', () => {
    expect(table.size).to.be.greaterThan(10)
    const units = [...new Set(files.map((f) => unitOf(f)))].sort()
    expect(units.filter((u) => !table.has(u)), 'units missing from the table in docs/architecture.md').to.deep.equal([])
  })

  it('imports only run down a layer', () => {
    const up = edges
      .map((e) => ({...e, a: unitOf(e.from), b: unitOf(e.to)}))
      .filter((e) => e.a !== e.b && !((table.get(e.b) ?? Infinity) < (table.get(e.a) ?? -Infinity)))
      .map((e) => `${e.file}: ${e.a} (layer ${table.get(e.a)}) imports ${e.b} (layer ${table.get(e.b)})`)
    expect(up).to.deep.equal([])
  })

  it('has no cycle between folders', () => {
    const graph = new Map<string, Set<string>>()
    for (const e of edges) {
      const a = unitOf(e.from)
      const b = unitOf(e.to)
      if (a !== b) graph.set(a, (graph.get(a) ?? new Set()).add(b))
    }
    const cycles: string[] = []
    const state = new Map<string, 'done' | 'open'>()
    const visit = (u: string, path: string[]): void => {
      if (state.get(u) === 'done') return
      if (state.get(u) === 'open') {
        cycles.push([...path.slice(path.indexOf(u)), u].join(' -> '))
        return
      }
      state.set(u, 'open')
      for (const v of graph.get(u) ?? []) visit(v, [...path, u])
      state.set(u, 'done')
    }
    for (const u of graph.keys()) visit(u, [])
    expect(cycles).to.deep.equal([])
  })

  it('src/lib never imports src/commands or src/index', () => {
    const out = imports(files)
      .filter((e) => e.to.startsWith(join(root, 'src/commands')) || e.to === join(root, 'src/index.ts'))
      .map((e) => e.file)
    expect(out).to.deep.equal([])
  })
})
