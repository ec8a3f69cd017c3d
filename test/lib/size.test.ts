// Rooms that stay small enough to read: no file over 400 lines and no function over 60 in src/ (the simulator
// aside, which mirrors Device OS's own layout), measured with the TypeScript compiler API (scripts/code-metrics.js).
import {expect} from 'chai'

// @ts-expect-error: a plain JavaScript module of the repository's scripts, without type declarations
import {MAX_FILE_LINES, MAX_FUNCTION_LINES, measureAll} from '../../scripts/code-metrics.js'

interface Measured {
  file: string
  functions: Array<{lines: number; name: string}>
  lines: number
}

describe('sizes of files and functions', () => {
  const all = measureAll() as Measured[]

  it('measures the whole of src/ outside the simulator', () => {
    expect(all.length).to.be.greaterThan(60)
    expect(all.some((m) => m.file.includes('/virtual/'))).to.equal(false)
  })

  it(`no file over ${MAX_FILE_LINES} lines`, () => {
    expect(all.filter((m) => m.lines > MAX_FILE_LINES).map((m) => `${m.file} (${m.lines})`)).to.deep.equal([])
  })

  it(`no function over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = all.flatMap((m) => m.functions.filter((f) => f.lines > MAX_FUNCTION_LINES).map((f) => `${m.file} ${f.name} (${f.lines})`))
    expect(long).to.deep.equal([])
  })
})
