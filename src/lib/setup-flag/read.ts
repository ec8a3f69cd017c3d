/**
 * Reading one device's setup-done flag, in whatever mode it is: control requests when Device OS runs (normal,
 * listening, safe), DfuSe in DFU mode. Writes nothing. The platform decides first: where it alone rules the flag
 * out, no failure of the firmware turns the answer into "unknown".
 */
import {type OpenDevice} from '../device/particle-device.js'
import {DfuNotPermitted, errorIs, errors, isSetupFlagError, RequestPendingTimeout} from '../errors.js'
import {hasRawOutRequests} from '../particle/versions.js'
import {DfuAlt, RequestType, SETUP_DONE_OFFSET} from '../protocol/constants.js'
import {type DfuseClient} from '../protocol/dfuse.js'
import {type Applicability, bootsAsSetUp, byPlatform, type FlagReading, PROTECTED} from './policy.js'
import {judge} from './report.js'
import {type DeviceSession} from './session.js'
import {versionOverControl, versionOverDfu} from './version.js'

/** Read the flag of the device in `s` into its report; throws what fails (the operation records it). */
export async function readFlag(s: DeviceSession, o: {unstick?: boolean} = {}): Promise<void> {
  if (s.found.mode === 'dfu') await readOverDfu(s)
  else await readOverControl(s, o.unstick === true)
}

async function readOverControl(s: DeviceSession, unstick: boolean): Promise<void> {
  const ruled = byPlatform(s.found.platform)
  if (ruled) {
    judge(s.report, ruled, undefined)
    // What it runs and its mode are worth showing, but nothing the firmware does can change the answer.
    await identifyBestEffort(s)
    return
  }
  if (s.noControlRequests) {
    // Below 0.9.0 (the flag applies there): nothing to ask over USB; the report says what it is and how to fix it.
    s.report.note = {kind: 'no-control-requests'}
    return
  }
  const dev = await s.control()
  const applicability = await versionOverControl(s, dev)
  if (applicability.applies === false) judge(s.report, applicability, undefined)
  await dev.resetPending()
  try {
    s.report.mode = (await isListeningFreeingThread(s, dev, unstick)) ? 'listening' : 'normal'
  } catch (error) {
    if (!errorIs.protected(error)) throw error
    s.report.protected = true
    if (applicability.applies !== false) throw error
    return
  }
  if (applicability.applies !== true) return judge(s.report, applicability, undefined)
  const reading: FlagReading = {done: await dev.isSetupDone({timeoutMs: s.ctx.timeoutMs}), kind: 'request'}
  judge(s.report, applicability, reading)
}

/** A device whose platform has no flag: its version and mode when it answers; nothing when it does not. */
export async function identifyBestEffort(s: DeviceSession): Promise<void> {
  try {
    const dev = await s.control()
    await versionOverControl(s, dev)
    await dev.resetPending()
    s.report.mode = (await dev.isListening({timeoutMs: s.ctx.timeoutMs})) ? 'listening' : 'normal'
  } catch (error) {
    if (!isSetupFlagError(error)) throw error
  }
}

async function readOverDfu(s: DeviceSession): Promise<void> {
  const ruled = byPlatform(s.found.platform)
  if (ruled) return judge(s.report, ruled, undefined)
  const dfu = await s.dfu()
  try {
    const applicability = await versionOverDfu(s, dfu)
    const byte = await readByte(s, dfu)
    const a: Applicability = s.report.protected ? PROTECTED : applicability
    judge(s.report, a, byte === undefined ? undefined : {byte, kind: 'byte'})
    if (byte !== undefined && !s.report.protected && a.applies === false) explainDowngrade(s, byte)
  } finally {
    await dfu.close()
  }
}

/** The setup-done byte over DfuSe (alt 1, offset 8134); undefined when Device Protection closes the DCT. */
async function readByte(s: DeviceSession, dfu: DfuseClient): Promise<number | undefined> {
  try {
    await dfu.open(DfuAlt.DCT)
    const [byte] = await dfu.read(SETUP_DONE_OFFSET, 1)
    return byte
  } catch (error) {
    if (!(error instanceof DfuNotPermitted)) throw error
    // Device Protection (Device OS 6+): the DCT cannot be read, and the flag does not exist there anyway.
    s.report.protected = true
    return undefined
  }
}

/**
 * On an nRF52840 device whose Device OS (4.0+) ignores the byte: what it would mean after a downgrade below 4.0,
 * where the boot check reads it again (docs/protocol.md §3.3).
 */
export function explainDowngrade(s: DeviceSession, byte: number): void {
  if (s.found.platform.family === 'nrf52840') s.report.afterDowngrade = {byte, setUp: bootsAsSetUp(byte)}
}

/**
 * Request 72. When it stays pending on Device OS 2.0+ and `unstick` was asked for, abort a connection attempt that
 * may hold the system thread (raw request 302, which also takes the device off the cloud until it restarts) and
 * ask once more. Without `unstick` the timeout says that way out. An application that blocks the thread still times out.
 */
async function isListeningFreeingThread(s: DeviceSession, dev: OpenDevice, unstick: boolean): Promise<boolean> {
  const t = {timeoutMs: s.ctx.timeoutMs}
  try {
    return await dev.isListening(t)
  } catch (error) {
    if (!(error instanceof RequestPendingTimeout) || !hasRawOutRequests(s.report.deviceOsVersion ?? '')) throw error
    if (!unstick) throw errors.requestPending(RequestType.GET_DEVICE_MODE, {unstick: true})
    await dev.abortConnection()
    s.report.cloudDisconnected = true
    s.report.remarks.push({kind: 'unstuck'})
    return dev.isListening(t)
  }
}
