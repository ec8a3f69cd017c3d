// docs/protocol.md is the project's own protocol document: the code it backs cites it (not notes outside the
// repository), and every section a comment cites exists there.
import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'

const root = new URL('../../../', import.meta.url)
const read = (p: string) => readFileSync(new URL(p, root), 'utf8')

// The files that follow the protocol document (issue 11); others move over as their owners touch them.
const FILES = [
  'src/lib/protocol/constants.ts',
  'src/lib/protocol/control-request.ts',
  'src/lib/protocol/dfuse.ts',
  'src/lib/protocol/raw.ts',
  'src/lib/protocol/messages.ts',
  'src/lib/protocol/cdc.ts',
  'src/lib/device/serial-line.ts',
  'src/lib/virtual/cdc.ts',
  'src/lib/virtual/control.ts',
  'src/lib/virtual/dfu.ts',
  'src/lib/virtual/descriptors.ts',
  'src/lib/virtual/rules.ts',
  'src/lib/virtual/requests.ts',
  'src/lib/virtual/device.ts',
  'src/lib/virtual/memory.ts',
  'src/lib/virtual/spec.ts',
  'src/lib/virtual/types.ts',
  'src/lib/particle/versions.ts',
  'src/lib/particle/module-header.ts',
  'src/lib/setup-flag/read.ts',
  'src/lib/setup-flag/write.ts',
  'src/lib/setup-flag/write-control.ts',
  'src/lib/setup-flag/write-dfu.ts',
  'src/lib/setup-flag/write-shared.ts',
]

describe('docs/protocol.md', () => {
  it('exists, names its sources by file, tag and line, and lists the corrections with their tests', () => {
    expect(existsSync(new URL('docs/protocol.md', root))).to.equal(true)
    const doc = read('docs/protocol.md')
    expect(doc).to.match(/## 9\. Corrections from Device OS's own sources/)
    expect(doc.match(/@v\d+\.\d+\.\d+(-[\w.]+)?:\d+/g)!.length).to.be.above(40)
  })

  it('the code cites it, not the notes outside the repository, and every section cited exists', () => {
    const doc = read('docs/protocol.md')
    const sections = new Set<string>()
    for (const m of doc.matchAll(/^#{2,3} (\d+)(?:\.(\d+))?(?:-(\d+)\.(\d+))?[ .]/gm)) {
      sections.add(m[2] ? `${m[1]}.${m[2]}` : m[1])
      if (m[3]) for (let i = Number(m[2]); i <= Number(m[4]); i++) sections.add(`${m[1]}.${i}`)
    }
    for (const f of FILES) {
      const text = read(f)
      expect(text, f).not.to.match(/device-protocol\.md|\.\.\/shared/)
      for (const line of text.split('\n')) {
        if (/USB 2\.0 §|style\.md|design\.md §/.test(line)) continue
        for (const m of line.matchAll(/§(\d+(?:\.\d+)?)/g)) expect(sections.has(m[1]), `${f}: §${m[1]}`).to.equal(true)
      }
    }
  })
})
