/**
 * Guest stage 2 (run by init.sh inside the chroot of the host's /, with the host's node): load the gadget
 * modules, serve every device of the devices file as a real USB gadget, run the command, write its status.
 */
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

process.env.PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
// The guest's / is a chroot of the host's: without this, udevadm trigger/settle/control ignore every request.
process.env.SYSTEMD_IGNORE_CHROOT = '1'
const jobFile = process.argv[2]
const jobDir = dirname(jobFile)
const job = JSON.parse(readFileSync(jobFile, 'utf8'))
const t0 = performance.now()
const marks = []
const uptime = () => readFileSync('/proc/uptime', 'utf8').split(' ')[0]
const mark = (name) => marks.push(`${name} ${Math.round(performance.now() - t0)} ms (uptime ${uptime()} s)`)

function finish(status) {
  // End both streams with the token and wait (a little) for the host to have read them: see run.js.
  for (const fd of [out, err]) writeFileSync(fd, Buffer.from(job.token, 'latin1'))
  const until = Date.now() + 5000
  while (!existsSync(join(jobDir, 'ack')) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
  try {
    writeFileSync(join(jobDir, 'timing'), `guest ${marks.join(', ')}`)
  } catch {}
  writeFileSync(join(jobDir, 'status'), `${status}\n`)
  process.exit(0)
}

function port(name) {
  for (const p of readdirSync('/sys/class/virtio-ports')) {
    if (readFileSync(`/sys/class/virtio-ports/${p}/name`, 'utf8').trim() === name) return `/dev/${p}`
  }
  throw new Error(`no virtio port ${name}`)
}

const out = openSync(port('out'), 'w')
const err = openSync(port('err'), 'w')
const say = (text) => writeFileSync(err, `usb-vm: ${text}\n`)
process.on('uncaughtException', (error) => say(`bridge: ${error?.stack ?? error}`))
process.on('unhandledRejection', (error) => say(`bridge: ${error?.stack ?? error}`))

/**
 * A stranger on the bus, as on any desktop: a USB device that is no Particle device and has no serial number (many
 * keyboards and hubs have none), its node root's alone. The `usb` package reads the serial string of such a device
 * by opening it, which only root may: a look for a Particle device must never ask it (src/lib/usb/discovery.ts,
 * isParticleUsb). Served by the kernel's own CDC ACM function on the last UDC (the bridge takes them from the first).
 */
function addStranger() {
  const udc = readdirSync('/sys/class/udc').sort((a, b) => a.localeCompare(b, undefined, {numeric: true})).at(-1)
  const g = '/sys/kernel/config/usb_gadget/stranger'
  mkdirSync(join(g, 'configs/c.1'), {recursive: true})
  writeFileSync(join(g, 'idVendor'), '0x046d')
  writeFileSync(join(g, 'idProduct'), '0xc31c')
  writeFileSync(join(g, 'bcdUSB'), '0x0200')
  mkdirSync(join(g, 'functions/acm.stranger'))
  symlinkSync(join(g, 'functions/acm.stranger'), join(g, 'configs/c.1/acm.stranger'))
  writeFileSync(join(g, 'UDC'), udc)
  // Configured by the guest's host before the command runs (the kernel enumerates it on its own time).
  const until = Date.now() + 10_000
  const here = () => readdirSync('/sys/bus/usb/devices').some((d) => {
    try {
      return readFileSync(`/sys/bus/usb/devices/${d}/idProduct`, 'utf8').trim() === 'c31c' && existsSync(`/sys/bus/usb/devices/${d}/${d}:1.0`)
    } catch {
      return false
    }
  })
  while (!here() && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
  if (!here()) say('the stranger (046d:c31c) did not enumerate')
}

let bridge
mark('stage 2')
try {
  // Full speed, as Particle's Gen3 devices are (and FunctionFS then needs full-speed descriptors only).
  execFileSync('modprobe', ['dummy_hcd', `num=${job.udcs}`, 'is_high_speed=0', 'is_super_speed=0'])
  execFileSync('modprobe', ['usb_f_fs'])
  // The CDC ACM function of the kernel serves the serial line of Gen3 devices before 0.9.0; usbmon tells the bridge
  // what the host set on it (src/lib/virtual/gadget/serve.ts).
  execFileSync('modprobe', ['usb_f_acm'])
  execFileSync('modprobe', ['usbmon'])
  if (!existsSync('/sys/kernel/debug/usb')) execFileSync('mount', ['-t', 'debugfs', 'none', '/sys/kernel/debug'])
  if (!existsSync('/sys/kernel/config/usb_gadget')) execFileSync('mount', ['-t', 'configfs', 'none', '/sys/kernel/config'])
  // udevd, as on any Linux desktop: the `usb` package learns of hot-plugs from udev's netlink events (not the
  // kernel's), and device node permissions come from udev rules (the tests add ours in /run/udev/rules.d).
  mkdirSync('/run/udev/rules.d', {recursive: true})
  execFileSync('/lib/systemd/systemd-udevd', ['--daemon'])
  mark('modules')
  const {serveDevicesFile} = await import(join(job.cwd, 'dist/lib/virtual/gadget/serve.js'))
  bridge = await serveDevicesFile(job.devices, {log: (line) => job.env.USB_VM_DEBUG && say(line)})
  await bridge.ready
  addStranger()
  mark('devices')
} catch (error) {
  say(`could not serve the devices: ${error?.stack ?? error}`)
  finish(1)
}

let argv = job.command
const env = {...job.env, SYSTEMD_IGNORE_CHROOT: '1'}
if (job.user) {
  const gid = execFileSync('id', ['-g', job.user], {encoding: 'utf8'}).trim()
  argv = ['setpriv', `--reuid=${job.user}`, `--regid=${gid}`, '--init-groups', '--reset-env', '--', 'env', ...Object.entries({...env, HOME: '/tmp'}).map(([k, v]) => `${k}=${v}`), ...argv]
}
const child = spawn(argv[0], argv.slice(1), {cwd: job.cwd, env, stdio: ['ignore', out, err]})
child.on('error', (error) => {
  say(`cannot run ${argv[0]}: ${error.message}`)
  finish(127)
})
// The host's Ctrl-C arrives as a file in the job directory (9p: no inotify for the host's writes, so look).
const signals = setInterval(() => {
  const f = join(jobDir, 'signal')
  if (!existsSync(f)) return
  const sig = readFileSync(f, 'utf8').trim() || 'SIGINT'
  rmSync(f, {force: true})
  child.kill(sig)
}, 250)
child.on('exit', async (code, signal) => {
  clearInterval(signals)
  mark('command')
  try {
    await bridge.close()
  } catch (error) {
    say(`closing the gadgets: ${error?.message ?? error}`)
  }
  finish(code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 9))
})
