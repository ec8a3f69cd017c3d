/**
 * The words of `virtual press`: what the hands did to a virtual device (in the words of the button steps a person is
 * given, instructions.ts) and what the device did then; the command's help; and the doctor's hint, when the device
 * it waits for is virtual, of the press that does what it asks.
 */
import {type Cli, commandLine} from '../cli.js'
import {DFU_BUTTONS, PLUG_CABLE, RESET_BUTTON, SAFE_MODE_BUTTONS, UNPLUG_CABLE} from '../instructions.js'
import {type PressReport, type PressStep} from '../virtual/buttons.js'
import {type ButtonPress} from '../virtual/types.js'

const HANDS: Record<ButtonPress, string> = {
  dfu: DFU_BUTTONS,
  plug: PLUG_CABLE,
  reset: RESET_BUTTON,
  'safe-mode': SAFE_MODE_BUTTONS,
  unplug: UNPLUG_CABLE,
}

/** What the device does after a press, as its LED shows it. */
function after(s: PressStep): string {
  if (!s.done) return s.press === 'plug' ? 'nothing to do: it is plugged in.' : s.press === 'unplug' ? 'nothing to do: it is unplugged.' : `nothing happens: it is unplugged, without power (press plug first).`
  if (s.unplugged) return 'it is off USB and without power.'
  const started = s.press === 'plug' ? 'it powers up' : 'it restarts'
  switch (s.mode) {
    case 'dfu': return `${started} in DFU mode (blinking yellow).`
    case 'safe': return `${started} in Safe Mode${s.listening ? ' and Listening Mode (blinking dark blue)' : ' (breathing magenta)'}.`
    case 'listening': return `${started} in Listening Mode (blinking dark blue).`
    case 'normal': return `${started} and runs its application.`
  }
}

/** One line per press: "✔ e00f… (Boron): hold MODE and RESET, …: it restarts in Safe Mode (breathing magenta)." */
export function pressLines(r: PressReport): string[] {
  const who = `${r.device.name ? `${r.device.name} ` : ''}${r.device.id} (${r.device.platform})`
  return r.steps.map((s) => `${s.done ? '✔' : '•'} ${who}: ${HANDS[s.press]}; ${after(s)}`)
}

/** The press that does what an instruction of the doctor asks of the hands. */
const PRESS_FOR = {connect: 'plug', 'dfu-buttons': 'dfu', replug: 'replug', 'safe-mode-buttons': 'safe-mode'} as const

/**
 * The doctor's hint, under an instruction for the hands when the device is virtual: the command that presses for
 * them, to run in another terminal (with PARTICLE_VIRTUAL_DEVICES as this run has it, so it reaches the same devices),
 * as a line of its own to copy (never broken: a line break pasted into a shell would run half of it). `id` when the
 * devices file holds several devices.
 */
export function pressHint(o: {devices: string; id?: string; instruction: keyof typeof PRESS_FOR; key?: string}, cli: Cli): {command: string; lead: string} {
  const env = /^[\w@%+=:,./-]+$/.test(o.devices) ? o.devices : `'${o.devices.replaceAll("'", "'\\''")}'`
  const command = commandLine(cli, `virtual press ${PRESS_FOR[o.instruction]}${o.id ? ` ${o.id}` : ''}`)
  const here = o.key ? `press ${o.key.toUpperCase()} here, or ` : ''
  return {command: `   PARTICLE_VIRTUAL_DEVICES=${env} ${command}`, lead: `   A virtual device: to do this, ${here}run in another terminal`}
}

/** The presses a key in the doctor does for an instruction. */
export const PRESSES_FOR: Record<keyof typeof PRESS_FOR, ButtonPress[]> = {connect: ['plug'], 'dfu-buttons': ['dfu'], replug: ['unplug', 'plug'], 'safe-mode-buttons': ['safe-mode']}

/** The key the doctor listens for when the device it waits for is virtual. */
export const PRESS_KEY = 'p'

/** Which instructions a virtual device can follow through `virtual press`. */
export const pressable = (instruction: string): instruction is keyof typeof PRESS_FOR => instruction in PRESS_FOR
