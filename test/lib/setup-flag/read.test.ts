// Reading in process on a virtual bus: `get` never sends raw 302 unless asked (--unstick), because 302 takes a
// device off the cloud until it restarts (Device OS system/src/usb_control_request_channel.cpp@v3.3.1:550, :173).
import {expect} from 'chai'

import {readSetupFlag} from '../../../src/lib/flag.js'
import type {VirtualDeviceSpec} from '../../../src/lib/virtual/index.js'
import {virtualBackend} from '../../support/virtual-backend.js'

const ID = 'e00fce681a2b3c4d5e6f7a8b'
const RAW_302_SETUP = '40 50 00 00 2E 01 00 00'

async function read(device: VirtualDeviceSpec, unstick?: boolean) {
  const {clock, found: list, usb} = virtualBackend([device])
  const [found] = await list()
  const report = await readSetupFlag(found, {clock, timeoutMs: 1000, unstick})
  usb.close()
  return {report, usb}
}

describe('read: raw 302 only with --unstick', () => {
  const stuck: VirtualDeviceSpec = {deviceOs: '3.3.1', faults: {blockedSystemThread: 'connecting'}, id: ID, mode: 'normal', platform: 'boron', setupDone: 0xff}

  it('without it: a device stuck connecting stays connected to the cloud; the error names --unstick', async () => {
    const {report, usb} = await read(stuck)
    expect(report.error?.code).to.equal('SETUP_FLAG_NOT_RESPONDING')
    expect(report.error?.suggestions.join(' ')).to.match(/--unstick/)
    expect(usb.log.map((r) => r.setup)).not.to.include(RAW_302_SETUP)
    expect(usb.specs()[0].cloudDisconnected).to.equal(undefined)
    expect(report.cloudDisconnected).to.equal(undefined)
  })

  it('with it: 302 frees the thread, the flag is read, and the report says the device is off the cloud', async () => {
    const {report, usb} = await read(stuck, true)
    expect(report.error).to.equal(undefined)
    expect(report.flag).to.equal('not-done')
    expect(report.cloudDisconnected).to.equal(true)
    expect(usb.specs()[0].cloudDisconnected).to.equal(true)
  })
})

describe('get --unstick through the built binary', function () {
  this.timeout(120_000)

  it('without it the devices file shows no disconnect flag; with it the flag is read, the file shows it, and a warning says so', async () => {
    const {devicesFile, readDevices, runJson, testDevice} = await import('../../support/cli.js')
    const file = devicesFile([testDevice(1, 'boron', '3.3.1', 'normal', 0xff, {blockedSystemThread: 'connecting'})])
    const env = {PARTICLE_VIRTUAL_DEVICES: file}
    const plain = await runJson<{devices: Array<Record<string, unknown>>}>(['get', '--timeout', '1'], {env})
    expect(plain.code).to.equal(6)
    expect(readDevices(file).devices[0].cloudDisconnected).to.equal(undefined)
    const unstuck = await runJson<{devices: Array<Record<string, unknown>>; warnings: string[]}>(['get', '--timeout', '1', '--unstick'], {env})
    expect(unstuck.code, unstuck.stderr).to.equal(0)
    expect(unstuck.json.devices[0]).to.include({cloudDisconnected: true, flag: 'not-done'})
    expect(unstuck.json.warnings.join(' ')).to.match(/stays off the cloud until it restarts/)
    expect(readDevices(file).devices[0].cloudDisconnected).to.equal(true)
  })
})
