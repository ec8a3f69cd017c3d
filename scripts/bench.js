#!/usr/bin/env node
/**
 * `npm run bench`: speed, scale, wire efficiency, memory and a soak, as ratios measured side by side in one run
 * (median of several timed runs after one warm-up). Prints a table and writes it to BENCHMARKS.md with the machine
 * it ran on. Targets live here and only here (never in timed tests); each row says PASS or FAIL.
 *
 * Options: --runs N (timed runs per figure, default 9; 21 for start-up), --soak N (cycles, default 1000), --no-write (print only),
 * --only audit (just the audit rows, printed, nothing written), --only virtual (just the virtual-bus rows: get and
 * set --all on 1,000 devices, printed), --only fleet (get and set --all on 10,000 mixed virtual devices, printed),
 * --only cloud (a 1 GiB cloud answer, printed), --only startup (just the start-up rows, printed), --only web (the web
 * doctor in Chromium: its bundle gzipped, load to "Connect" ready, connect to flag read; printed).
 *
 * Everything above the notes marker in BENCHMARKS.md is regenerated; everything below it (hand-written findings,
 * before/after numbers) is kept.
 */
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const BIN = join(ROOT, 'bin', 'run.js')
const OUT = join(ROOT, 'BENCHMARKS.md')
const NOTES_MARKER = '<!-- notes: everything below this line is kept by npm run bench -->'

const argv = process.argv.slice(2)
const option = (name, fallback) => {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : Number(argv[i + 1])
}
const RUNS = option('--runs', 9)
// Start-up medians move by ±0.1x between runs of 9 on a 2-core machine (the floor itself varies 57-86 ms): 21 runs.
const STARTUP_RUNS = option('--runs', 21)
const SOAK_CYCLES = option('--soak', 1000)
const WRITE = !argv.includes('--no-write')

const TARGET = {webBundleKiB: 150, webConnectMs: 500, webLoadMs: 500, auditMiB: 150, cloudAnswerMiB: 100, fleetLinear: 1.5, fleetMiB: 300, memoryMiB: 100, scale: 2.0, soakMiB: 10, startup: 2.5, virtualLinear: 1.5, virtualMiB: 200}
const ONLY = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined

// ---- set-up ----------------------------------------------------------------------------------------------

/** One of our built modules (test/integration/bench-scripts.test.ts checks that each one named here exists). */
const lib = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href)
/** A test helper, in TypeScript (tsx registered by the caller; the same test checks these paths). */
const testSupport = (name) => import(pathToFileURL(join(ROOT, 'test', 'support', name)).href)

function ensureBuilt() {
  if (existsSync(join(ROOT, 'dist', 'commands')) && existsSync(join(ROOT, 'oclif.manifest.json'))) return
  console.error('dist/ or oclif.manifest.json missing: running npm run build first')
  execFileSync('npm', ['run', 'build'], {cwd: ROOT, stdio: 'inherit'})
}

const work = mkdtempSync(join(tmpdir(), 'setup-flag-bench-'))
const home = join(work, 'home')
execFileSync('mkdir', ['-p', home])

/** A clean environment for the CLI: no cloud profile, no inherited PARTICLE_* settings, not a TTY. */
function cliEnv(extra = {}) {
  const env = {...process.env, CI: '1', HOME: home, NODE_ENV: 'production'}
  for (const k of Object.keys(env)) if (k.startsWith('PARTICLE_') || k === 'DEBUG') delete env[k]
  return {...env, ...extra}
}

const id = (n) => `e00fce68${n.toString(16).padStart(16, '0')}`
const stuck = (n) => ({deviceOs: '3.3.1', faults: {}, id: id(n), mode: 'listening', platform: 'argon', setupDone: 255})

let fileSeq = 0
function devicesFile(devices) {
  const file = join(work, `devices-${fileSeq++}.json`)
  writeFileSync(file, `${JSON.stringify({devices}, null, 2)}\n`)
  return file
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const ms = (x) => `${Math.round(x)} ms`
const ratio = (x) => `${x.toFixed(2)}x`
const mib = (kb) => kb / 1024

/** Time one process, wall clock including spawn. */
function timeRun(cmd, args, env) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, args, {cwd: ROOT, encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024})
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.error) throw r.error
  return {code: r.status, elapsed, stderr: r.stderr, stdout: r.stdout}
}

/**
 * Run each case once as a warm-up, then RUNS rounds in which every case runs once, in turn (side by side, so
 * drift in the machine's speed hits every case alike). Returns per case: times, last result.
 */
function sideBySide(cases, runs = RUNS) {
  const out = Object.fromEntries(cases.map((c) => [c.key, {last: undefined, times: []}]))
  for (let round = 0; round <= runs; round++) {
    for (const c of cases) {
      const {args, cmd, env} = c.prepare ? c.prepare() : c
      const r = timeRun(cmd ?? process.execPath, args, env ?? cliEnv())
      c.check?.(r)
      if (round > 0) out[c.key].times.push(r.elapsed)
      out[c.key].last = r
    }
  }
  return out
}

function which(name) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], {encoding: 'utf8'})
  return r.status === 0 ? r.stdout.trim() : undefined
}

// ---- 1. start-up -----------------------------------------------------------------------------------------

