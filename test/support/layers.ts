/**
 * The layer rules of docs/architecture.md, as functions of a source tree and of the document: the import reader
 * (the TypeScript compiler's parser, so quote style, comments and line breaks cannot hide an import), the reader
 * of the document's tables, and the checks. test/lib/architecture.test.ts runs them on this repository and on
 * small fake trees that break each rule, so the checks are themselves tested.
 *
 * What counts as an import of a file (every form reaches the same rules):
 * - `import … from`, `import type … from`, a side-effect `import '…'`, `export … from`, `export * from`;
 * - `import x = require('…')`, `require('…')`, and a require made by `createRequire(…)`, called at once
 *   (`createRequire(import.meta.url)('…')`) or bound to a name first (`const r = createRequire(…); r('…')`);
 * - `import('…')` and the type `import('…')` (as in `typeof import('./x.js')`), with a string literal or a
 *   template literal;
 * - `import()` or `require` of a template literal with substitutions (or of `'./x/' + name`): an import of every
 *   file the pattern could name. The literal pieces make a pattern (`./write-${m}.js` names write-control.ts and
 *   write-dfu.ts, not write.ts); which of them loads is decided at run time, so the rules must hold for each of
 *   them. Reading only the folder the head points into would be too coarse for the order inside a folder, and
 *   would see nothing when the head is the importer's own folder. A pattern that names no file counts as an
 *   import of the folder its head points into.
 * - A specifier that cannot be read (`import(name)`, a template that starts with a substitution) is reported:
 *   in the checked trees every import must be readable, or no rule could hold.
 */
import {marked, type Token, type Tokens} from 'marked'
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join, posix, sep} from 'node:path'
import {fileURLToPath} from 'node:url'
import ts from 'typescript'

// ---- reading imports ----

export type ImportForm =
  | 'import'
  | 'import type'
  | 'side-effect import'
  | 'export from'
  | 'import = require'
  | 'require'
  | 'createRequire'
  | 'import()'
  | 'type import()'

export interface ImportRef {
  /** 1-based line of the import in its file. */
  line: number
  form: ImportForm
  /**
   * The specifier's literal pieces: one piece for a plain string; for a template or a `+` chain, the text
   * between the substitutions (`./write-${m}.js` is `['./write-', '.js']`). Undefined when it cannot be read.
   */
  pieces?: string[]
}

/** The specifier as written, substitutions shown as `${…}`. */
export function specifierText(ref: ImportRef): string {
  return ref.pieces ? ref.pieces.join('${…}') : '(unreadable)'
}

function scriptKind(file: string): ts.ScriptKind {
  if (/\.[cm]?jsx?$/.test(file)) return file.endsWith('x') ? ts.ScriptKind.JSX : ts.ScriptKind.JS
  return file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS
}

/** The literal pieces of a specifier expression, or undefined when it is not built from literals. */
function piecesOf(node: ts.Node | undefined): string[] | undefined {
  if (!node) return undefined
  if (ts.isParenthesizedExpression(node)) return piecesOf(node.expression)
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text]
  if (ts.isTemplateExpression(node)) {
    const out = [node.head.text]
    for (const span of node.templateSpans) {
      const inner = piecesOf(span.expression)
      if (inner) {
        out[out.length - 1] += inner[0]
        out.push(...inner.slice(1))
      } else out.push('')
      out[out.length - 1] += span.literal.text
    }
    return out
  }
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = piecesOf(node.left)
    if (!left) return undefined
    const right = piecesOf(node.right)
    if (!right) return [...left, '']
    return [...left.slice(0, -1), left[left.length - 1] + right[0], ...right.slice(1)]
  }
  return undefined
}

