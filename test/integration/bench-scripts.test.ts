// `npm run bench` loads our built modules by path (scripts/bench.js, scripts/bench-soak.js). A restructuring that
// renamed a module or an export once left the bench dead at its wire section while every test passed; these keep
// the scripts' imports alive (no timing here: figures and targets stay in the bench).
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {ROOT} from '../support/cli.js'

const SCRIPTS = ['scripts/bench.js', 'scripts/bench-soak.js']

/**
 * Every `const {A, B} = await lib('x.js')` of a script (or `await testSupport('x.ts')`): the module and the names
 * taken from it.
 */
function libImports(script: string, loader: 'lib' | 'testSupport' = 'lib'): Array<{module: string; names: string[]}> {
  const text = readFileSync(join(ROOT, script), 'utf8')
  return [...text.matchAll(new RegExp(`const \\{([^}]+)\\} = await ${loader}\\('([^']+)'\\)`, 'g'))].map((m) => ({
    module: m[2],
    names: m[1].split(',').map((n) => n.trim().split(':')[0].trim()),
  }))
}

describe('the bench scripts load what they name from dist/', () => {
  it('finds the imports to check (the pattern still matches the scripts)', () => {
    expect(libImports('scripts/bench.js').length).to.be.at.least(3)
    expect(libImports('scripts/bench-soak.js').length).to.be.at.least(3)
  })

  for (const script of SCRIPTS) {
    it(`${script}: every module it imports exists and has the names it takes`, async () => {
      for (const {module, names} of libImports(script)) {
        const file = join(ROOT, 'dist', module)
        expect(existsSync(file), `${script} imports dist/${module}, which the build does not make`).to.equal(true)
        const exported = (await import(pathToFileURL(file).href)) as Record<string, unknown>
        for (const name of names) expect(exported[name], `${script} takes ${name} from dist/${module}`).to.not.equal(undefined)
      }
    })
  }

  it('scripts/bench.js: every test helper it loads exists and has the names it takes', async () => {
    const helpers = libImports('scripts/bench.js', 'testSupport')
    expect(helpers.map((h) => h.module)).to.include.members(['fleet.ts', 'cloud-home.ts'])
    for (const {module, names} of helpers) {
      const exported = (await import(pathToFileURL(join(ROOT, 'test', 'support', module)).href)) as Record<string, unknown>
      for (const name of names) expect(exported[name], `scripts/bench.js takes ${name} from test/support/${module}`).to.not.equal(undefined)
    }
  })

  it('the soak runs a few set/read cycles through the operation the commands use', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', join(ROOT, 'scripts', 'bench-soak.js'), '4'], {cwd: ROOT, encoding: 'utf8'})
    expect(r.status, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout) as {cycles: number; logRecordsPerCycle: number}
    expect(result.cycles).to.equal(4)
    expect(result.logRecordsPerCycle).to.be.greaterThan(0)
  })
})
