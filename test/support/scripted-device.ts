/**
 * A USBDevice that expects an exact script of control transfers (setup bytes as in docs/protocol.md, OUT
 * data) and answers each with the scripted reply. It asserts the host's side of an exchange byte for byte,
 * independently of our virtual device.
 */
export interface Step {
  /** IN reply bytes (hex), 'stall', or omitted for an OUT ack. */
  reply?: string
  /** Expected 8-byte setup packet, e.g. 'C0 01 02 00 49 00 40 00'. */
  setup: string
  /** Expected OUT data (hex). */
  out?: string
}

const TYPES = {class: 0x20, standard: 0x00, vendor: 0x40} as const
const RECIPIENTS = {device: 0, endpoint: 2, interface: 1, other: 3} as const

export function hexOf(u: ArrayLike<number>): string {
  return Array.from(u, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ')
}

export function bytesOf(hex: string): Uint8Array {
  return hex.trim() === '' ? new Uint8Array(0) : Uint8Array.from(hex.trim().split(/\s+/), (b) => Number.parseInt(b, 16))
}

export function setupHex(s: USBControlTransferParameters, dirIn: boolean, length: number): string {
  const bm = (dirIn ? 0x80 : 0) | TYPES[s.requestType] | RECIPIENTS[s.recipient]
  return hexOf([bm, s.request, s.value & 0xff, s.value >> 8, s.index & 0xff, s.index >> 8, length & 0xff, length >> 8])
}

export class ScriptedDevice {
  readonly done: string[] = []
  opened = true
  serialNumber = 'e00fce681a2b3c4d5e6f7a8b'

  /** Alt-setting names of interface 0 (DFU mode); empty for a normal-mode device. */
  altNames: string[] = []

  constructor(private readonly script: Step[]) {}

  get configuration(): USBConfiguration {
    return {
      configurationName: null,
      configurationValue: 1,
      interfaces: [
        {
          alternate: null as unknown as USBAlternateInterface,
          alternates: this.altNames.map((interfaceName, alternateSetting) => ({
            alternateSetting,
            endpoints: [],
            interfaceClass: 0xfe,
            interfaceName,
            interfaceProtocol: 2,
            interfaceSubclass: 1,
          })),
          claimed: false,
          interfaceNumber: 0,
        },
      ],
    } as unknown as USBConfiguration
  }

  async claimInterface(): Promise<void> {}

  async releaseInterface(): Promise<void> {}

  /** WebUSB sends the standard SET_INTERFACE itself; it is scripted like any other transfer. */
  async selectAlternateInterface(iface: number, alt: number): Promise<void> {
    this.next(hexOf([0x01, 0x0b, alt & 0xff, alt >> 8, iface & 0xff, iface >> 8, 0, 0]))
  }

  get remaining(): number {
    return this.script.length
  }

  async close(): Promise<void> {
    this.opened = false
  }

  async controlTransferIn(setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
    const step = this.next(setupHex(setup, true, length))
    if (step.reply === 'stall') return {status: 'stall'}
    const data = bytesOf(step.reply ?? '')
    return {data: new DataView(data.buffer.slice(0)), status: 'ok'}
  }

  async controlTransferOut(setup: USBControlTransferParameters, data?: BufferSource): Promise<USBOutTransferResult> {
    const buf = data ? new Uint8Array(ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data) : new Uint8Array(0)
    const step = this.next(setupHex(setup, false, buf.length))
    if (step.out !== undefined && hexOf(buf) !== step.out.toUpperCase()) {
      throw new Error(`step ${this.done.length}: OUT data ${hexOf(buf)}, expected ${step.out}`)
    }
    if (step.reply === 'stall') return {bytesWritten: 0, status: 'stall'}
    return {bytesWritten: buf.length, status: 'ok'}
  }

  async open(): Promise<void> {
    this.opened = true
  }

  private next(actual: string): Step {
    const step = this.script.shift()
    if (!step) throw new Error(`unexpected transfer ${actual} after the script ended`)
    if (step.setup.toUpperCase() !== actual) throw new Error(`step ${this.done.length}: setup ${actual}, expected ${step.setup}`)
    this.done.push(actual)
    return step
  }
}