/** Every import of a file's source text, in source order. */
export function readImports(fileName: string, text: string): ImportRef[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, scriptKind(fileName))
  const out: ImportRef[] = []
  const add = (node: ts.Node, form: ImportForm, spec: ts.Node | undefined) =>
    out.push({line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, form, pieces: piecesOf(spec)})

  // Names that stand for createRequire (an alias from node:module) and names bound to a require it made.
  const factories = new Set(['createRequire'])
  const requires = new Set<string>()
  const isFactoryCall = (n: ts.Node): boolean =>
    ts.isCallExpression(n) &&
    ((ts.isIdentifier(n.expression) && factories.has(n.expression.text)) ||
      (ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === 'createRequire'))
  const collect = (node: ts.Node): void => {
    if (
      ts.isImportDeclaration(node) &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      /^(node:)?module$/.test(node.moduleSpecifier.text) &&
      node.importClause?.namedBindings &&
      ts.isNamedImports(node.importClause.namedBindings)
    ) {
      for (const el of node.importClause.namedBindings.elements) {
        if ((el.propertyName ?? el.name).text === 'createRequire') factories.add(el.name.text)
      }
    }
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      let init: ts.Node = node.initializer
      while (ts.isParenthesizedExpression(init) || ts.isAsExpression(init)) init = init.expression
      if (isFactoryCall(init)) requires.add(node.name.text)
    }
    ts.forEachChild(node, collect)
  }
  collect(sf)

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause
      add(node, !c ? 'side-effect import' : c.isTypeOnly ? 'import type' : 'import', node.moduleSpecifier)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node, 'export from', node.moduleSpecifier)
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, 'import = require', node.moduleReference.expression)
    } else if (ts.isImportTypeNode(node)) {
      const arg = ts.isLiteralTypeNode(node.argument) ? node.argument.literal : node.argument
      add(node, 'type import()', arg)
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression
      if (callee.kind === ts.SyntaxKind.ImportKeyword) add(node, 'import()', node.arguments[0])
      else if (ts.isIdentifier(callee) && callee.text === 'require') add(node, 'require', node.arguments[0])
      else if (isFactoryCall(callee) || (ts.isIdentifier(callee) && requires.has(callee.text))) {
        add(node, 'createRequire', node.arguments[0])
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return out
}

// ---- resolving them to files ----

const SOURCE = /\.(?:d\.)?[cm]?[tj]sx?$/

/** Every source file under a folder (TypeScript or JavaScript), as absolute paths. */
export function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f)
      if (statSync(p).isDirectory()) return sourceFiles(p)
      return SOURCE.test(p) ? [p] : []
    })
}

const toPosix = (p: string) => p.split(sep).join('/')

/** The names a specifier can give a source file: `x.js` (Node16's way), `x.ts`, `x`, and `dir` for `dir/index.ts`. */
function namesOf(file: string): string[] {
  const asIs = toPosix(file)
  const js = asIs.replace(/\.([cm]?)t(sx?)$/, '.$1j$2')
  const bare = asIs.replace(SOURCE, '')
  const names = [asIs, js, bare]
  if (posix.basename(bare) === 'index') names.push(posix.dirname(bare))
  return names
}

export type Target = {kind: 'files'; files: string[]} | {kind: 'package'} | {kind: 'unreadable'}

/**
 * The files an import can load, as absolute paths (a relative import that names no existing file still gives
 * the path it names, so the rules can place it), `package` for a bare name (`usb`, `node:fs`), or `unreadable`.
 */
export function resolveImport(fromFile: string, ref: ImportRef, files: readonly string[]): Target {
  const pieces = ref.pieces
  if (!pieces) return {kind: 'unreadable'}
  const head = pieces[0]
  if (!/^\.{0,2}\//.test(head) && head !== '.' && head !== '..') {
    // A bare name: a package, or a pattern whose head is a package (`node:${x}`); nothing of ours.
    return /^[@\w]/.test(head) ? {kind: 'package'} : {kind: 'unreadable'}
  }
  const base = posix.dirname(toPosix(fromFile))
  if (pieces.length === 1) {
    const p = posix.resolve(base, head)
    const found = files.find((f) => namesOf(f).includes(p))
    return {kind: 'files', files: [found ?? p.replace(/\.([cm]?)j(sx?)$/, '.$1t$2')]}
  }
  // A pattern: the literal pieces with anything between them (a substitution may hold a slash).
  const hole = '\u0000'
  const path = posix.resolve(base, pieces.join(hole))
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const re = new RegExp(`^${path.split(hole).map(escape).join('.*')}$`)
  const matched = files.filter((f) => namesOf(f).some((n) => re.test(n)))
  if (matched.length > 0) return {kind: 'files', files: matched}
  // `folder/*`: a file of that folder the rules cannot name (it has no layer or rank of its own).
  const folder = head.endsWith('/') ? posix.resolve(base, head) : posix.dirname(posix.resolve(base, head + 'x'))
  return {kind: 'files', files: [`${folder}/*`]}
}

