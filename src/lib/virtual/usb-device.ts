/**
 * The `USBDevice` a host holds for one enumeration of a virtual device (W3C WebUSB). It carries the identity of
 * that enumeration and the host-side state (opened, claimed interfaces); everything that happens on the wire is
 * done by its owner, the device model (device.ts), which also decides when this object is dead.
 */
import {Standard, type UsbIdentity} from './descriptors.js'
import {VirtualConfiguration} from './usb-objects.js'
import {usbErrors} from './util.js'
import type {VirtualFaults} from './types.js'

/** What a USBDevice needs from the device model behind it. */
export interface UsbDeviceOwner {
  readonly faults: VirtualFaults
  /** Throws NotFoundError unless `usb` is the device's live enumeration. */
  admitDevice(usb: VirtualUsbDevice): void
  busReset(usb: VirtualUsbDevice): void
  currentAlternate(interfaceNumber: number): number
  transferIn(usb: VirtualUsbDevice, setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult>
  transferOut(
    usb: VirtualUsbDevice,
    setup: USBControlTransferParameters,
    data: BufferSource | undefined,
    timeout: number | undefined,
  ): Promise<USBOutTransferResult>
}

/**
 * The `USBDevice` of one enumeration. Identity fields are fixed for its life; once the device resets or is
 * unplugged, every call rejects with NotFoundError.
 */
export class VirtualUsbDevice implements USBDevice {
  readonly configurations: USBConfiguration[]
  readonly deviceClass: number
  readonly deviceProtocol: number
  readonly deviceSubclass: number
  readonly deviceVersionMajor: number
  readonly deviceVersionMinor: number
  readonly deviceVersionSubminor: number
  readonly manufacturerName: null | string
  readonly productId: number
  readonly productName: null | string
  readonly serialNumber: null | string
  readonly usbVersionMajor = 2
  readonly usbVersionMinor = 0
  readonly usbVersionSubminor = 0
  readonly vendorId: number
  private readonly claimed = new Set<number>()
  private gone = false
  private isOpen = false

  constructor(
    private readonly owner: UsbDeviceOwner,
    /** @internal */ readonly identity: UsbIdentity,
  ) {
    this.vendorId = identity.vendorId
    this.productId = identity.productId
    this.deviceClass = identity.deviceClass
    this.deviceSubclass = identity.deviceSubclass
    this.deviceProtocol = identity.deviceProtocol
    // bcdDevice 0xJJMN = version JJ.M.N (WebUSB)
    this.deviceVersionMajor = (identity.bcdDevice >> 8) & 0xff
    this.deviceVersionMinor = (identity.bcdDevice >> 4) & 0x0f
    this.deviceVersionSubminor = identity.bcdDevice & 0x0f
    this.manufacturerName = identity.strings.get(1) ?? null
    this.productName = identity.strings.get(2) ?? null
    this.serialNumber = identity.strings.get(3) ?? null
    this.configurations = [
      new VirtualConfiguration(identity, {
        currentAlternate: (n) => owner.currentAlternate(n),
        isClaimed: (n) => this.claimed.has(n),
      }),
    ]
  }

  get configuration(): USBConfiguration | null {
    return this.configurations[0]
  }

  get opened(): boolean {
    return this.isOpen && !this.gone
  }

  /** @internal */
  markGone(): void {
    this.gone = true
    this.isOpen = false
    this.claimed.clear()
  }

  /** @internal */
  isClaimed(interfaceNumber: number): boolean {
    return this.claimed.has(interfaceNumber)
  }

  async open(): Promise<void> {
    this.owner.admitDevice(this)
    if (this.owner.faults.accessDenied) throw usbErrors.accessDenied()
    this.isOpen = true
  }

  async close(): Promise<void> {
    this.owner.admitDevice(this)
    this.isOpen = false
    this.claimed.clear()
  }

  async forget(): Promise<void> {
    if (!this.gone) await this.close()
  }

  async selectConfiguration(configurationValue: number): Promise<void> {
    this.requireOpen()
    if (configurationValue !== this.identity.configurationValue) throw usbErrors.noConfiguration(configurationValue)
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    this.requireOpen()
    this.requireInterface(interfaceNumber)
    this.claimed.add(interfaceNumber)
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.requireOpen()
    this.requireInterface(interfaceNumber)
    this.claimed.delete(interfaceNumber)
  }

  /** Sends a standard SET_INTERFACE (logged like any control transfer); the interface must be claimed (WebUSB). */
  async selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void> {
    this.requireOpen()
    const iface = this.requireInterface(interfaceNumber)
    if (!iface.alternates.some((a) => a.alternateSetting === alternateSetting)) {
      throw usbErrors.noAlternate(interfaceNumber, alternateSetting)
    }
    if (!this.claimed.has(interfaceNumber)) throw usbErrors.notClaimed(interfaceNumber)
    const setup: USBControlTransferParameters = {
      index: interfaceNumber,
      recipient: 'interface',
      request: Standard.SET_INTERFACE,
      requestType: 'standard',
      value: alternateSetting,
    }
    const result = await this.owner.transferOut(this, setup, undefined, undefined)
    if (result.status !== 'ok') throw new Error(`SET_INTERFACE ${alternateSetting} on interface ${interfaceNumber} stalled`)
  }

  controlTransferIn(setup: USBControlTransferParameters, length: number, _timeout?: number): Promise<USBInTransferResult> {
    return this.owner.transferIn(this, setup, length)
  }

  controlTransferOut(setup: USBControlTransferParameters, data?: BufferSource, timeout?: number): Promise<USBOutTransferResult> {
    return this.owner.transferOut(this, setup, data, timeout)
  }

  async reset(): Promise<void> {
    this.requireOpen()
    this.owner.busReset(this)
  }

  async clearHalt(_direction: USBDirection, _endpointNumber: number): Promise<void> {
    this.owner.admitDevice(this)
    throw usbErrors.notSupported('clearHalt')
  }

  async transferIn(_endpointNumber: number, _length: number): Promise<USBInTransferResult> {
    this.owner.admitDevice(this)
    throw usbErrors.notSupported('transferIn')
  }

  async transferOut(_endpointNumber: number, _data: BufferSource): Promise<USBOutTransferResult> {
    this.owner.admitDevice(this)
    throw usbErrors.notSupported('transferOut')
  }

  async isochronousTransferIn(_endpointNumber: number, _packetLengths: number[]): Promise<USBIsochronousInTransferResult> {
    this.owner.admitDevice(this)
    throw usbErrors.notSupported('isochronousTransferIn')
  }

  async isochronousTransferOut(
    _endpointNumber: number,
    _data: BufferSource,
    _packetLengths: number[],
  ): Promise<USBIsochronousOutTransferResult> {
    this.owner.admitDevice(this)
    throw usbErrors.notSupported('isochronousTransferOut')
  }

  private requireOpen(): void {
    this.owner.admitDevice(this)
    if (!this.isOpen) throw usbErrors.notOpen()
  }

  private requireInterface(interfaceNumber: number): USBInterface {
    const iface = this.configurations[0].interfaces.find((i) => i.interfaceNumber === interfaceNumber)
    if (!iface) throw usbErrors.noInterface(interfaceNumber)
    return iface
  }
}
