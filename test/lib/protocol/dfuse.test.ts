// The DfuSe client held to the exact transfers of `dfu-util -a 1 -s 8134:leave -D` and `-s 8134:1 -U`
// (docs/protocol.md §4.5 and §4.6), and to the recovery dfu-util does.
import {expect} from 'chai'

import {FakeClock} from '../../../src/lib/clock.js'
import {DFU_COMMAND_BUDGET_MS, DfuNotPermitted, DfuseClient} from '../../../src/lib/protocol/dfuse.js'
import {UsbIo} from '../../../src/lib/usb/io.js'
import {ScriptedDevice, type Step} from '../../support/scripted-device.js'

const DCT = '@DCT Flash   /0x00000000/1*016Ke'
const DCT_PROTECTED = '@DCT Flash   /0x00000000/1*016Kb'
const ALTS = ['@Internal Flash   /0x00000000/1*004Ka,47*004Kg,192*004Kg,4*004Kg,4*004Kg,8*004Ka', DCT, '@External Flash   /0x80000000/1024*004Kg']

const SET_ALT1: Step = {setup: '01 0B 01 00 00 00 00 00'}
const STATUS = 'A1 03 00 00 00 00 06 00'
const IDLE: Step = {reply: '00 00 00 00 02 00', setup: STATUS}
const DNBUSY: Step = {reply: '00 00 00 00 04 00', setup: STATUS}
const DNLOAD_IDLE: Step = {reply: '00 00 00 00 05 00', setup: STATUS}
const SET_ADDRESS_8134: Step[] = [{out: '21 C6 1F 00 00', setup: '21 01 00 00 00 00 05 00'}, DNBUSY, DNLOAD_IDLE]
const ABORT: Step = {setup: '21 06 00 00 00 00 00 00'}

function client(script: Step[], alts = ALTS) {
  const dev = new ScriptedDevice(script)
  dev.altNames = alts
  const io = new UsbIo(dev as unknown as USBDevice, dev.serialNumber)
  return {dev, dfu: new DfuseClient(dev as unknown as USBDevice, io, new FakeClock())}
}

