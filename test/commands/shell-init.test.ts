// `setup-flag shell-init`: the opt-in `particle` shell function, run for real. A shell evaluates the documented
// activation line with our built bin on PATH as `particle-setup-flag` and a fake official CLI on PATH as
// `particle` (it records its argv and exits with a chosen status); then `particle setup-flag ...` must reach us
// and everything else must reach the fake with argv and exit status intact.
import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'
import {chmodSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {delimiter, dirname, join} from 'node:path'

import {BIN, devicesFile, runCli, tempDir} from '../support/cli.js'

interface ShellRun {
  calls: string[][]
  code: null | number
  stderr: string
  stdout: string
}

/** A PATH with our bin as `particle-setup-flag` and a fake `particle`, plus node and the system tools. */
function makePathDir(): {dir: string; log: string} {
  const dir = tempDir('setup-flag-path-')
  symlinkSync(BIN, join(dir, 'particle-setup-flag'))
  const log = join(dir, 'particle-calls')
  // Each call appends argc then every argument, NUL-terminated: unambiguous whatever the arguments hold.
  const fake = join(dir, 'particle')
  writeFileSync(fake, `#!/bin/sh\nprintf '%s\\0' "$#" "$@" >> "$FAKE_PARTICLE_LOG"\necho "official particle CLI (fake)"\nexit "\${FAKE_PARTICLE_EXIT:-0}"\n`)
  chmodSync(fake, 0o755)
  writeFileSync(log, '')
  return {dir, log}
}

function parseCalls(log: string): string[][] {
  const fields = readFileSync(log, 'utf8').split('\0')
  fields.pop() // after the last terminator
  const calls: string[][] = []
  for (let i = 0; i < fields.length; ) {
    const argc = Number(fields[i++])
    calls.push(fields.slice(i, i + argc))
    i += argc
  }
  return calls
}

function has(shell: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0
}

/** Run `script` in `shell` (no user profile), after the activation line for that shell. */
function inShell(shell: 'bash' | 'dash' | 'fish' | 'pwsh' | 'zsh', script: string, env: NodeJS.ProcessEnv = {}): Promise<ShellRun> {
  const {dir, log} = makePathDir()
  const kind = shell === 'dash' ? 'bash' : shell === 'pwsh' ? 'powershell' : shell
  const activation =
    kind === 'fish'
      ? `particle-setup-flag setup-flag shell-init fish | source`
      : kind === 'powershell'
        ? `particle-setup-flag setup-flag shell-init powershell | Out-String | Invoke-Expression`
        : `eval "$(particle-setup-flag setup-flag shell-init ${kind})"`
  const argv: Record<typeof shell, string[]> = {
    bash: ['--noprofile', '--norc', '-c'],
    dash: ['-c'],
    fish: ['--no-config', '-c'],
    pwsh: ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command'],
    zsh: ['-f', '-c'],
  }
  const body = shell === 'pwsh' ? `${activation}\n${script}\nexit $LASTEXITCODE` : `${activation}\n${script}`
  const fullEnv: NodeJS.ProcessEnv = {
    CI: '1',
    FAKE_PARTICLE_LOG: log,
    HOME: tempDir('setup-flag-home-'),
    LANG: 'C.UTF-8',
    PARTICLE_OFFLINE: '1',
    PATH: [dir, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter),
    ...env,
  }
  return new Promise((resolve, reject) => {
    const child = spawn(shell, [...argv[shell], body], {env: fullEnv, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({calls: parseCalls(log), code, stderr, stdout}))
  })
}

describe('setup-flag shell-init', function () {
  this.timeout(60_000)

  it('prints the function for each shell (and {shell, script} under --json); an unknown shell is exit 2', async () => {
    for (const shell of ['bash', 'zsh', 'fish', 'powershell']) {
      const r = await runCli(['setup-flag', 'shell-init', shell])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/particle-setup-flag/)
      expect(r.stdout, shell).to.match(shell === 'powershell' ? /function particle \{/ : shell === 'fish' ? /^function particle /m : /^particle\(\) \{/m)
      expect(r.stdout, shell).to.match(shell === 'powershell' ? /-CommandType Application/ : /command particle /)
      const j = await runCli(['setup-flag', 'shell-init', shell, '--json'])
      expect(JSON.parse(j.stdout)).to.deep.equal({script: r.stdout, shell})
    }
    const bad = await runCli(['setup-flag', 'shell-init', 'tcsh'])
    expect(bad.code).to.equal(2)
    expect(bad.stderr).to.contain('Expected tcsh to be one of: bash, zsh, fish, powershell')
    expect((await runCli(['setup-flag', 'shell-init'])).code).to.equal(2)
    const help = await runCli(['setup-flag', 'shell-init', '--help'])
    expect(help.stdout).to.contain('eval "$(particle-setup-flag shell-init bash)"')
    expect(help.stdout).to.contain('$ particle-setup-flag shell-init fish | source')
    expect(help.stdout).to.match(/shell-init powershell \| Out-String \|/)
  })

  // bash and dash (POSIX sh) everywhere; zsh and fish where installed, and always in CI (.ci/run installs them).
  for (const shell of ['bash', 'dash', 'zsh', 'fish'] as const) {
    describe(`in ${shell} with a fake official CLI on PATH`, () => {
      before(function () {
        if (!has(shell)) {
          if (process.env.CI) throw new Error(`${shell} is required in CI (.ci/run installs it)`)
          this.skip()
        }
      })

      it('`particle setup-flag get --help` reaches us; the fake is not called', async () => {
        const r = await inShell(shell, 'particle setup-flag get --help')
        expect(r.code, r.stderr).to.equal(0)
        expect(r.stdout).to.contain('Read the setup-done flag of connected devices.')
        expect(r.stdout).to.contain('$ particle-setup-flag get')
        expect(r.calls).to.deep.equal([])
      })

      it('everything else reaches the real `particle` with argv and exit status intact', async () => {
        const r = await inShell(shell, `particle usb list --x 'a b'`, {FAKE_PARTICLE_EXIT: '3'})
        expect(r.code).to.equal(3)
        expect(r.stdout).to.contain('official particle CLI (fake)')
        expect(r.calls).to.deep.equal([['usb', 'list', '--x', 'a b']])

        const odd = await inShell(shell, `particle call my-dev fn 'arg=1  2' '' '$HOME' '*' "x'y" 'setup-flag'`, {FAKE_PARTICLE_EXIT: '0'})
        expect(odd.code).to.equal(0)
        expect(odd.calls).to.deep.equal([['call', 'my-dev', 'fn', 'arg=1  2', '', '$HOME', '*', "x'y", 'setup-flag']])

        const status = shell === 'fish' ? '$status' : '$?'
        const more = await inShell(shell, `particle; echo "status=${status}"; particle setup-flagx; particle --version; particle help setup-flag`, {FAKE_PARTICLE_EXIT: '42'})
        expect(more.stdout).to.contain('status=42')
        expect(more.code).to.equal(42)
        expect(more.calls).to.deep.equal([[], ['setup-flagx'], ['--version'], ['help', 'setup-flag']])
      })

      it("our exit status comes back too, and the real device path works (virtual devices)", async () => {
        const empty = devicesFile([])
        const none = await inShell(shell, 'particle setup-flag get', {PARTICLE_VIRTUAL_DEVICES: empty})
        expect(none.code).to.equal(3)
        expect(none.stderr).to.contain('SETUP_FLAG_NO_DEVICE')
        const file = devicesFile([{deviceOs: '3.3.1', faults: {}, id: 'e00fce681a2b3c4d5e6f7a8b', mode: 'listening', platform: 'argon', setupDone: 255}])
        const r = await inShell(shell, 'particle setup-flag get --json', {PARTICLE_VIRTUAL_DEVICES: file})
        expect(r.code, r.stderr).to.equal(0)
        expect(JSON.parse(r.stdout).devices[0]).to.include({flag: 'not-done', id: 'e00fce681a2b3c4d5e6f7a8b'})
        expect(r.calls).to.deep.equal([])
      })
    })
  }

  // PowerShell where installed.
  for (const shell of ['pwsh'] as const) {
    it(`in ${shell}: setup-flag reaches us, the rest reaches the fake with argv and exit status`, async function () {
      if (!has(shell)) this.skip()
      const ours = await inShell(shell, 'particle setup-flag get --help')
      expect(ours.code, ours.stderr).to.equal(0)
      expect(ours.stdout).to.contain('Read the setup-done flag of connected devices.')
      expect(ours.calls).to.deep.equal([])
      const theirs = await inShell(shell, `particle usb list --x 'a b'`, {FAKE_PARTICLE_EXIT: '3'})
      expect(theirs.code, theirs.stderr).to.equal(3)
      expect(theirs.calls).to.deep.equal([['usb', 'list', '--x', 'a b']])
    })
  }
})
