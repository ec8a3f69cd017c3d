// The layer rules of docs/architecture.md, read from its tables (test/support/layers.ts holds the import reader
// and the checks): every import in src/lib runs down a layer, no cycle between folders, every unit is in the
// table, src/lib imports nothing above it, a command imports only src/lib, and the files of setup-flag/ import
// only files of a lower rank. The second half feeds the same checks a small fake tree with each forbidden form
// and expects each one reported, so a reader that misses a form fails here.
import {expect} from 'chai'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {
  checkLayers,
  cycles,
  type ImportForm,
  readImports,
  readLayout,
  repoRoot,
  type Rule,
  specifierText,
  type Violation,
} from '../support/layers.js'

const only = (violations: Violation[], rule: Rule) => violations.filter((v) => v.rule === rule).map((v) => v.message)

describe('architecture: the layer rules of docs/architecture.md', () => {
  const layout = readLayout(readFileSync(join(repoRoot, 'docs/architecture.md'), 'utf8'))
  const found = checkLayers(repoRoot, layout)

  it('reads the layer table and the order inside setup-flag/', () => {
    expect(layout.layers.size).to.be.greaterThan(10)
    expect(layout.inside.get('setup-flag/')?.size, 'the Inside `setup-flag/` table').to.be.greaterThan(5)
  })

  it('has every folder and file of src/lib in the table, and only those', () => {
    expect(only(found, 'listed'), 'missing from the tables').to.deep.equal([])
    expect(only(found, 'exists'), 'in the tables, not in src/lib').to.deep.equal([])
  })

  it('reads every import of src/lib and src/commands', () => {
    expect(only(found, 'readable')).to.deep.equal([])
  })

  it('imports only run down a layer', () => {
    expect(only(found, 'down')).to.deep.equal([])
  })

  it('has no cycle between folders', () => {
    expect(only(found, 'cycle')).to.deep.equal([])
  })

  it('src/lib never imports src/commands or src/index', () => {
    expect(only(found, 'lib-above')).to.deep.equal([])
  })

  it('a command imports src/lib only, never another command', () => {
    expect(only(found, 'command')).to.deep.equal([])
  })

  it('the page (src/web) imports src/lib and its own files only', () => {
    expect(only(found, 'page')).to.deep.equal([])
  })

  it('the files of setup-flag/ import only files of a lower rank, and no cycle among them', () => {
    expect(only(found, 'order')).to.deep.equal([])
    expect(only(found, 'inner-cycle')).to.deep.equal([])
  })
})

