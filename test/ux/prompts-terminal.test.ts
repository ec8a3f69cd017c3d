// Ctrl-C or end of input at any question is a cancellation (exit 130, "Cancelled.",
// and what was already done), never "Unexpected error"; the doctor says only what happened when the restart
// is declined; a declined fix exits non-zero. Driven in a real terminal (tmux), as a person would.
import {expect} from 'chai'

import {devicesFile, readDevices, testDevice} from '../support/cli.js'
import {withTerminal} from '../support/tmux.js'

const ID = 'e00fce681a2b3c4d5e6f7a8b'
const argon = () => [{deviceOs: '3.3.1', faults: {}, id: ID, mode: 'listening', platform: 'argon', setupDone: 255}]

describe('questions in a real terminal (tmux): cancelling and declining', function () {
  this.timeout(90_000)
  const terminal = withTerminal()

  it('doctor: Ctrl-C at "Restart the device now?" after the write: the device is fixed and said to be (exit 0), only not restarted', async () => {
    const file = devicesFile(argon())
    const term = terminal.start(['doctor'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    await term.answer(/Set the setup-done flag now/, 'Enter')
    await term.answer(/Restart the device now/, 'C-c')
    expect(await term.exit()).to.equal(0)
    const s = term.screen()
    expect(s).to.contain('Fixed.')
    expect(s).to.contain('⚠ The setup-done flag is not set') // a problem found is not a ✔
    expect(s).to.match(/flag was written \(not set → 0x01\) by a USB control request and read back\. The device was not restarted/)
    expect(s).not.to.match(/Unexpected|Not fixed|bug|Cancelled/)
    expect(readDevices(file).devices[0].setupDone).to.equal(1)
  })

  it('doctor: Ctrl-D (end of input) at the first question cancels: nothing written, exit 130', async () => {
    const file = devicesFile(argon())
    const term = terminal.start(['doctor'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    await term.answer(/Set the setup-done flag now/, 'C-d')
    expect(await term.exit()).to.equal(130)
    expect(term.screen()).to.match(/Cancelled\.\n\s+Nothing was written\./)
    expect(readDevices(file).devices[0].setupDone).to.equal(255)
  })

  it('set: Ctrl-C at "Which device?" is a cancellation, not a bug', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255), testDevice(2, 'boron', '3.3.1', 'listening', 255)])
    const term = terminal.start(['set'], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}})
    const picker = await term.waitFor(/Which device\?[\s\S]*Boron/)
    expect(picker).to.match(/Argon\) – in Listening Mode/) // the picker shows which one listens
    term.keys('C-c')
    expect(await term.exit()).to.equal(130)
    const s = term.screen()
    expect(s).to.contain('Cancelled.')
    expect(s).not.to.match(/Unexpected|SETUP_FLAG_UNEXPECTED|bug/)
    expect(term.cursorVisible(), 'the cursor the list hid is shown again').to.equal(true)
    expect(readDevices(file).devices.map((d) => d.setupDone)).to.deep.equal([255, 255])
  })

  it('set: end of input (Ctrl-D) at "Which device?" cancels too, and the cursor comes back', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255), testDevice(2, 'boron', '3.3.1', 'listening', 255)])
    const term = terminal.start(['set'], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}})
    await term.answer(/Which device\?[\s\S]*Boron/, 'C-d')
    expect(await term.exit()).to.equal(130)
    expect(term.screen()).to.contain('Cancelled.')
    expect(term.cursorVisible()).to.equal(true)
  })

  it('doctor: a declined restart is not reported as a restart', async () => {
    const file = devicesFile(argon())
    const term = terminal.start(['doctor'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    await term.answer(/Set the setup-done flag now/, 'Enter')
    await term.answer(/Restart the device now/, 'n', 'Enter')
    expect(await term.exit()).to.equal(0)
    const s = term.screen()
    expect(s).to.contain('Not restarted.')
    expect(s).not.to.contain('The device restarted')
    expect(s).to.contain('not restarted')
  })

  it('doctor: declining the fix exits 10 (not fixed, not an interruption), with nothing written', async () => {
    const file = devicesFile(argon())
    const term = terminal.start(['doctor'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    await term.answer(/Set the setup-done flag now/, 'n', 'Enter')
    expect(await term.exit()).to.equal(10)
    expect(term.screen()).to.contain('Not fixed')
    expect(readDevices(file).devices[0].setupDone).to.equal(255)
  })
})

describe('Ctrl-C while the doctor waits (tmux)', function () {
  this.timeout(90_000)
  const terminal = withTerminal()

  it('waiting for the Safe Mode buttons: "Cancelled.", what was done, exit 130, the spinner stopped', async () => {
    const file = devicesFile([{deviceOs: '3.3.1', faults: {blockedSystemThread: true}, id: ID, mode: 'listening', platform: 'boron', setupDone: 255}])
    const term = terminal.start(['doctor', '--timeout', '1'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    await term.answer(/Fix it in Safe Mode/, 'Enter')
    await term.answer(/Waiting for the device to come back in Safe Mode/, 'C-c')
    expect(await term.exit()).to.equal(130)
    const s = term.screen()
    expect(s).to.match(/Waiting for the device to come back in Safe Mode.*\.\.\. cancelled/)
    expect(s).to.match(/Cancelled\.\n\s+Nothing was written\./)
    expect(readDevices(file).devices[0].setupDone).to.equal(255)
  })
})
