/**
 * The doctor: a guided fix for a device blinking dark blue, from plug-in to verified. A state machine over an
 * injected person (prompts and instructions), clock and USB backend, so every branch runs in tests with a
 * scripted person and a fake clock, and the command only renders.
 *
 *   find -> identify -> diagnose -> fix (control request -> Safe Mode -> DFU) -> confirm -> summary
 *
 * Each state is a method that does its work, records a step and returns the next state.
 */

import type {Clock} from '../clock.js'
import type {Cloud, CloudDevice} from '../cloud/cloud.js'
import type {Prompter} from '../prompts.js'

import {openDevice} from '../device/particle-device.js'
import {platformById} from '../particle/platforms.js'
import {waitForReturn} from '../device/reboot.js'
import {type DeviceArg, resolveDeviceArgs} from '../device/select.js'
import {platforms as constantsPlatforms} from '@particle/device-constants'

import {type ErrorJson, errors, hasCode, EXIT, isCancellation, isSetupFlagError, SetupFlagError} from '../errors.js'
import {udevInstallCommand} from '../instructions.js'
import {RequestPendingTimeout} from '../protocol/control-request.js'
import {interruptible, WAIT_ONLINE_DEFAULT_S, waitUntilOnline} from '../fleet/rescue.js'
import {DCT_CAVEAT, setByFirmware} from '../setup-flag/firmware.js'
import {flagApplies, platformReason} from '../setup-flag/policy.js'
import {applyCloud, type FlagReport, readSetupFlag} from '../setup-flag/read.js'
import {leaveDfu, rebootTimeoutMs, setSetupFlag, type SetReport} from '../setup-flag/write.js'
import {byteText, pickerLabels} from '../render.js'
import {type UsbBackend} from '../usb/backend.js'
import {describeFound, findParticleDevices, type FoundDevice} from '../usb/discovery.js'
import {waitForDevice, WaitTimeout} from '../usb/wait.js'
import {applyRule, planRule, type UdevTarget} from './udev.js'

/** What the doctor asks a person to do with their hands; the command prints it, tests act it out. */
export type Instruction = 'connect' | 'dfu-buttons' | 'field-rescue' | 'replug' | 'run-command' | 'safe-mode-buttons'

export interface DoctorPerson {
  /** Show an instruction and return; the doctor then waits on the device, not on a key press. */
  instruct(kind: Instruction, text: string): void
  /** Narrate progress (one line). */
  say(text: string): void
  /** Ask a question; undefined means "no prompter": --yes takes the recommended answer. */
  prompter?: Prompter
  /** Show that the doctor is waiting (spinner); `stop` when done. */
  waiting(text: string | undefined): void
}

export interface DoctorOptions {
  backend: UsbBackend
  clock: Clock
  cloud?: Cloud
  /** DEVICE argument, if any. */
  device?: DeviceArg
  person: DoctorPerson
  /** Per-request deadline, ms. */
  timeoutMs: number
  /** How long to wait for a person to plug in or press buttons, ms. */
  waitMs: number
  /** Where the udev rule for Particle devices goes (Linux), and whether this process may write it (root). */
  udev?: UdevTarget
  /** --yes: take every recommended action without asking. */
  yes: boolean
}

export type Cause = 'not-applicable' | 'not-listening' | 'other' | 'setup-flag' | 'unknown'
export type Outcome = 'cancelled' | 'failed' | 'fixed' | 'nothing-to-fix' | 'not-the-flag'

/**
 * Stable step identifiers (scripts match on them): find, identify, permissions, diagnose, fix, write-usb,
 * safe-mode, write-safe-mode, dfu, write-dfu, remote, write-firmware, restart, confirm, cancelled, stopped.
 */
export type StepId =
  | 'cancelled'
  | 'confirm'
  | 'dfu'
  | 'diagnose'
  | 'find'
  | 'fix'
  | 'identify'
  | 'permissions'
  | 'remote'
  | 'restart'
  | 'safe-mode'
  | 'stopped'
  | 'write-dfu'
  | 'write-firmware'
  | 'write-safe-mode'
  | 'write-usb'

export interface DoctorStep {
  detail?: string
  /** done: the step did what it set out to; found: it found a problem; failed; info; skipped. */
  outcome: 'done' | 'failed' | 'found' | 'info' | 'skipped'
  step: StepId
}

export interface DoctorReport {
  cause: Cause | null
  device: FlagReport | null
  /** Everything done to the device, in words: what was wrong, what was done, what to do next time. */
  error?: ErrorJson
  outcome: Outcome
  steps: DoctorStep[]
  summary: string[]
  write?: Pick<SetReport, 'after' | 'before' | 'changed' | 'method'>
}

/** The states in the order of the flow in the header (each is a method of the same name, in the same order). */
type State =
  | 'find'
  | 'remote'
  | 'identify'
  | 'permissions'
  | 'diagnose'
  | 'fix'
  | 'fixBySafeModeRequest'
  | 'fixBySafeModeButtons'
  | 'fixByDfu'
  | 'leaveDfu'
  | 'confirm'
  | 'done'

