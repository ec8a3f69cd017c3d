// What the `usb` package says on Windows, macOS and Linux when the system below it refuses, raised by the virtual
// bus with the same texts (faults `usbError` and `claimForControl`), and the error and advice each becomes for
// that system. And the claim Windows needs: the `usb` package (3.x) sends a device-recipient control transfer
// there only through a claimed interface.
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'

import {FakeClock} from '../../../src/lib/clock.js'
import {type SetupFlagError} from '../../../src/lib/errors.js'
import {rawSystemVersion} from '../../../src/lib/protocol/raw.js'
import {mapUsbError} from '../../../src/lib/usb/errors.js'
import {openForControl} from '../../../src/lib/usb/io.js'
import {createVirtualUsb, type VirtualDeviceSpec, type VirtualFaults} from '../../../src/lib/virtual/index.js'
import {devicesFile, ROOT, runJson} from '../../support/cli.js'

const ID = 'e00fce681a2b3c4d5e6f7a8b'

async function device(faults: VirtualFaults, mode: VirtualDeviceSpec['mode'] = 'normal'): Promise<USBDevice> {
  const usb = createVirtualUsb({clock: new FakeClock(), devices: [{deviceOs: '3.3.1', faults, id: ID, mode, platform: 'argon', setupDone: 0xff}]})
  const [d] = await usb.getDevices()
  return d
}

/** Open as we do on `system`, then ask for the Device OS version (raw request 30): the error, or the answer. */
async function openAndAsk(faults: VirtualFaults, system: string): Promise<SetupFlagError | string | undefined> {
  try {
    const io = await openForControl(await device(faults), ID, system)
    return await rawSystemVersion(io)
  } catch (error) {
    return error as SetupFlagError
  }
}

/** The rejection a call of the virtual bus raises (the package's own text), as we map it on `system`. */
async function raised(call: () => Promise<unknown>, system: string): Promise<{error: SetupFlagError; text: string}> {
  const text = await call().then(
    () => '',
    (error: Error) => error.message,
  )
  expect(text, 'the call rejected').not.to.equal('')
  return {error: mapUsbError(new Error(text), 'opening the device', ID, system), text}
}

