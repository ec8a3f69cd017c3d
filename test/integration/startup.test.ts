// What a start of one of our commands loads (npm run bench holds the timings; these are the causes, as behaviour):
// our commands run on the copy of @oclif/core bundled with them (scripts/bundle-commands.js), never on the package
// in node_modules, and nothing on the way builds ICU's collator. Help (our help class) and "did you mean" run on
// the same bundled copy.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {copyFileSync, cpSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {BIN, devicesFile, ROOT, runCli, tempDir, testDevice} from '../support/cli.js'

/**
 * Run the CLI with a preload that records, at exit, the CommonJS files loaded (oclif and its plugins are CommonJS)
 * and how often String.prototype.localeCompare ran.
 */
async function probe(args: string[], env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir('setup-flag-probe-')
  const out = join(dir, 'probe.json')
  const preload = join(dir, 'probe.cjs')
  writeFileSync(
    preload,
    `const {writeFileSync} = require('node:fs')
const original = String.prototype.localeCompare
let localeCompares = 0
String.prototype.localeCompare = function (...args) { localeCompares++; return original.apply(this, args) }
process.on('exit', () => writeFileSync(${JSON.stringify(out)}, JSON.stringify({files: Object.keys(require.cache), localeCompares})))
`,
  )
  const result = await runCli(args, {env: {NODE_OPTIONS: `--require ${preload}`, ...env}})
  const seen = JSON.parse(readFileSync(out, 'utf8')) as {files: string[]; localeCompares: number}
  return {...result, ...seen, oclifFiles: seen.files.filter((f) => f.includes('/node_modules/@oclif/'))}
}

describe('start-up: what a command loads', function () {
  this.timeout(60_000)

  it('`get --json` runs on the bundled oclif: no file of node_modules/@oclif is loaded, and no localeCompare runs', async () => {
    const file = devicesFile([testDevice(2, 'boron', '3.3.1', 'normal', 1), testDevice(1, 'argon', '3.3.1', 'listening', 255)])
    const r = await probe(['get', '--json'], {PARTICLE_VIRTUAL_DEVICES: file})
    expect(r.code, r.stderr).to.equal(0)
    // Both devices read, in ID order (the sort that no longer needs ICU).
    expect(JSON.parse(r.stdout).devices.map((d: {id: string}) => d.id)).to.deep.equal(['e00fce680000000000000001', 'e00fce680000000000000002'])
    expect(r.oclifFiles).to.deep.equal([])
    expect(r.localeCompares).to.equal(0)
  })

  it('`set --dry-run` and a usage error take the same path', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255)])
    const dry = await probe(['set', '--dry-run', '--json'], {PARTICLE_VIRTUAL_DEVICES: file})
    expect(dry.code, dry.stderr).to.equal(0)
    expect(dry.oclifFiles).to.deep.equal([])
    const bad = await probe(['get', '--timeout', '-1', '--json'])
    expect(bad.code).to.equal(2)
    expect(JSON.parse(bad.stdout).error.code).to.equal('SETUP_FLAG_USAGE')
    expect(bad.oclifFiles).to.deep.equal([])
  })

  it('help and "did you mean" run on the bundled oclif too: no file of node_modules/@oclif is loaded', async () => {
    for (const args of [['help', 'get'], ['--help'], ['get', '--help']]) {
      const help = await probe(args)
      expect(help.code, help.stderr).to.equal(0)
      expect(help.stdout).to.match(/particle-setup-flag (get|COMMAND)/)
      expect(help.oclifFiles, args.join(' ')).to.deep.equal([])
    }
    const typo = await probe(['sett'])
    expect(typo.code).to.equal(2)
    expect(typo.stderr).to.include('Did you mean `particle-setup-flag set`?')
    expect(typo.oclifFiles).to.deep.equal([])
  })

  it('a checkout that was never built says so (exit 1), not a stack trace', () => {
    const dir = tempDir('setup-flag-unbuilt-')
    cpSync(dirname(BIN), join(dir, 'bin'), {recursive: true})
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    const r = spawnSync(process.execPath, [join(dir, 'bin', 'run.js'), 'get'], {encoding: 'utf8'})
    expect(r.status).to.equal(1)
    expect(r.stderr).to.contain('is not built').and.contain('npm run build')
    expect(r.stderr).not.to.match(/\n\s+at /)
  })
})