const SAFE_MODE_STEPS =
  'Put the device in Safe Mode: hold down MODE and RESET, release RESET, and release MODE when the LED blinks magenta. It then breathes magenta.'
const DFU_STEPS = 'Put the device in DFU mode: hold down MODE, tap RESET, and release MODE when the LED blinks yellow.'
const MAX_BUTTON_TRIES = 3
const MAX_PERMISSION_TRIES = 2

export class Doctor {
  private buttonTries = 0
  /** Whether the device was restarted after the flag was written (what the last confirmation may claim). */
  private restarted = false
  private permissionTries = 0
  private found?: FoundDevice
  /** The device named on the command line when it is not on USB (the remote state's subject). */
  private remoteId?: string
  private readonly report: DoctorReport = {cause: null, device: null, outcome: 'failed', steps: [], summary: []}

  constructor(private readonly o: DoctorOptions) {}

  async run(): Promise<DoctorReport> {
    let state: State = 'find'
    try {
      while (state !== 'done') state = await this[state]()
    } catch (error) {
      if (isCancellation(error)) {
        // Ctrl-C or end of input at a question: the person's choice, said with what had already been done.
        this.report.outcome = 'cancelled'
        this.report.error = errors.cancelled(this.whatWasDone(), error).toJSON()
        this.report.steps.push({detail: 'Cancelled at a question.', outcome: 'skipped', step: 'cancelled'})
        this.report.summary.push(...this.whatWasDone())
        return this.report
      }
      const e = isSetupFlagError(error)
        ? error
        : errors.unexpected(String((error as Error)?.message ?? error))
      this.report.outcome = 'failed'
      this.report.error = e.toJSON()
      this.step('stopped', 'failed', e.message)
      this.report.summary.push(e.message, ...e.suggestions)
    } finally {
      this.o.person.waiting(undefined)
    }
    return this.report
  }

  // ---- states ----

  /** Find the device: the one named, the only one, the one the person picks, or wait for one. */
  private async find(): Promise<State> {
    const arg = this.o.device
    if (arg) {
      let id = arg.id
      if (!id) {
        if (!this.o.cloud) throw errors.notLoggedIn(arg.arg)
        id = (await resolveDeviceArgs([arg], this.o.cloud)).get(arg.name!)!
      }
      const onUsb = (await findParticleDevices(this.o.backend)).find((d) => d.id === id)
      if (onUsb) {
        this.found = onUsb
        this.step('find', 'done', `Found ${describeFound(onUsb)} on USB.`)
        return 'identify'
      }
      this.remoteId = id
      return 'remote'
    }

    const all = await findParticleDevices(this.o.backend)
    if (all.length === 1) {
      this.found = all[0]
      this.step('find', 'done', `Found ${describeFound(all[0])} on USB.`)
      return 'identify'
    }
    if (all.length > 1) {
      if (!this.o.person.prompter) throw errors.multipleDevices(all.map((d) => describeFound(d)))
      const known = (await this.o.cloud?.tryDevices(all.map((d) => d.id))) ?? new Map<string, CloudDevice>()
      const labels = await pickerLabels(all, this.o.clock, this.o.timeoutMs, known)
      const id = await this.o.person.prompter.select(
        'Several Particle devices are connected. Which one blinks dark blue?',
        all.map((d) => ({name: labels.get(d.id)!, value: d.id})),
      )
      this.found = all.find((d) => d.id === id)!
      this.step('find', 'done', `Chose ${describeFound(this.found)}.`)
      return 'identify'
    }
    this.o.person.instruct('connect', 'No Particle device is connected. Connect it to this computer with a USB data cable (some cables only carry power). Waiting for it...')
    this.found = await this.waitFor((d) => Boolean(d), 'connected')
    this.step('find', 'done', `${describeFound(this.found)} was connected.`)
    return 'identify'
  }

  /** The device named is not on USB: wait for it, or fix it over the air. */
  private async remote(): Promise<State> {
    const id = this.remoteId!
    const cloudDevice = this.o.cloud?.usable ? await this.o.cloud.device(id).catch(() => undefined) : undefined
    this.step('find', 'info', `Device ${cloudDevice?.name ?? id} is not connected over USB.`)
    const choice = await this.remoteChoice(cloudDevice, id)
    if (choice === 'remote' || choice === 'field') return this.fixOverTheAir(cloudDevice!, id, choice)
    if (cloudDevice && !cloudDevice.online && !cloudDevice.connected) {
      this.o.person.say(`In the field? particle-setup-flag set ${cloudDevice.name ?? id} --method firmware --wait-online flashes it the moment someone on site brings it online.`)
    }
    this.o.person.instruct('connect', `Connect ${cloudDevice?.name ?? id} to this computer with a USB data cable. Waiting for it...`)
    this.found = await this.waitFor((d) => d.id === id, 'connected')
    this.step('find', 'done', `${describeFound(this.found)} was connected.`)
    return 'identify'
  }

