// The real `usb` binding loads in every test run, and what a machine without USB (like CI here) says is clear.
import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'

import {realClock} from '../../../src/lib/clock.js'
import {isSetupFlagError} from '../../../src/lib/errors.js'
import {openUsbBackend} from '../../../src/lib/backends.js'
import {listUsbDevices} from '../../../src/lib/usb/backend.js'
import {isAccessDenied, isGone, isNoUsbSubsystem, isTimeout, mapUsbError} from '../../../src/lib/usb/errors.js'
import {ROOT, runCli} from '../../support/cli.js'

const hasUsb = existsSync('/sys/bus/usb')

describe('the real USB backend', () => {
  it('loads the native `usb` binding (WebUSB, no install script)', async () => {
    const backend = await openUsbBackend({}, realClock, ROOT)
    expect(backend.kind).to.equal('usb')
    expect(backend.usb.getDevices).to.be.a('function')
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.endsWith('.node'))
    expect(loaded.some((k) => /usb/.test(k)), 'a usb .node binding in the require cache').to.equal(true)
  })

  it(hasUsb ? 'lists devices' : 'says clearly that there is no USB subsystem (exit 4)', async () => {
    const backend = await openUsbBackend({}, realClock, ROOT)
    if (hasUsb) {
      expect(await listUsbDevices(backend)).to.be.an('array')
      return
    }
    const err = await listUsbDevices(backend).catch((error: unknown) => error)
    expect(isSetupFlagError(err) && err.code).to.equal('SETUP_FLAG_NO_USB')
    const r = await runCli(['get'])
    expect(r.code).to.equal(4)
    expect(r.stderr).to.contain('no USB subsystem')
    expect(r.stderr).to.contain('PARTICLE_VIRTUAL_DEVICES=')
    expect(r.stderr).not.to.match(/\n\s+at /)
  })

  it('maps what WebUSB implementations throw', () => {
    expect(isAccessDenied(Object.assign(new Error('x'), {name: 'SecurityError'}))).to.equal(true)
    expect(isAccessDenied(new Error('open error: Permission denied (os error 13)'))).to.equal(true)
    expect(isGone(Object.assign(new Error('gone'), {name: 'NotFoundError'}))).to.equal(true)
    expect(isGone(new Error('LIBUSB_ERROR_NO_DEVICE'))).to.equal(true)
    expect(isTimeout(new Error('LIBUSB_TRANSFER_TIMED_OUT'))).to.equal(true)
    expect(isNoUsbSubsystem(new Error('getDevices error: /sys/bus/usb/devices/ not found (errno 2)'))).to.equal(true)
    expect(mapUsbError(new Error('weird'), 'x').code).to.equal('SETUP_FLAG_PROTOCOL')
    expect(mapUsbError(Object.assign(new Error('t'), {name: 'TimeoutError'}), 'x').code).to.equal('SETUP_FLAG_TIMEOUT')
  })
})
