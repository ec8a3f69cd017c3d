/**
 * Which devices this page may open, as far as it has seen: WebUSB grants a page one USB device at a time, known by
 * vendor, product ID and serial number, and a Particle device in DFU mode has another product ID than in normal
 * mode, so it is another device to the browser. Each device the page got from the chooser, from `getDevices()` or
 * in a `connect` event (browsers send those only for devices the page may open) is recorded here, so the page asks
 * for the second permission exactly when a device is about to come back as a product ID it has not been granted.
 * The record is kept in the page's storage (the browser keeps its grants per origin too).
 */

/** Where the record is kept: the page's localStorage, or memory (virtual devices, tests). */
export interface GrantStore {
  read(): null | string
  write(text: string): void
}

export const memoryStore = (): GrantStore => {
  let text: null | string = null
  return {read: () => text, write: (t) => void (text = t)}
}

const key = (serial: string, productId: number) => `${serial.toLowerCase()}:${productId.toString(16).padStart(4, '0')}`

export class Grants {
  private readonly seen: Set<string>

  constructor(private readonly store: GrantStore = memoryStore()) {
    let saved: unknown
    try {
      saved = JSON.parse(store.read() ?? '[]')
    } catch {
      saved = []
    }
    this.seen = new Set(Array.isArray(saved) ? saved.filter((k): k is string => typeof k === 'string') : [])
  }

  /** Whether the page has been granted this device (serial number) as this product ID. */
  has(serial: string, productId: number): boolean {
    return this.seen.has(key(serial, productId))
  }

  /** A device the page may open (from the chooser, getDevices() or a connect event). */
  add(device: Pick<USBDevice, 'productId' | 'serialNumber'>): void {
    if (!device.serialNumber) return
    const k = key(device.serialNumber, device.productId)
    if (this.seen.has(k)) return
    this.seen.add(k)
    this.store.write(JSON.stringify([...this.seen]))
  }
}