  /** Over USB, remotely (online), or in the field (offline): asked when there is someone to ask. */
  private async remoteChoice(cloudDevice: CloudDevice | undefined, id: string): Promise<'field' | 'remote' | 'usb'> {
    if (cloudDevice && !cloudDevice.online && !cloudDevice.connected && this.o.person.prompter) {
      // Offline and not on USB: someone next to it can start it in Safe Mode, and it is flashed when it connects.
      return this.o.person.prompter.select(`${cloudDevice.name ?? id} is offline. How do you want to fix it?`, [
        {description: 'Connect it to this computer with a USB cable', name: 'Over USB (plug it in now)', value: 'usb'},
        {description: 'Someone next to it starts it in Safe Mode; it is flashed over the air the moment it connects', name: 'In the field, the moment it comes online', value: 'field'},
      ])
    }
    if (cloudDevice && (cloudDevice.online || cloudDevice.connected)) {
      if (!this.o.person.prompter) return 'remote'
      return this.o.person.prompter.select(`${cloudDevice.name ?? id} is online in the cloud. How do you want to fix it?`, [
        {description: 'Connect it to this computer with a USB cable', name: 'Over USB (plug it in now)', value: 'usb'},
        {description: 'Flash a small preparatory firmware over the air, then your production firmware back', name: 'Remotely, with the preparatory firmware', value: 'remote'},
      ])
    }
    return 'usb'
  }

  /** The firmware method, now (online) or the moment it comes online (field). */
  private async fixOverTheAir(cloudDevice: CloudDevice, id: string, choice: 'field' | 'remote'): Promise<State> {
    this.report.outcome = 'nothing-to-fix'
    this.report.cause = null
    const platform = cloudDevice?.platform_id === undefined ? undefined : platformById(cloudDevice.platform_id)
    const applies = platform ? flagApplies(platform, {version: cloudDevice?.system_firmware_version}) : undefined
    if (applies && applies.applies === false) {
      this.report.cause = 'not-applicable'
      this.report.outcome = 'not-the-flag'
      this.report.summary.push(applies.reason)
      return 'done'
    }
    const name = cloudDevice.name ?? id
    this.step('remote', 'info', 'The remote fix flashes a preparatory firmware, waits for it to report the flag, and then needs your production firmware back.')
    const later = `Fix it over the air later: particle-setup-flag set ${name} --method firmware --restore <your-production-firmware.bin>`
    if (!(await this.consent(`${DCT_CAVEAT}\nFlash the preparatory firmware to ${name} now?`, false))) {
      this.report.outcome = 'cancelled'
      this.report.error = errors.declined(['Nothing was flashed.', later]).toJSON()
      this.report.summary.push('Nothing was flashed.', later)
      return 'done'
    }
    this.o.person.waiting(`Compiling and flashing the preparatory firmware to ${name}`)
    const r = await setByFirmware(cloudDevice, {
      clock: this.o.clock,
      cloud: this.o.cloud!,
      confirm: async () => true, // consent was given above
      done: true,
      dryRun: false,
      force: false,
      onWaiting: (what) => this.o.person.waiting(`${what} (up to ${seconds(this.o.waitMs)})`),
      waitMs: this.o.waitMs,
      waitOnline: choice === 'field' ? () => this.waitInTheField(cloudDevice, name) : undefined,
    })
    this.o.person.waiting(undefined)
    this.report.device = r
    if (r.error) throw toError(r)
    this.report.cause = 'setup-flag'
    this.report.write = {after: r.after, before: r.before, changed: r.changed, method: r.method}
    this.step('write-firmware', 'done', `The preparatory firmware set the flag and reported ${byteText(r.after)}.`)
    this.report.outcome = 'fixed'
    this.report.summary.push(
      `What was done: a preparatory firmware, compiled for ${r.platformName} on Device OS ${r.deviceOsVersion}, was flashed over the air, set the flag and reported it back.`,
      `Now flash your production firmware back (the device runs only the preparatory firmware until then): particle flash ${name} <your-production-firmware.bin>`,
    )
    return 'done'
  }

  /** Wait for someone on site to bring the device online (the field-rescue card says how). */
  private waitInTheField(cloudDevice: CloudDevice, name: string): Promise<string> {
    let announced = false
    return interruptible((signal) =>
      waitUntilOnline({
        clock: this.o.clock,
        cloud: this.o.cloud!,
        device: cloudDevice,
        onCard: (card) => this.o.person.instruct('field-rescue', card),
        onProgress: (left) => {
          // One spinner line for the whole wait (the person interface has no status updates).
          if (left === undefined) this.o.person.waiting(undefined)
          else if (!announced) this.o.person.waiting(`Waiting for ${name} to come online (at most ${WAIT_ONLINE_DEFAULT_S / 60} minutes)`)
          announced = true
        },
        signal,
        waitMs: WAIT_ONLINE_DEFAULT_S * 1000,
      }),
    )
  }

