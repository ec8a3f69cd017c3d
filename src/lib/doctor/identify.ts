/**
 * Identifying the device: platform, mode, LED, Device OS version and its source, and the flag (one read). A Linux
 * user without the udev rule goes to `permissions`, which offers the rule (as root, with consent) or prints the
 * command that needs root, and waits for the replug the rule needs.
 */
import {CloudFacts} from '../cloud/facts.js'
import {errorIs} from '../errors.js'
import {withCloudFacts} from '../setup-flag/many.js'
import {instructionText} from '../text/doctor.js'
import {udevInstallCommand} from '../instructions.js'
import {applyRule, planRule} from './udev.js'
import {type DoctorRun, type State} from './state.js'

const MAX_PERMISSION_TRIES = 2

export async function identify(d: DoctorRun): Promise<State> {
  const {found} = d
  d.start({id: found.id, kind: 'reading', timeoutMs: d.o.timeoutMs})
  const report = await d.op!.read()
  if (d.o.cloud) await withCloudFacts([report], new CloudFacts(d.o.cloud, [found.id]))
  d.end(report.error ? 'failed' : 'done')
  d.findings.device = report
  const e = report.error
  if (e && errorIs.firmwareRefuses(e) && found.mode !== 'dfu') {
    // The firmware refuses or garbles control requests: the bootloader does not depend on it.
    d.record('identify', 'failed', {kind: 'firmware-refuses', message: e.message, platformName: report.platform.displayName})
    d.findings.cause = 'unknown'
    return 'fixByDfu'
  }
  if (e && errorIs.accessDenied(e) && d.o.udev) return 'permissions'
  if (e && !errorIs.busyFirmware(e)) throw e
  d.record('identify', 'done', {
    kind: 'identified',
    mode: report.mode,
    name: report.name,
    old: report.note?.kind === 'no-control-requests',
    platformName: report.platform.displayName,
    source: report.deviceOsVersionSource,
    version: report.deviceOsVersion,
  })
  return 'diagnose'
}

/**
 * Linux without the udev rule: this user may not open the device. Offer to install the rule (only when this
 * process may write it, i.e. as root, and only with consent), or print the exact command that needs root; never
 * run sudo. Then the device must be replugged for the rule to apply.
 */
export async function permissions(d: DoctorRun): Promise<State> {
  const udev = d.o.udev!
  if (++d.permissionTries > MAX_PERMISSION_TRIES) throw d.findings.device!.error
  d.record('identify', 'failed', {kind: 'no-permission'})
  const plan = planRule(udev.rulesFile)
  if (plan.installed) {
    d.record('permissions', 'info', {file: plan.file, kind: 'rule-present'})
  } else if (udev.canWrite) {
    // Show exactly what changes (existing lines are kept; theirs are never edited) before asking.
    d.say({diff: plan.diff, file: plan.file, kind: 'rule-diff', newFile: plan.before === ''})
    if (await d.consent({file: plan.file, kind: 'install-rule'})) {
      applyRule(plan)
      d.record('permissions', 'done', {file: plan.file, kind: 'rule-installed'})
    } else {
      d.record('permissions', 'skipped', {file: plan.file, kind: 'rule-declined'})
    }
  } else {
    d.record('permissions', 'info', {command: udevInstallCommand(plan.file), kind: 'rule-needs-root'})
    d.o.person.instruct('run-command', instructionText({file: plan.file, kind: 'run-command'}))
  }
  d.o.person.instruct('replug', instructionText({kind: 'replug'}), d.found.id)
  await d.personBringsBack(d.found.mode === 'dfu' ? 'dfu' : 'normal', 'replug', 'replug')
  return 'identify'
}
