// Hands on a virtual device (`virtual press`): each press does what it does to a real device, on the bus in this
// process and, through the devices file, on the bus of another process that has the file open (the doctor).
import {expect} from 'chai'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {FakeClock} from '../../../src/lib/clock.js'
import {parsePresses, pressedSpec, pressInFile} from '../../../src/lib/virtual/buttons.js'
import {openVirtualUsbFile, type VirtualUsb} from '../../../src/lib/virtual/index.js'
import {ARGON_ID, BORON_ID, bus, nextEvent, spec} from './helpers.js'
import {failure} from '../../support/failure.js'


describe('virtual device: hands on the buttons and the cable', () => {
  describe('what each press makes of a device', () => {
    const stuck = spec({mode: 'listening', setupDone: 0xff})

    it('safe-mode: Safe Mode, listening too while the flag is not set; dfu: DFU mode; each counted', () => {
      expect(pressedSpec(stuck, 'safe-mode')).to.deep.equal({done: true, spec: {...stuck, listening: true, mode: 'safe', presses: 1}})
      expect(pressedSpec(spec(), 'safe-mode').spec).to.deep.include({mode: 'safe', presses: 1}).and.not.have.property('listening')
      expect(pressedSpec({...stuck, presses: 4}, 'dfu').spec).to.deep.equal({...stuck, mode: 'dfu', presses: 5})
    })

    it('reset: the boot check (listening while the flag is not set, else normal), and it clears the cloud-disconnect flag', () => {
      expect(pressedSpec(spec({cloudDisconnected: true, mode: 'safe'}), 'reset').spec).to.deep.equal({...spec(), presses: 1})
      expect(pressedSpec(spec({mode: 'dfu', setupDone: 0xff}), 'reset').spec.mode).to.equal('listening')
    })

    it('unplug: off USB and without power, when its buttons do nothing; plug: a power-up into the boot check', () => {
      const out = pressedSpec(stuck, 'unplug')
      expect(out).to.deep.equal({done: true, spec: {...stuck, presses: 1, unplugged: true}})
      expect(pressedSpec(out.spec, 'safe-mode')).to.deep.equal({done: false, spec: out.spec})
      expect(pressedSpec(out.spec, 'unplug').done).to.equal(false)
      expect(pressedSpec(stuck, 'plug').done).to.equal(false)
      expect(pressedSpec({...out.spec, mode: 'dfu'}, 'plug')).to.deep.equal({done: true, spec: {...stuck, presses: 2}})
    })
  })

  describe('on the bus of this process', () => {
    it('safe-mode: the device leaves USB and comes back in Safe Mode bootMs later; unplug/plug likewise', async () => {
      const {clock, usb} = bus(spec({mode: 'listening', setupDone: 0xff}), {bootMs: 500})
      const gone = nextEvent(usb, 'disconnect')
      expect(usb.press(ARGON_ID, 'safe-mode')).to.equal(true)
      await gone
      expect(await usb.getDevices()).to.have.length(0)
      const back = nextEvent(usb, 'connect')
      await clock.advance(500)
      expect((await back).device.serialNumber).to.equal(ARGON_ID)
      expect(usb.device(ARGON_ID)!.mode).to.equal('safe')
      expect(usb.press(ARGON_ID, 'unplug')).to.equal(true)
      await clock.advance(10_000)
      expect(await usb.getDevices()).to.have.length(0)
      expect(usb.press(ARGON_ID, 'reset')).to.equal(false) // no power
      expect(usb.specs()[0]).to.include({presses: 2, unplugged: true})
      expect(usb.press(ARGON_ID, 'plug')).to.equal(true)
      await clock.advance(500)
      expect(await usb.getDevices()).to.have.length(1)
      expect(usb.device(ARGON_ID)!.mode).to.equal('listening') // the flag is still not set
    })
  })

  describe('through a devices file, seen by the bus of another process', () => {
    let dir: string
    let file: string
    const open: VirtualUsb[] = []
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'virtual-press-'))
      file = join(dir, 'devices.json')
      writeFileSync(file, JSON.stringify({devices: [spec({mode: 'listening', setupDone: 0xff}), spec({id: BORON_ID, name: 'gate', platform: 'boron'})]}))
    })
    afterEach(() => {
      for (const usb of open.splice(0)) usb.close()
      rmSync(dir, {force: true, recursive: true})
    })
    const openBus = (clock = new FakeClock()) => {
      const usb = openVirtualUsbFile(file, {clock, timing: {bootMs: 500}})
      open.push(usb)
      return {clock, usb}
    }

    it('a press in the file restarts the device on the other bus, even into the same mode (a re-enumeration)', async () => {
      const {clock, usb} = openBus()
      const [before] = (await usb.getDevices()).filter((d) => d.serialNumber === ARGON_ID)
      const gone = nextEvent(usb, 'disconnect')
      const r = await pressInFile(file, ['reset', ARGON_ID.slice(0, 10)])
      expect(r.steps).to.deep.equal([{done: true, listening: true, mode: 'listening', press: 'reset', unplugged: false}])
      await usb.getDevices() // a look at the bus reads the file again (as the waits do every second)
      expect((await gone).device).to.equal(before)
      const back = nextEvent(usb, 'connect')
      await clock.advance(500)
      expect((await back).device).not.to.equal(before)
      expect(usb.device(ARGON_ID)!.mode).to.equal('listening')
    })

    it('dfu, then safe-mode by name; the other bus follows, and its own write-backs keep the presses', async () => {
      const {clock, usb} = openBus()
      await pressInFile(file, ['dfu', ARGON_ID])
      await usb.getDevices()
      await clock.advance(500)
      expect(usb.device(ARGON_ID)!.mode).to.equal('dfu')
      await pressInFile(file, ['safe-mode', 'GATE'])
      await usb.getDevices()
      await clock.advance(500)
      expect(usb.device(BORON_ID)!.mode).to.equal('safe')
      usb.device(ARGON_ID)!.setSetupDone(1) // this bus writes back
      const saved = JSON.parse(readFileSync(file, 'utf8')) as {devices: Array<Record<string, unknown>>}
      expect(saved.devices.map((d) => [d.mode, d.presses, d.setupDone])).to.deep.equal([['dfu', 1, 1], ['safe', 1, 1]])
    })

    it('a press this bus has not read yet when it writes its own change back is not undone: the hands win', async () => {
      const {clock, usb} = openBus()
      await pressInFile(file, ['dfu', ARGON_ID])
      usb.device(ARGON_ID)!.setSetupDone(0) // written back at once, over a file that holds the press
      await clock.advance(500)
      expect(usb.device(ARGON_ID)!.mode).to.equal('dfu')
      expect(JSON.parse(readFileSync(file, 'utf8')).devices[0]).to.include({mode: 'dfu', presses: 1})
    })

    it('unplug,plug in one sequence: both written, the device back in the boot check', async () => {
      const r = await pressInFile(file, ['unplug,plug', ARGON_ID])
      expect(r.steps.map((s) => [s.press, s.done, s.unplugged])).to.deep.equal([['unplug', true, true], ['plug', true, false]])
      expect(JSON.parse(readFileSync(file, 'utf8')).devices[0]).to.include({mode: 'listening', presses: 2}).and.not.have.property('unplugged')
    })

    it('several devices and none named: refused with them; a name or ID that is not there: refused with them, closest first', async () => {
      expect((await failure(pressInFile(file, ['reset']))).code).to.equal('SETUP_FLAG_MULTIPLE_DEVICES')
      const e = await failure(pressInFile(file, ['reset', 'gatf']))
      expect(e).to.include({code: 'SETUP_FLAG_VIRTUAL_PRESS', exit: 3})
      expect(e.message.split('\n')[1]).to.equal(`  gate ${BORON_ID} (Boron), 1 character different`)
    })
  })

  describe('the sequence as typed', () => {
    it('words or commas, in order; replug is unplug then plug; the last word that is no press is the device', async () => {
      expect(await parsePresses(['unplug,plug'])).to.deep.equal({presses: ['unplug', 'plug']})
      expect(await parsePresses(['replug', 'DFU', 'my-boron'])).to.deep.equal({device: 'my-boron', presses: ['unplug', 'plug', 'dfu']})
    })

    it('a mistyped press is not taken for a device: refused with the press it is closest to (exit 2)', async () => {
      const e = await failure(parsePresses(['safe-mod']))
      expect(e).to.include({code: 'SETUP_FLAG_USAGE', exit: 2})
      expect(e.suggestions[0]).to.equal('Did you mean `particle-setup-flag virtual press safe-mode`?')
      expect((await failure(parsePresses(['reset', 'rest']))).message).to.contain('"rest" is not a button press')
      expect((await failure(parsePresses([]))).message).to.contain('`virtual press` needs the buttons to press')
    })
  })
})
