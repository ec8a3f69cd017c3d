// Inside someone else's oclif CLI: a minimal host (its own bin, @oclif/core 4.14, @oclif/plugin-plugins 5, the
// last major that supports Node 20) built in a temp folder; our plugin linked into it (the development path) and
// installed into it from the packed tarball (the user path); its commands run under the host's name.
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT, tempDir} from '../support/cli.js'
import {npmEnv, packOnce, run, runOk, scratchDir} from '../support/pack.js'

const HOST = 'probe-host'
const DEVICE = 'e00fce681a2b3c4d5e6f7a8b'

/** Our own package.json: what a host loads from us. */
const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {name: string; oclif: Record<string, unknown>; version: string}

function makeHost(): string {
  const dir = scratchDir('setup-flag-host-')
  mkdirSync(join(dir, 'bin'))
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        // yarn is a dependency of plugin-plugins with a preinstall script it does not need.
        allowScripts: {yarn: false},
        bin: {[HOST]: './bin/run.js'},
        dependencies: {'@oclif/core': '~4.14.0', '@oclif/plugin-plugins': '^5.5.2'},
        name: HOST,
        oclif: {bin: HOST, commands: './commands', dirname: HOST, plugins: ['@oclif/plugin-plugins'], topicSeparator: ' '},
        private: true,
        type: 'module',
        version: '1.0.0',
      },
      null,
      2,
    ),
  )
  writeFileSync(join(dir, 'bin', 'run.js'), "#!/usr/bin/env node\nimport {execute} from '@oclif/core'\n\nawait execute({dir: import.meta.url})\n")
  chmodSync(join(dir, 'bin', 'run.js'), 0o755)
  return dir
}

