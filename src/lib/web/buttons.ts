/**
 * The MODE and RESET buttons of a virtual device, pressed on screen. MODE is held (pressed once) and released
 * (pressed again), so a keyboard works them as well as a mouse. RESET alone restarts the device. RESET while MODE is
 * held resets it into its bootloader, whose LED blinks magenta (Safe Mode if MODE is released now) and, MODE still
 * held, blinking yellow after a few seconds (DFU mode if released then), as on a Gen3 device.
 */
import {type Clock} from '../clock.js'
import {type VirtualUsb} from '../virtual/core.js'

/** How long the bootloader blinks magenta before it blinks yellow, MODE still held (about as on a device). */
export const MAGENTA_MS = 3000

export type Stage = 'dfu' | 'safe'

export class DeviceButtons {
  modeHeld = false
  /** While MODE is held through a reset: the mode a release starts now. */
  stage: null | Stage = null
  private cancel: (() => void) | undefined

  constructor(
    private readonly bus: VirtualUsb,
    readonly id: string,
    private readonly clock: Clock,
    private readonly changed: () => void,
  ) {}

  /** Press MODE: held if it was released, released if it was held (a release after a reset starts that mode). */
  mode(): void {
    this.modeHeld = !this.modeHeld
    if (!this.modeHeld && this.stage) {
      const stage = this.stage
      this.clear()
      this.bus.setMode(this.id, stage)
    }
    this.changed()
  }

  /** Tap RESET: a restart, or (MODE held) the bootloader's magenta, then yellow. */
  reset(): void {
    this.clear()
    if (!this.modeHeld) {
      this.bus.setMode(this.id, 'normal')
      return this.changed()
    }
    this.bus.holdInReset(this.id)
    this.stage = 'safe'
    this.cancel = this.clock.setTimer(MAGENTA_MS, () => {
      this.stage = 'dfu'
      this.changed()
    })
    this.changed()
  }

  /** The device was unplugged: nothing is held any more. */
  drop(): void {
    this.clear()
    this.modeHeld = false
  }

  private clear(): void {
    this.cancel?.()
    this.cancel = undefined
    this.stage = null
  }
}