describe('architecture: the checks themselves', () => {
  describe('readImports', () => {
    it('reads every import form, whatever the quotes', () => {
      const text = [
        `import a from './a.js'`,
        `import {b} from "./b.js"`,
        `import type {C} from './c.js'`,
        `import './d.js'`,
        `export {e} from "./e.js"`,
        `export * from './f.js'`,
        `import g = require('./g.js')`,
        `const h = require("./h.js")`,
        `import {createRequire as cr} from 'node:module'`,
        `const i = cr(import.meta.url)('./i.js')`,
        `const req = createRequire(import.meta.url)`,
        `const j = req(\`./j.js\`)`,
        `const k = await import('./k.js')`,
        `const l = await import(\`./l.js\`)`,
        `const m = await import(\`./m/\${name}.js\`)`,
        `const n = await import('./n/' + name + '.js')`,
        `let o: typeof import("./o.js")`,
        `const p = await import(name)`,
        `this.require('./not-an-import.js')`,
        `// import x from './comment.js'`,
        `const s = "import x from './string.js'"`,
      ].join('\n')
      const got = readImports('x.ts', text).map((r) => [r.line, r.form, specifierText(r)])
      const want: Array<[number, ImportForm, string]> = [
        [1, 'import', './a.js'],
        [2, 'import', './b.js'],
        [3, 'import type', './c.js'],
        [4, 'side-effect import', './d.js'],
        [5, 'export from', './e.js'],
        [6, 'export from', './f.js'],
        [7, 'import = require', './g.js'],
        [8, 'require', './h.js'],
        [9, 'import', 'node:module'],
        [10, 'createRequire', './i.js'],
        [12, 'createRequire', './j.js'],
        [13, 'import()', './k.js'],
        [14, 'import()', './l.js'],
        [15, 'import()', './m/${…}.js'],
        [16, 'import()', './n/${…}.js'],
        [17, 'type import()', './o.js'],
        [18, 'import()', '(unreadable)'],
      ]
      expect(got).to.deep.equal(want)
    })

    it('finds the shortest cycle through each knot of a graph', () => {
      const g = new Map(Object.entries({a: ['b'], b: ['c', 'a'], c: ['a'], d: ['e'], e: []}).map(([k, v]) => [k, new Set(v)]))
      expect(cycles(g)).to.deep.equal([['a', 'b', 'a']])
    })
  })

  describe('on a fake tree', () => {
    // Layers: base 0, low/ and lone 1, mid/ 2, svc/ 3 (ordered inside: a 0, b and c 1, d 2), top 4.
    const DOC = [
      '# Fake',
      '## Layers',
      '| layer | units | what |',
      '| --- | --- | --- |',
      '| 0 | `base` | |',
      '| 1 | `low/` `lone` | |',
      '| 2 | `mid/` | |',
      '| 3 | `svc/` | |',
      '| 4 | `top` | |',
      '### Inside `svc/`',
      '| rank | files |',
      '| --- | --- |',
      '| 0 | `a` |',
      '| 1 | `b` `c` |',
      '| 2 | `d` |',
    ].join('\n')
    // Every form, each running down: the clean tree must pass.
    const CLEAN: Record<string, string> = {
      'src/lib/base.ts': `export const base = 0\n`,
      'src/lib/lone.ts': `export const lone = 1\n`,
      'src/lib/low/x.ts': `import {base} from "../base.js"\nexport const x = base\n`,
      'src/lib/low/y.ts': `import {x} from './x.js'\nexport const y = x\n`,
      'src/lib/mid/m.ts': [
        `import type {y} from '../low/y.js'`,
        `import '../base.js'`,
        `export {x} from '../low/x.js'`,
        `export const m = (await import(\`../low/\${'y'}.js\`)).y`,
      ].join('\n'),
      'src/lib/svc/a.ts': `import {m} from '../mid/m.js'\nexport const a = m\n`,
      'src/lib/svc/b.ts': `import {a} from './a.js'\nexport const b = a\n`,
      'src/lib/svc/c.ts': `import a = require('./a.js')\nexport const c = a\n`,
      'src/lib/svc/d.ts': [
        `import {createRequire} from 'node:module'`,
        `const req = createRequire(import.meta.url)`,
        `export const d = [req('./b.js'), await import(\`./c.js\`), require('../low/x.js'), await import('node:fs')]`,
        `export type T = typeof import('./a.js')`,
      ].join('\n'),
      'src/lib/top.ts': `export * from './svc/d.js'\nexport const t = createRequire(import.meta.url)('./base.js')\n`,
      'src/commands/one.ts': `import {t} from '../lib/top.js'\nexport const one = t\n`,
      'src/commands/two.ts': `import {m} from "../lib/mid/m.js"\nexport const two = m\n`,
      'src/index.ts': `export * from './lib/top.js'\n`,
    }

    let dir: string
    function check(overlay: Record<string, string>, doc = DOC): Violation[] {
      dir = mkdtempSync(join(tmpdir(), 'layers-'))
      for (const [path, text] of Object.entries({...CLEAN, ...overlay})) {
        mkdirSync(dirname(join(dir, path)), {recursive: true})
        writeFileSync(join(dir, path), text)
      }
      return checkLayers(dir, readLayout(doc))
    }
    afterEach(() => rmSync(dir, {recursive: true, force: true}))

    it('passes the clean tree, which uses every form downwards', () => {
      expect(check({})).to.deep.equal([])
    })

    const lone = (line: string) => ({'src/lib/lone.ts': `${line}\nexport const lone = 1\n`})
    // [what, overlay, the rules reported (sorted), a piece of the first message]
    const CASES: Array<[string, Record<string, string>, Rule[], string]> = [
      ['a double-quoted import up', lone(`import {m} from "./mid/m.js"`), ['down'], "src/lib/lone.ts:1: import './mid/m.js'"],
      ['import() of a template literal', lone('const {m} = await import(`./mid/m.js`)'), ['down'], "import() './mid/m.js'"],
      [
        'import() of a template with a substitution',
        lone('const {m} = await import(`./mid/${process.env.X}.js`)'),
        ['down'],
        "import() './mid/${…}.js': `lone` (layer 1) imports `mid/` (layer 2)",
      ],
      ['import() of a string sum', lone(`const {m} = await import('./mid/' + name)`), ['down'], "import() './mid/${…}'"],
      ['require', lone(`const {m} = require('./mid/m.js')`), ['down'], "require './mid/m.js'"],
      ['createRequire called at once', lone(`const {m} = createRequire(import.meta.url)('./mid/m.js')`), ['down'], "createRequire './mid/m.js'"],
      [
        'a require bound to createRequire',
        lone(`import {createRequire} from 'node:module'\nconst r = createRequire(import.meta.url)\nr('./mid/m.js')`),
        ['down'],
        "src/lib/lone.ts:3: createRequire './mid/m.js'",
      ],
      ['import = require', lone(`import m = require('./mid/m.js')`), ['down'], "import = require './mid/m.js'"],
      ['export … from up', lone(`export {m} from './mid/m.js'`), ['down'], "export from './mid/m.js'"],
      ['export * from up', lone(`export * from './svc/a.js'`), ['down'], "export from './svc/a.js'"],
      ['import type up', lone(`import type {m} from './mid/m.js'`), ['down'], "import type './mid/m.js'"],
      ['a type import() up', lone(`export type M = typeof import('./mid/m.js')`), ['down'], "type import() './mid/m.js'"],
      ['a side-effect import up', lone(`import './top.js'`), ['down'], "side-effect import './top.js'"],
      ['an import that cannot be read', lone(`await import(process.env.X!)`), ['readable'], 'import() of (unreadable) cannot be read'],
      [
        'a command importing another command',
        {'src/commands/two.ts': `import {one} from './one.js'\nexport const two = one\n`},
        ['command'],
        "src/commands/two.ts:1: import './one.js': a command imports src/commands/one.ts",
      ],
      ['a command importing src/index', {'src/commands/two.ts': `export * from '../index.js'\n`}, ['command'], 'a command imports src/index.ts'],
      ['src/lib importing src/commands', lone(`import '../commands/one.js'`), ['lib-above'], 'src/lib imports src/commands/one.ts'],
      ['src/lib importing the page', lone(`import '../web/main.js'`), ['lib-above'], 'src/lib imports src/web/main.ts'],
      [
        'the page importing a command',
        {'src/web/main.ts': `import {one} from '../commands/one.js'\nimport {t} from '../lib/top.js'\nimport './view.js'\nexport const x = [one, t]\n`, 'src/web/view.ts': `export {}\n`},
        ['page'],
        "src/web/main.ts:1: import '../commands/one.js': the page imports src/commands/one.ts",
      ],
      [
        'a file of svc/ importing one above it in the order',
        {'src/lib/svc/c.ts': `import {d} from "./d.js"\nexport const c = d\n`, 'src/lib/svc/d.ts': `import {b} from './b.js'\nexport const d = b\n`},
        ['order'],
        "src/lib/svc/c.ts:1: import './d.js': `svc/c` (rank 1) imports `svc/d` (rank 2)",
      ],
      [
        'a file of svc/ importing one of its own rank',
        {'src/lib/svc/b.ts': `import {c} from './c.js'\nexport const b = c\n`},
        ['order'],
        '`svc/b` (rank 1) imports `svc/c` (rank 1)',
      ],
      [
        'a cycle inside svc/',
        {'src/lib/svc/a.ts': `import {b} from './b.js'\nexport const a = b\n`},
        ['inner-cycle', 'order'],
        '`svc/a` (rank 0) imports `svc/b` (rank 1)',
      ],
      [
        'a cycle between folders',
        {'src/lib/low/y.ts': `import {m} from '../mid/m.js'\nexport const y = m\n`},
        ['cycle', 'down'],
        '`low/` (layer 1) imports `mid/` (layer 2)',
      ],
      ['a unit missing from the table', {'src/lib/extra.ts': `export const extra = 1\n`}, ['listed'], '`extra` is not in the Layers table'],
      ['a file of svc/ missing from its table', {'src/lib/svc/e.ts': `export const e = 1\n`}, ['listed'], '`e` is not in the Inside `svc/` table'],
    ]

    for (const [what, overlay, rules, message] of CASES) {
      it(`reports ${what}`, () => {
        const got = check(overlay)
        expect([...new Set(got.map((v) => v.rule))].sort(), JSON.stringify(got, null, 1)).to.deep.equal(rules)
        expect(got[0].message).to.include(message)
      })
    }

    it('reports a cycle between folders as a path with the import of each hop', () => {
      const got = check({'src/lib/low/y.ts': `import {m} from '../mid/m.js'\nexport const y = m\n`})
      expect(only(got, 'cycle')).to.deep.equal([
        "`low/` -> `mid/` -> `low/` (src/lib/low/y.ts:1: import '../mid/m.js'; src/lib/mid/m.ts:1: import type '../low/y.js')",
      ])
    })

    it('reports a name in a table that is not in the tree', () => {
      const got = check({}, DOC.replace('`top`', '`top` `gone/`').replace('`d` |', '`d` `z` |'))
      expect(got.map((v) => `${v.rule}: ${v.message}`)).to.deep.equal([
        'exists: Layers table: `gone/` is not a folder or file of src/lib',
        'exists: Inside `svc/` table: `z` is not a file or folder of src/lib/svc/',
      ])
    })

    it('a template names every file it could load, and only those', () => {
      // `./${x}.js` from svc/a could be b, c or d, all above a: three reports; `../low/${x}` names nothing above.
      const got = check({'src/lib/svc/a.ts': `export const a = [await import(\`./\${x}.js\`), await import(\`../low/\${x}\`)]\n`})
      expect(only(got, 'order')).to.deep.equal(
        ['b', 'c', 'd'].map((f) => `src/lib/svc/a.ts:1: import() './\${…}.js': \`svc/a\` (rank 0) imports \`svc/${f}\` (rank ${f === 'd' ? 2 : 1})`),
      )
    })
  })
})