// ---- the document ----

export interface Layout {
  /** Unit of src/lib (`usb/`, `errors`) to its layer. */
  layers: Map<string, number>
  /** Folder of src/lib (`setup-flag/`) to the rank of each of its files and sub-folders (`write`, `x/`). */
  inside: Map<string, Map<string, number>>
}

function tableAfter(tokens: Token[], index: number): Tokens.Table | undefined {
  for (let i = index + 1; i < tokens.length; i++) {
    const t = tokens[i]
    if (t.type === 'heading') return undefined
    if (t.type === 'table') return t as Tokens.Table
  }
  return undefined
}

/** The names in backticks of a table cell. */
const codeNames = (cell: Tokens.TableCell) => [...cell.text.matchAll(/`([^`]+)`/g)].map((m) => m[1])

/** Rows of a table as (number, names) from the columns headed `numberHeader` and `namesHeader`. */
function numbered(table: Tokens.Table, numberHeader: string, namesHeader: string, where: string): Map<string, number> {
  const col = (h: string) => {
    const i = table.header.findIndex((c) => c.text.trim().toLowerCase() === h)
    if (i < 0) throw new Error(`${where}: the table has no "${h}" column`)
    return i
  }
  const n = col(numberHeader)
  const names = col(namesHeader)
  const out = new Map<string, number>()
  for (const row of table.rows) {
    const level = Number(row[n].text.trim())
    if (!Number.isInteger(level)) throw new Error(`${where}: "${row[n].text}" is not a ${numberHeader}`)
    for (const name of codeNames(row[names])) {
      if (out.has(name)) throw new Error(`${where}: \`${name}\` is listed twice`)
      out.set(name, level)
    }
  }
  return out
}

/**
 * Reads the two kinds of table of docs/architecture.md: the one under the heading `Layers` (columns `layer`,
 * `units`), and one under each heading `Inside \`folder/\`` (columns `rank`, `files`), which orders the files
 * of that folder of src/lib. Names are in backticks, several to a cell. Throws when the layer table is missing.
 */
export function readLayout(markdown: string): Layout {
  const tokens = marked.lexer(markdown)
  let layers: Map<string, number> | undefined
  const inside = new Map<string, Map<string, number>>()
  tokens.forEach((t, i) => {
    if (t.type !== 'heading') return
    const text = (t as Tokens.Heading).text.trim()
    if (text === 'Layers') {
      const table = tableAfter(tokens, i)
      if (table) layers = numbered(table, 'layer', 'units', 'Layers')
    }
    const folder = /^Inside `([^`]+\/)`$/.exec(text)?.[1]
    if (folder) {
      const table = tableAfter(tokens, i)
      if (!table) throw new Error(`Inside \`${folder}\`: no table under the heading`)
      inside.set(folder, numbered(table, 'rank', 'files', `Inside \`${folder}\``))
    }
  })
  if (!layers) throw new Error('no table under a heading "Layers"')
  return {layers, inside}
}

// ---- the rules ----

export type Rule =
  | 'listed' // every unit of src/lib, and every file of an ordered folder, is in its table
  | 'exists' // every name in a table is a unit or file that exists
  | 'readable' // every import of src/lib and src/commands can be read
  | 'down' // an import between two units of src/lib runs down a layer
  | 'cycle' // no cycle between the folders and files of src/lib, nor with src/commands
  | 'lib-above' // src/lib imports nothing of src outside src/lib (src/commands, src/index.ts)
  | 'command' // a command imports src/lib and packages only: never another command nor src/index.ts
  | 'page' // the page (src/web) imports src/lib, its own files and packages only
  | 'order' // inside an ordered folder, a file imports only files of a lower rank
  | 'inner-cycle' // no cycle between the files of an ordered folder

export interface Violation {
  rule: Rule
  message: string
}