describe('the `usb` package on each system: its errors, raised on the virtual bus, and our advice', () => {
  describe('Windows', () => {
    it('control requests go through the claimed control interface: without the claim they fail "invalid state"', async () => {
      expect(await openAndAsk({claimForControl: true}, 'win32')).to.equal('3.3.1')
      const linuxWay = await openAndAsk({claimForControl: true}, 'linux')
      expect((linuxWay as SetupFlagError).cause).to.have.property('message', 'controlTransferIn error: invalid state')
      // On Linux nothing is claimed: a vendor request to the device takes nothing from a kernel driver.
      const d = await device({})
      await openForControl(d, ID, 'linux')
      expect(d.configuration!.interfaces.filter((i) => i.claimed)).to.deep.equal([])
    })

    it('close() releases the control interface it claimed (the `usb` package keeps claims past close; WinUSB allows one holder)', async () => {
      const d = await device({claimForControl: true})
      const released: number[] = []
      const release = d.releaseInterface.bind(d)
      d.releaseInterface = async (n: number) => {
        released.push(n)
        return release(n)
      }
      await openForControl(d, ID, 'win32')
      expect(d.configuration!.interfaces.filter((i) => i.claimed).map((i) => i.interfaceNumber)).to.deep.equal([2])
      await d.close()
      expect(released).to.deep.equal([2])
      // Opened again (a later step of the same run): claimed again, released again.
      await openForControl(d, ID, 'win32')
      await d.close()
      expect(released).to.deep.equal([2, 2])
    })

    for (const text of [
      'claimInterface error: incompatible driver is installed for this interface',
      'claimInterface error: incompatible driver is installed for this device',
      'claimInterface error: could not determine driver for interface',
      'claimInterface error: Could not find DeviceInterfaceGUIDs in registry. WinUSB driver may not be correctly installed for this interface.',
    ]) {
      it(`no WinUSB on the control interface: "${text}" -> SETUP_FLAG_USB_DRIVER, exit 5, how to get WinUSB`, async () => {
        const e = (await openAndAsk({claimForControl: true, usbError: {claimInterface: text}}, 'win32')) as SetupFlagError
        expect(e).to.include({code: 'SETUP_FLAG_USB_DRIVER', exit: 5})
        expect(e.message).to.equal(`Device ${ID} cannot be used: Windows has not given its USB control interface the WinUSB driver.`)
        expect(e.suggestions.join('\n')).to.contain('Windows 10 and 11 install WinUSB').and.contain('Device Manager').and.contain('Zadig')
        expect((e.cause as Error).message).to.equal(text)
      })
    }

    it('held by another program: "failed to open device (error 5)" -> SETUP_FLAG_USB_BUSY, exit 5, Windows advice', async () => {
      const e = (await openAndAsk({claimForControl: true, usbError: {claimInterface: 'claimInterface error: failed to open device (error 5)'}}, 'win32')) as SetupFlagError
      expect(e).to.include({code: 'SETUP_FLAG_USB_BUSY', exit: 5})
      expect(e.suggestions.join('\n')).to.contain('Particle CLI').and.contain('"access denied" (error 5)')
    })

    it('`usb` 2.x (libusb): LIBUSB_ERROR_NOT_SUPPORTED is a driver problem on Windows, no USB support elsewhere; LIBUSB_ERROR_ACCESS is another program there', async () => {
      const open = {usbError: {open: 'LIBUSB_ERROR_NOT_SUPPORTED'}}
      expect(await openAndAsk(open, 'win32')).to.include({code: 'SETUP_FLAG_USB_DRIVER', exit: 5})
      expect(await openAndAsk(open, 'linux')).to.include({code: 'SETUP_FLAG_NO_USB', exit: 4})
      expect(await openAndAsk({usbError: {open: 'LIBUSB_ERROR_ACCESS'}}, 'win32')).to.include({code: 'SETUP_FLAG_USB_BUSY', exit: 5})
      expect(await openAndAsk({usbError: {open: 'LIBUSB_ERROR_BUSY'}}, 'win32')).to.include({code: 'SETUP_FLAG_USB_BUSY', exit: 5})
    })
  })

  describe('macOS', () => {
    it('the DFU interface opened for exclusive access by another program (kIOReturnExclusiveAccess) -> SETUP_FLAG_USB_BUSY, macOS advice', async () => {
      const text = 'claimInterface error: could not open interface for exclusive access (error 0xe00002c5)'
      const d = await device({usbError: {claimInterface: text}}, 'dfu')
      await d.open()
      const {error} = await raised(() => d.claimInterface(0), 'darwin')
      expect(error).to.include({code: 'SETUP_FLAG_USB_BUSY', exit: 5})
      expect(error.suggestions.join('\n')).to.contain('macOS').and.contain('exclusive access')
    })

    it('no driver and no claim are needed: a normal-mode device answers at once', async () => {
      expect(await openAndAsk({}, 'darwin')).to.equal('3.3.1')
    })

    it('`usb` 2.x (libusb) LIBUSB_ERROR_ACCESS (an exclusive open by another program there) -> SETUP_FLAG_USB_BUSY, never a udev rule', async () => {
      const e = (await openAndAsk({usbError: {open: 'LIBUSB_ERROR_ACCESS'}}, 'darwin')) as SetupFlagError
      expect(e).to.include({code: 'SETUP_FLAG_USB_BUSY', exit: 5})
      expect(e.suggestions.join('\n')).to.contain('macOS').and.not.contain('udev')
    })
  })

  describe('Linux', () => {
    it('"open error: permission denied (errno 13)" -> SETUP_FLAG_USB_ACCESS with the udev rule', async () => {
      const e = (await openAndAsk({usbError: {open: 'open error: permission denied (errno 13)'}}, 'linux')) as SetupFlagError
      expect(e).to.include({code: 'SETUP_FLAG_USB_ACCESS', exit: 5})
      expect(e.suggestions.join('\n')).to.contain('udev')
    })

    it('dfu-util holding the DFU interface: "interface is busy (errno 16)" -> SETUP_FLAG_USB_BUSY, and `get` exits 5 saying so', async () => {
      const text = 'claimInterface error: interface is busy (errno 16)'
      const d = await device({usbError: {claimInterface: text}}, 'dfu')
      await d.open()
      const {error} = await raised(() => d.claimInterface(0), 'linux')
      expect(error).to.include({code: 'SETUP_FLAG_USB_BUSY', exit: 5})
      expect(error.suggestions.join('\n')).to.contain('lsof')

      const file = devicesFile([{deviceOs: '3.3.1', faults: {usbError: {claimInterface: text}}, id: ID, mode: 'dfu', platform: 'argon', setupDone: 255}])
      const r = await runJson<{devices: Array<{error?: {code: string; message: string}}>}>(['get'], {env: {PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_DEVICES: file}})
      expect(r.code, r.stderr).to.equal(5)
      expect(r.json.devices[0].error).to.include({code: 'SETUP_FLAG_USB_BUSY', message: `Device ${ID} is in use by another program, so it cannot be opened here.`})
    })
  })

  it('the devices file checks the new faults', async () => {
    const file = devicesFile([{deviceOs: '3.3.1', faults: {usbError: {opn: 'x'}}, id: ID, mode: 'normal', platform: 'argon', setupDone: 255}])
    const r = await runJson(['get'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
    expect(r.code).to.equal(2)
    expect(JSON.stringify(r.json)).to.contain('faults.usbError must be an object of error texts for')
  })
})

describe('docs/platforms.md and the code agree', () => {
  const doc = readFileSync(join(ROOT, 'docs/platforms.md'), 'utf8')
  const SYSTEMS: Record<string, string> = {Linux: 'linux', macOS: 'darwin', Windows: 'win32'}

  it('every error text in its tables becomes the error the table names, on that system', async () => {
    let checked = 0
    for (const section of doc.split(/^## /m).slice(1)) {
      const system = SYSTEMS[section.split('\n')[0].trim()]
      if (!system) continue
      for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
        const [said, , ours] = row.split(' | ')
        const code = /`(SETUP_FLAG_\w+)`/.exec(ours ?? '')?.[1]
        if (!code) continue
        for (const [, text] of said.matchAll(/`([^`]+)`/g)) {
          if (text.startsWith('...') || !/error/i.test(text)) continue
          let e: SetupFlagError
          if (text.startsWith('claimInterface') && system !== 'win32') {
            // Only the DFU interface is claimed there.
            const d = await device({usbError: {claimInterface: text}}, 'dfu')
            await d.open()
            e = (await raised(() => d.claimInterface(0), system)).error
          } else {
            const call = text.startsWith('claimInterface') ? 'claimInterface' : 'open'
            e = (await openAndAsk({claimForControl: system === 'win32', usbError: {[call]: text}}, system)) as SetupFlagError
          }
          expect(e.code, `${system}: ${text}`).to.equal(code)
          checked++
        }
      }
    }
    expect(checked).to.be.at.least(10)
  })

  it('the `usb` floor stays past the known breaks: 2.15.0 (open() on Windows), 3.0.0 (device control transfers on macOS and Linux)', () => {
    const range = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {dependencies: Record<string, string>}).dependencies.usb
    const semver = createRequire(import.meta.url)('semver') as {intersects(a: string, b: string): boolean; minVersion(r: string): {version: string}}
    for (const broken of ['2.15.x', '3.0.0']) expect(semver.intersects(range, broken), `${range} admits ${broken}`).to.equal(false)
    expect(doc).to.contain(`\`${range}\` in package.json`)
  })
})
