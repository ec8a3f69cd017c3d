#!/usr/bin/env node
// Size and wording figures of src/ (outside the simulator): files over 400 lines, functions over 60 lines, and
// sentence literals per file (string and template literals of three words or more that read as a sentence for
// a person). Read with the TypeScript compiler API, so comments and code never count as sentences.
// Usage: node scripts/code-metrics.js [--json]
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import ts from 'typescript'

const root = new URL('..', import.meta.url).pathname
export const MAX_FILE_LINES = 400
export const MAX_FUNCTION_LINES = 60

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    if (statSync(p).isDirectory()) return p.endsWith('/virtual') ? [] : files(p)
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : []
  })
}

/** A literal a person reads as a sentence: three words or more, letters, not a path, pattern or identifier list. */
function isSentence(text) {
  const t = text.trim()
  if (t.split(/\s+/).length < 3 || !/[a-z]{2}/i.test(t)) return false
  return !/^[\w./:-]+$/.test(t)
}

function literalText(node) {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text
  if (ts.isTemplateExpression(node)) return [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' x ')
  return undefined
}

export function measure(file) {
  const text = readFileSync(file, 'utf8')
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const lines = text.split('\n').length
  const functions = []
  let sentences = 0
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return
    const lit = literalText(node)
    if (lit !== undefined) {
      if (isSentence(lit)) sentences++
      if (ts.isTemplateExpression(node)) node.templateSpans.forEach((s) => visit(s.expression))
      return
    }
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line
      const end = sf.getLineAndCharacterOfPosition(node.end).line
      const name = node.name?.getText(sf) ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(sf) : '(anonymous)')
      functions.push({lines: end - start + 1, name})
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return {file: relative(root, file), functions, lines, sentences}
}

export function measureAll() {
  return files(join(root, 'src')).map((f) => measure(f))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const all = measureAll()
  const longFiles = all.filter((m) => m.lines > MAX_FILE_LINES).map((m) => ({file: m.file, lines: m.lines}))
  const longFunctions = all.flatMap((m) => m.functions.filter((f) => f.lines > MAX_FUNCTION_LINES).map((f) => ({file: m.file, ...f})))
  const sentences = all.filter((m) => m.sentences > 0).sort((a, b) => b.sentences - a.sentences).map((m) => ({file: m.file, sentences: m.sentences}))
  const total = sentences.reduce((n, s) => n + s.sentences, 0)
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({longFiles, longFunctions, sentences, total}, null, 2))
  } else {
    console.log(`Files over ${MAX_FILE_LINES} lines: ${longFiles.map((f) => `${f.file} (${f.lines})`).join(', ') || 'none'}`)
    console.log(`Functions over ${MAX_FUNCTION_LINES} lines: ${longFunctions.map((f) => `${f.file} ${f.name} (${f.lines})`).join(', ') || 'none'}`)
    console.log(`Sentence literals: ${total} in ${sentences.length} files; top ten:`)
    for (const s of sentences.slice(0, 10)) console.log(`  ${String(s.sentences).padStart(4)}  ${s.file}`)
  }
}