function startup() {
  const none = devicesFile([])
  const one = devicesFile([stuck(1)])
  const particle = which('particle')
  const expectExit = (codes) => (r) => {
    if (!codes.includes(r.code)) throw new Error(`unexpected exit ${r.code}:\n${r.stdout}\n${r.stderr}`)
  }
  const cases = [
    {args: ['-e', '0'], key: 'node', label: '`node -e 0` (the floor)'},
    {
      args: [BIN, 'get', '--json'],
      check: expectExit([3]),
      env: cliEnv({PARTICLE_VIRTUAL_DEVICES: none}),
      key: 'getVirtual',
      label: '`get --json`, no device (virtual bus, empty file)',
    },
    {args: [BIN, 'get', '--json'], check: expectExit([0, 3, 4, 5]), key: 'getUsb', label: '`get --json`, real USB path'},
    {args: [BIN, '--help'], check: expectExit([0]), key: 'help', label: '`--help`'},
    {
      args: [BIN, 'set', '--dry-run', '--json'],
      check: expectExit([0]),
      env: cliEnv({PARTICLE_VIRTUAL_DEVICES: one}),
      key: 'dryRun',
      label: '`set --dry-run --json`, one virtual device',
    },
  ]
  if (particle) cases.push({args: ['usb', 'list'], cmd: particle, key: 'particle', label: 'official CLI: `particle usb list`'})
  const res = sideBySide(cases, STARTUP_RUNS)
  const base = median(res.node.times)
  const rows = cases.map((c) => {
    const m = median(res[c.key].times)
    const r = m / base
    const targeted = c.key !== 'node' && c.key !== 'particle'
    return {
      exit: res[c.key].last.code,
      figure: c.key === 'node' ? ms(m) : `${ms(m)} = ${ratio(r)}`,
      key: c.key,
      label: c.label,
      pass: targeted ? r <= TARGET.startup : undefined,
      ratio: r,
      target: targeted ? `≤ ${TARGET.startup.toFixed(1)}x` : '–',
      times: res[c.key].times,
    }
  })
  return {particle, rows}
}

// ---- 2. scale --------------------------------------------------------------------------------------------

