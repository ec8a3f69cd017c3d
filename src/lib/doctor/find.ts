/**
 * Finding the device: the one named, the only one, the one the person picks, or one plugged in while we wait. A
 * device named that is not on USB goes to `remote`: wait for it, or fix it over the air (now, or the moment
 * someone in the field brings it online).
 */
import {type CloudDevice} from '../cloud/cloud.js'
import {CloudFacts} from '../cloud/facts.js'
import {connectedFor, resolveDeviceIds} from '../device/select.js'
import {errorIs, errors, type Nearby} from '../errors.js'
import {nearbyLabel} from '../words.js'
import {platformById} from '../particle/platforms.js'
import {listeningStates} from '../setup-flag/many.js'
import {waitUntilOnline, WAIT_ONLINE_DEFAULT_S} from '../setup-flag/online.js'
import {setByFirmware} from '../setup-flag/operation.js'
import {flagApplies} from '../setup-flag/policy.js'
import {type OnlineHow} from '../setup-flag/steps.js'
import {interruptible} from '../signals.js'
import {instructionText, selectText, waitChoiceText, wayText} from '../text/doctor.js'
import {caveatText, onSiteCard} from '../text/fleet.js'
import {namedDevice, pickerLabel} from '../text/render.js'
import {describeFound, findParticleDevices, type FoundDevice} from '../usb/discovery.js'
import {waitForDevice, WaitTimeout} from '../usb/wait.js'
import {type DoctorRun, type State} from './state.js'

/** Find the device: the one named, the only one, the one the person picks, or wait for one. */
export async function find(d: DoctorRun): Promise<State> {
  const arg = d.o.device
  const all = await findParticleDevices(d.o.backend)
  if (arg) {
    const id = (await resolveDeviceIds([arg], all, d.o.cloud)).get(arg)!
    const onUsb = all.find((x) => x.id === id)
    if (!onUsb) {
      // Said at once, before any wait: the devices that are connected, closest first to what was typed.
      d.remote = {connected: all, id, nearby: await connectedFor(arg, all, d.o.cloud)}
      return 'remote'
    }
    return take(d, onUsb, 'found')
  }
  if (all.length === 1) return take(d, all[0], 'found')
  if (all.length > 1) return take(d, await pick(d, all), 'chose')
  d.o.person.instruct('connect', instructionText({kind: 'connect', waitMs: d.o.waitMs}))
  return take(d, await waitFor(d, () => true), 'connected')
}

function take(d: DoctorRun, found: FoundDevice, how: 'chose' | 'connected' | 'found'): State {
  d.take(found)
  d.record('find', 'done', {device: describeFound(found), kind: how})
  return 'identify'
}

/** Several devices: the person picks the one that blinks dark blue (no person: name it on the command line). */
async function pick(d: DoctorRun, all: FoundDevice[]): Promise<FoundDevice> {
  const known = d.o.cloud ? await new CloudFacts(d.o.cloud, all.map((x) => x.id)).known() : new Map<string, CloudDevice>()
  if (!d.o.person.prompter) throw errors.multipleDevices(all.map((x) => namedDevice(x, known.get(x.id)?.name)), {all: false, command: 'doctor'})
  const listening = await listeningStates(all, {backend: d.o.backend, clock: d.o.clock, timeoutMs: d.o.timeoutMs})
  const choices = all.map((x) => ({name: pickerLabel(x, known.get(x.id)?.name, listening.get(x.id)), value: x.id}))
  const id = await d.o.person.prompter.select(selectText({kind: 'which'}), choices)
  return all.find((x) => x.id === id)!
}

/** Wait for a device to be plugged in (within --wait). */
async function waitFor(d: DoctorRun, match: (x: FoundDevice) => boolean): Promise<FoundDevice> {
  d.start({kind: 'connect', timeoutMs: d.o.waitMs})
  try {
    const found = await waitForDevice(d.o.backend, match, {clock: d.o.clock, timeoutMs: d.o.waitMs})
    d.end('done')
    return found
  } catch (error) {
    d.end(error instanceof WaitTimeout ? 'timed out' : 'failed')
    throw error instanceof WaitTimeout ? errors.noDeviceInTime(d.o.waitMs) : error
  }
}

/** The device named is not on USB: wait for it, or fix it over the air. */
export async function remote(d: DoctorRun): Promise<State> {
  const {connected, id, nearby} = d.remote!
  const cloudDevice = d.o.cloud?.usable ? await d.o.cloud.device(id).catch(() => undefined) : undefined
  const who = cloudDevice?.name ?? id
  d.record('find', 'info', {connected: nearby, kind: 'not-on-usb', who})
  // One the cloud knows is no typo: it is reached below (over the air, or waited for); another may be one.
  const instead = cloudDevice ? undefined : await insteadChoice(d, nearby, who)
  if (instead) return take(d, connected.find((x) => x.id === instead)!, 'chose')
  const choice = await remoteChoice(d, cloudDevice, who)
  if (choice !== 'usb') return fixOverTheAir(d, cloudDevice!, choice)
  if (cloudDevice && !cloudDevice.online && !cloudDevice.connected) d.say({kind: 'field-hint', who})
  d.o.person.instruct('connect', instructionText({kind: 'connect', waitMs: d.o.waitMs, who}), id)
  return take(d, await waitFor(d, (x) => x.id === id), 'connected')
}

