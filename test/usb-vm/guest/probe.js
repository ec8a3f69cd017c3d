// Guest-side probe of the real `usb` package: how it reports stalls, timeouts, unplugs (issue 10's differences).
import {WebUSB} from 'usb'

const usb = new WebUSB({allowAllDevices: true})
const describe = (e) => ({code: e?.code, message: e?.message, name: e?.name, ctor: e?.constructor?.name})
const tryIt = async (what, fn) => {
  const t = Date.now()
  try {
    const r = await fn()
    const data = r?.data ? Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString('hex') : undefined
    return {what, ok: {...r, data}, ms: Date.now() - t}
  } catch (error) {
    return {what, error: describe(error), ms: Date.now() - t}
  }
}
const out = []
const devices = await usb.getDevices()
for (const d of devices.filter((x) => x.vendorId === 0x2b04 && !x.serialNumber.endsWith('a003'))) {
  out.push({device: d.serialNumber, pid: d.productId.toString(16), product: d.productName, opened: d.opened})
  out.push(await tryIt('open', () => d.open()))
  const vendorIn = {index: 20, recipient: 'device', request: 1, requestType: 'vendor', value: 0}
  out.push(await tryIt('vendor IN INIT(20)', () => d.controlTransferIn(vendorIn, 64)))
  out.push(await tryIt('vendor OUT request 0x50', () => d.controlTransferOut({...vendorIn, request: 0x50}, new Uint8Array(0))))
  out.push(await tryIt('vendor OUT request 0x50 no data arg', () => d.controlTransferOut({...vendorIn, request: 0x50})))
  out.push(await tryIt('vendor IN unknown 0x07', () => d.controlTransferIn({...vendorIn, request: 7}, 64)))
  out.push(await tryIt('std IN string 0xfa', () => d.controlTransferIn({index: 0x409, recipient: 'device', request: 6, requestType: 'standard', value: 0x3fa}, 255)))
  out.push(await tryIt('std IN device qualifier', () => d.controlTransferIn({index: 0, recipient: 'device', request: 6, requestType: 'standard', value: 0x600}, 10)))
  out.push(await tryIt('raw P 30 timeout 300', () => d.controlTransferIn({index: 30, recipient: 'device', request: 0x50, requestType: 'vendor', value: 0}, 64, 300)))
  out.push(await tryIt('interface IN without claim', () => d.controlTransferIn({index: 0, recipient: 'interface', request: 3, requestType: 'class', value: 0}, 6)))
  out.push(await tryIt('selectAlternateInterface unclaimed', () => d.selectAlternateInterface(0, 1)))
  out.push(await tryIt('claimInterface 9', () => d.claimInterface(9)))
  out.push(await tryIt('close', () => d.close()))
  out.push(await tryIt('transfer after close', () => d.controlTransferIn(vendorIn, 64)))
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n')
// Second part: the Realtek OUT without data stage, and an unplug while open.
const more = []
for (const d of (await usb.getDevices()).filter((x) => x.vendorId === 0x2b04)) {
  await d.open()
  const vendorOut = {index: 20, recipient: 'device', request: 0x50, requestType: 'vendor', value: 0}
  if (d.productId === 0xc020) more.push(await tryIt('p2 OUT no data stage, timeout 300', () => d.controlTransferOut(vendorOut, new Uint8Array(0), 300)))
  if (d.serialNumber.endsWith('a003')) {
    const events = []
    usb.addEventListener('disconnect', (e) => events.push(`disconnect ${e.device.serialNumber}`))
    usb.addEventListener('connect', (e) => events.push(`connect ${e.device.serialNumber}`))
    const inReq = {index: 30, recipient: 'device', request: 0x50, requestType: 'vendor', value: 0}
    for (let i = 0; i < 4; i++) more.push(await tryIt(`unplug device transfer ${i}`, () => d.controlTransferIn(inReq, 64)))
    await new Promise((r) => setTimeout(r, 1500))
    more.push({events, opened: d.opened, listed: (await usb.getDevices()).some((x) => x.serialNumber === d.serialNumber)})
    more.push(await tryIt('transfer after unplug', () => d.controlTransferIn(inReq, 64)))
    more.push(await tryIt('close after unplug', () => d.close()))
  }
}
process.stdout.write(JSON.stringify(more) + '\n')
process.exit(0)
