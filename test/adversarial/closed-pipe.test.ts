/**
 * A reader that closes our output early (`get | head -1`) ends the run quietly with exit status 141 (README, exit
 * statuses; bin/closed-pipe.js): never Node's 13 ("unsettled top-level await"), never a stack trace, nothing on the
 * other stream, and a `set --all` still finishes every device it started.
 */
import {expect} from 'chai'
import {spawn} from 'node:child_process'

import {EXIT} from '../../src/lib/errors.js'
import {BIN, devicesFile, readDevices, ROOT, tempDir, testDevice} from '../support/cli.js'
import {profileHome} from '../support/cloud-home.js'
import {VirtualCloud as FakeCloud} from '../../src/lib/cloud/virtual.js'
import {fleet} from '../support/fleet.js'

const CLOSED_PIPE = EXIT.CLOSED_PIPE

interface Closed {
  code: null | number
  /** What was read from the stream left open. */
  other: string
  /** What the reader took before it left (one byte after the first read). */
  read: string
}

/**
 * Run the CLI with `stream` read by a reader that leaves early. 'at-once': the reader closes it before the CLI
 * writes anything, so the first write meets a closed pipe. 'after-first-read': as in a shell, `CLI | head -c 1`
 * through a kernel pipe (64 KiB): head reads one byte and leaves, so an output longer than the pipe holds meets
 * the closed pipe, whatever the machine's socket buffers (Node's own child pipes are sockets that hold several
 * hundred KiB, and an output that fits is simply delivered: exit 0 is then right).
 */
function runClosing(args: string[], env: NodeJS.ProcessEnv, stream: 'stderr' | 'stdout', when: 'after-first-read' | 'at-once'): Promise<Closed> {
  const fullEnv: NodeJS.ProcessEnv = {...process.env, CI: '1', HOME: tempDir('setup-flag-home-'), NODE_ENV: 'production', ...env}
  delete fullEnv.DEBUG
  return new Promise((resolve, reject) => {
    const child =
      when === 'at-once'
        ? spawn(process.execPath, [BIN, ...args], {cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe']})
        : spawn('bash', ['-c', '"$0" "$@" | head -c 1; exit "${PIPESTATUS[0]}"', process.execPath, BIN, ...args], {cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe']})
    const closing = child[stream]
    const open = stream === 'stdout' ? child.stderr : child.stdout
    let read = ''
    let other = ''
    open.on('data', (d) => (other += d))
    if (when === 'at-once') closing.destroy()
    else closing.on('data', (d) => (read += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, other, read}))
  })
}

/** 300 Argons on 3.3.1 in Listening Mode, flag not set: enough output for every command to meet the closed pipe. */
function fleetFile(): string {
  return devicesFile(Array.from({length: 300}, (_, i) => testDevice(i + 1, 'argon', '3.3.1', 'listening', 255)))
}

describe('adversarial: a closed pipe is not a crash', function () {
  this.timeout(120_000)

  for (const json of [false, true]) {
    const flag = json ? ['--json'] : []
    it(`get${json ? ' --json' : ''} | a reader that closes at once: exit ${CLOSED_PIPE}, stderr empty`, async () => {
      const r = await runClosing(['get', '--offline', ...flag], {PARTICLE_VIRTUAL_DEVICES: fleetFile()}, 'stdout', 'at-once')
      expect(r.code, r.other).to.equal(CLOSED_PIPE)
      expect(r.other).to.equal('')
    })

    it(`set --all${json ? ' --json' : ''} | a reader that closes: exit ${CLOSED_PIPE}, stderr empty, every device still set and back in normal mode`, async () => {
      const file = fleetFile()
      // --json prints one document of ~170 KB at the end: `| head -c 1`. The text form (~35 KB, a line per device
      // as it goes) would fit in the pipe: the reader closes at once.
      const r = await runClosing(['set', '--all', '--offline', ...flag], {PARTICLE_VIRTUAL_DEVICES: file}, 'stdout', json ? 'after-first-read' : 'at-once')
      expect(r.code, r.other).to.equal(CLOSED_PIPE)
      expect(r.other).to.equal('')
      if (json) expect(r.read).to.equal('{')
      const devices = readDevices(file).devices
      expect(devices.filter((d) => d.setupDone === 1)).to.have.length(300)
      expect(new Set(devices.map((d) => d.mode))).to.deep.equal(new Set(['normal']))
    })
  }

  it('get --json | head -c 1 (300 devices, ~95 KB): exit 141, stderr empty', async () => {
    const r = await runClosing(['get', '--offline', '--json'], {PARTICLE_VIRTUAL_DEVICES: fleetFile()}, 'stdout', 'after-first-read')
    expect(r.code, r.other).to.equal(CLOSED_PIPE)
    expect(r.other).to.equal('')
    expect(r.read).to.equal('{')
  })

  it('a failure met before the pipe closed keeps its own status (6), still without a stack trace', async () => {
    const devices = Array.from({length: 300}, (_, i) => testDevice(i + 1, 'argon', '3.3.1', 'listening', 255))
    devices[0] = testDevice(1, 'argon', '3.3.1', 'listening', 255, {stallControl: true})
    const r = await runClosing(['get', '--offline', '--timeout', '1'], {PARTICLE_VIRTUAL_DEVICES: devicesFile(devices)}, 'stdout', 'at-once')
    expect(r.code, r.other).to.equal(6)
    expect(r.other).to.not.contain('    at ')
  })

  it('set --watch | a reader that closes: the station stops as on SIGTERM, exit 141, no device left in DFU mode', async () => {
    const file = devicesFile(Array.from({length: 8}, (_, i) => testDevice(i + 1, 'argon', '3.3.1', 'listening', 255)))
    const r = await runClosing(['set', '--watch', '--offline', '--method', 'dfu'], {PARTICLE_VIRTUAL_DEVICES: file}, 'stdout', 'at-once')
    expect(r.code, r.other).to.equal(CLOSED_PIPE)
    expect(r.other).to.not.contain('    at ')
    expect(r.other).to.not.contain('Error')
    expect(readDevices(file).devices.map((d) => d.mode)).to.not.include('dfu')
  })

  describe('audit (loopback cloud)', () => {
    let cloud: FakeCloud

    beforeEach(async () => {
      cloud = await new FakeCloud().start()
      cloud.devices = fleet(2000)
    })

    afterEach(() => cloud.close())

    for (const form of [[], ['--json'], ['--csv']]) {
      it(`audit ${form.join(' ')} | head -c 1 (2000 devices): exit 141, stderr empty`, async () => {
        const r = await runClosing(['audit', ...form], {COLUMNS: '200', HOME: profileHome(cloud)}, 'stdout', 'after-first-read')
        expect(r.code, r.other).to.equal(CLOSED_PIPE)
        expect(form[0] === '--csv' ? r.other.split('\n')[0] : r.other).to.not.match(/Error|\s{4}at /)
        if (form[0] !== '--csv') expect(r.other).to.equal('')
      })
    }

    it('audit --csv 2> a reader that closes at once (the summary goes to stderr): exit 141, the CSV whole on stdout', async () => {
      const r = await runClosing(['audit', '--csv'], {HOME: profileHome(cloud)}, 'stderr', 'at-once')
      expect(r.code).to.equal(CLOSED_PIPE)
      expect(r.other.trimEnd().split('\n')).to.have.length(2001) // the header and every device
    })
  })
})
