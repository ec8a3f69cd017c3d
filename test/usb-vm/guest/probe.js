/**
 * What a WebUSB implementation does at the edges where the `usb` package (3.1.0) and the W3C text differ: a stall,
 * a transfer timeout, an unplug, an unclaimed interface, a missing argument, an object used while a call holds it
 * (the package's borrow rules, docs/architecture.md "USB objects in use"). Run in the usb-vm guest against the
 * real `usb` package, and on the host against the WebUSB virtual bus (PARTICLE_VIRTUAL_DEVICES set); the suite
 * compares the two. Usage: node probe.js STALL_ID P2_ID UNPLUG_ID BORROW_ID (devices of the devices file; BORROW_ID
 * is used for nothing but the open() rows, so that no other case meets a device they left behind).
 */
const [stallId, p2Id, unplugId, borrowId] = process.argv.slice(2)
const file = process.env.PARTICLE_VIRTUAL_DEVICES
let usb
if (file) {
  const {openVirtualUsbFile} = await import(`${process.cwd()}/dist/lib/virtual/index.js`)
  usb = openVirtualUsbFile(file)
} else {
  const {WebUSB} = await import('usb')
  usb = new WebUSB({allowAllDevices: true})
}

const outcome = async (what, fn) => {
  try {
    const r = await fn()
    return {ok: r?.status ?? 'ok', what}
  } catch (error) {
    return {error: error?.message, name: error?.name, what}
  }
}
/**
 * A getter or call made while another call holds the same object: what it returns, or what it throws at once
 * (the package's napi-rs borrow rules, virtual/usb-device.ts). A call that does not throw is left to run.
 */
const settling = []
const atOnce = (what, fn) => {
  try {
    const r = fn()
    if (typeof r?.then === 'function') {
      const row = {returned: 'a promise', what}
      // Only whether it met a borrow conflict: how the device itself answers a call left to run is not the point.
      const settled = (error) => (row.settled = error?.code === 'InvalidArg' ? error.message : 'no borrow conflict')
      settling.push(r.then(() => settled(), settled))
      return row
    }
    return {returned: typeof r === 'object' && r !== null ? 'an object' : r, what}
  } catch (error) {
    return {code: error?.code, threw: error?.message, what}
  }
}
const vendorIn = {index: 20, recipient: 'device', request: 1, requestType: 'vendor', value: 0}
const rawIn = {index: 30, recipient: 'device', request: 0x50, requestType: 'vendor', value: 0}
const find = async (id) => (await usb.getDevices()).find((d) => d.serialNumber === id)
const out = []

const borrowed = await find(borrowId)
const opening = borrowed.open()
out.push(atOnce('vendorId while open() runs', () => borrowed.vendorId))
out.push(atOnce('opened while open() runs', () => borrowed.opened))
out.push(atOnce('serialNumber while open() runs', () => borrowed.serialNumber))
out.push(atOnce('controlTransferIn while open() runs', () => borrowed.controlTransferIn(rawIn, 64)))
out.push(atOnce('close() while open() runs', () => borrowed.close()))
await opening
out.push(atOnce('serialNumber once open() is done', () => borrowed.serialNumber))
await Promise.all(settling)
await borrowed.close()

const stall = await find(stallId)
out.push(await outcome('transfer on a closed device', () => stall.controlTransferIn(vendorIn, 64)))
await stall.open()
out.push(await outcome('stalled IN', () => stall.controlTransferIn(vendorIn, 64)))
out.push(await outcome('stalled OUT', () => stall.controlTransferOut({...rawIn, index: 40}, new Uint8Array(0))))
out.push(await outcome('OUT without data', () => stall.controlTransferOut({...rawIn, index: 40})))
out.push(await outcome('class IN to an unclaimed interface', () => stall.controlTransferIn({index: 0, recipient: 'interface', request: 3, requestType: 'class', value: 0}, 6)))
out.push(await outcome('claim a missing interface', () => stall.claimInterface(9)))
out.push(await outcome('release an unclaimed interface', () => stall.releaseInterface(0)))
out.push({same: (await find(stallId)) === (await find(stallId)), what: 'one object per enumeration'})
await stall.close()

const p2 = await find(p2Id)
await p2.open()
const pending = outcome('OUT without a data stage (Realtek), timeout 300 ms', () => p2.controlTransferOut({...rawIn, index: 302, request: 0x50}, new Uint8Array(0), 300))
out.push(atOnce('vendorId during a transfer', () => p2.vendorId))
out.push(atOnce('address during a transfer', () => p2.address))
out.push(atOnce('serialNumber during a transfer', () => p2.serialNumber))
out.push(atOnce('productName during a transfer', () => p2.productName))
out.push(atOnce('configuration during a transfer', () => p2.configuration))
out.push(atOnce('claimInterface(0) during a transfer', () => p2.claimInterface(0)))
out.push(atOnce('close() during a transfer', () => p2.close()))
out.push(await pending)
out.push(atOnce('serialNumber after the transfer', () => p2.serialNumber))
await p2.close()

const gone = await find(unplugId)
const disconnected = new Promise((resolve) => {
  const timer = setTimeout(() => resolve(false), 20_000)
  usb.addEventListener('disconnect', (e) => {
    // The package's disconnect event carries an object of its own; our bus's is the one the cut transfer still
    // holds (one object per enumeration), whose serialNumber is then busy (virtual/usb-device.ts).
    if (e.device === gone || e.device.serialNumber === unplugId) {
      clearTimeout(timer)
      resolve(true)
    }
  })
})
await gone.open()
out.push(await outcome('transfer 1', () => gone.controlTransferIn(rawIn, 64)))
out.push(await outcome('transfer 2, after which the device is unplugged', () => gone.controlTransferIn(rawIn, 64)))
out.push({disconnectEvent: await disconnected, what: 'disconnect event'})
out.push(await outcome('transfer on an unplugged device', () => gone.controlTransferIn(rawIn, 64)))
out.push({opened: gone.opened, what: 'opened after the unplug'})
out.push(await outcome('close an unplugged device', () => gone.close()))

await Promise.all(settling)
process.stdout.write(`${JSON.stringify(out)}\n`)
usb.close?.()
process.exit(0)
