/**
 * `set` as services: which flags go together, over USB (every device found, in parallel, with what the cloud
 * knows), or over the air with the firmware method (each device named, in turn). The command parses flags,
 * calls one of these and renders; the writers are write.ts (USB, DFU) and firmware.ts (over the air).
 */
import type {Clock} from '../clock.js'
import type {Cloud, CloudDevice} from '../cloud/cloud.js'

import {mapLimit} from '../concurrency.js'
import {type DeviceArg} from '../device/select.js'
import {errors, SetupFlagError} from '../errors.js'
import {type UsbBackend} from '../usb/backend.js'
import {type FoundDevice} from '../usb/discovery.js'
import {cloudReport, type FirmwareOptions, readRestoreFile, setByFirmware} from './firmware.js'
import {applyCloud, withError} from './read.js'
import {type Method, rebootTimeoutMs, setSetupFlag, type SetReport} from './write.js'

/** Devices worked on at once: a 32-port hub takes about as long as one device. */
const PARALLEL = 32

/** Flags that do not go together (oclif cannot say these: `--method` has a default, DEVICE is an argument). */
export function setUsageProblem(f: {all: boolean; restore?: string; waitOnline?: number}, method: Method, args: DeviceArg[]): SetupFlagError | undefined {
  if (f.restore && method !== 'firmware') {
    return errors.usage('--restore goes with --method firmware: it flashes production firmware back over the air.', ['Add --method firmware, or drop --restore.'])
  }
  if (f.waitOnline !== undefined && (method !== 'firmware' || args.length !== 1)) {
    return errors.usage('--wait-online goes with --method firmware and one device named: it waits for that device to come online in the field.', [
      'particle-setup-flag set my-boron --method firmware --wait-online',
    ])
  }
  if (f.all && args.length > 0) {
    return errors.usage('--all means every connected device; it does not go with DEVICE arguments.', [
      'Drop --all to fix the devices named, or drop the names to fix every connected device.',
    ])
  }
  return undefined
}

export interface UsbSetOptions {
  backend: UsbBackend
  clock: Clock
  cloud: Cloud
  done: boolean
  dryRun: boolean
  force: boolean
  method: Exclude<Method, 'firmware'>
  /** Each device's report as it is done. */
  onReport: (r: SetReport) => void
  onWaiting: (what: string) => void
  timeoutMs: number
}

/** Set the flag of every device found, in parallel; then add what the cloud knows of each. */
export async function setOverUsb(found: FoundDevice[], o: UsbSetOptions): Promise<SetReport[]> {
  const reports = await mapLimit(found, PARALLEL, async (d) => {
    const r = await setSetupFlag(d, {
      backend: o.backend,
      clock: o.clock,
      cloudVersion: async (id) => (await o.cloud.tryDevices([id])).get(id)?.system_firmware_version,
      done: o.done,
      dryRun: o.dryRun,
      force: o.force,
      method: o.method,
      onWaiting: (what) => o.onWaiting(`${what} (up to ${Math.round(rebootTimeoutMs(o.timeoutMs) / 1000)} s)`),
      timeoutMs: o.timeoutMs,
    })
    o.onReport(r)
    return r
  })
  return reports
}

/** What the cloud knows of each device (its name, the version it last saw), added once all are done. */
export async function withCloudFacts(reports: SetReport[], cloud: Cloud): Promise<void> {
  const known = await cloud.tryDevices(reports.map((r) => r.id))
  for (const r of reports) applyCloud(r, known.get(r.id))
}

/** The firmware method on each device named, one after the other; one unknown name does not stop the others. */
export async function setEachByFirmware(
  args: DeviceArg[],
  o: {
    /** The cloud, made when first needed (after the arguments and the --restore file are checked). */
    cloud: () => Cloud
    /** Each device's report; `flashed` false when the device could not even be looked up. */
    onReport: (r: SetReport, flashed: boolean) => void
    optionsFor: (device: CloudDevice, restore: FirmwareOptions['restore']) => FirmwareOptions
    /** --restore: the production firmware file, checked before anything is flashed. */
    restoreFile?: string
  },
): Promise<SetReport[]> {
  if (args.length === 0) throw errors.needDevice()
  const restore = o.restoreFile ? readRestoreFile(o.restoreFile) : undefined
  const cloud = o.cloud()
  if (cloud.settings.offline) throw errors.offline('The firmware method needs the Particle Cloud', ['Drop --offline.'])
  if (!cloud.settings.accessToken) {
    throw errors.needsLogin('The firmware method works through the Particle Cloud', 'Log in with `particle login`, then run the command again.')
  }
  const reports: SetReport[] = []
  for (const a of args) {
    let device: CloudDevice
    try {
      device = await cloud.device(a.id ?? a.name!)
    } catch (error) {
      // Earlier ones may already run the preparatory firmware: go on with the rest.
      const report = withError(cloudReport({id: a.id ?? a.name!, name: null}), error) as SetReport
      o.onReport(report, false)
      reports.push(report)
      continue
    }
    const report = await setByFirmware(device, o.optionsFor(device, restore))
    o.onReport(report, true)
    reports.push(report)
  }
  return reports
}

/** A named device that is not on USB but online in the cloud: say the firmware method can fix it from here. */
export async function remoteHint(error: unknown, args: DeviceArg[], cloud: Cloud): Promise<unknown> {
  if (!(error instanceof SetupFlagError) || error.code !== 'SETUP_FLAG_NOT_CONNECTED' || !cloud.usable) return error
  for (const a of args) {
    const who = a.name ?? a.id!
    if (!error.message.includes(who)) continue
    // eslint-disable-next-line no-await-in-loop
    const d = await cloud.device(who).catch(() => undefined)
    if (d && (d.online || d.connected)) {
      return errors.reworded(error, {
        message: `${error.message.replace(/\.$/, '')}, but it is online in the Particle Cloud.`,
        suggestions: [`Fix it over the air: particle-setup-flag set ${d.name ?? who} --method firmware --restore <your-production-firmware.bin>`, ...error.suggestions],
      })
    }
  }
  return error
}
