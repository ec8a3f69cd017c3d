#!/usr/bin/env node
/**
 * npm run usb-vm -- --devices FILE [--user NAME] -- COMMAND [ARGS...]
 *
 * Boots a QEMU guest (software emulation) with the host's own Debian kernel and a busybox initramfs, shares the
 * host's / read-only (so node, node_modules, dfu-util and lsusb are the host's) and FILE's directory read-write,
 * serves every device of FILE as a real USB device (dummy_hcd + FunctionFS, answered by our virtual device code:
 * src/lib/virtual/gadget), runs COMMAND in the repository root with PARTICLE_VIRTUAL_DEVICES unset, prints its
 * stdout and stderr, and exits with its status. FILE then holds the devices' final state.
 *
 * Needs: qemu-system-x86 (qemu-system-x86_64), a Linux 6.12+ kernel image whose modules are installed
 * (Debian: linux-image-amd64 from bookworm-backports; 6.1 refuses the DFU functional descriptor in FunctionFS),
 * busybox-static, cpio, xz-utils; dfu-util and usbutils for the tests that use them. Run `npm run build` first.
 *
 * Environment: USB_VM_KERNEL (a vmlinuz path), USB_VM_MEMORY (MB, default 768), USB_VM_TIMEOUT (s, default 600),
 * USB_VM_KEEP (keep the job directory and print its path).
 */
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const repo = resolve(here, '../..')

/** Exit status when the VM cannot be started (a missing package): 4, "no USB", as far as our CLI is concerned. */
const EXIT_NO_VM = 4

/**
 * With --user, the command runs as another user, who must be able to reach the repository: the guest sees the
 * host's own modes (a checkout inside a mode-0700 folder, as `mktemp -d` makes, is out of reach). Say so plainly.
 */
function checkReachable(dir) {
  for (let d = dir; ; d = dirname(d)) {
    const mode = statSync(d).mode
    if ((mode & 0o001) === 0 || (d === dir && (mode & 0o004) === 0)) {
      die(`--user: ${d} (mode ${(mode & 0o777).toString(8)}) keeps other users out of the repository; make it reachable first: chmod o+rx ${d}`, 2)
    }
    if (d === dirname(d)) return
  }
}

function die(message, status = EXIT_NO_VM) {
  process.stderr.write(`usb-vm: ${message}\n`)
  process.exit(status)
}

function usage() {
  die('usage: npm run usb-vm -- --devices FILE [--user NAME] -- COMMAND [ARGS...]', 2)
}

function parseArgs(argv) {
  const opts = {command: [], devices: undefined, user: undefined}
  let i = 0
  for (; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') {
      i++
      break
    }
    if (a === '--devices' || a === '--user') {
      if (i + 1 >= argv.length) usage()
      opts[a.slice(2)] = argv[++i]
    } else if (a.startsWith('--devices=')) opts.devices = a.slice(10)
    else if (a.startsWith('--user=')) opts.user = a.slice(7)
    else if (a === '-h' || a === '--help') {
      process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^[\s\S]*?\/\*\*\n/, '').replaceAll(/^ \* ?/gm, ''))
      process.exit(0)
    } else {
      // `npm run usb-vm -- --devices F ./bin/run.js get`: npm may eat the second `--`; the first unknown word starts the command.
      break
    }
  }
  opts.command = argv.slice(i)
  if (!opts.devices || opts.command.length === 0) usage()
  return opts
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], {encoding: 'utf8'})
  return r.status === 0 ? r.stdout.trim() : undefined
}

