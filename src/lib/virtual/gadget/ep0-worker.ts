/**
 * One FunctionFS ep0, on its own thread: reads of ep0 block until the host does something, so each gadget
 * gets a worker and several devices never starve each other (or libuv's pool). The worker reads events, hands
 * each SETUP to the main thread (which asks the virtual device) and waits for the answer on shared memory;
 * then it completes the control transfer the way FunctionFS spells it: write() answers an IN request (or
 * stalls an OUT one), read() takes an OUT request's data (or stalls an IN one).
 */
import {readSync, writeSync} from 'node:fs'
import {parentPort, workerData} from 'node:worker_threads'

import {Answer, CTRL_ANSWER, CTRL_LENGTH, CTRL_SEQ} from './ep0-protocol.js'

const {ctrl: ctrlBuffer, data: dataBuffer, fd} = workerData as {ctrl: SharedArrayBuffer; data: SharedArrayBuffer; fd: number}
const ctrl = new Int32Array(ctrlBuffer)
const shared = new Uint8Array(dataBuffer)
const port = parentPort!
const EVENT_SIZE = 12
const SETUP = 4
const UNBIND = 1
/** Longer than any host's per-transfer timeout (ours is 5 s, libusb tools use 5 s too). */
const IGNORE_MS = 6000

let seq = 0
const events = Buffer.alloc(EVENT_SIZE * 4)

function ask(setup: Buffer): void {
  seq++
  port.postMessage({seq, setup: Uint8Array.from(setup), type: 'setup'})
  while (Atomics.load(ctrl, CTRL_SEQ) !== seq) Atomics.wait(ctrl, CTRL_SEQ, seq - 1, 1000)
}

function complete(setup: Buffer): void {
  const isIn = (setup[0] & 0x80) !== 0
  const wLength = setup.readUInt16LE(6)
  const answer = Atomics.load(ctrl, CTRL_ANSWER)
  switch (answer) {
    case Answer.IN_DATA: {
      const n = Math.min(Atomics.load(ctrl, CTRL_LENGTH), wLength)
      writeSync(fd, Buffer.from(shared.subarray(0, n)), 0, n)
      break
    }
    case Answer.STALL: {
      // The "wrong" direction stalls: read() for an IN request, write() for an OUT one.
      if (isIn) readSync(fd, Buffer.alloc(1), 0, 1, null)
      else writeSync(fd, Buffer.alloc(1), 0, 1)
      break
    }
    case Answer.READ_DATA: {
      // Node skips zero-length reads, so ask for at least one byte: FunctionFS never gives more than wLength.
      const buf = Buffer.alloc(Math.max(1, wLength))
      const n = readSync(fd, buf, 0, buf.length, null)
      port.postMessage({data: Uint8Array.from(buf.subarray(0, n)), seq, type: 'data'})
      break
    }
    default: {
      // Answer.IGNORE: no status stage at all; the host's transfer timeout ends it. Reading ep0 now would
      // acknowledge the request, so wait out any host's timeout first: a newer SETUP cancels this one meanwhile.
      Atomics.wait(ctrl, CTRL_LENGTH + 1, 0, IGNORE_MS)
    }
  }
}

for (;;) {
  let n: number
  try {
    n = readSync(fd, events, 0, events.length, null)
  } catch (error) {
    port.postMessage({message: (error as Error).message, type: 'error'})
    break
  }
  let unbound = false
  for (let off = 0; off + EVENT_SIZE <= n; off += EVENT_SIZE) {
    const type = events[off + 8]
    port.postMessage({event: type, type: 'event'})
    if (type === UNBIND) unbound = true
    if (type !== SETUP) continue
    const setup = Buffer.from(events.subarray(off, off + 8))
    ask(setup)
    try {
      complete(setup)
    } catch (error) {
      // EIDRM / EL2HLT: the host gave up on this request (a newer SETUP cancelled it) or the stall was reported.
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'EL2HLT' && code !== 'EIDRM') port.postMessage({message: (error as Error).message, type: 'error'})
    }
    port.postMessage({seq, type: 'completed'})
  }
  if (unbound) {
    port.postMessage({type: 'unbound'})
    break
  }
}
