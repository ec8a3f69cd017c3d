/**
 * `set` and `get` over several devices: over USB every device found, in parallel (a 32-port hub takes about as
 * long as one device), or over the air with the firmware method (each device named, in turn). An interruption
 * (the first Ctrl-C) starts no new device; those under way finish safely.
 */
import {type Cloud, type CloudDevice} from '../cloud/cloud.js'
import {type CloudFacts} from '../cloud/facts.js'
import {mapLimit} from '../concurrency.js'
import {type DeviceArg} from '../device/select.js'
import {asSetupFlagError, errors, type OfflineBy} from '../errors.js'
import {type FoundDevice} from '../usb/discovery.js'
import {type WriteOptions} from './decide.js'
import {cloudReport, type FirmwareOptions} from './firmware.js'
import {readRestoreFile, type RestoreFile} from './restore-file.js'
import {FlagOperation, type Method, setByFirmware, type SetOptions} from './operation.js'
import {type DeviceReport, failed} from './report.js'
import {type OperationContext} from './session.js'

/** Devices worked on at once over USB. */
export const PARALLEL = 32
/** Devices read at once. */
export const READ_PARALLEL = 8

/** Flags that do not go together (oclif cannot say these: `--method` has a default, DEVICE is an argument). */
export function setUsageProblem(f: {all: boolean; restore?: string; waitOnline?: number}, method: Method, args: DeviceArg[]) {
  if (f.restore && method !== 'firmware') return errors.flags('restore-needs-firmware')
  if (f.waitOnline !== undefined && (method !== 'firmware' || args.length !== 1)) return errors.flags('wait-online')
  if (f.all && args.length > 0) return errors.flags('all-with-devices')
  return undefined
}

/** Read every device found, in parallel (at most READ_PARALLEL at once); reports in the order of `found`. */
export async function readAll(found: readonly FoundDevice[], ctx: OperationContext, o: {unstick?: boolean}): Promise<DeviceReport[]> {
  return mapLimit([...found], READ_PARALLEL, (d) => new FlagOperation(d, ctx).read(o))
}

/**
 * Set the flag of every device found, in parallel; `onReport` as each is done. After an interruption no device
 * is started: those are reported as cancelled, with nothing written.
 */
export async function setAll(
  found: readonly FoundDevice[],
  ctx: OperationContext,
  o: SetOptions & {onReport?: (r: DeviceReport) => void; onStart?: (id: string) => void},
): Promise<DeviceReport[]> {
  return mapLimit([...found], PARALLEL, async (d) => {
    const op = new FlagOperation(d, ctx)
    if (!ctx.signal?.aborted) o.onStart?.(d.id)
    const r = ctx.signal?.aborted ? failed(op.notStarted(), errors.cancelled([{kind: 'nothing-written'}])) : await op.set(o)
    o.onReport?.(r)
    return r
  })
}

/** Names and the version the cloud last heard, added to each report; a version that differs is remarked on. */
export async function withCloudFacts(reports: readonly DeviceReport[], facts: CloudFacts): Promise<void> {
  const known = await facts.known()
  for (const r of reports) {
    const c = known.get(r.id)
    if (!c) continue
    r.name = c.name
    r.cloudDeviceOsVersion = c.system_firmware_version ?? null
    const cloud = c.system_firmware_version
    if (cloud && r.deviceOsVersion && r.deviceOsVersionSource !== 'cloud' && r.deviceOsVersion !== cloud) r.remarks.push({cloud, device: r.deviceOsVersion, kind: 'version-differs'})
  }
}

export interface FirmwareRun {
  /** The cloud, made when first needed (after the arguments and the --restore file are checked). */
  cloud: () => Cloud
  offlineBy: OfflineBy
  /** Each device's report; `flashed` false when the device could not even be looked up. */
  onReport: (r: DeviceReport, flashed: boolean) => void
  optionsFor: (device: CloudDevice, restore: RestoreFile | undefined) => FirmwareOptions & WriteOptions
  /** --restore: the production firmware file, checked before anything is flashed. */
  restoreFile?: string
}

/** The firmware method on each device named, one after the other; one unknown name does not stop the others. */
export async function setEachByFirmware(args: DeviceArg[], o: FirmwareRun): Promise<DeviceReport[]> {
  if (args.length === 0) throw errors.needDevice()
  // The start of an ID names a device on USB only; the cloud needs the whole ID or the name.
  const partial = args.find((a) => !a.id && !a.name)
  if (partial) throw errors.badDeviceId(partial.arg)
  const restore = o.restoreFile ? readRestoreFile(o.restoreFile) : undefined
  const cloud = o.cloud()
  if (cloud.settings.offline) throw errors.offline('firmware', o.offlineBy)
  if (!cloud.settings.accessToken) throw errors.needsLogin('firmware')
  const reports: DeviceReport[] = []
  for (const a of args) {
    const who = a.id ?? a.name!
    // eslint-disable-next-line no-await-in-loop
    const device = await cloud.device(who).catch((error: unknown) => error as Error)
    if (device instanceof Error) {
      // Earlier ones may already run the preparatory firmware: go on with the rest.
      const r = failed(cloudReport({id: who, name: null}), asSetupFlagError(device))
      o.onReport(r, false)
      reports.push(r)
      continue
    }
    // eslint-disable-next-line no-await-in-loop
    const r = await setByFirmware(device, o.optionsFor(device, restore))
    o.onReport(r, true)
    reports.push(r)
  }
  return reports
}

/**
 * Whether each device listens (request 72, one short request each): what a "which device?" list shows. A device in
 * DFU mode, or whose firmware does not answer within 2 s, is left out.
 */
export async function listeningStates(devices: readonly FoundDevice[], ctx: OperationContext): Promise<Map<string, boolean>> {
  const states = new Map<string, boolean>()
  const quick = {...ctx, progress: undefined, timeoutMs: Math.min(ctx.timeoutMs, 2000)}
  for (const d of devices) {
    if (d.mode === 'dfu') continue
    // eslint-disable-next-line no-await-in-loop
    const listening = await new FlagOperation(d, quick).listening().catch(() => undefined)
    if (listening !== undefined) states.set(d.id, listening)
  }
  return states
}