interface Edge {
  /** Absolute paths. */
  from: string
  to: string
  /** `src/lib/x.ts:12` */
  at: string
  form: ImportForm
  spec: string
}

/** The strongly connected groups of more than one node of a graph, each as one cycle through its nodes. */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  // Tarjan's algorithm, then one walk around each group so that a report reads as a path.
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const on = new Set<string>()
  const groups: string[][] = []
  const strong = (v: string): void => {
    index.set(v, counter)
    low.set(v, counter++)
    stack.push(v)
    on.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = []
      let w: string
      do {
        w = stack.pop()!
        on.delete(w)
        group.push(w)
      } while (w !== v)
      if (group.length > 1) groups.push(group)
    }
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) strong(v)
  return groups.map((group) => {
    const members = new Set(group)
    const start = [...group].sort()[0]
    // Breadth-first from start back to start within the group: the shortest cycle through it.
    const prev = new Map<string, string>()
    const queue = [start]
    while (queue.length > 0) {
      const v = queue.shift()!
      for (const w of [...(graph.get(v) ?? [])].sort()) {
        if (!members.has(w) || prev.has(w)) continue
        prev.set(w, v)
        if (w === start) queue.length = 0
        else queue.push(w)
      }
    }
    const between: string[] = []
    for (let v = prev.get(start)!; v !== start; v = prev.get(v)!) between.unshift(v)
    return [start, ...between, start]
  })
}

/**
 * Every violation of the layer rules in the tree at `root` (which holds src/lib and src/commands), against the
 * layout read from docs/architecture.md.
 */
