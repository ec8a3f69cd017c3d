// The host side of the control-request protocol, held to the exact exchanges of docs/protocol.md §2.10.
import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {ControlChannel, RequestPendingTimeout} from '../../../src/lib/protocol/control-request.js'
import {encodeSetDeviceSetupDoneRequest} from '../../../src/lib/protocol/messages.js'
import {UsbIo} from '../../../src/lib/usb/io.js'
import {ScriptedDevice, type Step} from '../../support/scripted-device.js'

function channel(script: Step[], clock = new FakeClock()) {
  const dev = new ScriptedDevice(script)
  const io = new UsbIo(dev as unknown as USBDevice, dev.serialNumber)
  return {ch: new ControlChannel(io, clock), clock, dev, io}
}

const INIT73 = 'C0 01 02 00 49 00 40 00'
const INIT74 = 'C0 01 00 00 4A 00 40 00'
const CHECK1 = 'C0 02 00 00 01 00 40 00'
const OK_ID1 = '03 00 00 00 00 00 01 00'
const PENDING = '01 00 00 00 02 00'
const DONE_OK = '09 00 00 00 00 00 00 00 00 00'

describe('control requests on the wire (§2.10)', () => {
  it('set(true): INIT, SEND 08 01, CHECK until done', async () => {
    const {ch, dev} = channel([
      {reply: OK_ID1, setup: INIT73},
      {out: '08 01', setup: '40 03 00 00 01 00 02 00'},
      {reply: PENDING, setup: CHECK1},
      {reply: DONE_OK, setup: CHECK1},
    ])
    const r = await ch.request(73, encodeSetDeviceSetupDoneRequest(true))
    expect(r.result).to.equal(0)
    expect(r.data.length).to.equal(0)
    expect(dev.remaining).to.equal(0)
  })

  it('set(false) on 4.0+: the final CHECK carries -120', async () => {
    const {ch} = channel([
      {reply: OK_ID1, setup: INIT73},
      {out: '08 00', setup: '40 03 00 00 01 00 02 00'},
      {reply: '09 00 00 00 00 00 88 FF FF FF', setup: CHECK1},
    ])
    expect((await ch.request(73, encodeSetDeviceSetupDoneRequest(false))).result).to.equal(-120)
  })

  it('is-setup-done with a reply payload: CHECK with size, then RECV', async () => {
    const {ch, dev} = channel([
      {reply: OK_ID1, setup: INIT74},
      {reply: '0D 00 00 00 00 00 02 00 00 00 00 00 00 00', setup: CHECK1},
      {reply: '08 01', setup: 'C0 04 00 00 01 00 02 00'},
    ])
    const r = await ch.request(74)
    expect([...r.data]).to.deep.equal([8, 1])
    expect(dev.remaining).to.equal(0)
  })

  it('a corrupt reply size (over 65535) or a short RECV is a protocol error, and the request is cancelled', async () => {
    const RESET1 = {reply: '01 00 00 00 00 00', setup: 'C0 05 00 00 01 00 40 00'}
    const huge = channel([{reply: OK_ID1, setup: INIT74}, {reply: '0D 00 00 00 00 00 00 00 01 00 00 00 00 00', setup: CHECK1}, RESET1])
    const e1 = (await huge.ch.request(74).catch((error: unknown) => error)) as {code: string; cause: Error}
    expect(e1.code).to.equal('SETUP_FLAG_PROTOCOL')
    expect(e1.cause.message).to.match(/65536 bytes/)
    expect(huge.dev.remaining).to.equal(0)
    const short = channel([
      {reply: OK_ID1, setup: INIT74},
      {reply: '0D 00 00 00 00 00 02 00 00 00 00 00 00 00', setup: CHECK1},
      {reply: '08', setup: 'C0 04 00 00 01 00 02 00'},
      RESET1,
    ])
    const e2 = (await short.ch.request(74).catch((error: unknown) => error)) as {code: string; cause: Error}
    expect(e2.code).to.equal('SETUP_FLAG_PROTOCOL')
    expect(e2.cause.message).to.match(/RECV returned 1 of 2 bytes/)
    expect(short.dev.remaining).to.equal(0)
  })

  it('is-setup-done without a payload (3.x, flag not 0x01)', async () => {
    const {ch} = channel([
      {reply: OK_ID1, setup: INIT74},
      {reply: DONE_OK, setup: CHECK1},
    ])
    const r = await ch.request(74)
    expect(r.result).to.equal(0)
    expect(r.data.length).to.equal(0)
  })

  it('RESET(0) after opening', async () => {
    const {ch, dev} = channel([{reply: '01 00 00 00 00 00', setup: 'C0 05 00 00 00 00 40 00'}])
    await ch.resetAll()
    expect(dev.remaining).to.equal(0)
  })

  it('backs off on BUSY and retries INIT', async () => {
    const clock = new FakeClock()
    const {ch} = channel(
      [
        {reply: '01 00 00 00 03 00', setup: INIT74},
        {reply: '01 00 00 00 03 00', setup: INIT74},
        {reply: OK_ID1, setup: INIT74},
        {reply: DONE_OK, setup: CHECK1},
      ],
      clock,
    )
    await ch.request(74)
    expect(clock.now()).to.equal(150) // 50 + 100 ms of back-off, on the fake clock
  })

  it('polls CHECK on the back-off schedule, then gives up with RESET(id) at the deadline', async () => {
    const clock = new FakeClock()
    const script: Step[] = [{reply: OK_ID1, setup: INIT74}]
    for (let i = 0; i < 13; i++) script.push({reply: PENDING, setup: CHECK1})
    script.push({reply: '01 00 00 00 00 00', setup: 'C0 05 00 00 01 00 40 00'})
    const {ch, dev} = channel(script, clock)
    // deadline 5 s: CHECKs at 0, 50, 100, 200, 300, 550, 800, 1300, 1800, 2800, 3800, 4800 and a last one at 5000 (13)
    const err = await ch.request(74, undefined, {timeoutMs: 5000}).catch((error: unknown) => error)
    expect(err).to.be.instanceOf(RequestPendingTimeout)
    expect((err as RequestPendingTimeout).message).to.match(/never completed/)
    expect((err as RequestPendingTimeout).suggestions.join(' ')).to.match(/hold MODE and RESET, release RESET, release MODE when the LED blinks magenta/)
    expect(dev.done.at(-1)).to.equal('C0 05 00 00 01 00 40 00')
    expect(dev.done.filter((s) => s === CHECK1)).to.have.length(13)
    expect(dev.remaining).to.equal(0)
    expect(clock.now()).to.equal(5000)
  })

  it('waits for the buffer of a large payload (INIT PENDING) before SEND', async () => {
    const payload = new Uint8Array(100).fill(7)
    const {ch} = channel([
      {reply: '03 00 00 00 02 00 01 00', setup: 'C0 01 64 00 0A 00 40 00'},
      {reply: PENDING, setup: CHECK1},
      {reply: '01 00 00 00 00 00', setup: CHECK1},
      {out: Array.from(payload, () => '07').join(' '), setup: '40 03 00 00 01 00 64 00'},
      {reply: DONE_OK, setup: CHECK1},
    ])
    expect((await ch.request(10, payload)).result).to.equal(0)
  })

  it('turns stalls and garbage into typed errors', async () => {
    const stall = channel([{reply: 'stall', setup: INIT74}])
    const e1 = (await stall.ch.request(74).catch((error: unknown) => error)) as {code: string}
    expect(e1.code).to.equal('SETUP_FLAG_USB_STALL')
    const garbage = channel([{reply: '07', setup: INIT74}])
    const e2 = (await garbage.ch.request(74).catch((error: unknown) => error)) as {code: string}
    expect(e2.code).to.equal('SETUP_FLAG_PROTOCOL')
  })
})
