// `virtual press <buttons> [DEVICE]` through the built binary: the short form and the topic form, what it prints,
// its JSON, and each way it refuses (exit 2 for bad input, 3 for no device).
import {expect} from 'chai'

import {devicesFile, readDevices, runCli, runJson, testDevice, testId} from '../support/cli.js'
import {LiveCli} from '../support/live-cli.js'

type ErrorJson = {error: {code: string; exit: number; message: string; suggestions: string[]}}

describe('virtual press (built binary)', function () {
  this.timeout(60_000)

  it('presses the only device of a devices file: what the hands did, in the button steps\' words, and the file follows', async () => {
    const file = devicesFile([testDevice(1, 'boron', '3.3.1', 'listening', 255, {blockedSystemThread: true})])
    const r = await runCli(['virtual', 'press', 'safe-mode'], {env: {COLUMNS: '200', PARTICLE_VIRTUAL_DEVICES: file}})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(
      `✔ ${testId(1)} (Boron): hold MODE and RESET, release RESET, release MODE when the LED blinks magenta; it restarts in Safe Mode and Listening Mode (blinking dark blue).\n`,
    )
    expect(readDevices(file).devices[0]).to.include({listening: true, mode: 'safe', presses: 1})
  })

  it('the topic form, several presses, the device by the start of its ID, --json', async () => {
    const other = 'e00fce68aaaabbbbccccdddd'
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255), {...testDevice(2, 'argon', '3.3.1', 'normal', 1), id: other}])
    const r = await runJson<{device: {id: string}; steps: Array<{done: boolean; mode: string; press: string}>}>(['setup-flag', 'virtual', 'press', 'unplug', 'reset', 'plug', 'E00FCE68AA'], {
      env: {PARTICLE_VIRTUAL_DEVICES: file},
    })
    expect(r.code, r.stderr).to.equal(0)
    expect(r.json.device.id).to.equal(other)
    expect(r.json.steps.map((s) => [s.press, s.done, s.mode])).to.deep.equal([['unplug', true, 'normal'], ['reset', false, 'normal'], ['plug', true, 'normal']])
    expect(readDevices(file).devices.map((d) => d.presses)).to.deep.equal([undefined, 2])
  })

  it('refuses: no PARTICLE_VIRTUAL_DEVICES (2), no press (2), a mistyped press (2), several devices and none named (3), a bundled example no run uses (3)', async () => {
    const file = devicesFile([testDevice(1, 'argon', '3.3.1', 'listening', 255), testDevice(2, 'argon', '3.3.1', 'normal', 1)])
    const real = await runJson<ErrorJson>(['virtual', 'press', 'reset'])
    expect(real.json.error).to.include({code: 'SETUP_FLAG_VIRTUAL_PRESS', exit: 2})
    expect(real.code).to.equal(2)
    const none = await runJson<ErrorJson>(['virtual', 'press'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(none.json.error).to.include({code: 'SETUP_FLAG_USAGE', exit: 2})
    const typo = await runJson<ErrorJson>(['virtual', 'press', 'dfu,rest', testId(1)], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(typo.json.error.suggestions).to.deep.equal(['Did you mean `particle-setup-flag virtual press reset`?'])
    const several = await runJson<ErrorJson>(['virtual', 'press', 'dfu'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(several.json.error).to.include({code: 'SETUP_FLAG_MULTIPLE_DEVICES', exit: 3})
    const unused = await runJson<ErrorJson>(['virtual', 'press', 'dfu'], {env: {PARTICLE_VIRTUAL_DEVICES: 'blocked-boron', TMPDIR: devicesFile([]).replace(/\/devices\.json$/, '')}})
    expect(unused.json.error).to.include({code: 'SETUP_FLAG_VIRTUAL_PRESS', exit: 3})
    expect(unused.code).to.equal(3)
    expect(readDevices(file).devices.map((d) => d.mode)).to.deep.equal(['listening', 'normal'])
  })

  it('the doctor waiting for a device unplugged by hand shows the press that plugs it in, and goes on once it is run', async () => {
    const file = devicesFile([{...testDevice(1, 'argon', '3.3.1', 'listening', 255), unplugged: true}, testDevice(2, 'boron', '3.3.1', 'normal', 1)])
    const doctor = new LiveCli(['doctor', testId(1), '--yes'], {PARTICLE_VIRTUAL_DEVICES: file})
    try {
      const shown = await doctor.until('the press to run', () => /PARTICLE_VIRTUAL_DEVICES=\S+ particle-setup-flag (virtual press plug \S+)/.exec(doctor.stdout)?.[1])
      expect(shown).to.equal(`virtual press plug ${testId(1)}`) // the file holds two devices: the one meant is named
      expect(doctor.stdout.replaceAll(/\s+/g, ' ')).to.contain(`Connect ${testId(1)} to this computer with a USB data cable. Waiting up to 300 s for it...`)
      expect((await runCli(shown.split(' '), {env: {PARTICLE_VIRTUAL_DEVICES: file}})).code).to.equal(0)
      const r = await doctor.exited
      expect(r.code, r.stdout).to.equal(0)
      expect(r.stdout).to.contain(`✔ ${testId(1)} (Argon) was connected.`)
      expect(readDevices(file).devices[0]).to.include({setupDone: 1}).and.not.have.property('unplugged')
    } finally {
      doctor.kill('SIGKILL')
    }
  })

  it('its help shows the presses and examples', async () => {
    const r = await runCli(['virtual', '--help'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.contain('$ particle-setup-flag virtual press safe-mode')
    expect(r.stdout.replaceAll(/\s+/g, ' ')).to.contain('"replug" is unplug then plug')
  })
})