export function checkLayers(root: string, layout: Layout): Violation[] {
  const src = posix.join(toPosix(root), 'src')
  const lib = `${src}/lib`
  const commands = `${src}/commands`
  const rel = (p: string) => posix.relative(toPosix(root), p)
  const inLib = (p: string) => p.startsWith(`${lib}/`)
  const inCommands = (p: string) => p.startsWith(`${commands}/`)
  const page = `${src}/web`
  const inPage = (p: string) => p.startsWith(`${page}/`)
  const libFiles = sourceFiles(lib).map(toPosix)
  const commandFiles = sourceFiles(commands).map(toPosix)
  const pageFiles = sourceFiles(page).map(toPosix)
  const all = sourceFiles(src).map(toPosix)
  const out: Violation[] = []

  /** The unit of a path under src/lib: its top folder (`usb/`) or its own name (`errors`). */
  const unitOf = (p: string): string => {
    const parts = posix.relative(lib, p).split('/')
    return parts.length > 1 ? `${parts[0]}/` : parts[0].replace(SOURCE, '')
  }
  /** Inside an ordered folder: the file's own name or the sub-folder it is in. */
  const innerOf = (folder: string, p: string): string | undefined => {
    if (!p.startsWith(`${lib}/${folder}`)) return undefined
    const parts = posix.relative(`${lib}/${folder}`, p).split('/')
    return parts.length > 1 ? `${parts[0]}/` : parts[0].replace(SOURCE, '')
  }

  // Every unit in the table, and every name in the table a unit.
  const units = new Set(libFiles.map(unitOf))
  for (const u of [...units].sort()) {
    if (!layout.layers.has(u)) out.push({rule: 'listed', message: `src/lib: \`${u}\` is not in the Layers table`})
  }
  for (const u of layout.layers.keys()) {
    if (!units.has(u)) out.push({rule: 'exists', message: `Layers table: \`${u}\` is not a folder or file of src/lib`})
  }
  for (const [folder, ranks] of layout.inside) {
    const names = new Set(libFiles.map((f) => innerOf(folder, f)).filter((n) => n !== undefined))
    if (names.size === 0) out.push({rule: 'exists', message: `Inside \`${folder}\`: src/lib/${folder} does not exist`})
    for (const n of [...names].sort()) {
      if (!ranks.has(n)) out.push({rule: 'listed', message: `src/lib/${folder}: \`${n}\` is not in the Inside \`${folder}\` table`})
    }
    for (const n of ranks.keys()) {
      if (names.size > 0 && !names.has(n)) {
        out.push({rule: 'exists', message: `Inside \`${folder}\` table: \`${n}\` is not a file or folder of src/lib/${folder}`})
      }
    }
  }

  // The imports of every checked file, resolved.
  const edges: Edge[] = []
  for (const file of [...libFiles, ...commandFiles, ...pageFiles]) {
    for (const ref of readImports(file, readFileSync(file, 'utf8'))) {
      const at = `${rel(file)}:${ref.line}`
      const target = resolveImport(file, ref, all)
      if (target.kind === 'unreadable') {
        out.push({rule: 'readable', message: `${at}: ${ref.form} of ${specifierText(ref)} cannot be read, so no rule can hold for it`})
      } else if (target.kind === 'files') {
        for (const to of target.files) edges.push({from: file, to, at, form: ref.form, spec: specifierText(ref)})
      }
    }
  }
  const says = (e: Edge) => `${e.at}: ${e.form} '${e.spec}'`

  // Two graphs: units of src/lib (with src/commands as one node), and the files of each ordered folder.
  const graphs = new Map<string, {graph: Map<string, Set<string>>; evidence: Map<string, Edge>}>()
  const link = (scope: string, a: string, b: string, e: Edge) => {
    if (a === b) return
    const g = graphs.get(scope) ?? {graph: new Map(), evidence: new Map()}
    graphs.set(scope, g)
    g.graph.set(a, (g.graph.get(a) ?? new Set()).add(b))
    if (!g.evidence.has(`${a} ${b}`)) g.evidence.set(`${a} ${b}`, e)
  }

  for (const e of edges) {
    if (inLib(e.from)) {
      if (e.to.startsWith(`${src}/`) && !inLib(e.to)) {
        out.push({rule: 'lib-above', message: `${says(e)}: src/lib imports ${rel(e.to)}`})
        if (inCommands(e.to)) link('', unitOf(e.from), 'src/commands', e)
        continue
      }
      if (!inLib(e.to)) continue
      const a = unitOf(e.from)
      const b = unitOf(e.to)
      link('', a, b, e)
      const la = layout.layers.get(a)
      const lb = layout.layers.get(b)
      if (a !== b && !(la !== undefined && lb !== undefined && lb < la)) {
        out.push({rule: 'down', message: `${says(e)}: \`${a}\` (layer ${la ?? '?'}) imports \`${b}\` (layer ${lb ?? '?'})`})
      }
      for (const [folder, ranks] of layout.inside) {
        const x = innerOf(folder, e.from)
        const y = innerOf(folder, e.to)
        if (x === undefined || y === undefined || x === y) continue
        link(folder, `${folder}${x}`, `${folder}${y}`, e)
        const rx = ranks.get(x)
        const ry = ranks.get(y)
        if (!(rx !== undefined && ry !== undefined && ry < rx)) {
          out.push({rule: 'order', message: `${says(e)}: \`${folder}${x}\` (rank ${rx ?? '?'}) imports \`${folder}${y}\` (rank ${ry ?? '?'})`})
        }
      }
    } else if (inCommands(e.from)) {
      if (e.to.startsWith(`${src}/`) && !inLib(e.to)) {
        out.push({rule: 'command', message: `${says(e)}: a command imports ${rel(e.to)}; it may import only src/lib`})
      }
      if (inLib(e.to)) link('', 'src/commands', unitOf(e.to), e)
    } else if (inPage(e.from) && e.to.startsWith(`${src}/`) && !inLib(e.to) && !inPage(e.to)) {
      out.push({rule: 'page', message: `${says(e)}: the page imports ${rel(e.to)}; it may import only src/lib and its own files`})
    }
  }

  for (const [scope, {graph, evidence}] of [...graphs].sort(([a], [b]) => a.localeCompare(b))) {
    for (const cycle of cycles(graph)) {
      const hops = cycle.slice(1).map((b, i) => says(evidence.get(`${cycle[i]} ${b}`)!))
      out.push({
        rule: scope === '' ? 'cycle' : 'inner-cycle',
        message: `${cycle.map((u) => `\`${u}\``).join(' -> ')} (${hops.join('; ')})`,
      })
    }
  }
  return out
}

/** The repository's own root. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
