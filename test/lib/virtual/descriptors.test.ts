import {expect} from 'chai'

import {bus, fromHex, getDescriptor, inHex, openFirst, spec, toHex} from './helpers.js'

/** Decode a string descriptor given as hex. */
function decodeString(h: string): string {
  const b = fromHex(h)
  expect(b[0]).to.equal(b.length)
  expect(b[1]).to.equal(0x03)
  let s = ''
  for (let i = 2; i < b.length; i += 2) s += String.fromCharCode(b[i] | (b[i + 1] << 8))
  return s
}

describe('virtual device: USB identity and descriptors (docs/protocol.md §1.3, §4.1)', () => {
  it('a Boron in DFU mode has the verbatim 45-byte configuration descriptor and the DFU identity', async () => {
    const {usb} = bus(spec({mode: 'dfu', platform: 'boron'}))
    const dev = await openFirst(usb)
    expect(dev.vendorId).to.equal(0x2b04)
    expect(dev.productId).to.equal(0xd00d)
    expect(dev.manufacturerName).to.equal('Particle')
    expect(dev.productName).to.equal('Boron DFU Mode')
    expect(dev.serialNumber).to.equal('e00fce681a2b3c4d5e6f7a8b')
    expect([dev.usbVersionMajor, dev.usbVersionMinor, dev.usbVersionSubminor]).to.deep.equal([2, 0, 0])
    expect([dev.deviceVersionMajor, dev.deviceVersionMinor, dev.deviceVersionSubminor]).to.deep.equal([2, 5, 1])
    expect(await inHex(dev, getDescriptor(2, 0), 0xff)).to.equal(
      '09 02 2D 00 01 01 04 C0 32 09 04 00 00 00 FE 01 02 06 09 04 00 01 00 FE 01 02 07 09 04 00 02 00 FE 01 02 08 09 21 0B FF 00 00 10 1A 01',
    )
    expect(await inHex(dev, getDescriptor(1, 0), 18)).to.equal('12 01 00 02 00 00 00 40 04 2B 0D D0 51 02 01 02 03 01')
  })

  it('truncates every descriptor to wLength (4-byte config probe, 1-byte string probe)', async () => {
    const {usb} = bus(spec({mode: 'dfu', platform: 'boron'}))
    const dev = await openFirst(usb)
    expect(await inHex(dev, getDescriptor(2, 0), 4)).to.equal('09 02 2D 00')
    expect(await inHex(dev, getDescriptor(3, 7, 0x0409), 1)).to.equal('42')
    expect(await inHex(dev, getDescriptor(1, 0), 8)).to.equal('12 01 00 02 00 00 00 40')
  })

  it('serves the strings dfu-util reads (§4.5 step 1): LANGID, alt names, serial', async () => {
    const {usb} = bus(spec({deviceOs: '3.3.1', mode: 'dfu', platform: 'argon'}))
    const dev = await openFirst(usb)
    expect(await inHex(dev, getDescriptor(3, 0), 0xff)).to.equal('04 03 09 04')
    expect(decodeString(await inHex(dev, getDescriptor(3, 1, 0x0409), 0xff))).to.equal('Particle')
    expect(decodeString(await inHex(dev, getDescriptor(3, 2, 0x0409), 0xff))).to.equal('Argon DFU Mode')
    expect(decodeString(await inHex(dev, getDescriptor(3, 3, 0x0409), 0xff))).to.equal('e00fce681a2b3c4d5e6f7a8b')
    expect(decodeString(await inHex(dev, getDescriptor(3, 6, 0x0409), 0xff))).to.equal(
      '@Internal Flash   /0x00000000/1*004Ka,47*004Kg,192*004Kg,4*004Kg,4*004Kg,8*004Ka',
    )
    expect(decodeString(await inHex(dev, getDescriptor(3, 7, 0x0409), 0xff))).to.equal('@DCD Flash   /0x00000000/1*016Ke')
    expect(decodeString(await inHex(dev, getDescriptor(3, 8, 0x0409), 0xff))).to.equal('@External Flash   /0x80000000/1024*004Kg')
    expect(await inHex(dev, getDescriptor(3, 0xee, 0x0409), 0xff)).to.equal('12 03 4D 00 53 00 46 00 54 00 31 00 30 00 30 00 EE 00')
    expect(await inHex(dev, getDescriptor(3, 0x42, 0x0409), 0xff)).to.equal('stall')
    expect(await inHex(dev, getDescriptor(3, 0xfa, 0x0409), 0xff)).to.equal('stall') // protection string is 6.1.2+
  })

  it('names the DCT alt @DCD or @DCT by bootloader version, and sizes external flash by platform (§4.1)', async () => {
    const altName = async (platform: string, deviceOs: string, alt: number) => {
      const {usb} = bus(spec({deviceOs, mode: 'dfu', platform}))
      const dev = await openFirst(usb)
      return dev.configuration!.interfaces[0].alternates[alt].interfaceName
    }
    expect(await altName('argon', '1.5.2', 1)).to.equal('@DCD Flash   /0x00000000/1*016Ke')
    expect(await altName('argon', '4.0.0', 1)).to.equal('@DCD Flash   /0x00000000/1*016Ke')
    expect(await altName('argon', '4.2.0', 1)).to.equal('@DCT Flash   /0x00000000/1*016Ke')
    expect(await altName('argon', '5.0.0', 1)).to.equal('@DCD Flash   /0x00000000/1*016Ke')
    expect(await altName('argon', '5.0.1', 1)).to.equal('@DCT Flash   /0x00000000/1*016Ke')
    expect(await altName('boron', '6.2.0', 1)).to.equal('@DCT Flash   /0x00000000/1*016Ke')
    expect(await altName('b5som', '3.3.1', 2)).to.equal('@External Flash   /0x80000000/2048*004Kg')
    expect(await altName('tracker', '3.3.1', 2)).to.equal('@External Flash   /0x80000000/2048*004Kg')
    expect(await altName('b5som', '1.5.2', 2)).to.equal('@External Flash   /0x80000000/1024*008Kg')
    expect(await altName('bsom', '3.3.1', 2)).to.equal('@External Flash   /0x80000000/1024*004Kg')
  })

  it('gives Realtek two alts and Gen2 an STM32 layout', async () => {
    const {usb} = bus([
      spec({deviceOs: '5.9.0', id: 'aaaaaaaaaaaaaaaaaaaaaaaa', mode: 'dfu', platform: 'p2'}),
      spec({deviceOs: '3.3.1', id: 'bbbbbbbbbbbbbbbbbbbbbbbb', mode: 'dfu', platform: 'photon'}),
    ])
    const [p2, photon] = await usb.getDevices()
    expect(p2.productId).to.equal(0xd020)
    expect(p2.productName).to.equal('P2 DFU Mode')
    expect(p2.configuration!.interfaces[0].alternates.map((a) => a.interfaceName)).to.deep.equal([
      '@Internal Flash   /0x08000000/2048*004Kg',
      '@DCT Flash   /0x00000000/1*016Ke',
    ])
    await p2.open()
    expect(await inHex(p2, getDescriptor(2, 0), 0xff)).to.equal(
      '09 02 24 00 01 01 04 C0 32 09 04 00 00 00 FE 01 02 06 09 04 00 01 00 FE 01 02 07 09 21 0B FF 00 00 10 1A 01',
    )
    expect(photon.productId).to.equal(0xd006)
    expect(photon.configuration!.interfaces[0].alternates.map((a) => a.interfaceName)).to.deep.equal([
      '@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg',
      '@DCT Flash   /0x00000000/01*016Kg',
    ])
  })

  it('has a CDC + control interface configuration in normal mode, interface 2 named "<Name> Control Interface"', async () => {
    const {usb} = bus(spec({mode: 'normal', platform: 'bsom'}))
    const dev = await openFirst(usb)
    expect(dev.productId).to.equal(0xc017)
    expect(dev.productName).to.equal('B-SoM CDC Mode')
    const config = dev.configuration!
    expect(config.configurationValue).to.equal(1)
    expect(config.interfaces.map((i) => i.interfaceNumber)).to.deep.equal([0, 1, 2])
    const control = config.interfaces[2].alternate
    expect([control.interfaceClass, control.interfaceSubclass, control.interfaceProtocol]).to.deep.equal([0xff, 0xff, 0xff])
    expect(control.interfaceName).to.equal('B-SoM Control Interface')
    const raw = fromHex(await inHex(dev, getDescriptor(2, 0), 0xffff))
    expect(raw[2] | (raw[3] << 8)).to.equal(raw.length) // wTotalLength
    expect(raw[4]).to.equal(3) // bNumInterfaces
    // the raw interface descriptors agree with the WebUSB objects
    const ifaces: number[][] = []
    for (let i = 0; i < raw.length; i += raw[i]) if (raw[i + 1] === 0x04) ifaces.push([raw[i + 2], raw[i + 5], raw[i + 8]])
    expect(ifaces).to.deep.equal([
      [0, 0x02, 0],
      [1, 0x0a, 0],
      [2, 0xff, 4],
    ])
    expect(decodeString(await inHex(dev, getDescriptor(3, 4, 0x0409), 0xff))).to.equal('B-SoM Control Interface')
    expect(decodeString(await inHex(dev, getDescriptor(3, 2, 0x0409), 0xff))).to.equal('B-SoM CDC Mode')
  })

  it('uses the product names (Tracker; B5 SoM in the 3.3.1 bootloader, usbd_device.cpp@v3.3.1) in both modes', async () => {
    const {usb} = bus([
      spec({id: 'aaaaaaaaaaaaaaaaaaaaaaaa', mode: 'normal', platform: 'tracker'}),
      spec({id: 'bbbbbbbbbbbbbbbbbbbbbbbb', mode: 'dfu', platform: 'b5som'}),
    ])
    const [tracker, b5] = await usb.getDevices()
    expect(tracker.productName).to.equal('Tracker CDC Mode')
    expect(b5.productName).to.equal('B5 SoM DFU Mode')
  })

  it('returns IN data in a DataView over its own ArrayBuffer of exactly the transferred length', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const dev = await openFirst(usb)
    const r = await dev.controlTransferIn(getDescriptor(2, 0), 9)
    expect(r.status).to.equal('ok')
    expect(r.data!.byteOffset).to.equal(0)
    expect(r.data!.byteLength).to.equal(9)
    expect(r.data!.buffer.byteLength).to.equal(9)
    expect(toHex(new Uint8Array(r.data!.buffer))).to.equal('09 02 2D 00 01 01 04 C0 32')
  })

  it('answers GET_STATUS, GET_CONFIGURATION and GET_INTERFACE, and stalls unknown standard requests', async () => {
    const {usb} = bus(spec({mode: 'dfu'}))
    const dev = await openFirst(usb)
    const std = (request: number, recipient: USBRecipient = 'device', value = 0, index = 0): USBControlTransferParameters => ({
      index,
      recipient,
      request,
      requestType: 'standard',
      value,
    })
    expect(await inHex(dev, std(0), 2)).to.equal('01 00')
    expect(await inHex(dev, std(8), 1)).to.equal('01')
    await dev.claimInterface(0)
    await dev.selectAlternateInterface(0, 2)
    expect(await inHex(dev, std(10, 'interface'), 1)).to.equal('02')
    expect(await inHex(dev, std(6, 'device', 0x0600), 10)).to.equal('stall') // no device qualifier
    expect(await inHex(dev, std(0x33), 4)).to.equal('stall')
  })

  it('finds devices through requestDevice filters, and rejects with NotFoundError when none matches', async () => {
    const {usb} = bus([
      spec({id: 'aaaaaaaaaaaaaaaaaaaaaaaa', mode: 'normal', platform: 'argon'}),
      spec({id: 'bbbbbbbbbbbbbbbbbbbbbbbb', mode: 'dfu', platform: 'boron'}),
    ])
    expect((await usb.requestDevice({filters: [{productId: 0xd00d, vendorId: 0x2b04}]})).serialNumber).to.equal('bbbbbbbbbbbbbbbbbbbbbbbb')
    expect((await usb.requestDevice({filters: [{serialNumber: 'AAAAAAAAAAAAAAAAAAAAAAAA'}]})).productId).to.equal(0xc00c)
    expect((await usb.requestDevice({filters: [{classCode: 0xfe, subclassCode: 0x01}]})).productId).to.equal(0xd00d)
    const error = await usb.requestDevice({filters: [{vendorId: 0x1234}]}).catch((e: Error) => e)
    expect(error).to.be.instanceOf(Error)
    expect((error as Error).name).to.equal('NotFoundError')
  })
})