describe('DfuSe on the wire (§4.5, §4.6)', () => {
  it('writes one byte at 8134 on alt 1 and leaves, exactly as dfu-util does', async () => {
    const {dev, dfu} = client([
      SET_ALT1,
      IDLE,
      ...SET_ADDRESS_8134,
      {out: '01', setup: '21 01 02 00 00 00 01 00'},
      DNBUSY,
      DNLOAD_IDLE,
      ABORT,
      IDLE,
      ...SET_ADDRESS_8134,
      {out: '', setup: '21 01 02 00 00 00 00 00'},
      {reply: '00 00 00 00 07 00', setup: STATUS},
    ])
    await dfu.open(1)
    await dfu.write(8134, Uint8Array.of(1))
    await dfu.leave(8134)
    expect(dev.remaining).to.equal(0)
  })

  it('reads one byte at 8134 on alt 1', async () => {
    const {dev, dfu} = client([
      SET_ALT1,
      IDLE,
      ...SET_ADDRESS_8134,
      ABORT,
      IDLE,
      {reply: 'FF', setup: 'A1 02 02 00 00 00 01 00'},
      ABORT,
      IDLE,
    ])
    await dfu.open(1)
    expect([...(await dfu.read(8134, 1))]).to.deep.equal([0xff])
    expect(dev.remaining).to.equal(0)
  })

  it('read, write, read back, leave in one session: one GETSTATUS to start, none repeated while the state is known', async () => {
    const UPLOAD_1 = 'A1 02 02 00 00 00 01 00'
    const {dev, dfu} = client([
      SET_ALT1,
      IDLE, // state unknown: the only recovery GETSTATUS
      ...SET_ADDRESS_8134,
      ABORT,
      IDLE,
      {reply: 'FF', setup: UPLOAD_1},
      ABORT,
      IDLE, // known idle from here: the write starts with its SET_ADDRESS
      ...SET_ADDRESS_8134,
      {out: '01', setup: '21 01 02 00 00 00 01 00'},
      DNBUSY,
      DNLOAD_IDLE,
      ABORT,
      IDLE,
      ...SET_ADDRESS_8134,
      ABORT,
      IDLE,
      {reply: '01', setup: UPLOAD_1},
      ABORT,
      IDLE,
      ...SET_ADDRESS_8134,
      {out: '', setup: '21 01 02 00 00 00 00 00'},
      {reply: '00 00 00 00 07 00', setup: STATUS},
    ])
    await dfu.open(1)
    expect([...(await dfu.read(8134, 1))]).to.deep.equal([0xff])
    await dfu.write(8134, Uint8Array.of(1))
    expect([...(await dfu.read(8134, 1))]).to.deep.equal([1])
    await dfu.leave(8134)
    expect(dev.remaining).to.equal(0)
  })

  it('asks for the state again after a refused transfer, then trusts the idle answer it got', async () => {
    const {dev, dfu} = client([
      SET_ALT1,
      IDLE,
      ...SET_ADDRESS_8134,
      {out: '01', reply: 'stall', setup: '21 01 02 00 00 00 01 00'}, // the data DNLOAD stalls
      {reply: '0E 00 00 00 0A 00', setup: STATUS}, // so the state is asked for: dfuERROR
      {setup: '21 04 00 00 00 00 00 00'}, // CLRSTATUS
      IDLE,
      ...SET_ADDRESS_8134, // the read that follows needs no GETSTATUS of its own
      ABORT,
      IDLE,
      {reply: 'FF', setup: 'A1 02 02 00 00 00 01 00'},
      ABORT,
      IDLE,
    ])
    await dfu.open(1)
    const err = (await dfu.write(8134, Uint8Array.of(1)).catch((error: unknown) => error)) as {code: string}
    expect(err.code).to.equal('SETUP_FLAG_DFU')
    expect([...(await dfu.read(8134, 1))]).to.deep.equal([0xff])
    expect(dev.remaining).to.equal(0)
  })

  it('recovers a bootloader left in dfuERROR or dfuUPLOAD_IDLE before it starts', async () => {
    const {dev, dfu} = client([
      SET_ALT1,
      {reply: '0E 00 00 00 0A 00', setup: STATUS}, // dfuERROR, errUNKNOWN
      {setup: '21 04 00 00 00 00 00 00'}, // CLRSTATUS
      {reply: '00 00 00 00 09 00', setup: STATUS}, // dfuUPLOAD_IDLE
      ABORT,
      IDLE,
      ...SET_ADDRESS_8134,
      ABORT,
      IDLE,
      {reply: '01', setup: 'A1 02 02 00 00 00 01 00'},
      ABORT,
      IDLE,
    ])
    await dfu.open(1)
    expect([...(await dfu.read(8134, 1))]).to.deep.equal([1])
    expect(dev.remaining).to.equal(0)
  })

  it('reports a write error, leaves the bootloader idle, and does not retry', async () => {
    const {dev, dfu} = client([
      SET_ALT1,
      IDLE,
      ...SET_ADDRESS_8134,
      {out: '01', setup: '21 01 02 00 00 00 01 00'},
      DNBUSY,
      {reply: '0E 00 00 00 0A 00', setup: STATUS}, // dfuERROR
      {reply: '0E 00 00 00 0A 00', setup: STATUS},
      {setup: '21 04 00 00 00 00 00 00'},
      IDLE,
    ])
    await dfu.open(1)
    const err = (await dfu.write(8134, Uint8Array.of(1)).catch((error: unknown) => error)) as {code: string; message: string}
    expect(err.code).to.equal('SETUP_FLAG_DFU')
    expect(err.message).to.match(/status 14/)
    expect(dev.remaining).to.equal(0)
  })

  it('refuses before any transfer where the layout forbids it (Device Protection)', async () => {
    const {dev, dfu} = client([SET_ALT1], [ALTS[0], DCT_PROTECTED, ALTS[2]])
    await dfu.open(1)
    await dfu.write(8134, Uint8Array.of(1)).then(
      () => expect.fail('wrote'),
      (error: unknown) => expect(error).to.be.instanceOf(DfuNotPermitted),
    )
    await dfu.read(8134, 1).then(
      () => expect.fail('read'),
      (error: unknown) => expect(error).to.be.instanceOf(DfuNotPermitted),
    )
    expect(dev.remaining).to.equal(0)
  })

  it('bounds the wait of a DfuSe command as a whole, whatever bwPollTimeout a corrupt status asks for', async () => {
    const busyForHours: Step = {reply: '00 FF FF FF 04 00', setup: STATUS} // DNBUSY, poll 0xFFFFFF ms (4.6 h)
    const clock = new FakeClock()
    const dev = new ScriptedDevice([
      SET_ALT1,
      IDLE,
      {out: '21 C6 1F 00 00', setup: '21 01 00 00 00 00 05 00'},
      busyForHours,
      busyForHours,
      {reply: '0E 00 00 00 0A 00', setup: STATUS}, // recovery: dfuERROR
      {setup: '21 04 00 00 00 00 00 00'},
      IDLE,
    ])
    dev.altNames = ALTS
    const dfu = new DfuseClient(dev as unknown as USBDevice, new UsbIo(dev as unknown as USBDevice, dev.serialNumber), clock)
    await dfu.open(1)
    const err = (await dfu.read(8134, 1).catch((error: unknown) => error)) as {code: string; message: string}
    expect(err.code).to.equal('SETUP_FLAG_DFU')
    expect(err.message).to.match(/stayed busy/)
    expect(clock.now()).to.equal(DFU_COMMAND_BUDGET_MS)
    expect(dev.remaining).to.equal(0)
  })

  it('refuses addresses outside the alt setting', async () => {
    const {dfu} = client([SET_ALT1])
    await dfu.open(1)
    const err = (await dfu.write(0x4000, Uint8Array.of(1)).catch((error: unknown) => error)) as {message: string}
    expect(err.message).to.match(/outside alt setting 1/)
  })
})