function scale() {
  const make = (n) => () => ({
    args: [BIN, 'set', '--all', '--json'],
    env: cliEnv({PARTICLE_VIRTUAL_DEVICES: devicesFile(Array.from({length: n}, (_, i) => stuck(i + 1)))}),
  })
  const check = (n) => (r) => {
    if (r.code !== 0) throw new Error(`set --all on ${n} devices exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
    const devices = JSON.parse(r.stdout).devices
    if (devices.length !== n || devices.some((d) => d.after !== 1 || !d.changed)) throw new Error(`set --all on ${n}: not every device fixed`)
  }
  const res = sideBySide([
    {check: check(1), key: 'one', prepare: make(1)},
    {check: check(32), key: 'many', prepare: make(32)},
  ])
  const one = median(res.one.times)
  const many = median(res.many.times)
  return {many, manyTimes: res.many.times, one, oneTimes: res.one.times, pass: many / one <= TARGET.scale, ratio: many / one}
}

// ---- 3. wire efficiency ----------------------------------------------------------------------------------

/** Transfers of the minimal exchanges in docs/protocol.md; each entry: [count, what, where]. */
const W = {
  raw30: [1, 'Device OS version: raw IN request 30', '§2.8, §6'],
  reset0: [1, 'RESET(0), the first step of a fresh session', '§2.7, §2.10'],
  req: (type, name, send, recv) => [2 + (send ? 1 : 0) + (recv ? 1 : 0), `${type} ${name}: INIT${send ? ', SEND' : ''}, CHECK${recv ? ', RECV' : ''}`, '§2.6, §2.10'],
  setIf: (alt) => [1, `SET_INTERFACE alt ${alt}`, '§4.5 step 2'],
  status: [1, 'GETSTATUS once when the session starts (state unknown)', '§4.5 step 3'],
  read: (what) => [8, `read ${what}: SET_ADDRESS (DNLOAD + 2 GETSTATUS), ABORT + GETSTATUS, UPLOAD, ABORT + GETSTATUS`, '§4.6'],
  write: [8, 'write 1 byte at 8134: SET_ADDRESS (3), DNLOAD block 2, GETSTATUS ×2, ABORT + GETSTATUS', '§4.5 steps 6–13'],
  leave: [5, 'leave: SET_ADDRESS (3), zero-length DNLOAD, GETSTATUS (dfuMANIFEST)', '§4.5 steps 14–16'],
}
const mode72 = (listening) => W.req(72, `mode (${listening ? 'listening: reply 08 01' : 'normal: empty reply'})`, false, listening)
const is74 = (done) => W.req(74, `setup done? (${done ? 'yes: reply 08 01' : 'no: empty reply'})`, false, done)
const set73 = W.req(73, 'set setup done (payload 08 01)', true, false)
const stop71 = W.req(71, 'stop listening', false, false)
const dfu50 = W.req(50, 'enter DFU mode', false, false)
const versionOverDfu = [W.setIf(0), W.status, W.read('the system-part header at 0x28200 (24 bytes; blank below 6.2)'), W.read('the legacy header at 0x30200')]
const afterBoot = (listening) => [W.reset0, mode72(listening)]

async function wire() {
  const {createVirtualUsb} = await lib('lib/virtual/index.js')
  const {FakeClock} = await lib('lib/clock.js')
  const {FlagOperation} = await lib('lib/setup-flag/operation.js')
  const {findParticleDevices} = await lib('lib/usb/discovery.js')

  const scenarios = [
    {min: [W.raw30, W.reset0, mode72(true), is74(false)], mode: 'listening', name: '`get`, listening (flag 0xFF)', setupDone: 255},
    {min: [W.raw30, W.reset0, mode72(false), is74(true)], mode: 'normal', name: '`get`, normal (flag 0x01)', setupDone: 1},
    {min: [...versionOverDfu, W.setIf(1), W.read('DCT 8134')], mode: 'dfu', name: '`get`, DFU mode', setupDone: 255},
    {
      method: 'usb',
      min: [W.raw30, W.reset0, mode72(true), is74(false), set73, is74(true), stop71],
      mode: 'listening',
      name: '`set --method usb`, from listening',
      setupDone: 255,
    },
    {
      method: 'usb',
      min: [W.raw30, W.reset0, mode72(false), is74(false), set73, is74(true)],
      mode: 'normal',
      name: '`set --method usb`, from normal (flag 0x00)',
      setupDone: 0,
    },
    {
      method: 'usb',
      min: [W.raw30, W.reset0, mode72(false), is74(true)],
      mode: 'normal',
      name: '`set --method usb`, already set (writes nothing)',
      setupDone: 1,
    },
    {
      method: 'dfu',
      min: [...versionOverDfu, W.setIf(1), W.read('DCT 8134 (before)'), W.write, W.read('DCT 8134 (read back)'), W.leave, ...afterBoot(false)],
      mode: 'dfu',
      name: '`set --method dfu`, from DFU mode',
      setupDone: 255,
    },
    {
      method: 'dfu',
      min: [W.raw30, W.reset0, dfu50, W.setIf(1), W.status, W.read('DCT 8134 (before)'), W.write, W.read('DCT 8134 (read back)'), W.leave, ...afterBoot(false)],
      mode: 'listening',
      name: '`set --method dfu`, from listening (normal-mode firmware)',
      setupDone: 255,
    },
    {
      method: 'usb',
      min: [W.setIf(1), W.status, W.leave, W.raw30, W.reset0, mode72(true), is74(false), set73, is74(true), stop71],
      mode: 'dfu',
      name: '`set --method usb`, from DFU mode (leave, then 73)',
      setupDone: 255,
    },
  ]

  const rows = []
  for (const s of scenarios) {
    const clock = new FakeClock()
    const usb = createVirtualUsb({clock, devices: [{deviceOs: '3.3.1', id: id(1), mode: s.mode, platform: 'argon', setupDone: s.setupDone}]})
    const backend = {close: () => usb.close(), description: 'bench', kind: 'virtual', usb}
    const [found] = await findParticleDevices(backend)
    const report = s.method
      ? await new FlagOperation(found, {backend, clock, timeoutMs: 10_000}).set({done: true, dryRun: false, force: false, method: s.method})
      : await new FlagOperation(found, {backend, clock, timeoutMs: 10_000}).read()
    usb.close()
    if (report.error) throw new Error(`${s.name}: ${report.error.message}`)
    if (usb.violations.length > 0) throw new Error(`${s.name}: write guard: ${JSON.stringify(usb.violations)}`)
    if (s.method && usb.device(id(1)).setupDone !== 1) throw new Error(`${s.name}: the flag was not set`)
    const measured = usb.log.filter((r) => r.deviceId === id(1)).length
    const minimum = s.min.reduce((n, [c]) => n + c, 0)
    rows.push({log: usb.log.map((r) => r.setup), measured, min: s.min, minimum, name: s.name, pass: measured === minimum})
  }
  return rows
}

// ---- 4. memory -------------------------------------------------------------------------------------------

/** Peak RSS (KiB) of one CLI run: GNU time when present, else the process's own maxRSS through a preload. */
function peakRss(args, env) {
  const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
  if (gnuTime) {
    const r = spawnSync(gnuTime, ['-f', 'BENCH_MAXRSS %M %U %S', process.execPath, ...args], {cwd: ROOT, encoding: 'utf8', env, maxBuffer: 256 * 1024 * 1024})
    const m = /BENCH_MAXRSS (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr)
    if (m) return {code: r.status, cpuMs: (Number(m[2]) + Number(m[3])) * 1000, kb: Number(m[1]), stdout: r.stdout, tool: '/usr/bin/time'}
  }
  const out = join(work, `rss-${fileSeq++}.txt`)
  const preload = join(work, 'maxrss.cjs')
  writeFileSync(
    preload,
    `process.on('exit', () => { const u = process.resourceUsage(); require('node:fs').writeFileSync(${JSON.stringify(out)}, u.maxRSS + ' ' + (u.userCPUTime + u.systemCPUTime) / 1000) })\n`,
  )
  const r = spawnSync(process.execPath, ['-r', preload, ...args], {cwd: ROOT, encoding: 'utf8', env, maxBuffer: 256 * 1024 * 1024})
  const [kb, cpuMs] = readFileSync(out, 'utf8').split(' ').map(Number)
  return {code: r.status, cpuMs, kb, stdout: r.stdout, tool: 'process.resourceUsage().maxRSS'}
}

function memory() {
  const runs = (n) => {
    const kbs = []
    let tool
    for (let i = 0; i <= Math.min(RUNS, 5); i++) {
      const env = cliEnv({PARTICLE_VIRTUAL_DEVICES: devicesFile(Array.from({length: n}, (_, k) => stuck(k + 1)))})
      const r = peakRss([BIN, 'set', '--all', '--json'], env)
      if (r.code !== 0) throw new Error(`set --all on ${n} devices exited ${r.code}`)
      tool = r.tool
      if (i > 0) kbs.push(r.kb)
    }
    return {kb: median(kbs), tool}
  }
  const node = peakRss(['-e', '0'], cliEnv())
  const one = runs(1)
  const many = runs(32)
  return {many: many.kb, node: node.kb, one: one.kb, pass: mib(many.kb) <= TARGET.memoryMiB, tool: many.tool}
}

// ---- 4b. audit of a fleet -------------------------------------------------------------------------------

const AUDIT_DEVICES = 10_000
const AUDIT_PER_PAGE = 100

/**
 * `audit --json` on a 10,000-device product served in 100 pages by the loopback cloud of the tests (in this
 * process, so the CLI runs asynchronously beside it): peak RSS (GNU time) and time per page, taken from the
 * cloud's side (first page asked to last page answered) and from the wall clock of the whole run.
 */
async function audit() {
  const {register} = await import('tsx/esm/api')
  register()
  const {VirtualCloud} = await lib('lib/cloud/virtual.js')
  const {expectedCounts, fleet} = await testSupport('fleet.ts')
  const {profileHome} = await testSupport('cloud-home.ts')
  const devices = fleet(AUDIT_DEVICES)
  const want = expectedCounts(devices)
  const cloud = await new VirtualCloud().start()
  cloud.products.push({devices, id: 4242, slug: 'bench-fleet'})
  const auditHome = profileHome(cloud)
  const gnuTime = existsSync('/usr/bin/time')
  const once = () =>
    new Promise((resolvePromise, reject) => {
      cloud.requests.length = 0
      const pageTimes = []
      cloud.pageHook = () => void pageTimes.push(performance.now())
      const args = [BIN, 'audit', '--product', 'bench-fleet', '--per-page', String(AUDIT_PER_PAGE), '--json']
      const t0 = performance.now()
      const child = gnuTime ? spawn('/usr/bin/time', ['-f', 'BENCH_MAXRSS %M', process.execPath, ...args], {cwd: ROOT, env: cliEnv({HOME: auditHome})}) : spawn(process.execPath, args, {cwd: ROOT, env: cliEnv({HOME: auditHome})})
      const out = []
      let err = ''
      child.stdout.on('data', (d) => out.push(d))
      child.stderr.on('data', (d) => (err += d))
      child.on('error', reject)
      child.on('close', (code) => {
        const elapsed = performance.now() - t0
        if (code !== 0) return reject(new Error(`audit exited ${code}: ${err}`))
        const json = JSON.parse(Buffer.concat(out).toString('utf8'))
        const match = json.devices.length === AUDIT_DEVICES && JSON.stringify(json.summary.risk) === JSON.stringify(want.risk) && JSON.stringify(json.summary.deviceOs) === JSON.stringify(want.deviceOs)
        const m = /BENCH_MAXRSS (\d+)/.exec(err)
        const pages = cloud.requests.filter((r) => r.path.endsWith('/devices')).length
        resolvePromise({elapsed, kb: m ? Number(m[1]) : undefined, match, pages, span: pageTimes.at(-1) - pageTimes[0]})
      })
    })
  try {
    const runs = []
    for (let i = 0; i <= Math.min(RUNS, 5); i++) {
      const r = await once()
      if (i > 0) runs.push(r)
    }
    const kb = median(runs.map((r) => r.kb ?? 0))
    return {
      elapsed: median(runs.map((r) => r.elapsed)),
      kb: gnuTime ? kb : undefined,
      match: runs.every((r) => r.match),
      pages: runs[0].pages,
      pass: runs.every((r) => r.match) && (!gnuTime || mib(kb) < TARGET.auditMiB),
      perPage: median(runs.map((r) => r.span / (r.pages - 1))),
      runs: runs.length,
    }
  } finally {
    await cloud.close()
    rmSync(auditHome, {force: true, recursive: true})
  }
}

function auditRow(a) {
  return [
    `audit: \`audit --json\`, ${AUDIT_DEVICES} devices in ${a.pages} pages from the loopback cloud (counts match the fixture: ${a.match ? 'yes' : 'NO'})`,
    `${a.kb === undefined ? 'RSS not measured (no GNU time)' : `peak RSS ${mib(a.kb).toFixed(1)} MiB`}; ${a.perPage.toFixed(1)} ms per page (first page asked to last answered); ${ms(a.elapsed)} in all (median of ${a.runs})`,
    `< ${TARGET.auditMiB} MiB`,
    verdict(a.pass),
  ]
}

// ---- 5. soak ---------------------------------------------------------------------------------------------

const SOAK_WARMUP = 200

function soakOnce(nodeFlags = []) {
  const r = spawnSync(process.execPath, ['--expose-gc', ...nodeFlags, join(ROOT, 'scripts', 'bench-soak.js'), String(SOAK_CYCLES), String(SOAK_WARMUP)], {
    cwd: ROOT,
    encoding: 'utf8',
    env: cliEnv(),
  })
  if (r.status !== 0) throw new Error(`soak failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`)
  return JSON.parse(r.stdout)
}

/** Three soaks with Node's default flags (median growth decides), and one with a fixed young generation. */
function soak() {
  const runs = [soakOnce(), soakOnce(), soakOnce()].sort((a, b) => a.growthKiB - b.growthKiB)
  const s = runs[1]
  const pinned = soakOnce(['--max-semi-space-size=1'])
  return {...s, growths: runs.map((x) => x.growthKiB), pass: s.growthKiB / 1024 <= TARGET.soakMiB, pinned}
}

// ---- 6. the virtual bus at scale -------------------------------------------------------------------------

/**
 * `get --json` and `set --all --json` on 1, 1,000 and 2,000 virtual devices in one devices file: wall time, CPU time
 * (user + system: what the run costs, whatever else the machine does) and peak RSS, medians. Linear means the CPU
 * per device beyond the first stays the same from 1,000 to 2,000 devices (a rewrite of the whole file per state
 * change, or a bus listing per device, doubled it).
 */
function virtualScale() {
  const m = measureCounts([1, 1000, 2000], {
    args: [],
    check(c, n, file) {
      if (c.key !== 'set') return
      const left = JSON.parse(readFileSync(file, 'utf8')).devices.filter((d) => d.setupDone !== 1).length
      if (left > 0) throw new Error(`${c.label} on ${n} devices: ${left} not set in the devices file (lost updates?)`)
    },
    devices: (n) => Array.from({length: n}, (_, k) => stuck(k + 1)),
  })
  return COUNTED.map((c) => {
    const {at, growth, perDevice} = perDeviceOf(m[c.key], 1000, 2000)
    return {
      figure: `${at(1000)}; 1 device: ${at(1)}; 2,000 devices: ${at(2000)}; CPU per added device ${perDevice(1000).toFixed(2)} → ${perDevice(2000).toFixed(2)} ms (×${growth.toFixed(2)})`,
      label: `virtual bus: ${c.label}, 1,000 devices in one devices file`,
      pass: growth <= TARGET.virtualLinear && mib(m[c.key][1000].kb) <= TARGET.virtualMiB,
      target: `linear (CPU per device ×≤ ${TARGET.virtualLinear} from 1,000 to 2,000), ≤ ${TARGET.virtualMiB} MiB`,
    }
  })
}

/** The commands measured over device counts. */
const COUNTED = [
  {args: ['get', '--json'], key: 'get', label: '`get --json`'},
  {args: ['set', '--all', '--json'], key: 'set', label: '`set --all --json`'},
]

/**
 * Each command of COUNTED on each count of devices (a fresh devices file per run; the first run a warm-up): wall
 * time, CPU time (user + system) and peak RSS, medians (and the highest RSS). `check` looks at each run's result.
 */
function measureCounts(counts, o) {
  const runs = Math.max(1, Math.min(RUNS, 3))
  const out = {}
  for (const c of COUNTED) {
    out[c.key] = {}
    for (const n of counts) {
      const cpus = []
      const kbs = []
      const times = []
      for (let i = 0; i <= runs; i++) {
        const devices = o.devices(n)
        const file = devicesFile(devices)
        const t0 = process.hrtime.bigint()
        const r = peakRss([BIN, ...c.args, ...o.args], cliEnv({PARTICLE_VIRTUAL_DEVICES: file}))
        const elapsed = Number(process.hrtime.bigint() - t0) / 1e6
        if (r.code !== 0) throw new Error(`${c.label} on ${n} devices exited ${r.code}`)
        o.check(c, n, file, r, devices)
        if (i > 0) {
          cpus.push(r.cpuMs)
          kbs.push(r.kb)
          times.push(elapsed)
        }
      }
      out[c.key][n] = {cpu: median(cpus), kb: median(kbs), kbMax: Math.max(...kbs), ms: median(times), runs}
    }
  }
  return out
}

/** CPU per device beyond the first at `a` and `b` devices, its growth, and a run's figure at `n` devices. */
function perDeviceOf(m, a, b) {
  const perDevice = (n) => (m[n].cpu - m[1].cpu) / (n - 1)
  return {
    at: (n) => `${ms(m[n].ms)} (CPU ${ms(m[n].cpu)}), peak RSS ${mib(m[n].kb).toFixed(1)} MiB`,
    growth: perDevice(b) / Math.max(perDevice(a), 1e-3),
    perDevice,
  }
}

// ---- 7. a fleet of mixed virtual devices ------------------------------------------------------------------

const FLEET_MODES = ['normal', 'listening', 'safe', 'dfu']
/** Platforms and Device OS versions of every kind: the flag applies (1.x-3.x nRF52840), or not (4.x+, Realtek, Gen2). */
const FLEET_KINDS = [
  ['argon', '3.3.1'],
  ['boron', '2.3.1'],
  ['bsom', '1.5.2'],
  ['b5som', '3.3.1'],
  ['tracker', '4.2.0'],
  ['p2', '5.9.0'],
  ['msom', '6.2.0'],
  ['electron', '2.3.1'],
  ['photon', '1.5.2'],
  ['xenon', '1.5.2'],
]

/** Device i of a mixed fleet: every mode for every kind, the flag unset, cleared or set. */
function mixed(i) {
  const [platform, deviceOs] = FLEET_KINDS[Math.floor(i / FLEET_MODES.length) % FLEET_KINDS.length]
  return {deviceOs, faults: {}, id: id(i + 1), mode: FLEET_MODES[i % FLEET_MODES.length], platform, setupDone: [255, 0, 1][i % 3]}
}

/**
 * `get --json` and `set --all --json` on 1, 1,000 and 10,000 mixed virtual devices (all four modes, ten platform
 * and Device OS kinds) in one devices file: peak RSS at 10,000 and linear CPU (user + system) per added device from
 * 1,000 to 10,000. Every run is checked: every device reported without error; after `set`, every device the flag
 * applies to holds 0x01 in the file and no device is left in DFU mode that did not start there.
 */
function virtualFleet() {
  const m = measureCounts([1, 1000, 10_000], {
    args: ['--offline'],
    check(c, n, file, r, devices) {
      const reports = JSON.parse(r.stdout).devices
      if (reports.length !== n || reports.some((d) => d.error)) throw new Error(`${c.label} on ${n} mixed devices: not every device read without error`)
      if (c.key !== 'set') return
      const after = new Map(JSON.parse(readFileSync(file, 'utf8')).devices.map((d) => [d.id, d]))
      for (const rep of reports) {
        const d = after.get(rep.id)
        const before = devices.find((x) => x.id === rep.id)
        if (rep.flag === 'done' && d.setupDone !== 1) throw new Error(`set --all on ${n}: ${rep.id} reported done, the file holds ${d.setupDone}`)
        if (d.mode === 'dfu' && before.mode !== 'dfu') throw new Error(`set --all on ${n}: ${rep.id} left in DFU mode`)
      }
    },
    devices: (n) => Array.from({length: n}, (_, k) => mixed(k)),
  })
  return COUNTED.map((c) => {
    const x = m[c.key]
    const {at, growth, perDevice} = perDeviceOf(x, 1000, 10_000)
    return {
      figure: `${at(10_000)} (highest of ${x[10_000].runs}: ${mib(x[10_000].kbMax).toFixed(1)} MiB); 1,000 devices: ${at(1000)}; 1 device: ${at(1)}; CPU per added device ${perDevice(1000).toFixed(2)} → ${perDevice(10_000).toFixed(2)} ms (×${growth.toFixed(2)})`,
      label: `virtual fleet: ${c.label}, 10,000 mixed devices (every mode) in one devices file`,
      pass: growth <= TARGET.fleetLinear && mib(x[10_000].kbMax) <= TARGET.fleetMiB,
      target: `≤ ${TARGET.fleetMiB} MiB, linear (CPU per device ×≤ ${TARGET.fleetLinear} from 1,000 to 10,000)`,
    }
  })
}

// ---- 8. a cloud answer of 1 GiB --------------------------------------------------------------------------

/**
 * `get <name> --json` against a loopback cloud that answers the device look-up with 1 GiB of JSON (chunked, so
 * only reading it tells its size), beside the same command against an ordinary answer: peak RSS above that
 * baseline, and that it failed on its own error (the answer's bound) and not on the deadline.
 */
async function cloudAnswer() {
  const {register} = await import('tsx/esm/api')
  register()
  const {VirtualCloud} = await lib('lib/cloud/virtual.js')
  const {profileHome} = await testSupport('cloud-home.ts')
  const {createServer} = await import('node:http')
  const GiB = 1024 ** 3
  const chunk = Buffer.alloc(64 * 1024, 'a')
  let sent = 0
  const huge = createServer((req, res) => {
    res.on('error', () => {})
    res.writeHead(200, {'content-type': 'application/json'})
    res.write(`{"id":"${id(1)}","name":"`)
    const pump = () => {
      while (!res.destroyed && sent < GiB) {
        sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      if (!res.destroyed) res.end('"}')
    }
    pump()
  })
  await new Promise((r) => huge.listen(0, '127.0.0.1', () => r()))
  const ordinary = await new VirtualCloud().start()
  ordinary.devices = [{id: id(1), name: 'my-device', platform_id: 12, system_firmware_version: '3.3.1'}]
  const file = devicesFile([stuck(1)])
  const profile = (apiUrl) => {
    const dir = mkdtempSync(join(work, 'cloud-home-'))
    execFileSync('mkdir', ['-p', join(dir, '.particle')])
    writeFileSync(join(dir, '.particle', 'particle.config.json'), JSON.stringify({access_token: 'tok-bench-123', apiUrl}))
    return dir
  }
  const run = (home) =>
    new Promise((resolvePromise, reject) => {
      const gnuTime = existsSync('/usr/bin/time')
      const args = [BIN, 'get', 'my-device', '--json', '--timeout', '5']
      const env = cliEnv({HOME: home, PARTICLE_VIRTUAL_DEVICES: file})
      const child = gnuTime ? spawn('/usr/bin/time', ['-f', 'BENCH_MAXRSS %M', process.execPath, ...args], {cwd: ROOT, env}) : spawn(process.execPath, args, {cwd: ROOT, env})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('error', reject)
      child.on('close', (code) => resolvePromise({code, kb: Number(/BENCH_MAXRSS (\d+)/.exec(stderr)?.[1] ?? Number.NaN), stdout}))
    })
  let homes
  try {
    homes = {huge: profile(`http://127.0.0.1:${huge.address().port}`), ordinary: profileHome(ordinary)}
    const base = []
    const big = []
    let error
    for (let i = 0; i <= Math.min(RUNS, 3); i++) {
      const b = await run(homes.ordinary)
      sent = 0
      const h = await run(homes.huge)
      if (b.code !== 0) throw new Error(`get my-device against an ordinary answer exited ${b.code}`)
      error = JSON.parse(h.stdout).error
      if (i > 0) {
        base.push(b.kb)
        big.push(h.kb)
      }
    }
    const above = median(big) - median(base)
    return {above, base: median(base), big: median(big), code: error?.code, pass: error?.code === 'SETUP_FLAG_CLOUD_TOO_LARGE' && mib(above) < TARGET.cloudAnswerMiB, sentMiB: sent / 1024 / 1024}
  } finally {
    huge.closeAllConnections()
    huge.close()
    await ordinary.close()
    if (homes) rmSync(homes.ordinary, {force: true, recursive: true})
  }
}

function cloudRow(c) {
  return [
    'cloud: `get <name> --json`, the device look-up answered with 1 GiB of JSON (chunked)',
    `peak RSS ${mib(c.big).toFixed(1)} MiB, ${mib(c.above).toFixed(1)} MiB above the same command against an ordinary answer (${mib(c.base).toFixed(1)} MiB); ended on ${c.code} after the cloud had sent ${c.sentMiB.toFixed(0)} MiB`,
    `< ${TARGET.cloudAnswerMiB} MiB above, its own error`,
    verdict(c.pass),
  ]
}

// ---- the web doctor, in Chromium ------------------------------------------------------------------------

const CHROMIUM = '/usr/bin/chromium'

/** `web --no-open`, until its address is printed. */
function serveWeb() {
  const child = spawn(process.execPath, [BIN, 'web', '--no-open'], {env: cliEnv(), stdio: ['ignore', 'pipe', 'inherit']})
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0]
      if (url) resolve({stop: () => child.kill('SIGINT'), url})
    })
    child.once('exit', (code) => reject(new Error(`web exited (${code}): ${out}`)))
  })
}

