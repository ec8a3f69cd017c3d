// Under --json every error, ours or oclif's, is exactly one
// {"error": {code, exit, message, suggestions}} on stdout with the documented exit status; help, version and
// "not found" come from oclif's own plugins, and the topic separator never shows as ":".
import {expect} from 'chai'

import {devicesFile, runCli} from '../support/cli.js'
import {withTerminal} from '../support/tmux.js'

/** stdout must be one JSON value of exactly our error shape. */
function errorOf(stdout: string): {code: string; exit: number; message: string; suggestions: string[]} {
  const json = JSON.parse(stdout) as {error: {code: string; exit: number; message: string; suggestions: string[]}}
  expect(Object.keys(json)).to.deep.equal(['error'])
  expect(Object.keys(json.error).sort()).to.deep.equal(['code', 'exit', 'message', 'suggestions'])
  expect(json.error.code).to.match(/^SETUP_FLAG_[A-Z_]+$/)
  expect(json.error.suggestions).to.be.an('array')
  return json.error
}

describe('--json errors: one shape, ours or oclif\'s', function () {
  this.timeout(60_000)

  const cases: Array<[string, string[], number, RegExp]> = [
    ['a missing argument (shell-init)', ['shell-init', '--json'], 2, /Missing 1 required arg: shell/],
    ['a value not among the options (shell-init tcsh)', ['shell-init', 'tcsh', '--json'], 2, /Expected tcsh to be one of: bash, zsh, fish, powershell/],
    ['a bad flag value', ['get', '--timeout=-1', '--json'], 2, /Parsing --timeout: Expected an integer greater than or equal to 1 but received: -1/],
    ['an unknown flag', ['get', '--bogus', '--json'], 2, /Nonexistent flag: --bogus/],
    ['an unknown command', ['foo', '--json'], 2, /^foo is not a particle-setup-flag command\.$/],
    ['an unknown command in the topic', ['setup-flag', 'foo', '--json'], 2, /^setup-flag foo is not a particle-setup-flag command\.$/],
  ]
  for (const [what, args, exit, message] of cases) {
    it(`${what}: ${args.join(' ')}`, async () => {
      const r = await runCli(args, {env: {PARTICLE_OFFLINE: '1'}})
      expect(r.code, r.stdout + r.stderr).to.equal(exit)
      const e = errorOf(r.stdout)
      expect(e.exit).to.equal(exit)
      expect(e.message).to.match(message)
      expect(r.stdout).not.to.match(/"oclif"|"parse"|node_modules|"home"/)
    })
  }
})

describe('help, version and "did you mean" (oclif plugins)', function () {
  this.timeout(60_000)

  it('`help`, `help get` and `help setup-flag get` show help, with the short forms at the top', async () => {
    const top = await runCli(['help'])
    expect(top.code).to.equal(0)
    expect(top.stdout).to.contain('Device blinking dark blue? Run: particle-setup-flag doctor')
    expect(top.stdout).to.contain('particle-setup-flag get [DEVICE...]')
    for (const args of [['help', 'get'], ['help', 'setup-flag', 'get'], ['get', '--help']]) {
      const r = await runCli(args)
      expect(r.code, args.join(' ')).to.equal(0)
      expect(r.stdout).to.contain('Read the setup-done flag of connected devices.')
    }
  })

  for (const args of [['version'], ['--version'], ['-v']]) {
    it(`\`${args.join(' ')}\` prints the version`, async () => {
      const r = await runCli(args)
      expect(r.code).to.equal(0)
      expect(r.stdout).to.match(/^particle-plugin-setup-flag\/\d+\.\d+\.\d+ /)
    })
  }

  it('an unknown command is named as typed (never `setup-flag:foo`), exit 2, with where to look', async () => {
    const r = await runCli(['setup-flag', 'foo'])
    r.stderr = r.stderr.replaceAll(/\u001B\[[\d;]*m/g, '')
    expect(r.code).to.equal(2)
    expect(r.stderr).to.contain('setup-flag foo is not a particle-setup-flag command')
    expect(r.stderr).not.to.contain('setup-flag:foo')
    expect(r.stderr).to.contain('particle-setup-flag help')
  })

  it('the set usage line shows --restore and --method as separate options', async () => {
    const r = await runCli(['set', '--help'])
    expect(r.stdout).not.to.match(/\[--restore <value> --method/)
    expect(r.stdout).to.match(/\[--restore <value>\]/)
  })
})

describe('"did you mean" in a real terminal (tmux)', function () {
  this.timeout(60_000)
  const terminal = withTerminal()

  it('a typo of a short form (`sett`) is offered the command, and runs it when accepted', async () => {
    const term = terminal.start(['sett', '--dry-run'], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: devicesFile([])}})
    await term.answer(/Did you mean setup-flag set\?/, 'Enter')
    expect(await term.exit()).to.equal(3) // `set` ran: no device connected
    expect(term.screen()).to.contain('No Particle device is connected')
  })
})