/** The newest /boot/vmlinuz-* whose modules are installed and include FunctionFS and dummy_hcd. */
function findKernel() {
  const wanted = process.env.USB_VM_KERNEL
  const candidates = wanted ? [wanted] : readdirSafe('/boot').filter((f) => f.startsWith('vmlinuz-')).map((f) => join('/boot', f))
  const usable = candidates
    .map((path) => ({path, release: basename(path).replace(/^vmlinuz-/, '')}))
    .filter(({release}) => {
      const m = /^(\d+)\.(\d+)/.exec(release)
      return m && (Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 9)) && existsSync(`/lib/modules/${release}/kernel/drivers/usb/gadget/function`)
    })
    .sort((a, b) => b.release.localeCompare(a.release, undefined, {numeric: true}))
  return usable[0]
}

function readdirSafe(dir) {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** The kernel modules stage 1 needs before the host's / is mounted (9p over virtio), uncompressed. */
const STAGE1_MODULES = ['kernel/fs/netfs/netfs', 'kernel/net/9p/9pnet', 'kernel/net/9p/9pnet_virtio', 'kernel/fs/9p/9p']

function moduleFile(release, m) {
  for (const ext of ['.ko', '.ko.xz', '.ko.zst', '.ko.gz']) {
    const p = `/lib/modules/${release}/${m}${ext}`
    if (existsSync(p)) return p
  }
  return undefined
}

/** Build (once per kernel, busybox and init script) the initramfs: static busybox, /init, the 9p modules. */
function initramfs(release, busybox) {
  const init = readFileSync(join(here, 'init.sh'))
  const key = createHash('sha256')
    .update(release)
    .update(String(statSync(busybox).mtimeMs))
    .update(init)
    .digest('hex')
    .slice(0, 16)
  const cacheDir = join(repo, 'node_modules', '.cache', 'usb-vm')
  const out = join(cacheDir, `initramfs-${key}.cpio`)
  if (existsSync(out)) return out
  const root = mkdtempSync(join(tmpdir(), 'usb-vm-initramfs-'))
  try {
    for (const d of ['bin', 'lib', 'proc', 'sys', 'dev', 'host']) mkdirSync(join(root, d))
    execFileSync('cp', [busybox, join(root, 'bin', 'busybox')])
    writeFileSync(join(root, 'init'), init, {mode: 0o755})
    for (const m of STAGE1_MODULES) {
      const file = moduleFile(release, m)
      if (!file) die(`kernel ${release} has no ${m} module; install linux-image-amd64 (bookworm-backports)`)
      const target = join(root, 'lib', `${basename(m)}.ko`)
      if (file.endsWith('.xz')) writeFileSync(target, execFileSync('xz', ['-dc', file], {maxBuffer: 64 << 20}))
      else if (file.endsWith('.zst')) writeFileSync(target, execFileSync('zstd', ['-dc', file], {maxBuffer: 64 << 20}))
      else if (file.endsWith('.gz')) writeFileSync(target, execFileSync('gzip', ['-dc', file], {maxBuffer: 64 << 20}))
      else execFileSync('cp', [file, target])
    }
    mkdirSync(cacheDir, {recursive: true})
    const list = execFileSync('find', ['.'], {cwd: root, encoding: 'utf8'})
    const cpio = execFileSync('cpio', ['-o', '-H', 'newc', '--quiet'], {cwd: root, input: list, maxBuffer: 64 << 20})
    writeFileSync(`${out}.tmp`, cpio)
    execFileSync('mv', [`${out}.tmp`, out])
  } finally {
    rmSync(root, {force: true, recursive: true})
  }
  return out
}

function checkPrerequisites() {
  const qemu = which('qemu-system-x86_64')
  if (!qemu) die('qemu-system-x86_64 is not installed: apt-get install qemu-system-x86')
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p))
  if (!busybox) die('busybox is not installed: apt-get install busybox-static')
  const fileOut = spawnSync('file', ['-L', busybox], {encoding: 'utf8'})
  if (fileOut.status === 0 && !/statically linked|static-pie/.test(fileOut.stdout)) {
    die(`${busybox} is not statically linked: apt-get install busybox-static`)
  }
  const kernel = findKernel()
  if (!kernel) {
    die(
      'no Linux 6.9+ kernel image with its modules in /boot and /lib/modules (FunctionFS must accept the DFU ' +
        'functional descriptor): on Debian 12 add bookworm-backports and apt-get install -t bookworm-backports linux-image-amd64',
    )
  }
  try {
    readFileSync(kernel.path, {flag: 'r'}).subarray(0, 1)
  } catch {
    die(`cannot read ${kernel.path}: run as root or make it readable`)
  }
  if (!which('cpio')) die('cpio is not installed: apt-get install cpio')
  if (!which('xz')) die('xz is not installed: apt-get install xz-utils')
  if (!existsSync(join(repo, 'dist', 'lib', 'virtual', 'gadget', 'serve.js'))) die('dist/ is missing: run `npm run build` first', 1)
  return {busybox, kernel, qemu}
}

