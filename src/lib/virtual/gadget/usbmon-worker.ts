/**
 * Reads usbmon's text interface for every bus (Linux Documentation/usb/usbmon.rst, the "u" format) on its own
 * thread, since reads block until the host does something. Posts each CDC class OUT request to an interface
 * (bmRequestType 0x21: SET_LINE_CODING, SET_CONTROL_LINE_STATE) once it completed without error, with its bus and
 * data: the gadget bridge hands it to the virtual device whose gadget the kernel's f_acm answered it for. The text
 * is parsed by hand: no npm package reads usbmon.
 */
import {readSync} from 'node:fs'
import {openSync} from 'node:fs'
import {parentPort, workerData} from 'node:worker_threads'

const {path} = workerData as {path: string}
const port = parentPort!
const fd = openSync(path, 'r')
const buffer = Buffer.alloc(64 * 1024)
/** Submitted class OUT requests by URB tag, until their completion line. */
const pending = new Map<string, {bus: number; data: number[]; index: number; request: number; value: number}>()
let rest = ''

function line(text: string): void {
  // e.g. "ffff8880 3575914555 S Co:3:002:0 s 21 20 0000 0000 0007 7 = 40380000 000008"
  //      "ffff8880 3575915000 C Co:3:002:0 0 7 >"
  const w = text.trim().split(/\s+/)
  if (w.length < 6 || !w[3].startsWith('Co:')) return
  const bus = Number(w[3].split(':')[1])
  if (w[2] === 'S' && w[4] === 's' && w[5] === '21') {
    const data = w[11] === '=' ? [...w.slice(12).join('').matchAll(/[\da-f]{2}/gi)].map((m) => Number.parseInt(m[0], 16)) : []
    pending.set(w[0], {bus, data: data.slice(0, Number(w[10])), index: Number.parseInt(w[8], 16), request: Number.parseInt(w[6], 16), value: Number.parseInt(w[7], 16)})
  } else if (w[2] === 'C' || w[2] === 'E') {
    const submitted = pending.get(w[0])
    pending.delete(w[0])
    if (submitted && w[2] === 'C' && w[4] === '0') port.postMessage(submitted)
  }
}

for (;;) {
  let n: number
  try {
    n = readSync(fd, buffer, 0, buffer.length, null)
  } catch (error) {
    port.postMessage({error: (error as Error).message})
    break
  }
  if (n === 0) continue
  const chunk = rest + buffer.subarray(0, n).toString('latin1')
  const lines = chunk.split('\n')
  rest = lines.pop() ?? ''
  for (const l of lines) line(l)
}