/** Devices are connected, but not the one named: the person may mean one of them (no person: wait for the one named). */
async function insteadChoice(d: DoctorRun, nearby: Nearby[], who: string): Promise<string | undefined> {
  if (nearby.length === 0 || !d.o.person.prompter) return undefined
  const choices = [...nearby.map((n) => ({name: nearbyLabel(n), value: n.id})), {description: wayText('usb').description, name: waitChoiceText(who), value: ''}]
  return (await d.o.person.prompter.select(selectText({kind: 'instead', who}), choices)) || undefined
}

/** Over USB, remotely (online), or in the field (offline): asked when there is someone to ask. */
async function remoteChoice(d: DoctorRun, cloudDevice: CloudDevice | undefined, who: string): Promise<'field' | 'remote' | 'usb'> {
  const ways = (offline: boolean) => (offline ? (['usb', 'field'] as const) : (['usb', 'remote'] as const)).map((way) => ({...wayText(way), value: way}))
  if (cloudDevice && !cloudDevice.online && !cloudDevice.connected && d.o.person.prompter) {
    // Offline and not on USB: someone next to it can start it in Safe Mode, and it is flashed when it connects.
    return d.o.person.prompter.select(selectText({kind: 'offline', who}), ways(true))
  }
  if (cloudDevice && (cloudDevice.online || cloudDevice.connected)) {
    if (!d.o.person.prompter) return 'remote'
    return d.o.person.prompter.select(selectText({kind: 'online', who}), ways(false))
  }
  return 'usb'
}

/** The firmware method, now (online) or the moment it comes online (field). */
async function fixOverTheAir(d: DoctorRun, cloudDevice: CloudDevice, choice: 'field' | 'remote'): Promise<State> {
  const f = d.findings
  f.outcome = 'nothing-to-fix'
  const platform = typeof cloudDevice.platform_id === 'number' ? platformById(cloudDevice.platform_id) : undefined
  const applies = platform ? flagApplies(platform, {version: cloudDevice.system_firmware_version}) : undefined
  if (applies?.applies === false) {
    Object.assign(f, {cause: 'not-applicable', outcome: 'not-the-flag'})
    f.summary.push({kind: 'not-applicable', listening: false, platform: platform!.name, why: applies.why})
    return 'done'
  }
  const who = cloudDevice.name ?? cloudDevice.id
  d.record('remote', 'info', {kind: 'remote-plan'})
  if (!(await d.consent({caveat: caveatText(), kind: 'flash', who}, false))) {
    f.outcome = 'cancelled'
    f.error = errors.declined([{kind: 'nothing-flashed'}], `set ${who} --method firmware --restore <your-production-firmware.bin>`)
    f.summary.push({kind: 'remote-declined', who})
    return 'done'
  }
  d.start({kind: 'flashing', who})
  const r = await setByFirmware(cloudDevice, {
    clock: d.o.clock,
    cloud: d.o.cloud!,
    confirm: async () => true, // consent was given above
    done: true,
    dryRun: false,
    force: false,
    progress: d.context().progress,
    waitMs: d.o.waitMs,
    waitOnline: choice === 'field' ? () => waitInTheField(d, cloudDevice, who) : undefined,
  })
  d.end(r.error ? 'failed' : 'done')
  f.device = r
  if (r.error) throw r.error
  Object.assign(f, {cause: 'setup-flag', outcome: 'fixed', write: {after: r.after, before: r.before, changed: r.changed, method: r.method}})
  d.record('write-firmware', 'done', {byte: r.after, kind: 'firmware-reported'})
  f.summary.push({kind: 'remote-fixed', platformName: r.platform.displayName, version: r.deviceOsVersion, who})
  return 'done'
}

/** Wait for someone on site to bring the device online (the field-rescue card says how). */
async function waitInTheField(d: DoctorRun, cloudDevice: CloudDevice, who: string): Promise<OnlineHow> {
  const waitMs = WAIT_ONLINE_DEFAULT_S * 1000
  let shown = false
  const wait = interruptible((signal) =>
    waitUntilOnline({
      clock: d.o.clock,
      cloud: d.o.cloud!,
      device: cloudDevice,
      onCard: () => d.o.person.instruct('field-rescue', onSiteCard(who, waitMs)),
      onProgress: (left) => {
        // One progress line for the whole wait; it ends below, as the wait did.
        if (left === undefined || shown) return
        shown = true
        d.start({kind: 'online', upToMs: waitMs, who})
      },
      signal,
      waitMs,
    }),
  )
  return wait.then(
    (how) => {
      if (shown) d.end('done')
      return how
    },
    (error: unknown) => {
      if (shown) d.end(errorIs.interrupted(error) ? 'cancelled' : 'timed out')
      throw error
    },
  )
}
