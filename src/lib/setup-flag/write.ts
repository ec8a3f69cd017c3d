/**
 * Writing the setup-done flag (the method routing): exactly one byte, read before and read back after, by control request 73 or by
 * DfuSe at DCT 8134 on alt 1. Never erases, never writes where the flag does not apply (unless forced), never
 * writes a byte that already holds the wanted value (unless forced).
 */
import {type FoundDevice} from '../usb/discovery.js'
import {withError} from './read.js'
import {step} from './steps.js'
import {setOverControl} from './write-control.js'
import {leaveDfu, setOverDfu} from './write-dfu.js'
import {offCloud, seenObjects, type SetOptions, type SetReport, setReport} from './write-shared.js'

// The routing from --method to a writer lives here; the writers and what they share live beside it.
export {leaveDfu} from './write-dfu.js'
export {lateResetWaitMs, type Method, rebootTimeoutMs, type SetOptions, type SetReport, setReport} from './write-shared.js'

export async function setSetupFlag(found: FoundDevice, givenOpts: SetOptions): Promise<SetReport> {
  const report = setReport(found)
  const opts = {...givenOpts}
  const objects: USBDevice[] = [found.usbDevice]
  seenObjects.set(opts, objects)
  try {
    const method = opts.method === 'auto' ? (found.mode === 'dfu' ? 'dfu' : 'usb') : opts.method
    let target = found
    if (method === 'usb' && found.mode === 'dfu') {
      if (opts.dryRun) {
        step(report, {kind: 'would-leave-dfu'})
        return report
      }
      target = await leaveDfu(found, opts)
      step(report, {kind: 'left-dfu-for-control'})
    }
    await (method === 'dfu' ? setOverDfu(found, opts, report) : setOverControl(target, opts, report, 'first'))
  } catch (error) {
    withError(report, error)
    if (offCloud.has(report)) step(report, {kind: 'off-cloud'})
    // A write was under way (request 73 or the DFU download went out): say the byte's state is unknown.
    if (report.method !== null && report.after === null) report.reason = `${report.reason} The byte's state after the write is unknown.`
  } finally {
    // Close whatever USB objects this device had on the way (it may have re-enumerated several times). Not by
    // listing the bus: with many devices set at once that made `set --all` quadratic.
    for (const d of objects) if (d.opened) await d.close().catch(() => {})
  }
  return report
}

