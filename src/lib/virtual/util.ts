/** Small helpers shared by the virtual device: byte formatting, little-endian packing, WebUSB-style errors. */

/** An Error carrying a WebUSB / DOMException name ('NotFoundError', 'InvalidStateError', ...), as the `usb` package throws them. */
export class UsbNamedError extends Error {
  constructor(name: string, message: string) {
    super(message)
    this.name = name
  }
}

export const usbErrors = {
  gone: () => new UsbNamedError('NotFoundError', 'The device was disconnected.'),
  notOpen: () => new UsbNamedError('InvalidStateError', 'The device must be opened first.'),
  notClaimed: (n: number) => new UsbNamedError('InvalidStateError', `Interface ${n} must be claimed first.`),
  noInterface: (n: number) => new UsbNamedError('NotFoundError', `The interface number ${n} is not part of the active configuration.`),
  noAlternate: (n: number, alt: number) =>
    new UsbNamedError('NotFoundError', `The alternate setting ${alt} of interface ${n} does not exist.`),
  noConfiguration: (v: number) => new UsbNamedError('NotFoundError', `The configuration value ${v} is not supported by the device.`),
  notSupported: (what: string) => new UsbNamedError('NotSupportedError', `${what} is not supported by the virtual device.`),
  timeout: () => new UsbNamedError('TimeoutError', 'Control transfer timed out (no status stage from the device).'),
}

const HEX_PAIRS = Array.from({length: 256}, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'))

/**
 * Bytes as uppercase hex pairs separated by spaces: '08 01'. Every transfer is logged through this, so it builds
 * the string from a table (a per-byte toString/toUpperCase/padStart was a quarter of a set/get cycle's CPU).
 */
export function hex(bytes: ArrayLike<number>): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += i === 0 ? HEX_PAIRS[bytes[i] & 0xff] : ` ${HEX_PAIRS[bytes[i] & 0xff]}`
  return s
}

export function u16le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff]
}

export function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]
}

/** A DataView over its own ArrayBuffer of exactly `bytes.length` bytes (some clients read `data.buffer` directly). */
export function ownDataView(bytes: Uint8Array): DataView {
  const copy = new Uint8Array(bytes.length)
  copy.set(bytes)
  return new DataView(copy.buffer)
}

/** A private copy of whatever BufferSource a caller handed us (so later mutation on their side changes nothing). */
export function copyBufferSource(data: BufferSource | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0)
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0))
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()
  throw new TypeError('data must be an ArrayBuffer or an ArrayBufferView')
}

/** The UTF-16LE USB string descriptor of `s`. */
export function stringDescriptor(s: string): Uint8Array {
  const units: number[] = []
  for (let i = 0; i < s.length; i++) units.push(...u16le(s.charCodeAt(i)))
  return Uint8Array.of(2 + units.length, 0x03, ...units)
}
