/**
 * The page's virtual devices: our simulator (the one the CLI's tests use), in memory, behind a browser's grants
 * (virtual/browser.ts), with each device's buttons and cable on screen. Built from a devices document (a bundled
 * example, or one a person pastes), checked as PARTICLE_VIRTUAL_DEVICES files are.
 */
import {type Clock} from '../clock.js'
import {type Chooser, checkDevicesDocument, createVirtualUsb, GrantingUsb, SpecProblem, type Violation, type VirtualDevice, type VirtualDeviceSpec, type VirtualUsb} from '../virtual/core.js'
import {DeviceButtons} from './buttons.js'
import {type Led, ledOfVirtual} from './led.js'

export interface Example {
  devices: VirtualDeviceSpec[]
  name: string
}

/** The bundled examples that hold devices (virtual clouds and anything else are left out), by name. */
export function examplesOf(raw: Record<string, unknown>): Example[] {
  const out: Example[] = []
  for (const [name, doc] of Object.entries(raw)) {
    try {
      out.push({devices: checkDevicesDocument(doc), name})
    } catch (error) {
      if (!(error instanceof SpecProblem)) throw error
    }
  }
  return out
}

/** A pasted document: its devices, or the problem the devices-file check names. */
export function parseDocument(text: string): {devices: VirtualDeviceSpec[]} | {problem: string} {
  try {
    return {devices: checkDevicesDocument(JSON.parse(text))}
  } catch (error) {
    if (error instanceof SpecProblem || error instanceof SyntaxError) return {problem: error.message}
    throw error
  }
}

export interface VirtualView {
  byte: number
  id: string
  led: Led
  modeHeld: boolean
  platform: string
  pluggedIn: boolean
}

export class VirtualBench {
  readonly bus: VirtualUsb
  readonly usb: GrantingUsb
  private readonly buttons = new Map<string, DeviceButtons>()

  constructor(
    devices: VirtualDeviceSpec[],
    o: {changed: () => void; choose: Chooser; clock: Clock},
  ) {
    this.bus = createVirtualUsb({borrowRules: false, clock: o.clock, devices})
    this.usb = new GrantingUsb(this.bus, o.choose)
    for (const d of devices) this.buttons.set(d.id.toLowerCase(), new DeviceButtons(this.bus, d.id.toLowerCase(), o.clock, o.changed))
    // A state change (the byte, a mode) and an enumeration (the LED lights up again) both show on the picture.
    this.bus.onStateChange(() => o.changed())
    for (const type of ['connect', 'disconnect'] as const) this.bus.addEventListener(type, () => o.changed())
  }

  /** Each virtual device as the page shows it: LED, buttons, cable, and the setup-done byte it holds. */
  views(): VirtualView[] {
    return [...this.buttons.values()].map((b) => {
      const d = this.device(b.id)
      return {byte: d.setupDone, id: b.id, led: ledOfVirtual(d, b.stage), modeHeld: b.modeHeld, platform: d.platform.displayName, pluggedIn: d.pluggedIn}
    })
  }

  press(id: string, button: 'mode' | 'reset'): void {
    const b = this.buttons.get(id)!
    if (button === 'mode') b.mode()
    else b.reset()
  }

  /** Pull the cable, or plug it in again. */
  cable(id: string): void {
    if (this.device(id).pluggedIn) {
      this.buttons.get(id)!.drop()
      this.bus.unplug(id)
    } else {
      this.bus.plugIn(id)
    }
  }

  /** What a correct host never does (a write outside DCT 8134, among others), as the simulator recorded it. */
  get violations(): readonly Violation[] {
    return this.bus.violations
  }

  close(): void {
    this.bus.close()
  }

  private device(id: string): VirtualDevice {
    return this.bus.device(id)!
  }
}
