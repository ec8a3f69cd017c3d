/**
 * Hands on a virtual device (`virtual press`): what a person does to a real one, done to a device of a devices file.
 * The buttons restart it into Safe Mode (hold MODE and RESET, release RESET, release MODE at magenta), DFU mode (MODE
 * held through RESET, released at yellow) or the boot check (RESET alone); the USB cable is pulled (no power: the
 * buttons then do nothing) or put back (a power-up into the boot check). The device model does each press
 * (VirtualDevice.press): here on the device as the file holds it, under the file's lock, so a press never undoes
 * another process's change. The file counts the presses; a process that has the file open (the doctor waiting for
 * the buttons) sees the count grow and acts the press out on its bus: the device re-enumerates in its new mode.
 *
 * The sequence: press words (`safe-mode`, `dfu`, `reset`, `unplug`, `plug`, and `replug` for unplug then plug),
 * as separate words or joined by commas, done in order; then the device when the file holds several (its ID, the
 * first 6 or more digits of its ID, or its name in the file).
 */
import {errors} from '../errors.js'
import {virtualErrors} from '../virtual-errors.js'
import {platformByName} from '../particle/platforms.js'
import {nearby} from '../usb/nearby.js'
import {type DevicePort, VirtualDevice} from './device.js'
import {loadDevicesFile, updateDevicesFile} from './file.js'
import {BUTTON_PRESSES, type ButtonPress, DEFAULT_TIMING, type VirtualDeviceSpec, type VirtualMode} from './types.js'

/** Press words as typed: the presses, and `replug` for the two of them. */
export const PRESS_WORDS: readonly string[] = [...BUTTON_PRESSES, 'replug']

/** One press as done: whether anything happened, and the device's state after it. */
export interface PressStep {
  done: boolean
  listening: boolean
  mode: VirtualMode
  press: ButtonPress
  unplugged: boolean
}

export interface PressReport {
  device: {id: string; name?: string; platform: string}
  /** The devices file pressed in. */
  file: string
  steps: PressStep[]
}

/** A port to nowhere: a device model made only to press its buttons once and say what it became. */
const NOWHERE: DevicePort = {
  borrowRules: false,
  clock: {now: () => 0, setTimer: () => () => {}, sleep: async () => {}},
  connected() {},
  disconnected() {},
  log() {},
  stateChanged() {},
  timing: DEFAULT_TIMING,
  violation() {},
}

/** The device after hands did `press` (the same spec when nothing happened). */
export function pressedSpec(spec: VirtualDeviceSpec, press: ButtonPress): {done: boolean; spec: VirtualDeviceSpec} {
  const model = new VirtualDevice(spec, NOWHERE)
  const done = model.press(press)
  return {done, spec: done ? model.spec() : spec}
}

/** The presses in `words` (in order), and the word left for the device, if any (the last word that is no press). */
export async function parsePresses(words: readonly string[]): Promise<{device?: string; presses: ButtonPress[]}> {
  const parts = words.flatMap((w) => w.split(',')).map((w) => w.trim()).filter(Boolean)
  const presses: ButtonPress[] = []
  for (const [i, word] of parts.entries()) {
    const p = word.toLowerCase()
    if (p === 'replug') presses.push('unplug', 'plug')
    else if ((BUTTON_PRESSES as readonly string[]).includes(p)) presses.push(p as ButtonPress)
    else if (i === parts.length - 1 && presses.length > 0 && !(await looksLikePress(p))) return {device: word, presses}
    else throw virtualErrors.pressWords({closest: await closestPress(p), presses: PRESS_WORDS, unknown: word})
  }
  if (presses.length === 0) throw virtualErrors.pressWords({presses: PRESS_WORDS})
  return {presses}
}

/** A word within two edits of a press word is a mistyped press, not a device. */
async function looksLikePress(word: string): Promise<boolean> {
  const {distance} = await import('fastest-levenshtein')
  return PRESS_WORDS.some((p) => distance(word, p) <= 2)
}

async function closestPress(word: string): Promise<string> {
  const {closest} = await import('fastest-levenshtein')
  return closest(word.toLowerCase(), PRESS_WORDS)
}

/** The device of the file meant: by ID, the start of one ID (6 hex digits or more), or name; the only one when none is named. */
async function pickDevice(arg: string | undefined, devices: VirtualDeviceSpec[], file: string): Promise<VirtualDeviceSpec> {
  const label = (d: VirtualDeviceSpec) => `${d.name ? `${d.name} ` : ''}${d.id} (${platformName(d)})`
  if (arg === undefined) {
    if (devices.length === 1) return devices[0]
    if (devices.length === 0) throw virtualErrors.virtualPress({devices: [], file, kind: 'no-device'})
    throw errors.multipleDevices(devices.map((d) => label(d)), {all: false, command: 'virtual press <buttons>'})
  }
  const typed = arg.trim().toLowerCase()
  const byName = devices.filter((d) => d.id === typed || d.name?.toLowerCase() === typed)
  const byPrefix = /^[\da-f]{6,23}$/.test(typed) ? devices.filter((d) => d.id.startsWith(typed)) : []
  const found = byName.length > 0 ? byName : byPrefix
  const candidates = (list: VirtualDeviceSpec[]) => nearby(arg, list.map((d) => ({dfu: d.mode === 'dfu', id: d.id, name: d.name, platform: platformName(d)})))
  if (found.length === 1) return found[0]
  if (found.length > 1) throw errors.ambiguousPrefix(arg, await candidates(found))
  throw virtualErrors.virtualPress({arg, devices: await candidates(devices), file, kind: 'no-device'})
}

/**
 * Press the buttons of a device of a devices file, one press at a time (each written at once, so a process that has
 * the file open sees each one it can). `words` is the sequence as typed (parsePresses).
 */
export async function pressInFile(file: string, words: readonly string[]): Promise<PressReport> {
  const {device, presses} = await parsePresses(words)
  const target = await pickDevice(device, loadDevicesFile(file).devices, file)
  const steps: PressStep[] = []
  let now = target
  for (const press of presses) {
    updateDevicesFile(file, (list) => {
      const i = list.findIndex((d) => d.id === target.id)
      if (i === -1) throw virtualErrors.virtualPress({arg: target.id, devices: [], file, kind: 'no-device'}) // removed meanwhile
      const r = pressedSpec(list[i], press)
      list[i] = r.spec
      now = r.spec
      steps.push({done: r.done, listening: r.spec.mode === 'listening' || r.spec.listening === true, mode: r.spec.mode, press, unplugged: r.spec.unplugged === true})
    })
  }
  return {device: {id: now.id, ...(now.name ? {name: now.name} : {}), platform: platformName(now)}, file, steps}
}

const platformName = (d: VirtualDeviceSpec) => platformByName(d.platform)?.displayName ?? d.platform
