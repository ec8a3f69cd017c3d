import {expect} from 'chai'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {FakeClock} from '../../../src/lib/clock.js'
import {SetupFlagError} from '../../../src/lib/errors.js'
import {loadDevicesFile, openVirtualUsbFile, updateDevicesFile, validateDevicesFile, type VirtualUsb} from '../../../src/lib/virtual/index.js'
import {ARGON_ID, BORON_ID, nextEvent, request, spec} from './helpers.js'

function problemOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(SetupFlagError)
    const e = error as SetupFlagError
    expect(e.code).to.equal('SETUP_FLAG_DEVICES_FILE')
    expect(e.exit).to.equal(2)
    return e.message
  }
  throw new Error('expected a devices-file error')
}

describe('virtual devices file (PARTICLE_VIRTUAL_DEVICES)', () => {
  let dir: string
  let file: string
  const open: VirtualUsb[] = []

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'virtual-devices-'))
    file = join(dir, 'devices.json')
  })

  afterEach(() => {
    for (const usb of open.splice(0)) usb.close()
    rmSync(dir, {force: true, recursive: true})
  })

  function write(json: unknown): void {
    writeFileSync(file, typeof json === 'string' ? json : `${JSON.stringify(json, null, 2)}\n`)
  }

  function read(): {devices: Array<Record<string, unknown>>; [k: string]: unknown} {
    return JSON.parse(readFileSync(file, 'utf8'))
  }

  function openBus(clock = new FakeClock()): VirtualUsb {
    const usb = openVirtualUsbFile(file, {clock})
    open.push(usb)
    return usb
  }

  describe('validation', () => {
    const valid = () => ({devices: [spec(), spec({id: BORON_ID, platform: 'boron'})]})
    const withDevice = (i: number, over: Record<string, unknown>) => {
      const doc = valid() as unknown as {devices: Array<Record<string, unknown>>}
      doc.devices[i] = {...doc.devices[i], ...over}
      return doc
    }
    const cases: Array<[string, unknown, string]> = [
      ['the top level is not an object', [1, 2], 'the top level must be a JSON object with a "devices" array'],
      ['devices is missing', {}, 'the top level has no "devices" array'],
      ['devices is not an array', {devices: {}}, '"devices" must be an array'],
      ['a device is not an object', {devices: [spec(), 7]}, 'devices[1] must be an object'],
      ['a bad id', withDevice(1, {id: 'e00fce68'}), 'devices[1].id must be 24 hex digits'],
      ['a duplicate id', withDevice(1, {id: ARGON_ID.toUpperCase()}), 'devices[1].id duplicates devices[0].id'],
      ['an unknown platform', withDevice(0, {platform: 'foo'}), 'devices[0].platform: unknown platform "foo"'],
      ['a platform without USB', withDevice(0, {platform: 'tachyon'}), 'platform "tachyon" is not simulated'],
      ['a bad version', withDevice(0, {deviceOs: 'three'}), 'devices[0].deviceOs must be a Device OS version such as "3.3.1"'],
      ['a bad mode', withDevice(0, {mode: 'blinking'}), 'devices[0].mode must be one of "normal", "listening", "safe", "dfu"'],
      ['a fractional setupDone', withDevice(0, {setupDone: 1.5}), 'devices[0].setupDone must be an integer 0-255'],
      ['a setupDone over 255', withDevice(1, {setupDone: 256}), 'devices[1].setupDone must be an integer 0-255'],
      ['a string setupDone', withDevice(0, {setupDone: '1'}), 'devices[0].setupDone must be an integer 0-255'],
      ['an unknown fault', withDevice(0, {faults: {stall: true}}), 'devices[0].faults has an unknown fault "stall"'],
      ['a bad fault value', withDevice(0, {faults: {busy: -1}}), 'devices[0].faults.busy must be a whole number'],
      ['a bad blockedSystemThread', withDevice(0, {faults: {blockedSystemThread: 'yes'}}), 'must be true, false, "app" or "connecting"'],
      ['an unknown device key', withDevice(0, {setupdone: 1}), 'devices[0] has an unknown key "setupdone"'],
      ['a non-boolean listening', withDevice(0, {listening: 'no'}), 'devices[0].listening must be true or false'],
    ]
    for (const [what, json, problem] of cases) {
      it(`rejects ${what}`, () => {
        const message = problemOf(() => validateDevicesFile(json, 'devices.json'))
        expect(message).to.contain(problem)
        expect(message).to.contain('The virtual devices file devices.json is not usable')
      })
    }

    it('rejects a file that is not JSON, or missing, naming the file', () => {
      write('{"devices": [')
      expect(problemOf(() => loadDevicesFile(file))).to.contain('not valid JSON')
      expect(problemOf(() => loadDevicesFile(join(dir, 'nope.json')))).to.contain('does not exist')
      expect(problemOf(() => openVirtualUsbFile(join(dir, 'nope.json')))).to.contain('nope.json')
    })

    it('accepts a valid file, lowercasing ids', () => {
      write({comment: 'bench', devices: [{...spec(), id: ARGON_ID.toUpperCase(), faults: {}, name: 'a'}]})
      expect(loadDevicesFile(file)).to.deep.equal({devices: [{...spec(), faults: {}, name: 'a'}]})
    })
  })

  describe('write-back and re-reading', () => {
    it('writes state changes back atomically, pretty-printed, keeping names and unknown top-level keys', async () => {
      write({comment: 'my bench', devices: [spec({mode: 'listening', name: 'stuck-argon', setupDone: 255}), spec({id: BORON_ID, platform: 'boron'})], version: 1})
      const inode = statSync(file).ino
      const usb = openBus()
      const dev = (await usb.getDevices())[0]
      await dev.open()
      await request(dev, 73, '08 01')
      const text = readFileSync(file, 'utf8')
      expect(text.endsWith('}\n')).to.equal(true)
      expect(text).to.contain('\n  "devices": [\n    {\n      "id"')
      expect(JSON.parse(text)).to.deep.equal({
        comment: 'my bench',
        devices: [
          {deviceOs: '3.3.1', id: ARGON_ID, mode: 'listening', name: 'stuck-argon', platform: 'argon', setupDone: 1},
          {deviceOs: '3.3.1', id: BORON_ID, mode: 'normal', platform: 'boron', setupDone: 1},
        ],
        version: 1,
      })
      expect(Object.keys(JSON.parse(text))).to.deep.equal(['comment', 'devices', 'version'])
      expect(statSync(file).ino).to.not.equal(inode) // replaced by rename, never rewritten in place
      expect(readdirSync(dir)).to.deep.equal(['devices.json']) // no temporary file left behind
      await request(dev, 71)
      expect(read().devices[0].mode).to.equal('normal')
    })

    it('lets a second process see what the first one wrote (set, then get)', async () => {
      write({devices: [spec({mode: 'normal', setupDone: 0xff})]})
      const first = openBus()
      const dev = (await first.getDevices())[0]
      await dev.open()
      await request(dev, 73, '08 01')
      first.close()
      const second = openBus()
      const dev2 = (await second.getDevices())[0]
      await dev2.open()
      expect((await request(dev2, 74)).reply).to.equal('08 01')
    })

    it('writes the final mode of a reset that was under way when the bus closed', async () => {
      write({devices: [spec({platform: 'boron'})]})
      const usb = openBus(new FakeClock(0, false))
      const dev = (await usb.getDevices())[0]
      await dev.open()
      await request(dev, 50)
      expect(read().devices[0].mode).to.equal('normal')
      usb.close()
      expect(read().devices[0].mode).to.equal('dfu')
    })

    it('editing a device mode in the file re-enumerates it in that mode (getDevices re-reads)', async () => {
      write({devices: [spec({mode: 'normal'})]})
      const clock = new FakeClock(0, false)
      const usb = openBus(clock)
      const before = (await usb.getDevices())[0]
      const events: string[] = []
      usb.addEventListener('disconnect', (ev) => events.push(`disconnect ${ev.device.productId.toString(16)}`))
      usb.addEventListener('connect', (ev) => events.push(`connect ${ev.device.productId.toString(16)}`))
      write({devices: [spec({mode: 'dfu'})]})
      expect(await usb.getDevices()).to.deep.equal([]) // rebooting
      await clock.advance(500)
      const after = (await usb.getDevices())[0]
      expect(after).to.not.equal(before)
      expect([after.productId, after.serialNumber]).to.deep.equal([0xd00c, ARGON_ID])
      expect(events).to.deep.equal(['disconnect c00c', 'connect d00c'])
      expect(read().devices[0].mode).to.equal('dfu')
    })

    it('notices edits by itself (directory watch), without anyone calling getDevices', async () => {
      write({devices: [spec({mode: 'normal'})]})
      const usb = openBus()
      const gone = nextEvent(usb, 'disconnect')
      const back = nextEvent(usb, 'connect')
      write({devices: [spec({mode: 'dfu'})]})
      await gone
      expect((await back).device.productId).to.equal(0xd00c)
    })

    it('applies edited setupDone and faults, and plugs and unplugs added and removed devices', async () => {
      write({devices: [spec({setupDone: 0xff})]})
      const usb = openBus(new FakeClock(0, false))
      const seen: string[] = []
      usb.addEventListener('connect', (ev) => seen.push(`connect ${ev.device.serialNumber}`))
      usb.addEventListener('disconnect', (ev) => seen.push(`disconnect ${ev.device.serialNumber}`))
      write({devices: [spec({faults: {stallControl: true}, setupDone: 0x01}), spec({id: BORON_ID, platform: 'boron'})]})
      const devices = await usb.getDevices()
      expect(devices.map((d) => d.serialNumber)).to.deep.equal([ARGON_ID, BORON_ID])
      expect(usb.device(ARGON_ID)!.setupDone).to.equal(0x01)
      expect(usb.device(ARGON_ID)!.faults).to.deep.equal({stallControl: true})
      write({devices: [spec({id: BORON_ID, platform: 'boron'})]})
      expect((await usb.getDevices()).map((d) => d.serialNumber)).to.deep.equal([BORON_ID])
      expect(seen).to.deep.equal([`connect ${BORON_ID}`, `disconnect ${ARGON_ID}`])
    })

    it('ignores an invalid edit (a half-written file) and keeps its state until the file is valid again', async () => {
      write({devices: [spec()]})
      const usb = openBus(new FakeClock(0, false))
      write('{"devices": [ {"id": ')
      expect(await usb.getDevices()).to.have.length(1)
      write({devices: [spec({setupDone: 0x00})]})
      await usb.getDevices()
      expect(usb.device(ARGON_ID)!.setupDone).to.equal(0x00)
    })

    it('a write-back is written in pieces, and its text is exactly JSON.stringify(document, null, 2), whatever the document holds', async () => {
      // Keys in the order JSON gives them (integer-like first), "__proto__" as a key, text beyond ASCII, nesting,
      // empty and null values, violations, and "devices" not first.
      const text = `{"2": [], "notes": {"a": [1, {"b": null}], "ü": "ñ — 電"}, "__proto__": {"x": 1}, "1": "one", "devices": [${JSON.stringify(spec({name: 'Zürich ☃', setupDone: 255}))}, ${JSON.stringify(spec({id: BORON_ID, platform: 'boron'}))}], "empty": {}, "violations": [{"deviceId": "${ARGON_ID}", "message": "earlier"}], "last": null}\n`
      write(text)
      /**
       * The file must be the document with the devices as written (each as the bus states it), by the plain route:
       * one JSON.stringify of the whole.
       */
      const check = (setupDone: number) => {
        const actual = readFileSync(file, 'utf8')
        const devices = JSON.parse(actual).devices as Array<Record<string, unknown>>
        expect(devices.map((d) => d.setupDone)).to.deep.equal([setupDone, 1])
        expect(devices[0].name).to.equal('Zürich ☃')
        const doc = JSON.parse(text) as Record<string, unknown>
        doc.devices = devices
        expect(actual).to.equal(`${JSON.stringify(doc, null, 2)}\n`)
      }
      const usb = openBus()
      usb.device(ARGON_ID)!.setSetupDone(0x01)
      check(1)
      usb.close()
      open.pop()
      updateDevicesFile(file, (devices) => {
        devices[0].setupDone = 0
      })
      check(0)
      // Nothing to change: the file is not written again (same inode, no temporary file left).
      const inode = statSync(file).ino
      updateDevicesFile(file, () => {})
      expect(statSync(file).ino).to.equal(inode)
      expect(readdirSync(dir)).to.deep.equal(['devices.json'])
    })

    it('a write-back over 10,000 devices keeps what another process changed meanwhile (the file is read again when it is not as this process left it)', async () => {
      const many = Array.from({length: 10_000}, (_, i) => spec({id: `e00fce68${i.toString(16).padStart(16, '0')}`, setupDone: 255}))
      write({devices: many})
      const clock = new FakeClock()
      const a = openBus(clock)
      a.device(many[0].id)!.setSetupDone(1) // written at once (the first write-back of a big file)
      updateDevicesFile(file, (devices) => {
        devices[9999].setupDone = 7 // another process
      })
      a.device(many[1].id)!.setSetupDone(1)
      ;(a as unknown as {flushNow(): void}).flushNow()
      const after = read().devices
      expect([after[0].setupDone, after[1].setupDone, after[2].setupDone, after[9999].setupDone]).to.deep.equal([1, 1, 255, 7])
      expect(a.device(many[9999].id)!.setupDone).to.equal(7) // and this bus took it over
    })

    it('records violations in the file as a top-level "violations" array, and keeps earlier ones', async () => {
      write({devices: [spec({mode: 'dfu'})]})
      const usb = openBus()
      const dev = (await usb.getDevices())[0]
      await dev.open()
      await dev.claimInterface(0)
      await dev.selectAlternateInterface(0, 1)
      await dev.controlTransferOut({index: 0, recipient: 'interface', request: 1, requestType: 'class', value: 0}, Uint8Array.of(0x41))
      expect(read().violations).to.deep.equal([{deviceId: ARGON_ID, message: 'DfuSe MASS ERASE on alt 1: erasing is never needed'}])
      usb.close()
      open.pop()
      const again = openBus()
      again.device(ARGON_ID)!.setSetupDone(0x05) // any write-back
      expect(read().violations).to.have.length(1)
    })
  })
})
