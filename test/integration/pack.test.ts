// The npm package as users get it, from a fresh clone: set up (`npm ci`, `npm run build`) and `npm install -g .`
// into a temporary prefix (npm links the built clone), and `npm pack` with its prepack (build, manifest), the tarball installed
// globally into another prefix and into an empty folder from the registry (no install scripts needed, none run),
// each run from another folder as a person would.
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, readdirSync, readFileSync, realpathSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'

import {ROOT, tempDir} from '../support/cli.js'
import {globalBin, installedClone, npmEnv, type Packed, packOnce, run, runOk, scratchDir} from '../support/pack.js'

const semver = createRequire(import.meta.url)('semver') as {satisfies(version: string, range: string, opts?: {includePrerelease?: boolean}): boolean}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {engines: {node: string}; version: string}

/** What a person runs first after an install: help, and `get` on a bundled example, from a folder of their own. */
async function firstRun(bin: string): Promise<void> {
  const elsewhere = scratchDir('setup-flag-elsewhere-')
  const env = npmEnv({HOME: tempDir('setup-flag-home-'), PARTICLE_OFFLINE: '1'})
  const help = await runOk(bin, ['--help'], {cwd: elsewhere, env})
  expect(help.stdout).to.contain('particle-setup-flag doctor')
  const get = await run(bin, ['get'], {cwd: elsewhere, env: {...env, PARTICLE_VIRTUAL_DEVICES: 'stuck-argon'}})
  expect(get.code, get.stderr).to.equal(0)
  expect(get.stdout).to.match(/e00fce681a2b3c4d5e6f7a8b\s+Argon\s+listening\s+3\.3\.1 \(usb\)\s+NOT DONE/)
  expect(get.stderr).to.equal('')
  expect(readdirSync(elsewhere), 'nothing written to the folder it ran in').to.deep.equal([])
}

/** `usb` loads with its prebuilt native binding from where the package was installed. */
async function usbLoads(packageDir: string): Promise<void> {
  const probe = join(scratchDir('setup-flag-probe-'), 'probe.cjs')
  writeFileSync(
    probe,
    [
      `const {createRequire} = require('node:module')`,
      `const r = createRequire(${JSON.stringify(join(packageDir, 'package.json'))})`,
      "const {WebUSB} = r('usb')",
      'new WebUSB({allowAllDevices: true})',
      "console.log(Object.keys(require.cache).filter((k) => k.endsWith('.node')).length)",
    ].join('\n'),
  )
  const r = await runOk(process.execPath, [probe], {cwd: packageDir})
  expect(Number(r.stdout)).to.be.greaterThan(0)
}

describe('installed globally from a fresh clone (npm ci, npm run build, npm install -g . into a temporary prefix)', function () {
  this.timeout(300_000)

  it('the set-up (npm ci, npm run build) is quiet on this Node; the install links the built clone and runs no script', async () => {
    const {build, dir, install, prefix} = await installedClone()
    // No EBADENGINE from any dependency, no "update available" from oclif, nothing npm would not run.
    expect(build.stderr).not.to.match(/EBADENGINE|update available|warn/i)
    expect(install.stderr).not.to.match(/EBADENGINE|install-scripts|warn|error/i)
    expect(realpathSync(join(prefix, 'lib', 'node_modules', 'particle-plugin-setup-flag'))).to.equal(realpathSync(dir))
  })

  it('the installed particle-setup-flag runs --help and get on a bundled example from another folder; usb loads', async () => {
    const {dir, prefix} = await installedClone()
    await firstRun(globalBin(prefix, 'particle-setup-flag'))
    await usbLoads(dir)
  })

  it('the packed tarball, installed globally into another prefix (no clone needed), runs the same; uninstall removes it', async () => {
    const {tarball} = await packOnce()
    const prefix = scratchDir('setup-flag-prefix-tgz-')
    const install = await runOk('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', tarball], {cwd: scratchDir('setup-flag-cwd-'), deadlineMs: 150_000, env: npmEnv()})
    expect(install.stderr).not.to.match(/EBADENGINE|install-scripts|npm error/i)
    const installed = join(prefix, 'lib', 'node_modules', 'particle-plugin-setup-flag')
    expect(lstatSync(installed).isSymbolicLink(), 'a copy, not a link').to.equal(false)
    await firstRun(globalBin(prefix, 'particle-setup-flag'))
    await usbLoads(installed)
    await runOk('npm', ['uninstall', '-g', '--prefix', prefix, 'particle-plugin-setup-flag'], {cwd: prefix, env: npmEnv()})
    expect(existsSync(globalBin(prefix, 'particle-setup-flag'))).to.equal(false)
    expect(existsSync(installed)).to.equal(false)
  })
})

