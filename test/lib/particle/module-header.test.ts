// Which system-part header belongs to the running system part (bootloader/src/nRF52840/dfu_usb.c@v6.2.0:16-25,
// dynalib/inc/module_info.inc@v6.2.0:175-186), and a DFU-mode read after a downgrade from 6.2.0.
import {expect} from 'chai'

import {type ModuleHeader, runningSystemHeader} from '../../../src/lib/particle/module-header.js'
import {readSetupFlag} from '../../../src/lib/flag.js'
import type {VirtualDeviceSpec} from '../../../src/lib/virtual/index.js'
import {virtualBackend} from '../../support/virtual-backend.js'

const AT = {legacy: 0x30200, primary: 0x28200}
const h = (start: number, end: number, version: number, platformId = 13): ModuleHeader => ({end, function: 4, index: 1, platformId, start, version})

async function readDfu(device: VirtualDeviceSpec) {
  const {clock, found: list, usb} = virtualBackend([device])
  const [found] = await list()
  const report = await readSetupFlag(found, {clock, timeoutMs: 1000})
  usb.close()
  return report
}

describe('the running system part header', () => {
  it('a genuine 6.2.0 image: both headers name 6200, the primary wins', () => {
    expect(runningSystemHeader(h(0x28000, 0xb4000, 6200), h(0x30000, 0x31000, 6200), 13, AT)?.start).to.equal(0x28000)
  })

  it('a stale 6.2.0 header over an older part at 0x30000 (another version there): the legacy one runs', () => {
    expect(runningSystemHeader(h(0x28000, 0xb4000, 6200), h(0x30000, 0xb4000, 3302), 13, AT)?.version).to.equal(3302)
    expect(runningSystemHeader(h(0x28000, 0xb4000, 6200), undefined, 13, AT)).to.equal(undefined)
  })

  it('only headers that are a system part of this platform at their own address count', () => {
    expect(runningSystemHeader(h(0x28000, 0xb4000, 6200, 12), h(0x30000, 0xb4000, 3302), 13, AT)?.version).to.equal(3302)
    expect(runningSystemHeader(undefined, h(0x30000, 0xb4000, 5901), 13, AT)?.version).to.equal(5901)
  })

  it('get in DFU mode after a downgrade from 6.2.0 to 3.3.1 names 3.3.1 and reads the flag as it matters again', async () => {
    const report = await readDfu({deviceOs: '3.3.1', downgradedFrom: '6.2.0', id: 'e00fce681a2b3c4d5e6f7a8b', mode: 'dfu', platform: 'boron', setupDone: 0xff})
    expect(report).to.include({deviceOsVersion: '3.3.1', flag: 'not-done', systemModuleVersion: 3302, value: 0xff})
  })
})
