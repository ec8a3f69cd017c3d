// The page's bundle is built from the same src/lib modules as the CLI and holds nothing of Node: no built-in, no
// polyfill, no free Node global (the checks in test/support/bundle.ts). The checks themselves are run on bundles
// made to fail them, so a check that sees nothing fails here.
import {expect} from 'chai'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

// @ts-expect-error: a plain JavaScript module of the repository's scripts, without type declarations
import {buildWeb} from '../../scripts/build-web.js'
import {type Metafile, nodeGlobals, nodeInputs} from '../support/bundle.js'

interface Built {
  metafile: Metafile
}

describe('the page bundle (dist/web)', function () {
  this.timeout(120_000)
  let dir: string
  let built: Built
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'web-bundle-'))
    built = (await buildWeb({outdir: dir})) as Built
  })
  after(() => rmSync(dir, {force: true, recursive: true}))

  it('is index.html, one JS bundle and the CSS', () => {
    expect(Object.keys(built.metafile.outputs).map((o) => o.split('/').pop())).to.deep.equal(['app.js'])
    const html = readFileSync(join(dir, 'index.html'), 'utf8')
    expect(html).to.contain('src="app.js"').and.to.contain('href="style.css"')
    expect(readFileSync(join(dir, 'style.css'), 'utf8').length).to.be.greaterThan(0)
  })

  it('is built from the same src/lib modules as the CLI', () => {
    const inputs = Object.keys(built.metafile.inputs)
    for (const m of ['src/lib/setup-flag/operation.ts', 'src/lib/setup-flag/write-dfu.ts', 'src/lib/text/doctor.ts', 'src/lib/virtual/bus.ts']) expect(inputs).to.include(m)
  })

  it('imports no Node built-in and no polyfill, and leaves nothing to import', () => {
    expect(nodeInputs(built.metafile)).to.deep.equal([])
  })

  it('uses no Node global (process, Buffer, require, ...)', () => {
    expect(nodeGlobals(join(dir, 'app.js'))).to.deep.equal([])
  })

  it('keeps the Node sides out: the devices file, the restore file, process.platform', () => {
    const inputs = Object.keys(built.metafile.inputs)
    for (const m of ['src/lib/virtual/file.ts', 'src/lib/setup-flag/restore-file.ts', 'src/lib/host.ts']) expect(inputs).not.to.include(m)
    expect(inputs).to.include('src/web/host.ts')
  })

  it('is at most 150 KB gzipped', () => {
    const size = gzipSync(readFileSync(join(dir, 'app.js'))).length
    expect(size).to.be.at.most(150 * 1024)
  })
})

describe('the Node-free checks, on bundles made to fail them', function () {
  this.timeout(120_000)
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'web-bundle-bad-'))
  })
  after(() => rmSync(dir, {force: true, recursive: true}))

  const entry = (name: string, text: string) => {
    const file = join(dir, name)
    writeFileSync(file, text)
    return file
  }

  it('a Node built-in fails the build for the browser', async () => {
    const file = entry('fs.ts', `import {readFileSync} from 'node:fs'\nexport const x = readFileSync\n`)
    const failed = await buildWeb({entry: file, outdir: join(dir, 'out-fs'), write: false}).then(() => false, () => true)
    expect(failed).to.equal(true)
  })

  it('a built-in resolved to a polyfill, or left external, is reported', async () => {
    const file = entry('poly.ts', `import {Buffer} from 'buffer'\nimport {join} from 'node:path'\nexport const x = [Buffer, join]\n`)
    const polyfill = {
      name: 'polyfill',
      setup(b: {onLoad: Function; onResolve: Function}) {
        b.onResolve({filter: /^buffer$/}, () => ({namespace: 'fake', path: '/node_modules/buffer/index.js'}))
        b.onLoad({filter: /.*/, namespace: 'fake'}, () => ({contents: 'export const Buffer = 1', loader: 'js'}))
        b.onResolve({filter: /^node:path$/}, () => ({external: true, path: 'node:path'}))
      },
    }
    const r = (await buildWeb({entry: file, outdir: join(dir, 'out-poly'), plugins: [polyfill], write: false})) as Built
    const found = nodeInputs(r.metafile).join('\n')
    expect(found).to.contain('the polyfill package buffer')
    expect(found).to.contain('node:path')
  })

  it('a free Node global is reported, a local of the same name is not', () => {
    const file = entry('globals.js', 'const p = process.platform\nfunction f() { const process = 1; return process }\nconst b = Buffer.from([1])\nexport {p, f, b}\n')
    expect(nodeGlobals(file)).to.deep.equal(['1: process', '3: Buffer'])
  })
})