/**
 * The page's bundle gzipped; and, in Debian's Chromium (fresh profile each run), the time from navigation to
 * "Connect a device" ready (the page's own performance mark) and from the chooser's pick to the flag read of a stuck
 * Argon on the virtual devices (measured in the page, from the click to the card showing what was read).
 */
async function webPage() {
  const {gzipSync} = await import('node:zlib')
  const gz = gzipSync(readFileSync(join(ROOT, 'dist', 'web', 'app.js'))).length / 1024
  const rows = [{label: 'web: the page bundle (dist/web/app.js), gzipped', figure: `${gz.toFixed(1)} KiB`, target: `≤ ${TARGET.webBundleKiB} KiB`, pass: gz <= TARGET.webBundleKiB}]
  if (!existsSync(CHROMIUM)) {
    rows.push({label: 'web: load, connect (Chromium)', figure: `${CHROMIUM} missing`, target: '–', pass: undefined})
    return rows
  }
  const {chromium} = await import('playwright-core')
  const served = await serveWeb()
  const load = []
  const connect = []
  try {
    for (let run = 0; run <= RUNS; run++) {
      const dir = mkdtempSync(join(work, 'chromium-'))
      const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
      const context = await chromium.launchPersistentContext(dir, {args: flags, executablePath: CHROMIUM, headless: true})
      const page = context.pages()[0] ?? (await context.newPage())
      await page.goto(`${served.url}?virtual=stuck-argon`)
      await page.waitForSelector('body[data-ready="connect"]')
      const loaded = await page.evaluate(() => performance.getEntriesByName('connect-ready')[0].startTime)
      await page.click('#connect')
      await page.waitForSelector('#choose-0')
      const read = await page.evaluate(
        () =>
          new Promise((resolve) => {
            const start = performance.now()
            const done = () => document.querySelector('article[data-phase="idle"] .facts')
            const observer = new MutationObserver(() => {
              if (!done()) return
              observer.disconnect()
              resolve(performance.now() - start)
            })
            observer.observe(document.body, {attributes: true, childList: true, subtree: true})
            document.querySelector('#choose-0').click()
          }),
      )
      await context.close()
      rmSync(dir, {force: true, recursive: true})
      if (run === 0) continue // the warm-up
      load.push(loaded)
      connect.push(read)
    }
  } finally {
    served.stop()
  }
  const l = median(load)
  const c = median(connect)
  rows.push({label: 'web: navigation to "Connect a device" ready (Chromium, virtual devices)', figure: ms(l), target: `≤ ${TARGET.webLoadMs} ms`, pass: l <= TARGET.webLoadMs})
  rows.push({label: 'web: connect to flag read, a stuck Argon (Chromium, virtual device)', figure: ms(c), target: `≤ ${TARGET.webConnectMs} ms`, pass: c <= TARGET.webConnectMs})
  return rows
}