describe('the npm package (npm pack, install into an empty folder, npx)', function () {
  this.timeout(300_000)

  let packed: Packed
  let unpacked: string
  let files: string[]
  let app: string
  let install: {stderr: string; stdout: string}

  before(async function () {
    packed = await packOnce()
    unpacked = scratchDir('setup-flag-unpacked-')
    execFileSync('tar', ['-xzf', packed.tarball, '-C', unpacked])
    files = execFileSync('tar', ['-tzf', packed.tarball], {encoding: 'utf8'}).trim().split('\n').map((f) => f.replace(/^package\//, ''))

    app = scratchDir('setup-flag-app-')
    install = await runOk('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', packed.tarball], {cwd: app, deadlineMs: 150_000, env: npmEnv()})
  })

  it('ships bin (with the Windows launcher), dist, the manifest, the README and the examples; no sources or tests', () => {
    for (const f of ['bin/run.js', 'bin/run.cmd', 'oclif.manifest.json', 'README.md', 'package.json', 'dist/index.js', 'examples/stuck-argon.json']) {
      expect(files, f).to.include(f)
    }
    for (const c of ['get', 'set', 'doctor', 'shell-init', 'web']) expect(files).to.include(`dist/commands/setup-flag/${c}.js`)
    // The web doctor's page, which `web` serves.
    for (const f of ['index.html', 'app.js', 'style.css']) expect(files).to.include(`dist/web/${f}`)
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).to.deep.equal([])

    // Windows: CRLF, and it runs node on run.js next to it (node resolves "run" to run.js).
    const cmd = readFileSync(join(unpacked, 'package/bin/run.cmd'), 'utf8')
    expect(cmd).to.equal('@echo off\r\nnode "%~dp0\\run" %*\r\n')
  })

  it('the manifest was generated for this version and lists every command; the README is shipped as tracked', () => {
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package/oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>; version: string}
    expect(manifest.version).to.equal(pkg.version)
    const ids = Object.keys(manifest.commands).sort()
    expect(ids).to.include.members(['setup-flag:doctor', 'setup-flag:get', 'setup-flag:set', 'setup-flag:shell-init'])
    // Every command compiled into dist is in the manifest (none forgotten, none stale).
    const compiled = readdirSync(join(unpacked, 'package/dist/commands/setup-flag')).filter((f) => f.endsWith('.js'))
    expect(ids).to.deep.equal(compiled.map((f) => `setup-flag:${f.replace(/\.js$/, '')}`).sort())

    // The README ships exactly as tracked: packing never rewrites it (no generated command reference, which went
    // stale between releases; `help <command>` is the reference), so `npm pack` leaves the work tree clean.
    const readme = readFileSync(join(unpacked, 'package/README.md'), 'utf8')
    expect(readme).to.equal(readFileSync(join(ROOT, 'README.md'), 'utf8'))
    expect(readme).not.to.contain('<!-- commands -->')
  })

  it('installs without install scripts (npm 11 blocks them) and loads `usb` with its prebuilt native binding', async () => {
    expect(install.stderr).not.to.match(/install-scripts|allowScripts|gyp/i)
    const probe = join(app, 'probe.mjs')
    writeFileSync(
      probe,
      [
        "import {createRequire} from 'node:module'",
        "const require = createRequire(new URL('./node_modules/particle-plugin-setup-flag/package.json', import.meta.url))",
        "const {WebUSB} = require('usb')",
        'new WebUSB({allowAllDevices: true})',
        "console.log(JSON.stringify({native: Object.keys(require.cache).filter((k) => k.endsWith('.node')).length, webusb: typeof WebUSB}))",
      ].join('\n'),
    )
    const r = await runOk(process.execPath, [probe], {cwd: app})
    const out = JSON.parse(r.stdout) as {native: number; webusb: string}
    expect(out.webusb).to.equal('function')
    expect(out.native).to.be.greaterThan(0)
  })

  it('exports the virtual device: `import {createVirtualUsb} from \'particle-plugin-setup-flag/virtual\'` drives a WebUSB device', async () => {
    const probe = join(app, 'virtual.mjs')
    writeFileSync(
      probe,
      [
        "import {createVirtualUsb} from 'particle-plugin-setup-flag/virtual'",
        "const usb = createVirtualUsb({devices: [{id: 'e00fce681a2b3c4d5e6f7a8b', platform: 'boron', deviceOs: '2.3.1', mode: 'listening', setupDone: 255}]})",
        'const [device] = await usb.getDevices()',
        'await device.open()',
        // raw request 30: the Device OS version, as any WebUSB client would ask
        "const r = await device.controlTransferIn({requestType: 'vendor', recipient: 'device', request: 0x50, value: 0, index: 30}, 64)",
        "console.log(JSON.stringify({pid: device.productId, serial: device.serialNumber, version: new TextDecoder().decode(r.data)}))",
        'usb.close()',
      ].join('\n'),
    )
    const r = await runOk(process.execPath, [probe], {cwd: app})
    expect(JSON.parse(r.stdout)).to.deep.equal({pid: 0xc00d, serial: 'e00fce681a2b3c4d5e6f7a8b', version: '2.3.1'})
  })

  it('`npx particle-setup-flag get --help` and the `get` shorthand against virtual devices', async () => {
    const env = npmEnv({HOME: tempDir('setup-flag-home-'), PARTICLE_OFFLINE: '1'})
    // --no: never fetch anything; the bin must come from the installed package.
    const help = await runOk('npx', ['--no', 'particle-setup-flag', 'get', '--help'], {cwd: app, env})
    expect(help.stdout).to.contain('Read the setup-done flag of connected devices.')
    expect(help.stdout).to.contain('$ particle-setup-flag get [DEVICE...]')

    const devices = join(tempDir('setup-flag-devices-'), 'devices.json')
    writeFileSync(devices, readFileSync(join(app, 'node_modules/particle-plugin-setup-flag/examples/stuck-argon.json')))
    const get = await run('npx', ['--no', 'particle-setup-flag', 'get'], {cwd: app, env: {...env, PARTICLE_VIRTUAL_DEVICES: devices}})
    expect(get.code, get.stderr).to.equal(0)
    expect(get.stdout).to.match(/e00fce681a2b3c4d5e6f7a8b\s+Argon\s+listening\s+3\.3\.1 \(usb\)\s+NOT DONE/)
    const json = await run('npx', ['--no', 'particle-setup-flag', 'get', '--json'], {cwd: app, env: {...env, PARTICLE_VIRTUAL_DEVICES: devices}})
    expect(JSON.parse(json.stdout).devices[0]).to.include({flag: 'not-done', id: 'e00fce681a2b3c4d5e6f7a8b', platform: 'argon'})
    expect(get.stderr).not.to.contain('Warning')
  })

  it('engines states the real Node floor: exactly the versions every runtime dependency accepts', () => {
    const installed = join(app, 'node_modules', 'particle-plugin-setup-flag', 'package.json')
    expect((JSON.parse(readFileSync(installed, 'utf8')) as typeof pkg).engines).to.deep.equal(pkg.engines)
    // Every package npm installed for us (runtime dependencies only: that is all a user gets).
    const ranges: Array<[string, string]> = []
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (name.startsWith('.')) continue
        const path = join(dir, name)
        if (name.startsWith('@')) {
          walk(path)
          continue
        }
        try {
          const p = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as {engines?: {node?: string}; name: string}
          if (p.engines?.node && p.name !== 'particle-plugin-setup-flag') ranges.push([p.name, p.engines.node])
        } catch {
          // not a package
        }
        try {
          walk(join(path, 'node_modules'))
        } catch {
          // no nested node_modules
        }
      }
    }
    walk(join(app, 'node_modules'))
    expect(ranges.length).to.be.greaterThan(10)
    const ours = pkg.engines.node
    const samples = ['18.20.8', '20.0.0', '20.16.0', '20.17.0', '20.19.5', '21.7.3', '22.0.0', '22.12.0', '22.13.0', '22.20.0', '23.4.0', '23.5.0', '24.0.0', '24.11.0', '26.0.0']
    for (const v of samples) {
      const rejectedBy = ranges.filter(([, r]) => !semver.satisfies(v, r)).map(([n, r]) => `${n} (${r})`)
      if (semver.satisfies(v, ours)) expect(rejectedBy, `Node ${v} is in our engines but not in theirs`).to.deep.equal([])
      else expect(rejectedBy, `Node ${v} is excluded by our engines though every dependency accepts it`).not.to.deep.equal([])
    }
  })
})
