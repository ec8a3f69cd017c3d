/**
 * Runs inside the usb-vm guest (as root, from the repository root): the steps of one boot of the VM suite, in
 * order, and writes what each did to RESULTS. Steps (JSON):
 *   {name, run: [argv...], user?, groups?, limitMs?}  a command (as `user` with supplementary `groups`; stopped
 *                                           after limitMs, default 120 s); records status,
 *                                           stdout, stderr, ms
 *   {name, udevRule: true}                  install our udev rule (errors.ts UDEV_RULE) and re-trigger USB devices
 *   {name, edit: {id, set: {...}} | {add: spec}}  edit the devices file ("press the buttons", "plug in")
 *   {name, enumerated: {id, mode}}         wait until the USB host lists the device in `mode` ('dfu' or 'normal')
 *   {name, writeFile: path, bytes: [..]}    a file for dfu-util
 *   {name, watch: [argv...], add: spec}     run `set --watch --json`, plug `add` in once the first device is done,
 *                                           Ctrl-C once it is done too; records the NDJSON lines
 * Waits are on events: output lines, file contents; a step's own time limit only stops a hung step.
 */
import {execFileSync, spawn} from 'node:child_process'
import {readdirSync, readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'

const [stepsFile, resultsFile, devicesFile, mode] = process.argv.slice(2)
/** 'virtual': the same steps on the host's WebUSB virtual bus (PARTICLE_VIRTUAL_DEVICES), for comparison. */
const virtual = mode === 'virtual'
if (virtual) process.env.PARTICLE_VIRTUAL_DEVICES = devicesFile
// "$DIR" in a step: the devices file's directory (the one directory the guest shares read-write).
const steps = JSON.parse(readFileSync(stepsFile, 'utf8').replaceAll('$DIR', dirname(devicesFile)))
const results = []
const STEP_LIMIT_MS = 120_000

/**
 * The USB devices the guest's host lists now, with the sysfs attributes asked for (strings, trimmed). A device that
 * lacks one (a hub, an interface) or vanishes while we read is left out: the next look sees it again if it is back.
 */
function usbDevices(attributes) {
  const out = []
  for (const d of readdirSync('/sys/bus/usb/devices')) {
    try {
      out.push(Object.fromEntries(attributes.map((a) => [a, readFileSync(`/sys/bus/usb/devices/${d}/${a}`, 'utf8').trim()])))
    } catch {
      // not a device, or gone meanwhile
    }
  }
  return out
}

/** Look every 100 ms until `look()` finds nothing wrong (undefined); after 30 s, what it last found. */
async function within30s(look) {
  const deadline = Date.now() + 30_000
  for (;;) {
    const wrong = look()
    if (wrong === undefined || Date.now() > deadline) return wrong
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Wait until the host lists device `id` (by its serial) with the product ID of `mode` (0xd00c DFU, else 0xc00c). */
function enumerated(id, mode) {
  const want = mode === 'dfu' ? 'd0' : 'c0'
  return within30s(() =>
    usbDevices(['serial', 'idProduct']).some((d) => d.serial === id && d.idProduct.startsWith(want)) ? undefined : `device ${id} did not enumerate as ${want}*`,
  )
}

/** Wait until every Particle device node (/dev/bus/usb/BBB/DDD of vendor 2b04) belongs to `group`. */
function grouped(group) {
  const gid = Number(readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${group}:`))?.split(':')[2])
  const groupOf = (node) => {
    try {
      return statSync(node).gid
    } catch {
      return undefined // no node yet
    }
  }
  return within30s(() => {
    const wrong = usbDevices(['idVendor', 'busnum', 'devnum'])
      .filter((d) => d.idVendor === '2b04')
      .map((d) => `/dev/bus/usb/${d.busnum.padStart(3, '0')}/${d.devnum.padStart(3, '0')}`)
      .filter((node) => groupOf(node) !== gid)
    return wrong.length === 0 ? undefined : `not in group ${group} (${gid}) after 30 s: ${wrong.join(', ')}`
  })
}

function readDevices() {
  return JSON.parse(readFileSync(devicesFile, 'utf8'))
}

function writeDevices(doc) {
  writeFileSync(`${devicesFile}.edit.tmp`, `${JSON.stringify(doc, null, 2)}\n`)
  renameSync(`${devicesFile}.edit.tmp`, devicesFile)
}

function asUser(argv, user, groups) {
  if (!user) return argv
  const gid = execFileSync('id', ['-g', user], {encoding: 'utf8'}).trim()
  return ['setpriv', `--reuid=${user}`, `--regid=${gid}`, groups ? `--groups=${groups}` : '--init-groups', '--', ...argv]
}

function run(argv, {groups, limitMs = STEP_LIMIT_MS, onLine, user} = {}) {
  return new Promise((resolve) => {
    const started = Date.now()
    const full = asUser(argv, user, groups)
    const child = spawn(full[0], full.slice(1), {env: {...process.env, HOME: user ? '/tmp' : process.env.HOME}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    let pending = ''
    child.stdout.on('data', (d) => {
      stdout += d
      pending += d
      let nl
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        onLine?.(line, child)
      }
    })
    child.stderr.on('data', (d) => (stderr += d))
    const limit = setTimeout(() => child.kill('SIGKILL'), limitMs)
    child.on('close', (status, signal) => {
      clearTimeout(limit)
      resolve({ms: Date.now() - started, signal, status, stderr, stdout})
    })
  })
}

for (const step of steps) {
  const result = {name: step.name}
  if (virtual && step.realOnly) result.skipped = true
  else if (step.run) Object.assign(result, await run(step.run, {groups: step.groups, limitMs: step.limitMs, user: step.user}))
  else if (step.udevRule) {
    const {UDEV_RULE} = await import(`${process.cwd()}/dist/lib/errors.js`)
    writeFileSync('/run/udev/rules.d/50-particle.rules', `${UDEV_RULE}\n`)
    execFileSync('udevadm', ['control', '--reload'])
    execFileSync('udevadm', ['trigger', '--subsystem-match=usb', '--action=add'])
    execFileSync('udevadm', ['settle', '--timeout=30'])
    // settle empties the event queue; a device that re-enumerated meanwhile gets its node's group from its own add
    // event. The next steps open the devices as a member of plugdev: wait until every Particle node has that group.
    result.error = await grouped('plugdev')
    result.status = result.error ? 1 : 0
  } else if (step.edit) {
    const doc = readDevices()
    if (step.edit.add) doc.devices.push(step.edit.add)
    else Object.assign(doc.devices.find((d) => d.id === step.edit.id), step.edit.set)
    writeDevices(doc)
    // The bridge re-enumerates the device; wait until the guest's USB host lists it (by its serial) again.
    const id = step.edit.add?.id ?? step.edit.id
    if (virtual) {
      results.push({...result, devices: readDevices().devices, status: 0})
      continue
    }
    result.error = await enumerated(id, step.edit.set?.mode === 'dfu' ? 'dfu' : 'normal')
    result.status = result.error ? 1 : 0
  } else if (step.enumerated) {
    // Another program (dfu-util's leave) restarted the device: wait until it is back before the next step uses it.
    if (virtual) result.skipped = true
    else {
      result.error = await enumerated(step.enumerated.id, step.enumerated.mode)
      result.status = result.error ? 1 : 0
    }
  } else if (step.writeFile) {
    writeFileSync(step.writeFile, Buffer.from(step.bytes))
    result.status = 0
  } else if (step.watch) {
    let added = false
    let sentInt = false
    const lines = []
    Object.assign(
      result,
      await run(step.watch, {
        onLine(line, child) {
          let json
          try {
            json = JSON.parse(line)
          } catch {
            return
          }
          lines.push(json)
          if (!added && json.id && json.flag === 'done') {
            added = true
            const doc = readDevices()
            doc.devices.push(step.add)
            writeDevices(doc)
          } else if (added && !sentInt && json.id === step.add.id) {
            sentInt = true
            child.kill('SIGINT')
          }
        },
      }),
    )
    result.lines = lines
  }
  result.devices = readDevices().devices
  results.push(result)
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 1)}\n`)
}