  /** Identify: platform, mode, LED, Device OS version and its source, and the flag. */
  private async identify(): Promise<State> {
    const found = this.found!
    this.o.person.waiting(`Reading ${found.id} (${this.perRequest()})`)
    const report = await readSetupFlag(found, {clock: this.o.clock, timeoutMs: this.o.timeoutMs})
    const known = this.o.cloud ? await this.o.cloud.tryDevices([found.id]) : new Map<string, CloudDevice>()
    applyCloud(report, known.get(found.id))
    this.o.person.waiting(undefined)
    this.report.device = report
    if (report.error && hasCode(report.error, 'SETUP_FLAG_DEVICE_ERROR', 'SETUP_FLAG_PROTOCOL', 'SETUP_FLAG_USB_STALL') && found.mode !== 'dfu') {
      // The firmware refuses or garbles control requests: the bootloader does not depend on it.
      this.step('identify', 'failed', `${report.platformName}: ${report.error.message}`)
      this.report.cause = 'unknown'
      return 'fixByDfu'
    }
    if (report.error?.code === 'SETUP_FLAG_USB_ACCESS' && this.o.udev) return 'permissions'
    if (report.error && report.error.code !== 'SETUP_FLAG_NOT_RESPONDING') throw toError(report)
    const version = report.deviceOsVersion ? `Device OS ${report.deviceOsVersion} (from ${report.deviceOsVersionSource === 'usb' ? 'the device' : report.deviceOsVersionSource === 'dfu' ? 'its firmware header' : 'the cloud'})` : 'Device OS version unknown'
    this.step('identify', 'done', `${report.name ? `${report.name}, ` : ''}${report.platformName}, ${modeText(report.mode)}, LED ${ledText(report.mode)}; ${version}.`)
    return 'diagnose'
  }

  /**
   * Linux without the udev rule: this user may not open the device. Offer to install the rule (only when this
   * process may write it, i.e. as root, and only with consent), or print the exact command that needs root;
   * never run sudo. Then the device must be replugged for the rule to apply.
   */
  private async permissions(): Promise<State> {
    const udev = this.o.udev!
    const found = this.found!
    if (++this.permissionTries > MAX_PERMISSION_TRIES) throw toError(this.report.device!)
    this.step('identify', 'failed', 'This user may not open the device: USB permission denied (the udev rule for Particle devices is missing).')
    const plan = planRule(udev.rulesFile)
    if (plan.installed) {
      this.step('permissions', 'info', `The rule is already in ${plan.file}; it applies once the device is plugged in again.`)
    } else if (udev.canWrite) {
      // Show exactly what changes (existing lines are kept; theirs are never edited) before asking.
      this.o.person.say(`The udev rule for Particle devices (vendor 2b04) would be added${plan.before === '' ? '' : `; the lines already in ${plan.file} stay as they are`}:\n${plan.diff}`)
      if (await this.consent(`Install the udev rule for Particle devices (vendor 2b04) in ${plan.file}?`)) {
        applyRule(plan)
        this.step('permissions', 'done', `Installed the udev rule at ${plan.file}.`)
      } else {
        this.step('permissions', 'skipped', `The udev rule was not installed (${plan.file} left as it was).`)
      }
    } else {
      this.step('permissions', 'info', `Needs root: ${udevInstallCommand(plan.file)}`)
      this.o.person.instruct(
        'run-command',
        `Install the udev rule (this needs root; the doctor never runs sudo itself):\n\n    ${udevInstallCommand(plan.file)}\n\n(\`tee -a\` adds the line and removes nothing; \`particle usb configure\` from the official CLI installs its own rules instead.)`,
      )
    }
    this.o.person.instruct('replug', 'Now unplug the device and plug it in again.')
    this.found = await this.waitForNew(found, found.mode === 'dfu' ? 'dfu' : 'normal', 'plugged in again')
    return 'identify'
  }

