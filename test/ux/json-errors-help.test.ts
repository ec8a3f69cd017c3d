// Under --json every error, ours or oclif's, is exactly one
// {"error": {code, exit, message, suggestions}} on stdout with the documented exit status; help reads as the README
// speaks (`particle-setup-flag set`), a mistyped command is answered with the closest one in our one error style
// (with or without a terminal), and the topic separator never shows as ":".
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
    ['a mistyped command', ['gett', '--json'], 2, /^gett is not a particle-setup-flag command\.$/],
    ['help for a mistyped command', ['help', 'gett', '--json'], 2, /^gett is not a particle-setup-flag command\.$/],
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

describe('help, version and "did you mean"', function () {
  this.timeout(60_000)

  it('the root help (`help`, `--help`, none, the topic) lists the commands, the doctor first, one line each', async () => {
    for (const args of [['help'], ['--help'], [], ['setup-flag']]) {
      const top = await runCli(args)
      expect(top.code, args.join(' ')).to.equal(0)
      expect(top.stdout).to.contain('Device blinking dark blue? Run: particle-setup-flag doctor')
      expect(top.stdout).to.contain('$ particle-setup-flag COMMAND')
      const list = top.stdout.slice(top.stdout.indexOf('COMMANDS\n') + 9).split('\n\n')[0].split('\n')
      expect(list.map((l) => l.trim().split(/\s+/)[0])).to.deep.equal(['doctor', 'get', 'set', 'audit', 'web', 'shell-init', 'virtual'])
      for (const l of list) expect(l, l).to.match(/^ {2}[a-z-]+ +\S.*\S$/)
      expect(top.stdout).not.to.match(/TOPICS|^ {2}help /m)
      expect(top.stdout).not.to.contain(' setup-flag get')
    }
  })

  it('`help get`, `help setup-flag get` and `get --help`: usage and examples as the README speaks', async () => {
    for (const args of [['help', 'get'], ['help', 'setup-flag', 'get'], ['get', '--help'], ['setup-flag', 'get', '--help']]) {
      const r = await runCli(args)
      expect(r.code, args.join(' ')).to.equal(0)
      expect(r.stdout).to.contain('Read the setup-done flag of connected devices.')
      expect(r.stdout).to.contain('$ particle-setup-flag get [DEVICE...]')
      expect(r.stdout).to.contain('$ particle-setup-flag get --json')
      expect(r.stdout).to.contain('$ PARTICLE_VIRTUAL_DEVICES=mixed-bench particle-setup-flag get')
      expect(r.stdout).not.to.contain('setup-flag setup-flag')
    }
  })

  it('--timeout is described per command: the cloud on audit, the device on get, set and the doctor', async () => {
    const flat = async (c: string) => (await runCli([c, '--help'])).stdout.replaceAll(/\s+/g, ' ')
    expect(await flat('audit')).to.contain('--timeout=<value> Seconds to wait for the Particle Cloud to answer one request')
    expect(await flat('audit')).not.to.contain('for a device to answer')
    for (const c of ['get', 'set', 'doctor']) expect(await flat(c), c).to.contain('[default: 10] Seconds to wait for a device to answer one request')
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
    expect(r.stderr).to.contain('particle-setup-flag --help')
  })

  for (const args of [['gett'], ['help', 'gett'], ['setup-flag', 'gett'], ['gett', '--timeout', '5']]) {
    it(`a typo without a terminal (\`${args.join(' ')}\`): "Did you mean", in our one error style, exit 2`, async () => {
      const r = await runCli(args)
      expect(r.code).to.equal(2)
      expect(r.stdout).to.equal('')
      expect(r.stderr).to.equal(
        [
          `Error: ${args[0] === 'setup-flag' ? 'setup-flag ' : ''}gett is not a particle-setup-flag command.`,
          '  → Did you mean `particle-setup-flag get`?',
          '  → Run `particle-setup-flag --help` for the list of commands.',
          '  (SETUP_FLAG_USAGE, exit status 2)',
          '',
        ].join('\n'),
      )
    })
  }

  it('a typo under --json: the suggestion in `suggestions` of the one error shape', async () => {
    const r = await runCli(['sett', '--json'])
    expect(r.code).to.equal(2)
    expect(errorOf(r.stdout).suggestions).to.deep.equal(['Did you mean `particle-setup-flag set`?', 'Run `particle-setup-flag --help` for the list of commands.'])
  })

  it('two neighbouring letters swapped get the command too (`wbe`, `gte`, `aduit`)', async () => {
    for (const [typo, command] of [['wbe', 'web'], ['gte', 'get'], ['aduit', 'audit']]) {
      const r = await runCli([typo])
      expect(r.code, typo).to.equal(2)
      expect(r.stderr, typo).to.contain(`Did you mean \`particle-setup-flag ${command}\`?`)
    }
  })

  it('a word far from every command is offered the list, not a guess', async () => {
    const r = await runCli(['frobnicate'])
    expect(r.code).to.equal(2)
    expect(r.stderr).not.to.contain('Did you mean')
    expect(r.stderr).to.contain('Run `particle-setup-flag --help` for the list of commands.')
  })

  it('oclif\'s own parse errors are in the same style (the command\'s help named as the README spells it)', async () => {
    const r = await runCli(['get', '--timeout', 'x'])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.equal('Error: Parsing --timeout: Expected an integer but received: x\n  → See `particle-setup-flag get --help`.\n  (SETUP_FLAG_USAGE, exit status 2)\n')
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

  for (const args of [['sett', '--dry-run'], ['help', 'sett']]) {
    it(`a typo (\`${args.join(' ')}\`) is answered at once, as without a terminal: no question, nothing run, exit 2`, async () => {
      const file = devicesFile([])
      const term = terminal.start(args, {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}})
      expect(await term.exit()).to.equal(2)
      const screen = term.screen()
      expect(screen).to.contain('Error: sett is not a particle-setup-flag command.\n  → Did you mean `particle-setup-flag set`?')
      expect(screen).not.to.match(/\(Y\/n\)|No Particle device/)
    })
  }
})