function main() {
  const opts = parseArgs(process.argv.slice(2))
  const devices = resolve(opts.devices)
  if (!existsSync(devices)) die(`${opts.devices} does not exist`, 2)
  if (opts.user) checkReachable(repo)
  const {busybox, kernel, qemu} = checkPrerequisites()
  const image = initramfs(kernel.release, busybox)

  const job = mkdtempSync(join(tmpdir(), 'usb-vm-job-'))
  const deviceCount = countDevices(devices)
  const token = Buffer.from(`\u0000usb-vm-end-${randomBytes(8).toString('hex')}\u0000`)
  const env = {...process.env}
  delete env.PARTICLE_VIRTUAL_DEVICES
  delete env.npm_config_prefix
  writeFileSync(join(job, 'files-dir'), dirname(devices))
  // The repository gets its own share: under /tmp or /run (a CI clone, say) the guest's tmpfs would hide it.
  writeFileSync(join(job, 'repo-dir'), repo)
  writeFileSync(join(job, 'node'), process.execPath)
  writeFileSync(join(job, 'guest'), join(here, 'guest.js'))
  writeFileSync(
    join(job, 'job.json'),
    JSON.stringify({
      command: opts.command,
      token: token.toString('latin1'),
      cwd: repo,
      devices,
      // Spare UDCs for devices plugged in while the command runs, and one for the stranger (guest.js).
      udcs: Math.min(32, Math.max(3, deviceCount + 3)),
      env: {
        HOME: env.HOME ?? '/root',
        LANG: env.LANG ?? 'C.UTF-8',
        PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
        TERM: env.TERM ?? 'dumb',
        ...(env.CI ? {CI: env.CI} : {}),
        ...pick(env, /^(USB_VM_|NO_COLOR|FORCE_COLOR|DEBUG)/),
      },
      user: opts.user,
    }),
  )

  const memory = process.env.USB_VM_MEMORY ?? '768'
  const virtfs = (path, tag, extra) => ['-virtfs', `local,path=${path},mount_tag=${tag},security_model=none,multidevs=remap${extra}`]
  const args = [
    '-accel', 'tcg',
    '-m', memory,
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    '-kernel', kernel.path,
    '-initrd', image,
    '-append', `console=ttyS0 ${process.env.USB_VM_DEBUG ? 'loglevel=7' : 'quiet loglevel=3'} panic=-1 rdinit=/init`,
    ...virtfs('/', 'hostroot', ',readonly=on'),
    ...virtfs(job, 'job', ''),
    ...virtfs(repo, 'repo', ',readonly=on'),
    ...virtfs(dirname(devices), 'files', ''),
    '-serial', `file:${join(job, 'console.log')}`,
    // The command's stdout and stderr: two virtio-serial ports, written to FIFOs that we copy to ours.
    '-device', 'virtio-serial-pci',
    '-chardev', `file,id=out,path=${join(job, 'out')}`,
    '-device', 'virtserialport,chardev=out,name=out',
    '-chardev', `file,id=err,path=${join(job, 'err')}`,
    '-device', 'virtserialport,chardev=err,name=err',
  ]
  const started = Date.now()
  execFileSync('mkfifo', [join(job, 'out'), join(job, 'err')])
  // The guest ends each stream with the job's token and waits for our 'ack' before powering off: a virtio-serial
  // write is only queued when it returns, and a power-off right after it would lose the command's last output.
  let ended = 0
  const drained = [
    [join(job, 'out'), process.stdout],
    [join(job, 'err'), process.stderr],
  ].map(
    ([fifo, to]) =>
      new Promise((resolve) => {
        const stream = createReadStream(fifo)
        let held = Buffer.alloc(0)
        let done = false
        stream.on('data', (chunk) => {
          if (done) return
          held = Buffer.concat([held, chunk])
          const at = held.indexOf(token)
          if (at >= 0) {
            to.write(held.subarray(0, at))
            done = true
            if (++ended === 2) writeFileSync(join(job, 'ack'), 'ok')
            resolve()
            return
          }
          const keep = Math.min(held.length, token.length - 1)
          to.write(held.subarray(0, held.length - keep))
          held = held.subarray(held.length - keep)
        })
        stream.on('end', () => {
          if (!done) to.write(held)
          resolve()
        })
        stream.on('error', resolve)
      }),
  )
  const vm = spawn(qemu, args, {stdio: ['ignore', 'pipe', 'pipe']})
  let qemuOutput = ''
  vm.stdout.on('data', (d) => (qemuOutput += d))
  vm.stderr.on('data', (d) => (qemuOutput += d))
  const forward = (sig) => () => {
    // Ctrl-C on the runner: tell the guest's command (guest.js forwards it), then the VM ends as usual.
    try {
      writeFileSync(join(job, 'signal'), sig)
    } catch {}
  }
  process.on('SIGINT', forward('SIGINT'))
  process.on('SIGTERM', forward('SIGTERM'))
  const limit = Number(process.env.USB_VM_TIMEOUT ?? 600) * 1000
  const timer = setTimeout(() => {
    process.stderr.write(`usb-vm: the guest did not finish within ${limit / 1000} s; stopping it\n`)
    vm.kill('SIGKILL')
  }, limit)
  vm.on('exit', async (code, signal) => {
    clearTimeout(timer)
    // QEMU may have died before opening the FIFOs: do not wait for them forever.
    await Promise.race([Promise.all(drained), new Promise((resolve) => setTimeout(resolve, 3000).unref())])
    let status
    try {
      status = readFileSync(join(job, 'status'), 'utf8').trim()
    } catch {}
    const timing = readTiming(job)
    if (process.env.USB_VM_TIMES) {
      process.stderr.write(`usb-vm: total ${Date.now() - started} ms${timing ? `, ${timing}` : ''}\n`)
    }
    if (status === undefined || !/^\d+$/.test(status)) {
      process.stderr.write(`usb-vm: the guest ended without a status (qemu exit ${code ?? signal})\n`)
      if (qemuOutput) process.stderr.write(qemuOutput)
      process.stderr.write(tail(join(job, 'console.log'), 60))
      process.exitCode = 1
    } else process.exitCode = Number(status)
    if (process.env.USB_VM_KEEP) process.stderr.write(`usb-vm: job directory kept: ${job}\n`)
    else rmSync(job, {force: true, recursive: true})
    process.exit()
  })
}

function readTiming(job) {
  try {
    return readFileSync(join(job, 'timing'), 'utf8').trim()
  } catch {
    return undefined
  }
}

function pick(env, re) {
  return Object.fromEntries(Object.entries(env).filter(([k]) => re.test(k)))
}

function countDevices(file) {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8'))
    return Array.isArray(json.devices) ? json.devices.length : 0
  } catch {
    return 0
  }
}

function tail(file, lines) {
  try {
    return `--- guest console (last ${lines} lines) ---\n${readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')}\n`
  } catch {
    return ''
  }
}

main()