// ---- report ----------------------------------------------------------------------------------------------

const verdict = (pass) => (pass === undefined ? '–' : pass ? 'PASS' : 'FAIL')

const loadBefore = loadavg()

function machine() {
  const cpu = cpus()
  const load = (l) => l.map((x) => x.toFixed(2)).join(' ')
  const gnuTime = existsSync('/usr/bin/time')
  return [
    `- CPU: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores`,
    `- Node ${process.version} on ${process.platform} ${process.arch}`,
    `- Date: ${new Date().toISOString()}`,
    `- Runs: 1 warm-up, then ${RUNS} timed runs per figure (${STARTUP_RUNS} for start-up), taken side by side (round-robin); medians reported`,
    `- Load average (1, 5, 15 min) before the run: ${load(loadBefore)}; after: ${load(loadavg())} (start-up ratios grow with load: compare runs made on an idle machine)`,
    `- Peak RSS measured with ${gnuTime ? 'GNU `/usr/bin/time -f %M`' : "the process's own `process.resourceUsage().maxRSS`"}`,
  ].join('\n')
}

function render({auditResult, cloudResult, fleetRows, mem, soakResult, start, sc, virtualRows, webRows, wireRows}) {
  const rows = []
  for (const r of start.rows) rows.push([`start-up: ${r.label}${r.key === 'node' ? '' : ` (exit ${r.exit})`}`, r.figure, r.target, verdict(r.pass)])
  if (!start.particle) rows.push(['start-up: official CLI (`particle usb list`)', 'not installed on this machine (`which particle` finds nothing)', '–', '–'])
  rows.push([
    'scale: `set --all`, 32 virtual devices vs 1 (stuck listening, 3.3.1, method auto)',
    `${ms(sc.many)} vs ${ms(sc.one)} = ${ratio(sc.ratio)}`,
    `≤ ${TARGET.scale.toFixed(1)}x`,
    verdict(sc.pass),
  ])
  for (const w of wireRows) rows.push([`wire: ${w.name}`, `${w.measured} transfers (minimum ${w.minimum})`, 'equal', verdict(w.pass)])
  rows.push([
    'memory: peak RSS of `set --all` on 32 devices',
    `${mib(mem.many).toFixed(1)} MiB (1 device: ${mib(mem.one).toFixed(1)} MiB; \`node -e 0\`: ${mib(mem.node).toFixed(1)} MiB)`,
    `≤ ${TARGET.memoryMiB} MiB`,
    verdict(mem.pass),
  ])
  rows.push(auditRow(auditResult))
  for (const v of virtualRows) rows.push([v.label, v.figure, v.target, verdict(v.pass)])
  for (const v of fleetRows) rows.push([v.label, v.figure, v.target, verdict(v.pass)])
  rows.push(cloudRow(cloudResult))
  for (const v of webRows) rows.push([v.label, v.figure, v.target, verdict(v.pass)])
  rows.push([
    `soak: ${soakResult.cycles} set/get cycles on one virtual device, one process`,
    `RSS ${mib(soakResult.startRssKiB).toFixed(1)} → ${mib(soakResult.endRssKiB).toFixed(1)} MiB (${soakResult.growthKiB >= 0 ? '+' : ''}${(soakResult.growthKiB / 1024).toFixed(1)} MiB); heap ${mib(soakResult.startHeapKiB).toFixed(1)} → ${mib(soakResult.endHeapKiB).toFixed(1)} MiB; ${(soakResult.ms / soakResult.cycles).toFixed(2)} ms/cycle`,
    `≤ +${TARGET.soakMiB} MiB`,
    verdict(soakResult.pass),
  ])

  const table = [
    '| measure | figure | target | result |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.map((c) => String(c).replaceAll('|', '\\|')).join(' | ')} |`),
  ].join('\n')

  const startDetail = start.rows.map((r) => `| ${r.label} | ${ms(median(r.times))} | ${ms(Math.min(...r.times))} | ${r.times.map((t) => Math.round(t)).join(' ')} |`).join('\n')
  const wireDetail = wireRows
    .map((w) =>
      [
        `**${w.name}**: measured ${w.measured}, minimum ${w.minimum} — ${w.pass ? 'equal' : `${w.measured - w.minimum > 0 ? '+' : ''}${w.measured - w.minimum}`}`,
        '',
        ...w.min.map(([n, what, where]) => `- ${n} × ${what} (${where})`),
        '',
        '<details><summary>setup packets as sent</summary>',
        '',
        '```',
        ...w.log,
        '```',
        '',
        '</details>',
      ].join('\n'),
    )
    .join('\n\n')

  return `# Benchmarks

Generated by \`npm run bench\` (scripts/bench.js). Each figure is measured side by side in one run; ratios are of
medians. Targets are the TARGET table of scripts/bench.js.

## Machine

${machine()}

## Results

${table}

## Start-up detail

| command | median | fastest | timed runs (ms) |
| --- | --- | --- | --- |
${startDetail}

## Scale detail

\`set --all --json\` through the built binary on a fresh devices file each run (Argon, Device OS 3.3.1, listening,
flag 0xFF, default virtual timing, method auto = usb): 1 device ${sc.oneTimes.map((t) => Math.round(t)).join(' ')} ms;
32 devices ${sc.manyTimes.map((t) => Math.round(t)).join(' ')} ms.

## Wire efficiency detail

Counted in-process: \`FlagOperation\` (\`read\`, \`set\`) from dist/ on \`createVirtualUsb\` with a FakeClock, one
Argon on Device OS 3.3.1, every control transfer in \`usb.log\` (standard SET_INTERFACE included; descriptors come
from WebUSB's cached configuration and cost no transfer). The minimum is built from the exchanges that
docs/protocol.md spells out: §2.10 for 73/74 (a request without payload is INIT + CHECK, with payload INIT + SEND +
CHECK, a reply payload adds one RECV; the device answers at once, so no extra PENDING CHECK), plus what every
session asks (the version by raw request 30, RESET(0), the mode by 72); for DFU §4.5/§4.6 (dfu-util's sequences),
with the session's initial GETSTATUS counted once because the state is known afterwards, and the system-part
header read at both 0x28200 and 0x30200 (§6: "read both … prefer 0x28200") on a device below 6.2.

${wireDetail}

## Audit detail

\`audit --product bench-fleet --per-page 100 --json\` through the built binary against the loopback cloud of the
tests (the virtual cloud, src/lib/cloud/virtual.ts, in the bench's own process), serving the 10,000-device fixture
of test/support/fleet.ts (11 platforms × 8 Device OS versions, online and development flags mixed) in 100 pages;
the CLI reads them with its defaults (4 requests in flight). Peak RSS is GNU time's for the CLI process; "per page"
is the span from the first page request to the last, over 99 intervals, as the cloud sees it; the whole run
includes start-up and writing the JSON. Every run's risk and Device OS counts are compared with the fixture's.

## Soak detail

${soakResult.cycles} cycles of \`FlagOperation.set\` (alternately done / not done, so every cycle writes) then
\`FlagOperation.read\`, in one process (\`node --expose-gc scripts/bench-soak.js\`), one virtual Argon 3.3.1, FakeClock.
"Start-up" is taken after \`gc()\` once ${soakResult.warmup} warm-up cycles have run (code compiled, V8's young generation
grown to its working size), "end" after \`gc()\` following the last cycle. Three runs; the median growth decides
(growths: ${soakResult.growths.map((g) => `${(g / 1024).toFixed(1)}`).join(', ')} MiB). With the young generation pinned
(\`--max-semi-space-size=1\`) the same soak grows RSS by ${(soakResult.pinned.growthKiB / 1024).toFixed(1)} MiB
(${(soakResult.pinned.startRssKiB / 1024).toFixed(1)} → ${(soakResult.pinned.endRssKiB / 1024).toFixed(1)} MiB). What is retained, the heap
after gc, goes from ${(soakResult.startHeapKiB / 1024).toFixed(2)} to ${(soakResult.endHeapKiB / 1024).toFixed(2)} MiB. The bus's exchange log (\`usb.log\`,
kept on purpose for tests) is emptied every cycle so that only our code and the device model are measured; kept, it
would hold ${soakResult.logRecordsPerCycle} records per cycle.

${NOTES_MARKER}
`
}

