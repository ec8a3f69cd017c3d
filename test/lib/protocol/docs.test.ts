// docs/protocol.md is the project's own protocol document: the code it backs cites it (not notes outside the
// repository), and every section a comment cites exists there. The citation check (test/support/citations.ts)
// runs over every file of src/, test/, scripts/ and bin/, not over a list; its own test follows.
import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {checkCitations, checkRepository, filesUnder, protocolSections} from '../../support/citations.js'

const root = new URL('../../../', import.meta.url)
const read = (p: string) => readFileSync(new URL(p, root), 'utf8')

describe('docs/protocol.md', () => {
  it('exists, names its sources by file, tag and line, and lists the corrections with their tests', () => {
    expect(existsSync(new URL('docs/protocol.md', root))).to.equal(true)
    const doc = read('docs/protocol.md')
    expect(doc).to.match(/## 9\. Corrections from Device OS's own sources/)
    expect(doc.match(/@v\d+\.\d+\.\d+(-[\w.]+)?:\d+/g)!.length).to.be.above(40)
  })

  it('every file of src/, test/, scripts/ and bin/ cites only the repository, and every section it cites exists', () => {
    const files = filesUnder(fileURLToPath(root), ['src', 'test', 'scripts', 'bin'])
    expect(files).to.include.members(['src/lib/protocol/dfuse.ts', 'test/support/wire.ts', 'scripts/bench.js', 'bin/run.js'])
    const found = checkRepository(fileURLToPath(root)).map((f) => `${f.at}: ${f.what}: ${f.line}`)
    expect(found, `\n${found.join('\n')}\n`).to.deep.equal([])
  })
})

describe('the citation check itself', () => {
  const sections = protocolSections(read('docs/protocol.md'))
  // The samples are put together from pieces, so that this file, which the check reads too, cites nothing.
  const S = '§'
  const notes = ['device-', 'protocol.md'].join('')
  const check = (file: string, text: string) => checkCitations(file, text, sections).map((f) => `${f.at}: ${f.what}`)

  it('reads the sections of docs/protocol.md, ranges included', () => {
    for (const s of ['1', '1.2', '2.12', '4.5', '4.6', '4.7', '9']) expect(sections.has(s), s).to.equal(true)
    expect(sections.has('2.13')).to.equal(false)
  })

  it('reports the documents outside the repository, in comments and strings alike', () => {
    const names = [notes, ['design', '.md'].join(''), ['style', '.md'].join(''), ['cli-and-', 'cloud.md'].join('')]
    const text = names.map((n, i) => (i % 2 ? `const s${i} = 'see ${n}'` : `// see ${n}`)).join('\n')
    expect(check('a.ts', text)).to.deep.equal(names.map((n, i) => `a.ts:${i + 1}: cites ${n}, which is not in the repository`))
    const bare = ['device-', 'protocol'].join('')
    expect(check('b.ts', `it('the boot rule (${bare} ${S}3.1)', () => {})`)).to.deep.equal([
      `b.ts:1: cites ${bare}, which is not in the repository`,
    ])
  })

  it('reports issue and pull request numbers, but not colours, entities, fragments or #include', () => {
    // The numbers are substitutions (code), so that the samples here are not citations themselves.
    const lines = [
      `// Issue ${12}, item 3: words`,
      `/* the fault matrix (issue #${6}) */`,
      `// a read never does that (issue ${11})`,
      `// as agreed (#${12})`,
      `// see #${19} for the plan`,
      `// 4.0 stopped reading it: PR #${2447}`,
      `it('issue ${12} item 1', () => {})`,
      `// an entity &#${8230}; a link page.html#${2}; a hex #fff and #${12}ab34; C has #include`,
      `// the border colour is #${333}`,
      `const id = '#${2}' // a string is data, not a comment`,
      `// Finding 4 of the issue, replayed`,
    ]
    expect(check('t.ts', lines.join('\n'))).to.deep.equal([
      `t.ts:1: cites an issue or pull request number ("Issue ${12}")`,
      `t.ts:2: cites an issue or pull request number ("issue #${6}")`,
      `t.ts:3: cites an issue or pull request number ("issue ${11}")`,
      `t.ts:4: cites an issue or pull request number ("(#${12})")`,
      `t.ts:5: cites an issue number ("#${19}")`,
      `t.ts:6: cites an issue or pull request number ("PR #${2447}")`,
      `t.ts:7: cites an issue or pull request number ("issue ${12}")`,
    ])
  })

  it('checks every section sign against docs/protocol.md, and that the file names it', () => {
    const cited = [`// docs/protocol.md ${S}2.5 and ${S}4.6, not ${S}2.13`, `/** USB 2.0 ${S}9.4, DFU 1.1 ${S}4.1.3 */`].join('\n')
    expect(check('c.ts', cited)).to.deep.equal([`c.ts:1: ${S}2.13 is not a section of docs/protocol.md`])
    expect(check('u.ts', `// the service reply (${S}2.3)`)).to.deep.equal([`u.ts:1: ${S}2.3 without naming docs/protocol.md in the file`])
    expect(check('r.ts', `// docs/architecture.md ${S}2`)).to.deep.equal([`r.ts:1: ${S}2: docs/architecture.md has no numbered sections`])
    // A section of the outside notes is reported once, for the name.
    expect(check('o.ts', `// ${notes} ${S}2.99`)).to.deep.equal([`o.ts:1: cites ${notes}, which is not in the repository`])
  })

  it('reads only comments and strings of code (a regular expression is code), and every line of other files', () => {
    expect(check('re.ts', `const re = /${notes.replace('.', '\\.')}/`)).to.deep.equal([])
    expect(check('run.sh', `#!/bin/sh\n# see ${notes}\necho "issue ${7}"`)).to.deep.equal([
      `run.sh:2: cites ${notes}, which is not in the repository`,
      `run.sh:3: cites an issue or pull request number ("issue ${7}")`,
    ])
  })
})