describe('inside an oclif host (plugins link, plugins install)', function () {
  this.timeout(180_000)

  let host: string
  const npmCache = execFileSync('npm', ['config', 'get', 'cache'], {encoding: 'utf8', env: npmEnv()}).trim()

  /** The host's environment: its own HOME and XDG folders (where it records plugins), the usual npm cache. */
  function hostEnv(): NodeJS.ProcessEnv {
    const home = scratchDir('setup-flag-host-home-')
    const env = npmEnv({
      FORCE_COLOR: '0', // plugin-plugins colours its output when CI is set; we read it as text
      HOME: home,
      NO_COLOR: '1',
      PARTICLE_OFFLINE: '1',
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_DATA_HOME: join(home, '.local', 'share'),
      npm_config_cache: npmCache,
    })
    delete env.NODE_ENV // a user's shell: production
    return env
  }

  // eslint-disable-next-line no-control-regex
  const plain = (s: string) => s.replaceAll(/\u001B\[[\d;]*m/g, '')
  const runHost = async (args: string[], env: NodeJS.ProcessEnv) => {
    const r = await run(process.execPath, [join(host, 'bin', 'run.js'), ...args], {cwd: host, env})
    return {...r, stderr: plain(r.stderr), stdout: plain(r.stdout)}
  }

  before(async () => {
    host = makeHost()
    await runOk('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {cwd: host, deadlineMs: 150_000, env: npmEnv()})
  })

  it('we ship no hooks and no runtime plugins: nothing of ours runs for the host\'s own commands', () => {
    expect(ours.oclif.hooks).to.equal(undefined)
    expect(ours.oclif.plugins).to.equal(undefined)
  })

  it('plugins link: `<host> setup-flag get --help` and the topic, under the host\'s name; a real run on virtual devices', async () => {
    const env = hostEnv()
    const link = await runHost(['plugins', 'link', '--no-install', ROOT], env)
    expect(link.code, link.stderr).to.equal(0)
    const list = await runHost(['plugins'], env)
    expect(list.stdout).to.contain(`${ours.name} ${ours.version} (link) ${ROOT}`)

    const help = await runHost(['setup-flag', 'get', '--help'], env)
    expect(help.code, help.stderr).to.equal(0)
    expect(help.stdout).to.contain('Read the setup-done flag of connected devices.')
    expect(help.stdout).to.contain(`$ ${HOST} setup-flag get [DEVICE...]`)
    expect(help.stdout).not.to.contain('particle-setup-flag setup-flag get')
    // The examples too, with the host's own help class: `<host> setup-flag get …`.
    expect(help.stdout).to.contain(`$ ${HOST} setup-flag get --json`)
    expect(help.stdout).to.contain(`PARTICLE_VIRTUAL_DEVICES=mixed-bench ${HOST} setup-flag get`)
    expect(help.stdout).not.to.contain('particle-setup-flag')
    const audit = await runHost(['setup-flag', 'audit', '--help'], env)
    expect(audit.stdout.replaceAll(/\s+/g, ' ')).to.contain('Seconds to wait for the Particle Cloud to answer one request')

    const topic = await runHost(['setup-flag', '--help'], env)
    expect(topic.stdout).to.contain(`$ ${HOST} setup-flag COMMAND`)
    for (const c of ['get', 'set', 'doctor', 'shell-init']) expect(topic.stdout).to.match(new RegExp(`^ +setup-flag ${c} `, 'm'))

    const file = join(tempDir('setup-flag-devices-'), 'devices.json')
    writeFileSync(file, JSON.stringify({devices: [{deviceOs: '3.3.1', faults: {}, id: DEVICE, mode: 'listening', platform: 'argon', setupDone: 255}]}))
    const get = await runHost(['setup-flag', 'get', '--json'], {...env, PARTICLE_VIRTUAL_DEVICES: file})
    expect(get.code, get.stderr).to.equal(0)
    expect(JSON.parse(get.stdout).devices[0]).to.include({flag: 'not-done', id: DEVICE})
    // Text for people names our commands the way this host spells them.
    const text = await runHost(['setup-flag', 'get'], {...env, PARTICLE_VIRTUAL_DEVICES: file})
    expect(text.stdout).to.contain(`${HOST} setup-flag set ${DEVICE}`) // (whole: a command is never wrapped)
    expect(text.stdout.replaceAll(/\s+/g, ' ')).to.contain(`Fix it: ${HOST} setup-flag set ${DEVICE}`)
    // 25 digits: never an ID (23 would be the start of one, looked for on USB, which this machine may lack).
    const bad = await runHost(['setup-flag', 'get', `${DEVICE}0`], env)
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.contain(`${HOST} setup-flag get`)
    expect(bad.stderr).not.to.contain('particle-setup-flag')

    // The host's own commands are untouched by us.
    const version = await runHost(['--version'], env)
    expect(version.stdout).to.match(new RegExp(`^${HOST}/1\\.0\\.0 `))
    expect(version.stderr).to.equal('')
  })

  it('plugins install from the packed tarball: the published build (dist and manifest) runs in the host', async () => {
    const {tarball} = await packOnce()
    const env = hostEnv()
    const install = await runHost(['plugins', 'install', `file:${tarball}`], env)
    expect(install.code, install.stdout + install.stderr).to.equal(0)
    const list = await runHost(['plugins'], env)
    expect(list.stdout).to.contain(`${ours.name} ${ours.version}`)
    expect(list.stdout).not.to.contain('(link)')

    const help = await runHost(['setup-flag', 'get', '--help'], env)
    expect(help.code, help.stderr).to.equal(0)
    expect(help.stdout).to.contain(`$ ${HOST} setup-flag get [DEVICE...]`)

    const file = join(tempDir('setup-flag-devices-'), 'devices.json')
    writeFileSync(file, JSON.stringify({devices: [{deviceOs: '2.3.1', faults: {}, id: DEVICE, mode: 'listening', platform: 'boron', setupDone: 255}]}))
    const set = await runHost(['setup-flag', 'set', '--json'], {...env, PARTICLE_VIRTUAL_DEVICES: file})
    expect(set.code, set.stderr).to.equal(0)
    expect(JSON.parse(set.stdout).devices[0]).to.include({after: 1, changed: true, id: DEVICE})
    expect((JSON.parse(readFileSync(file, 'utf8')) as {devices: Array<{setupDone: number}>}).devices[0].setupDone).to.equal(1)
  })
})