async function main() {
  ensureBuilt()
  if (ONLY === 'audit') {
    console.error('bench: audit…')
    const r = auditRow(await audit())
    console.log(`| ${r.join(' | ')} |`)
    return
  }
  if (ONLY === 'startup') {
    for (const r of startup().rows) console.log(`| ${r.label} | ${r.figure} | ${r.target} | ${verdict(r.pass)} |`)
    return
  }
  if (ONLY === 'virtual') {
    for (const v of virtualScale()) console.log(`| ${v.label} | ${v.figure} | ${v.target} | ${verdict(v.pass)} |`)
    return
  }
  if (ONLY === 'fleet') {
    for (const v of virtualFleet()) console.log(`| ${v.label} | ${v.figure} | ${v.target} | ${verdict(v.pass)} |`)
    return
  }
  if (ONLY === 'web') {
    ensureBuilt()
    for (const v of await webPage()) console.log(`| ${v.label} | ${v.figure} | ${v.target} | ${verdict(v.pass)} |`)
    return
  }
  if (ONLY === 'cloud') {
    console.log(`| ${cloudRow(await cloudAnswer()).join(' | ')} |`)
    return
  }
  const t0 = Date.now()
  console.error(`bench: start-up (${STARTUP_RUNS} runs)…`)
  const start = startup()
  console.error('bench: scale…')
  const sc = scale()
  console.error('bench: wire efficiency…')
  const wireRows = await wire()
  console.error('bench: memory…')
  const mem = memory()
  console.error('bench: audit of a 10,000-device fleet…')
  const auditResult = await audit()
  console.error(`bench: soak (${SOAK_CYCLES} cycles)…`)
  const soakResult = soak()
  console.error('bench: the virtual bus at scale (1, 1,000, 2,000 devices)…')
  const virtualRows = virtualScale()
  console.error('bench: a fleet of 10,000 mixed virtual devices…')
  const fleetRows = virtualFleet()
  console.error('bench: a 1 GiB cloud answer…')
  const cloudResult = await cloudAnswer()
  console.error('bench: the web doctor in Chromium…')
  const webRows = await webPage()
  const text = render({auditResult, cloudResult, fleetRows, mem, soakResult, start, sc, virtualRows, webRows, wireRows})
  const tableOnly = text.slice(text.indexOf('## Machine'), text.indexOf('## Start-up detail')).trim()
  console.log(tableOnly)
  if (WRITE) {
    const old = existsSync(OUT) ? readFileSync(OUT, 'utf8') : ''
    const i = old.indexOf(NOTES_MARKER)
    const notes = i === -1 ? '' : old.slice(i + NOTES_MARKER.length).replace(/^\n/, '')
    writeFileSync(OUT, text + notes)
    console.error(`bench: wrote ${OUT} in ${Math.round((Date.now() - t0) / 1000)} s`)
  }
}

try {
  await main()
} finally {
  rmSync(work, {force: true, recursive: true})
}