  /** Diagnose from what was read. */
  private async diagnose(): Promise<State> {
    const r = this.report.device!
    const platform = platformById(r.platformId)!
    if (r.flag === 'not-done') {
      this.report.cause = 'setup-flag'
      this.step('diagnose', 'found', `The setup-done flag is not set: this is why the ${r.platformName} boots into Listening Mode.`)
      return 'fix'
    }
    if (r.flag === 'not-applicable') {
      this.report.cause = 'not-applicable'
      const reason = platformReason(platform) ?? r.reason ?? ''
      this.step('diagnose', 'done', reason)
      this.report.outcome = 'not-the-flag'
      this.report.summary.push(reason)
      if (platform.family === 'nrf52840' && r.mode === 'listening') this.report.summary.push('What usually keeps it listening:', ...otherCauses(r))
      return 'done'
    }
    if (r.flag === 'done') {
      if (r.mode === 'dfu') {
        this.step('diagnose', 'info', 'The setup-done flag is set; in DFU mode the device cannot say whether it would listen.')
        return 'leaveDfu'
      }
      if (r.mode === 'listening') {
        this.report.cause = 'other'
        this.step('diagnose', 'found', 'The setup-done flag is set, so something else keeps the device in Listening Mode.')
        this.report.outcome = 'not-the-flag'
        this.report.summary.push('The setup-done flag is set. What else keeps a device in Listening Mode:', ...otherCauses(r))
        return 'done'
      }
      this.report.cause = 'not-listening'
      this.step('diagnose', 'done', 'The setup-done flag is set and the device is not in Listening Mode: nothing to fix.')
      this.report.outcome = 'nothing-to-fix'
      this.report.summary.push('The setup-done flag is set and the device is not in Listening Mode. If it blinks dark blue again later, run the doctor then.')
      return 'done'
    }
    // unknown: the firmware did not answer, or the version is unknown
    this.report.cause = 'unknown'
    if (r.error?.code === 'SETUP_FLAG_NOT_RESPONDING') {
      this.step('diagnose', 'info', 'The device firmware does not answer USB requests, so the flag cannot be read as it runs.')
      return 'fix'
    }
    throw errors.fromJson({...r.error, message: r.reason ?? 'The flag could not be read.'}, {exit: EXIT.DEVICE, message: 'The flag could not be read.'})
  }

  /** Fix, with consent: a control request first (set retries via Safe Mode itself), DFU when that fails. */
  private async fix(): Promise<State> {
    const found = this.found!
    if (found.mode === 'dfu') return 'fixByDfu'
    if (this.report.device?.error?.code === 'SETUP_FLAG_NOT_RESPONDING') {
      // Asking again would only wait out more deadlines: go to Safe Mode, where the application does not run.
      this.o.person.say('Its firmware is busy (its application, or a connection attempt, holds the system), so the fix continues in Safe Mode.')
      if (!(await this.consent('Fix it in Safe Mode (the doctor asks the device to restart in Safe Mode, or you press two buttons; it then reads the flag, sets it if needed, and restarts the device)?'))) {
        return this.cancel()
      }
      return 'fixBySafeModeRequest'
    }
    if (!(await this.consent('Set the setup-done flag now over USB (control request 73)?'))) return this.cancel()
    this.o.person.waiting(`Setting the flag (${this.perRequest()})`)
    const r = await this.set(found, 'usb')
    if (!r.error) return this.afterWrite(r)
    if (r.error.code === 'SETUP_FLAG_NOT_RESPONDING') {
      this.step('write-usb', 'failed', 'The device firmware does not answer, not even the request to restart in Safe Mode.')
      return 'fixBySafeModeButtons'
    }
    if (hasCode(r.error, 'SETUP_FLAG_DISCONNECTED', 'SETUP_FLAG_USB_ACCESS', 'SETUP_FLAG_PROTECTED')) throw toError(r)
    this.step('write-usb', 'failed', r.error.message)
    return 'fixByDfu'
  }

  /**
   * Safe Mode by USB first: request 60. Its INIT also aborts a connection attempt that holds the system thread
   * (from 1.3.1-rc.1, docs/protocol.md), so a device stuck connecting restarts in Safe Mode with no buttons; an
   * application that blocks the system thread leaves it pending, and the person presses the buttons. A 60 that
   * timed out may still run later: the buttons restart the device into Safe Mode either way, so nothing is sent
   * on top of it.
   */
  private async fixBySafeModeRequest(): Promise<State> {
    const found = this.found!
    this.o.person.waiting(`Asking the device to restart in Safe Mode (request 60; ${this.perRequest()})`)
    const dev = await openDevice(found, this.o.clock)
    let taken = true
    try {
      await dev.resetPending()
      await dev.enterSafeMode({timeoutMs: this.o.timeoutMs})
    } catch (error) {
      if (!(error instanceof RequestPendingTimeout)) throw error
      taken = false
    } finally {
      await dev.close()
    }
    this.o.person.waiting(undefined)
    if (!taken) {
      this.step('safe-mode', 'failed', 'The firmware did not carry out the request to restart in Safe Mode (60): its application keeps the system busy.')
      return 'fixBySafeModeButtons'
    }
    return this.inSafeMode(await this.waitForNew(found, 'normal', 'in Safe Mode', false))
  }

  /** The firmware does not answer: the person puts the device in Safe Mode, where the application does not run. */
  private async fixBySafeModeButtons(): Promise<State> {
    const found = this.found!
    if (++this.buttonTries > MAX_BUTTON_TRIES) {
      throw errors.notResponding('The device still does not answer USB requests after restarting.', DFU_STEPS + ' Then run `particle-setup-flag set`.')
    }
    this.o.person.instruct('safe-mode-buttons', SAFE_MODE_STEPS)
    return this.inSafeMode(await this.waitForNew(found, 'normal', 'in Safe Mode (breathing magenta)'))
  }

