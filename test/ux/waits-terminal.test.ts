// Every wait longer than a second says what it waits for and its limit (stderr, at a
// terminal). Driven in tmux on a Boron whose application blocks the system thread.
import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {devicesFile, readDevices} from '../support/cli.js'
import {writeAtomically} from '../support/live-cli.js'
import {withTerminal} from '../support/tmux.js'

const blockedBoron = () => [{deviceOs: '3.3.1', faults: {blockedSystemThread: true}, id: 'e00fce681a2b3c4d5e6f7b01', mode: 'listening', platform: 'boron', setupDone: 255}]

describe('waits say what they wait for and their limit (tmux)', function () {
  this.timeout(120_000)
  const terminal = withTerminal()

  it('doctor on a blocked Boron: reading, waiting for Safe Mode and the last check all name their limit', async () => {
    const file = devicesFile(blockedBoron())
    const term = terminal.start(['doctor', '--timeout', '2', '--wait', '60'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    await term.waitFor(/Reading e00fce681a2b3c4d5e6f7b01 \(waiting up to 2 s for each answer\)/)
    await term.answer(/Fix it in Safe Mode/, 'Enter')
    await term.waitFor(/Waiting for the device to come back in Safe Mode \(breathing magenta\) \(up to 60 s\)/)
    const json = JSON.parse(readFileSync(file, 'utf8'))
    json.devices[0].mode = 'safe' // the person presses the buttons
    writeAtomically(file, JSON.stringify(json))
    expect(await term.exit(60_000)).to.equal(0)
    expect(term.screen()).to.match(/Checking whether the device listens \(waiting up to 2 s for each answer\)/)
    expect(readDevices(file).devices[0].setupDone).to.equal(1)
  })

  it('set on a blocked Boron says how long it waits for each answer', async () => {
    const file = devicesFile(blockedBoron())
    const term = terminal.start(['set', '--timeout', '2'], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}})
    await term.waitFor(/Setting the flag of e00fce681a2b3c4d5e6f7b01 \(waiting up to 2 s for each answer\)/)
    await term.exit(60_000)
  })
})
