/**
 * The serial line of a Gen3 device before 0.9.0 (docs/protocol.md §10), from the guest's `usb` package (real) or
 * the WebUSB virtual bus (PARTICLE_VIRTUAL_DEVICES set): how the host's cdc_acm holds the CDC pair (claim, detach,
 * attach), then enterDfuBySerialLine. Prints one JSON object. Usage: node serial-line.js DEVICE_ID
 */
import {readdirSync, readFileSync} from 'node:fs'

const [id] = process.argv.slice(2)
const root = process.cwd()
const file = process.env.PARTICLE_VIRTUAL_DEVICES
let usb
if (file) {
  const {openVirtualUsbFile} = await import(`${root}/dist/lib/virtual/index.js`)
  usb = openVirtualUsbFile(file)
} else {
  const {WebUSB} = await import('usb')
  usb = new WebUSB({allowAllDevices: true})
}
const {realClock} = await import(`${root}/dist/lib/clock.js`)
const {findParticleDevices} = await import(`${root}/dist/lib/usb/discovery.js`)
const {isGen3WithoutControlRequests} = await import(`${root}/dist/lib/protocol/cdc.js`)
const {enterDfuBySerialLine} = await import(`${root}/dist/lib/device/serial-line.js`)
const backend = {close: () => usb.close?.(), description: file ? 'virtual' : 'usb', kind: file ? 'virtual' : 'usb', usb}

const outcome = async (fn) => {
  try {
    await fn()
    return 'ok'
  } catch (error) {
    return error?.message ?? String(error)
  }
}

/** The tty the guest's cdc_acm made for the device (real only): /sys/class/tty/ttyACM*, by the USB serial string. */
function tty() {
  if (file) return undefined
  for (const t of readdirSync('/sys/class/tty').filter((x) => x.startsWith('ttyACM'))) {
    try {
      if (readFileSync(`/sys/class/tty/${t}/device/../serial`, 'utf8').trim() === id) return `/dev/${t}`
    } catch {}
  }
  return null
}

const result = {}
try {
  const found = (await findParticleDevices(backend)).find((d) => d.id === id)
  result.before = found && {mode: found.mode, productId: found.usbDevice.productId}
  result.recognised = isGen3WithoutControlRequests(found.usbDevice)
  result.hasTty = file ? undefined : tty() !== null
  const dev = found.usbDevice
  await dev.open()
  result.host = {
    claimHeld: await outcome(() => dev.claimInterface(0)),
    detach: await outcome(() => dev.detachKernelDriver(0)),
    detachDataToo: await outcome(() => dev.detachKernelDriver(1)),
    attach: await outcome(() => dev.attachKernelDriver(0)),
    claimAgain: await outcome(() => dev.claimInterface(0)),
  }
  const dfu = await enterDfuBySerialLine(found, {backend, clock: realClock, timeoutMs: 30_000})
  result.after = {mode: dfu.mode, productId: dfu.usbDevice.productId}
} catch (error) {
  result.error = error?.message ?? String(error)
}
process.stdout.write(`${JSON.stringify(result)}\n`)
usb.close?.()
process.exit(0)