  /** The device is back in Safe Mode (by request 60 or the buttons): read, set if needed, restart it. */
  private async inSafeMode(back: FoundDevice): Promise<State> {
    this.found = back
    this.step('safe-mode', 'done', 'The device restarted in Safe Mode.')
    this.o.person.waiting(`Setting the flag (${this.perRequest()})`)
    const r = await this.set(back, 'usb')
    if (r.error?.code === 'SETUP_FLAG_NOT_RESPONDING') {
      this.o.person.say('The device still does not answer: it does not seem to be in Safe Mode (the LED should breathe magenta). Once more:')
      return 'fixBySafeModeButtons'
    }
    if (r.error) throw toError(r)
    this.recordWrite(r, 'write-safe-mode')
    // Leave Safe Mode: restart into the application (the boot check now finds the flag set).
    await this.restart(back, 'Restarted the device to leave Safe Mode (request 40).')
    return this.afterSet(r) ?? 'confirm'
  }

  /** DFU: request 50 when the device answers, else the buttons; then write, verify and restart. */
  private async fixByDfu(): Promise<State> {
    const found = this.found!
    const question =
      found.mode === 'dfu'
        ? 'The device is in DFU mode. Write the flag with DFU (one byte at DCT 8134), then restart it?'
        : 'Try DFU mode instead (the device restarts into its bootloader, one byte is written, and it restarts)?'
    if (!(await this.consent(question))) return this.cancel()
    this.o.person.waiting(`Writing the flag over DFU (${this.perRequest()})`)
    // From normal mode this sends DFU_MODE (50) itself; the buttons only when the firmware does not answer.
    let r = await this.set(found, 'dfu')
    if (r.error?.code === 'SETUP_FLAG_NOT_RESPONDING' || r.error?.code === 'SETUP_FLAG_USB_STALL') {
      this.o.person.instruct('dfu-buttons', DFU_STEPS)
      const inDfu = await this.waitForNew(await this.current(), 'dfu', 'in DFU mode (blinking yellow)')
      this.o.person.waiting(`Writing the flag over DFU (${this.perRequest()})`)
      r = await this.set(inDfu, 'dfu')
    }
    if (r.error) throw toError(r)
    this.found = await this.current()
    this.recordWrite(r, 'write-dfu')
    return this.afterSet(r) ?? (r.mode === 'listening' ? this.stillListening() : 'confirm')
  }

  /** A device in DFU mode whose flag is set: restart it (writes nothing) and look at it again. */
  private async leaveDfu(): Promise<State> {
    if (!(await this.consent('Restart the device out of DFU mode to see whether it still listens?'))) {
      this.report.outcome = 'nothing-to-fix'
      this.report.summary.push('The setup-done flag is set. The device was left in DFU mode; tap RESET to restart it.')
      return 'done'
    }
    this.o.person.waiting(`Restarting the device (waiting up to ${seconds(rebootTimeoutMs(this.o.timeoutMs))} for it)`)
    this.found = await leaveDfu(this.found!, {
      backend: this.o.backend,
      clock: this.o.clock,
      onWaiting: (what) => this.o.person.waiting(`${what} (up to ${seconds(rebootTimeoutMs(this.o.timeoutMs))})`),
      timeoutMs: this.o.timeoutMs,
    })
    this.o.person.waiting(undefined)
    this.step('restart', 'done', 'Left DFU mode.')
    return 'identify'
  }

  /** Confirm: the device is back and not in Listening Mode (request 72). */
  private async confirm(): Promise<State> {
    const found = await this.current()
    let listening: boolean | undefined
    const dev = await openDevice(found, this.o.clock)
    this.o.person.waiting(`Checking whether the device listens (${this.perRequest()})`)
    try {
      await dev.resetPending()
      listening = await dev.isListening({timeoutMs: this.o.timeoutMs})
    } catch (error) {
      if (!(error instanceof RequestPendingTimeout) && !isSetupFlagError(error)) throw error
    } finally {
      this.o.person.waiting(undefined)
      await dev.close()
    }
    const device = this.report.device
    if (device && listening !== undefined) device.mode = listening ? 'listening' : 'normal' // the last known state
    const restarted = this.restarted ? 'The device restarted and' : 'The device was not restarted; it'
    if (listening === undefined) {
      this.step('confirm', 'info', `The flag is verified; ${this.restarted ? 'the device restarted, but ' : ''}its application does not answer USB requests, so its mode cannot be checked.`)
    } else if (listening) {
      this.step('confirm', 'failed', `${restarted} is still in Listening Mode.`)
      this.report.outcome = 'not-the-flag'
      this.report.summary.push('The setup-done flag is now set, but the device still listens, so something else keeps it there:', ...otherCauses(this.report.device!))
      return 'done'
    } else {
      this.step('confirm', 'done', `${restarted} is not in Listening Mode.`)
    }
    this.report.outcome = 'fixed'
    this.report.summary.push(
      `What was wrong: the setup-done flag of this ${this.report.device!.platformName} was not set, so Device OS ${this.report.device!.deviceOsVersion ?? ''} sent it to Listening Mode (blinking dark blue) at every boot.`.replace(' ,', ','),
      `What was done: the flag was written (${byteText(this.report.write?.before ?? null)} → ${byteText(this.report.write?.after ?? null)}) by ${this.report.write?.method === 'dfu' ? 'DFU' : 'a USB control request'} and read back.${this.restarted ? '' : ' The device was not restarted: its next restart runs the boot check with the flag set.'}`,
      'If it happens again: on Device OS below 4.0, a full settings reset (holding MODE through a reset until the LED blinks white) wipes the configuration flash and unsets the flag, and Particle\'s guide says clearing credentials does too; run this doctor again. Upgrading to Device OS 4.0 or later removes the flag for good.',
    )
    return 'done'
  }

