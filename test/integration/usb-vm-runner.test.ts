// The usb-vm runner's interface without booting anything: usage, a missing devices file, a missing package.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'

import {ROOT} from '../support/cli.js'

const RUNNER = join(ROOT, 'scripts/usb-vm/run.js')
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [RUNNER, ...args], {cwd: ROOT, encoding: 'utf8', env: {...process.env, ...env}})

describe('npm run usb-vm (the runner, no boot)', () => {
  it('without --devices or a command: usage, exit 2', () => {
    const r = run(['--devices', 'examples/stuck-argon.json'])
    expect(r.status).to.equal(2)
    expect(r.stderr).to.contain('usage: npm run usb-vm -- --devices FILE [--user NAME] -- COMMAND')
  })

  it('a devices file that does not exist: exit 2, named', () => {
    const r = run(['--devices', 'nope.json', '--', 'true'])
    expect(r.status).to.equal(2)
    expect(r.stderr).to.contain('nope.json does not exist')
  })

  it('a missing package (here the kernel): exit 4 and the package to install', () => {
    const r = run(['--devices', 'examples/stuck-argon.json', '--', 'true'], {USB_VM_KERNEL: '/nonexistent/vmlinuz-6.12.0'})
    expect(r.status).to.equal(4)
    expect(r.stderr).to.match(/usb-vm: .*(apt-get install|install -t bookworm-backports linux-image-amd64)/)
  })
})
