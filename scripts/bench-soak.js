#!/usr/bin/env node
/**
 * The soak of `npm run bench`: N set/get cycles on one virtual device in this process, alternating done / not done
 * so that every cycle writes, through the operation the commands use (FlagOperation: set, read) on a
 * FakeClock. Prints {cycles, startRssKiB, endRssKiB, growthKiB, ...} as JSON. Run with --expose-gc.
 */
import {join, resolve, dirname} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const lib = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href)

const cycles = Number(process.argv[2] ?? 1000)
const WARMUP = Number(process.argv[3] ?? 50)
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc')
  process.exit(2)
}

const {createVirtualUsb} = await lib('lib/virtual/index.js')
const {FakeClock} = await lib('lib/clock.js')
const {FlagOperation} = await lib('lib/setup-flag/operation.js')
const {findParticleDevices} = await lib('lib/usb/discovery.js')

const ID = 'e00fce681a2b3c4d5e6f7a8b'
const clock = new FakeClock()
const usb = createVirtualUsb({clock, devices: [{deviceOs: '3.3.1', id: ID, mode: 'normal', platform: 'argon', setupDone: 0xff}]})
const backend = {close: () => usb.close(), description: 'soak', kind: 'virtual', usb}

async function settle() {
  // Let the FakeClock's driver and any immediates run out before measuring.
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
  globalThis.gc()
  globalThis.gc()
}

let logRecordsPerCycle = 0
let startRss = 0
let startHeap = 0
const t0 = performance.now()
for (let i = 0; i < WARMUP + cycles; i++) {
  if (i === WARMUP) {
    await settle()
    startRss = process.memoryUsage().rss
    startHeap = process.memoryUsage().heapUsed
  }
  const done = i % 2 === 0
  const [found] = await findParticleDevices(backend)
  const set = await new FlagOperation(found, {backend, clock, timeoutMs: 10_000}).set({done, dryRun: false, force: false, method: 'auto'})
  if (set.error || !set.changed) throw new Error(`cycle ${i}: set did not write: ${JSON.stringify(set)}`)
  const [again] = await findParticleDevices(backend)
  const got = await new FlagOperation(again, {backend, clock, timeoutMs: 10_000}).read()
  if (got.flag !== (done ? 'done' : 'not-done')) throw new Error(`cycle ${i}: get says ${got.flag}`)
  if (usb.violations.length > 0) throw new Error(`cycle ${i}: write guard: ${JSON.stringify(usb.violations)}`)
  logRecordsPerCycle = usb.log.length
  usb.log.length = 0
}
const elapsed = performance.now() - t0
await settle()
const endRss = process.memoryUsage().rss
const endHeap = process.memoryUsage().heapUsed
usb.close()
console.log(
  JSON.stringify({
    cycles,
    endHeapKiB: Math.round(endHeap / 1024),
    endRssKiB: Math.round(endRss / 1024),
    growthKiB: Math.round((endRss - startRss) / 1024),
    logRecordsPerCycle,
    ms: Math.round(elapsed),
    startHeapKiB: Math.round(startHeap / 1024),
    startRssKiB: Math.round(startRss / 1024),
    warmup: WARMUP,
  }),
)