  // ---- helpers ----

  /** After a write over USB: restart the device so the boot check runs again, then confirm. */
  private async afterWrite(r: SetReport): Promise<State> {
    this.recordWrite(r, 'write-usb')
    const found = await this.current()
    if (!(await this.consent('Restart the device now to check that it boots normally?'))) {
      this.step('restart', 'skipped', 'Not restarted.')
      this.found = found
      return 'confirm'
    }
    await this.restart(found, 'Restarted the device (request 40).')
    return 'confirm'
  }

  /** Request 40, then wait for the device to enumerate again. */
  private async restart(found: FoundDevice, done: string): Promise<void> {
    const dev = await openDevice(found, this.o.clock)
    try {
      await dev.resetPending()
      await dev.reset({timeoutMs: this.o.timeoutMs})
    } finally {
      await dev.close()
    }
    this.found = await this.waitForNew(found, 'normal', 'restarted', false)
    this.restarted = true
    this.step('restart', 'done', done)
  }

  /** The limit of one request, for the texts of waits ("firmware not answering; waiting up to 10 s"). */
  private perRequest(): string {
    return `waiting up to ${seconds(this.o.timeoutMs)} for each answer`
  }

  /** The device's current USB object (it may have re-enumerated since we last looked). */
  private async current(): Promise<FoundDevice> {
    const id = this.found!.id
    return (await findParticleDevices(this.o.backend)).find((d) => d.id === id) ?? this.found!
  }

  /** The person declined the fix: nothing more is done, and the exit status says "not fixed" (130). */
  private cancel(): State {
    this.report.outcome = 'cancelled'
    const later = `To fix it later: particle-setup-flag set ${this.found?.id ?? ''}`.trim()
    this.report.error = errors.declined([...this.whatWasDone(), later]).toJSON()
    this.step('fix', 'skipped', 'Not fixed: you declined.')
    this.report.summary.push(...this.whatWasDone(), later)
    return 'done'
  }

  /** What had been done to the device so far, for a cancellation or a declined fix (one line). */
  whatWasDone(): string[] {
    const w = this.report.write
    if (!w) return ['Nothing was written.']
    if (!w.changed) return ['Nothing was written: the flag already held the wanted value.']
    const restart = this.restarted ? 'the device was restarted.' : 'the device was not restarted.'
    return [`The flag was written (${byteText(w.before)} → ${byteText(w.after)}) and read back; ${restart}`]
  }

  private async consent(question: string, defaultAnswer = true): Promise<boolean> {
    if (this.o.yes || !this.o.person.prompter) return true
    this.o.person.waiting(undefined)
    return this.o.person.prompter.confirm(question, defaultAnswer)
  }

  /**
   * What a write found decides the rest, when the flag could not be read before it (firmware not answering, or
   * read over DFU): nothing to do where the flag does not exist, another cause where it was already set.
   */
  private afterSet(r: SetReport): State | undefined {
    if (r.flag === 'not-applicable') {
      this.report.cause = 'not-applicable'
      this.report.outcome = 'not-the-flag'
      this.report.summary.push(r.reason ?? 'The setup-done flag does not exist on this device.', 'What usually keeps it listening:', ...otherCauses(r))
      return 'done'
    }
    if (!r.changed) {
      this.report.cause = 'other'
      this.report.outcome = 'not-the-flag'
      this.report.summary.push('The setup-done flag was already set, so it is not the cause. What else keeps a device in Listening Mode:', ...otherCauses(r))
      return 'done'
    }
    this.report.cause = 'setup-flag'
    return undefined
  }

