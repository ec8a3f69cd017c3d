// The write path in process on a virtual bus with a fake clock: what it does when the firmware takes requests it
// cannot finish in time (docs/protocol.md, "Cancelling does not stop a request"; Device OS
// system/src/usb_control_request_channel.cpp@v3.3.1:574).
import {expect} from 'chai'

import {type LibraryOptions, setSetupFlag} from '../../../src/lib/flag.js'
import {type SetOptions as OperationSetOptions} from '../../../src/lib/setup-flag/operation.js'
import type {VirtualDeviceSpec, VirtualUsb} from '../../../src/lib/virtual/index.js'
import {type VirtualBackend, virtualBackend} from '../../support/virtual-backend.js'

type SetOptions = LibraryOptions & OperationSetOptions

const ID = 'e00fce681a2b3c4d5e6f7a8b'
const spec = (over: Partial<VirtualDeviceSpec> = {}): VirtualDeviceSpec => ({deviceOs: '3.3.1', id: ID, mode: 'listening', platform: 'argon', setupDone: 0xff, ...over})

const setup = (device: VirtualDeviceSpec) => virtualBackend([device])

/** Call `fn` when the host sends the INIT of request `type` (before the device sees it). */
function onInit(usb: VirtualUsb, type: number, fn: () => void): void {
  const push = usb.log.push.bind(usb.log)
  usb.log.push = (...records) => {
    for (const r of records) {
      const bytes = r.setup.split(' ') // bmRequestType, bRequest, wValue (2), wIndex (2) = the type, wLength (2)
      if (bytes[0] === 'C0' && bytes[1] === '01' && Number.parseInt(bytes[5] + bytes[4], 16) === type) fn()
    }
    return push(...records)
  }
}

async function run(env: VirtualBackend, over: Partial<SetOptions>) {
  const [found] = await env.found()
  const waits: string[] = []
  const report = await setSetupFlag(found, {
    backend: env.backend,
    clock: env.clock,
    done: true,
    dryRun: false,
    force: false,
    method: 'usb',
    timeoutMs: 1000,
    ...over,
    onWaiting(what) {
      waits.push(what)
      over.onWaiting?.(what)
    },
  })
  env.usb.close()
  return {report, waits}
}

describe('write path: requests the firmware may still carry out', () => {
  it('a timed-out 73 "may still land": the result says so, and the byte read back later decides', async () => {
    const env = setup(spec())
    const device = env.usb.device(ID)!
    // The application starts blocking the system thread just as the write goes out.
    onInit(env.usb, 73, () => device.setFaults({blockedSystemThread: 'app'}))
    const {report} = await run(env, {
      onWaiting(what) {
        // The Safe Mode request timed out too; the application then frees the thread: 73 and 60 both run.
        if (/may still restart in Safe Mode/.test(what)) device.setFaults({})
      },
    })
    expect(report.error, JSON.stringify(report)).to.equal(undefined)
    const steps = report.steps.join(' ')
    expect(steps).to.match(/may still carry it out later, so the byte is unknown until read back/)
    expect(steps).to.match(/waiting for it to restart in Safe Mode instead of asking again/)
    expect(steps).to.match(/earlier write request \(73\) has landed/)
    expect(report).to.include({after: 1, changed: true, flag: 'done'})
    expect(device.setupDone).to.equal(0x01)
    expect(device.mode).to.equal('normal')
    expect(env.usb.violations).to.deep.equal([])
  })

  it('a timed-out 50: waits for the restart into DFU mode it may still cause, no second request on top', async () => {
    const env = setup(spec({faults: {blockedSystemThread: 'app'}, mode: 'normal', setupDone: 0x00}))
    const device = env.usb.device(ID)!
    const {report} = await run(env, {
      method: 'dfu',
      onWaiting(what) {
        if (/may still restart in DFU mode/.test(what)) device.setFaults({})
      },
    })
    expect(report.error, JSON.stringify(report)).to.equal(undefined)
    expect(report.steps.join(' ')).to.match(/waiting for it to restart in DFU mode instead of asking again/)
    expect(report).to.include({after: 1, changed: true, method: 'dfu'})
    // Exactly one INIT of 50 went out.
    expect(env.usb.log.filter((r) => r.setup === 'C0 01 00 00 32 00 40 00')).to.have.length(1)
    expect(device.setupDone).to.equal(0x01)
  })

  it('a timed-out 60 that never runs: gives up after the wait and says the device may still restart on its own', async () => {
    const env = setup(spec({faults: {blockedSystemThread: 'app'}}))
    const {report} = await run(env, {})
    expect(report.error?.code).to.equal('SETUP_FLAG_NOT_RESPONDING')
    expect(report.error?.message).to.match(/may still run if it frees up/)
    expect(env.usb.log.filter((r) => r.setup === 'C0 01 00 00 3C 00 40 00')).to.have.length(1)
    expect(env.usb.device(ID)!.setupDone).to.equal(0xff)
  })
})

describe('write path: raw 302 on the way to a write, then a restart so the device ends online', () => {
  it('a device stuck connecting: 302, write, read back, restart (40); no disconnect flag left', async () => {
    const env = setup(spec({faults: {blockedSystemThread: 'connecting'}, mode: 'normal', platform: 'boron', setupDone: 0x00}))
    const {report} = await run(env, {})
    expect(report.error, JSON.stringify(report)).to.equal(undefined)
    expect(report).to.include({after: 1, changed: true})
    const steps = report.steps.join(' ')
    expect(steps).to.match(/raw request 302, which keeps it off the cloud until it restarts/)
    expect(steps).to.match(/Restarted the device \(request 40\) so it connects to the cloud again/)
    expect(env.usb.specs()[0].cloudDisconnected).to.equal(undefined)
    expect(env.usb.device(ID)!.setupDone).to.equal(0x01)
  })
})
