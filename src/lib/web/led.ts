/**
 * The status LED, as the page draws it (CSS animations in src/web/style.css): the colour and pattern a device
 * shows in each mode, and what a virtual device shows now.
 */
import {type ReportedMode} from '../setup-flag/report.js'
import {type Led} from '../text/web.js'
import {type VirtualDevice} from '../virtual/core.js'
import {type Stage} from './buttons.js'

export type {Led} from '../text/web.js'

/** What a device in a mode shows (running: breathing cyan once connected to the cloud). */
export function ledOfMode(mode: ReportedMode): Led | undefined {
  return {dfu: 'blinking-yellow', listening: 'blinking-dark-blue', normal: 'breathing-cyan', unknown: undefined}[mode] as Led | undefined
}

/** The LED to wait for after pressing the buttons: magenta for Safe Mode, yellow for DFU mode. */
export const ledOfButtons = (stage: Stage): Led => (stage === 'safe' ? 'blinking-magenta' : 'blinking-yellow')

/** What a virtual device shows now: off while unplugged or restarting, the bootloader's colour while MODE is held. */
export function ledOfVirtual(d: VirtualDevice, stage: null | Stage): Led {
  if (!d.pluggedIn) return 'off'
  if (stage) return ledOfButtons(stage)
  if (!d.connected) return 'off'
  if (d.mode === 'dfu') return 'blinking-yellow'
  if (d.listening) return 'blinking-dark-blue'
  if (d.mode === 'safe') return 'breathing-magenta'
  return d.cloudDisconnected ? 'breathing-green' : 'breathing-cyan'
}