  private recordWrite(r: SetReport, step: StepId): void {
    this.report.write = {after: r.after, before: r.before, changed: r.changed, method: r.method}
    this.step(step, 'done', r.changed ? `Wrote the flag (${byteText(r.before)} → ${byteText(r.after)}) and read it back.` : 'The flag already held the wanted value.')
    if (this.report.device) Object.assign(this.report.device, {flag: r.flag, value: r.value})
  }

  private async set(found: FoundDevice, method: 'dfu' | 'usb'): Promise<SetReport> {
    const r = await setSetupFlag(found, {
      backend: this.o.backend,
      clock: this.o.clock,
      done: true,
      dryRun: false,
      force: false,
      method,
      onWaiting: (what) => this.o.person.waiting(`${what} (up to ${seconds(rebootTimeoutMs(this.o.timeoutMs))})`),
      timeoutMs: this.o.timeoutMs,
    })
    this.o.person.waiting(undefined)
    return r
  }

  private step(step: StepId, outcome: DoctorStep['outcome'], detail?: string): void {
    this.report.steps.push({detail, outcome, step})
    // ✔ only for a good outcome; a problem found is ⚠, a failure ✖.
    if (detail) this.o.person.say(`${{done: '✔', failed: '✖', found: '⚠', info: '•', skipped: '•'}[outcome]} ${detail}`)
  }

  private stillListening(): State {
    this.report.outcome = 'not-the-flag'
    this.step('confirm', 'failed', 'The flag is set, but the device restarted into Listening Mode again.')
    this.report.summary.push('The setup-done flag is now set, but something else keeps the device listening:', ...otherCauses(this.report.device!))
    return 'done'
  }

  private async waitFor(match: (d: FoundDevice) => boolean, what: string): Promise<FoundDevice> {
    this.o.person.waiting(`Waiting for the device to be ${what} (up to ${seconds(this.o.waitMs)})`)
    try {
      return await waitForDevice(this.o.backend, match, {clock: this.o.clock, timeoutMs: this.o.waitMs})
    } catch (error) {
      if (error instanceof WaitTimeout) {
        throw errors.noDeviceInTime(what, this.o.waitMs)
      }
      throw error
    } finally {
      this.o.person.waiting(undefined)
    }
  }

  /** Wait for the device to come back as a new USB device (after buttons or a reset). */
  private async waitForNew(old: FoundDevice, mode: 'dfu' | 'normal', what: string, person = true): Promise<FoundDevice> {
    this.o.person.waiting(
      person ? `Waiting for the device to come back ${what} (up to ${seconds(this.o.waitMs)})` : `Waiting for the device to restart (up to ${seconds(rebootTimeoutMs(this.o.timeoutMs))})`,
    )
    try {
      return await waitForReturn(old, mode, {backend: this.o.backend, clock: this.o.clock, timeoutMs: person ? this.o.waitMs : rebootTimeoutMs(this.o.timeoutMs)}, what)
    } catch (error) {
      if (person && isSetupFlagError(error) && error.code === 'SETUP_FLAG_NO_RETURN') {
        throw errors.reworded(error, {suggestions: [mode === 'dfu' ? DFU_STEPS : SAFE_MODE_STEPS, 'Then run the doctor again.']})
      }
      throw error
    } finally {
      this.o.person.waiting(undefined)
    }
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`
}


function toError(r: FlagReport): SetupFlagError {
  return errors.fromJson(r.error, {exit: EXIT.DEVICE, message: 'The flag could not be read.'})
}

function modeText(mode: FlagReport['mode']): string {
  return {dfu: 'in DFU mode', listening: 'in Listening Mode', normal: 'running (normal or Safe Mode)', unknown: 'firmware not answering USB requests'}[mode]
}

function ledText(mode: FlagReport['mode']): string {
  return {
    dfu: 'blinking yellow',
    listening: 'blinking dark blue',
    normal: 'breathing cyan when connected (breathing magenta in Safe Mode)',
    unknown: 'as its application sets it',
  }[mode]
}

/** What else keeps a device in Listening Mode, by platform family, with the next step for each. */
export function otherCauses(r: FlagReport): string[] {
  // Which radios the platform has, from @particle/device-constants (an A SoM is Wi-Fi, an M SoM both).
  const features: string[] = Object.values(constantsPlatforms).find((p) => p.name === r.platform)?.features ?? []
  const causes = [
    ...(features.includes('wifi')
      ? ['- No Wi-Fi credentials: add them with `particle wifi add` (or `particle serial wifi`) or the Particle setup at setup.particle.io.']
      : []),
    ...(features.includes('cellular') || !features.includes('wifi')
      ? ['- No cellular connection settings, or an inactive SIM: check the SIM in the console (console.particle.io) and the antenna.']
      : []),
    '- The credentials were cleared (holding MODE for 10 s in Listening Mode does that): add them again as above.',
    '- The application asks for Listening Mode (WiFi.listen() / Cellular.listen(), or a SEMI_AUTOMATIC app that never connects): check its code, or run it in Safe Mode to compare.',
  ]
  return causes
}
