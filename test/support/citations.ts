/**
 * What comments (and strings) may cite, checked over every file of src/, test/, scripts/ and bin/: only the
 * repository's own documents, by name. Found and reported here:
 * - the research notes and design notes that lived outside the repository, by their file names (the names are
 *   spelt out in OUTSIDE below, as a regular expression, so that this file does not cite them itself);
 * - issue numbers: "issue" or "issues" and a number (with or without "#"), "(#" and a number ")", a bare "#"
 *   and a number in a comment, and a pull request number ("PR #" and a number): a reader of the repository
 *   cannot follow them. A "#" after a letter, a digit, "&" or "/" (an HTML entity, a URL fragment) is not one,
 *   nor one followed by letters (a hex colour, `#include`), nor a number on a line that speaks of colours;
 * - a section sign that names no section: `§N.N` is a section of docs/protocol.md, which must exist, and a file
 *   that cites one must name docs/protocol.md somewhere. A section of another standard written with its name and
 *   version (`USB 2.0 §9.4`, `DFU 1.1 §4.1.3`) is left alone; docs/architecture.md has no numbered sections.
 *
 * TypeScript and JavaScript files are read with the TypeScript parser, so only comments and string or template
 * text are checked (a regular expression that matches a name, as in this file, is code); any other file is
 * checked line by line as text.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative, sep} from 'node:path'
import ts from 'typescript'

/** The documents outside the repository that comments used to cite (two of them also without `.md`). */
const OUTSIDE = /\b(?:device-protocol(?:\.md)?|design\.md|style\.md|cli-and-cloud(?:\.md)?)(?![\w-])/g
const ISSUE = /\bissues?\s*#?\s*\d+|\(#\d+\)|\bPRs?\s*#\s*\d+/gi
/** A bare issue number in a comment: `#` and digits, after a space, a bracket or the start, not followed by letters. */
const HASH = /(?<![\w&#/])#\d+(?![\w-])/g
const COLOUR = /colou?r|rgb|hsl|background|foreground|fill|stroke/i
const SECTION = /§\s?(\d+(?:\.\d+)?)/g
/** Another standard's section, written with its name and version just before the sign. */
const FOREIGN = /\b(?:USB|DFU)\s+\d+(?:\.\d+)*\s*$/

export interface Finding {
  /** `path:line`, the path relative to the repository. */
  at: string
  what: string
  /** The line, trimmed. */
  line: string
}

interface Chunk {
  line: number
  text: string
  kind: 'comment' | 'string' | 'text'
}

const CODE = /\.[cm]?[jt]sx?$/

/** The comments and string texts of a TypeScript or JavaScript file, line by line; any other file's lines. */
function chunksOf(file: string, text: string): Chunk[] {
  if (!CODE.test(file)) return text.split('\n').map((t, i) => ({line: i + 1, text: t, kind: 'text'}))
  const kind = /\.[cm]?jsx?$/.test(file) ? ts.ScriptKind.JS : file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind)
  const out: Chunk[] = []
  const add = (pos: number, end: number, k: Chunk['kind']) => {
    const first = sf.getLineAndCharacterOfPosition(pos).line + 1
    text
      .slice(pos, end)
      .split('\n')
      .forEach((t, i) => out.push({line: first + i, text: t, kind: k}))
  }
  const seen = new Set<number>()
  const isJsDoc = (n: ts.Node) => n.kind >= ts.SyntaxKind.FirstJSDocNode && n.kind <= ts.SyntaxKind.LastJSDocNode
  const walk = (node: ts.Node): void => {
    const kids = node.getChildren(sf).filter((k) => !isJsDoc(k))
    if (kids.length > 0) {
      kids.forEach(walk)
      return
    }
    // A token: the comments before it (every comment is before some token, the last ones before end of file),
    // then its own text when it is a string, a piece of a template or JSX text.
    ts.forEachLeadingCommentRange(text, node.pos, (pos, end) => {
      if (seen.has(pos)) return
      seen.add(pos)
      add(pos, end, 'comment')
    })
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node) ||
      ts.isJsxText(node)
    ) {
      add(node.getStart(sf), node.end, 'string')
    }
  }
  walk(sf)
  return out
}

/** The section numbers of docs/protocol.md (`2`, `2.5`; a heading `4.5-4.7` gives 4.5, 4.6 and 4.7). */
export function protocolSections(markdown: string): Set<string> {
  const sections = new Set<string>()
  for (const m of markdown.matchAll(/^#{2,3} (\d+)(?:\.(\d+))?(?:-(\d+)\.(\d+))?[ .]/gm)) {
    sections.add(m[2] ? `${m[1]}.${m[2]}` : m[1])
    if (m[3]) for (let i = Number(m[2]); i <= Number(m[4]); i++) sections.add(`${m[1]}.${i}`)
  }
  return sections
}

/** Every finding in one file's text; `file` is the path shown (relative to the repository). */
export function checkCitations(file: string, text: string, sections: ReadonlySet<string>): Finding[] {
  const out: Finding[] = []
  const namesProtocol = text.includes('docs/protocol.md')
  const lines = text.split('\n')
  for (const c of chunksOf(file, text)) {
    const report = (what: string) => out.push({at: `${file}:${c.line}`, what, line: lines[c.line - 1].trim()})
    for (const m of c.text.matchAll(OUTSIDE)) report(`cites ${m[0]}, which is not in the repository`)
    const cited: Array<[number, number]> = []
    for (const m of c.text.matchAll(ISSUE)) {
      cited.push([m.index, m.index + m[0].length])
      report(`cites an issue or pull request number ("${m[0]}")`)
    }
    if (c.kind !== 'string' && !COLOUR.test(c.text)) {
      for (const m of c.text.matchAll(HASH)) {
        // Inside "issue #N", "(#N)" or "PR #N", reported above as a whole.
        if (!cited.some(([from, to]) => m.index >= from && m.index < to)) report(`cites an issue number ("${m[0]}")`)
      }
    }
    for (const m of c.text.matchAll(SECTION)) {
      const before = c.text.slice(0, m.index)
      if (FOREIGN.test(before) || new RegExp(`${OUTSIDE.source}\\s*$`).test(before)) continue
      if (/docs\/architecture\.md\s*$/.test(before)) report(`§${m[1]}: docs/architecture.md has no numbered sections`)
      else if (!sections.has(m[1])) report(`§${m[1]} is not a section of docs/protocol.md`)
      else if (!namesProtocol) report(`§${m[1]} without naming docs/protocol.md in the file`)
    }
  }
  return out
}

/** Every file under the given folders of the repository (node_modules left out), relative, sorted. */
export function filesUnder(root: string, folders: readonly string[]): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f)
      if (statSync(p).isDirectory()) return f === 'node_modules' ? [] : walk(p)
      return [relative(root, p).split(sep).join('/')]
    })
  return folders.flatMap((f) => walk(join(root, f))).sort()
}

/** Every finding in every file under src/, test/, scripts/ and bin/ (binary files skipped). */
export function checkRepository(root: string): Finding[] {
  const sections = protocolSections(readFileSync(join(root, 'docs/protocol.md'), 'utf8'))
  return filesUnder(root, ['src', 'test', 'scripts', 'bin']).flatMap((f) => {
    const text = readFileSync(join(root, f), 'utf8')
    return text.includes('\u0000') ? [] : checkCitations(f, text, sections)
  })
}
