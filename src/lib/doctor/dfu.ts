/** DFU mode: request 50 when the device answers, else the buttons; then write, verify and restart. */
import {errorIs} from '../errors.js'
import {instructionText} from '../text/doctor.js'
import {afterSet, stillListening} from './confirm.js'
import {decline, set} from './fix.js'
import {type DoctorRun, type State} from './state.js'

export async function fixByDfu(d: DoctorRun): Promise<State> {
  if (!(await d.consent({kind: d.found.mode === 'dfu' ? 'write-dfu' : 'try-dfu'}))) return decline(d)
  // From normal mode the writer sends DFU_MODE (50) itself; the buttons only when the firmware does not answer.
  let r = await set(d, 'dfu')
  if (errorIs.busyFirmware(r.error) || errorIs.firmwareRefuses(r.error)) {
    d.o.person.instruct('dfu-buttons', instructionText({kind: 'dfu-buttons'}), d.found.id)
    await d.personBringsBack('dfu', 'dfu-buttons', 'buttons')
    r = await set(d, 'dfu')
  }
  if (r.error) throw r.error
  d.recordWrite(r, 'write-dfu')
  // The writer left DFU mode and waited for the device: it restarted (what the confirmation may claim).
  if (r.steps.some((s) => s.kind === 'left-dfu')) d.restarted = true
  return afterSet(d, r) ?? (r.mode === 'listening' ? stillListening(d) : 'confirm')
}

/** A device in DFU mode whose flag is set: restart it (writes nothing) and look at it again. */
export async function leaveDfu(d: DoctorRun): Promise<State> {
  if (!(await d.consent({kind: 'leave-dfu'}))) {
    d.findings.outcome = 'nothing-to-fix'
    d.findings.summary.push({kind: 'left-in-dfu'})
    return 'done'
  }
  const r = await d.op!.leaveDfu()
  if (r.error) throw r.error
  d.record('restart', 'done', {kind: 'restarted', toLeave: 'dfu'})
  return 'identify'
}
