// The doctor offers the field rescue for a named device that is offline and not on USB.
import {expect} from 'chai'

import type {Choice} from '../../../src/lib/prompts.js'
import type {UsbBackend} from '../../../src/lib/usb/backend.js'

import {realClock} from '../../../src/lib/clock.js'
import {Cloud} from '../../../src/lib/cloud/cloud.js'
import {Doctor, type DoctorPerson, type Instruction} from '../../../src/lib/doctor/doctor.js'
import {createVirtualUsb} from '../../../src/lib/virtual/index.js'
import {VirtualCloud} from '../../../src/lib/cloud/virtual.js'

const ID = 'e00fce681a2b3c4d5e6f7d01'

describe('doctor: a named device in the field, offline', function () {
  this.timeout(30_000)
  let cloud: VirtualCloud

  beforeEach(async () => {
    cloud = await new VirtualCloud().start()
    cloud.devices = [{connected: false, id: ID, name: 'far-boron', platform_id: 13, system_firmware_version: '3.3.1'}]
  })
  afterEach(() => cloud.close())

  function run(answers: Array<boolean | string>, act: (kind: Instruction, text: string) => void) {
    const asked: string[] = []
    const said: string[] = []
    const person: DoctorPerson = {
      instruct(kind, text) {
        said.push(text)
        act(kind, text)
      },
      prompter: {
        async confirm(message) {
          asked.push(message)
          return answers.shift() as boolean
        },
        async select<T>(message: string, choices: Array<Choice<T>>) {
          asked.push(message)
          const a = answers.shift()
          return choices.find((c) => c.value === a)!.value
        },
      },
      say: (text) => said.push(text),
      waiting() {},
    }
    const usb = createVirtualUsb({clock: realClock, devices: []})
    const backend: UsbBackend = {close: () => usb.close(), description: 'virtual', kind: 'virtual', usb}
    const c = new Cloud({accessToken: cloud.token, apiUrl: cloud.url, from: 'test', offline: false, profile: 'particle'}, realClock)
    // Real clock: the events arrive over real HTTP (a fake clock would jump the deadlines).
    const doctor = new Doctor({backend, clock: realClock, cloud: c, device: {arg: 'far-boron', name: 'far-boron'}, person, timeoutMs: 2000, waitMs: 60_000, yes: false})
    return {asked, report: doctor.run().finally(() => usb.close()), said}
  }

  it('offers the field rescue; the card goes to the person on site, and the device is flashed once it connects', async () => {
    const r = run(['field', true], (kind) => {
      if (kind === 'field-rescue') cloud.bringOnline(ID, {safeMode: true}) // the person on site presses the buttons
    })
    const report = await r.report
    expect(r.asked[0]).to.match(/far-boron is offline\. How do you want to fix it\?/)
    expect(r.said.join('\n')).to.match(/Hold MODE and RESET, release RESET, release MODE when the LED blinks magenta/)
    expect(report.outcome, JSON.stringify(report)).to.equal('fixed')
    expect(report.write).to.deep.include({after: 1, changed: true, method: 'firmware'})
    expect(cloud.flashed.map((f) => f.data)).to.deep.equal(['FAKEBIN platform=13 version=3.3.1 wanted=01'])
  })

  it('declined: nothing flashed', async () => {
    const r = run(['field', false], () => {})
    const report = await r.report
    expect(report.outcome).to.equal('cancelled')
    expect(cloud.flashed).to.deep.equal([])
    expect(cloud.requests.some((q) => q.method === 'PUT' || q.path.includes('events'))).to.equal(false)
  })
})
