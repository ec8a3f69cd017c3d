/**
 * A browser's WebUSB around the simulator (for the web doctor's virtual devices): a page may open only the devices it was
 * granted, one at a time through the browser's chooser, each known by vendor, product ID and serial number (so a
 * device restarted in DFU mode, with its other product ID, needs a grant of its own); `getDevices()` lists only
 * those, and `connect` / `disconnect` events come only for them. The chooser is the page's own dialog here (a real
 * browser draws its own). Written by hand: the simulator stands where the `usb` package's WebUSB stands, which
 * grants everything, and no library models a browser's grants.
 */

/** The browser's chooser: the person picks one of the devices shown, or none (undefined). */
export type Chooser = (devices: USBDevice[]) => Promise<undefined | USBDevice>

const grantKey = (d: USBDevice) => `${d.vendorId}:${d.productId}:${(d.serialNumber ?? '').toLowerCase()}`

/** A WebUSB filter as browsers apply it to a device (vendor, product, serial; class codes are not used here). */
function matches(d: USBDevice, f: USBDeviceFilter): boolean {
  if (f.vendorId !== undefined && f.vendorId !== d.vendorId) return false
  if (f.productId !== undefined && f.productId !== d.productId) return false
  return f.serialNumber === undefined || f.serialNumber.toLowerCase() === d.serialNumber?.toLowerCase()
}

class ConnectionEvent extends Event {
  constructor(
    type: 'connect' | 'disconnect',
    readonly device: USBDevice,
  ) {
    super(type)
  }
}

function noDeviceSelected(): Error {
  // What Chromium rejects with when the chooser is closed without a choice.
  const error = new Error("Failed to execute 'requestDevice' on 'USB': No device selected.")
  error.name = 'NotFoundError'
  return error
}

export class GrantingUsb extends EventTarget implements USB {
  onconnect: ((this: USB, ev: USBConnectionEvent) => unknown) | null = null
  ondisconnect: ((this: USB, ev: USBConnectionEvent) => unknown) | null = null
  private readonly granted = new Set<string>()

  constructor(
    private readonly inner: USB,
    private readonly choose: Chooser,
  ) {
    super()
    for (const type of ['connect', 'disconnect'] as const) {
      inner.addEventListener(type, (ev) => {
        const device = (ev as USBConnectionEvent).device
        if (this.granted.has(grantKey(device))) this.dispatchEvent(new ConnectionEvent(type, device))
      })
    }
    this.addEventListener('connect', (ev) => this.onconnect?.call(this, ev as USBConnectionEvent))
    this.addEventListener('disconnect', (ev) => this.ondisconnect?.call(this, ev as USBConnectionEvent))
  }

  // The typed 'connect' / 'disconnect' overloads of the WebUSB USB interface.
  override addEventListener(type: 'connect' | 'disconnect', listener: (this: this, ev: USBConnectionEvent) => unknown, options?: AddEventListenerOptions | boolean): void
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean): void
  override addEventListener(type: string, listener: unknown, options?: AddEventListenerOptions | boolean): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options)
  }

  override removeEventListener(type: 'connect' | 'disconnect', listener: (this: this, ev: USBConnectionEvent) => unknown, options?: EventListenerOptions | boolean): void
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: EventListenerOptions | boolean): void
  override removeEventListener(type: string, listener: unknown, options?: EventListenerOptions | boolean): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options)
  }

  async getDevices(): Promise<USBDevice[]> {
    return (await this.inner.getDevices()).filter((d) => this.granted.has(grantKey(d)))
  }

  /** The chooser with every device plugged in that matches a filter; the one picked is granted. */
  async requestDevice(options?: USBDeviceRequestOptions): Promise<USBDevice> {
    if (!options || !Array.isArray(options.filters)) throw new TypeError('requestDevice needs options with a filters array')
    const shown = (await this.inner.getDevices()).filter(
      (d) => (options.filters.length === 0 || options.filters.some((f) => matches(d, f))) && !(options.exclusionFilters ?? []).some((f) => matches(d, f)),
    )
    const picked = await this.choose(shown)
    if (!picked) throw noDeviceSelected()
    this.granted.add(grantKey(picked))
    return picked
  }

  /** Whether the page was granted this device as it is enumerated now. */
  isGranted(device: USBDevice): boolean {
    return this.granted.has(grantKey(device))
  }
}
