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
  /** Whether this bus holds the `usb` package's borrow rules (VirtualUsbOptions.borrowRules). */
  readonly borrowRules: boolean
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
 * How the `usb` package (3.1.0, what users run) rejects, where it differs from the W3C WebUSB text; found by
 * driving real kernel USB devices (npm run test:usb-vm). Every rejection of a device call is a plain Error
 * (code 'GenericFailure') whose message is `<method> error: <reason>`:
 * - a stalled control transfer rejects ('endpoint stalled') instead of resolving with status 'stall';
 * - a transfer timeout rejects 'transfer was cancelled' (WebUSB has no timeouts at all);
 * - a device that went away rejects 'device disconnected' (WebUSB: NotFoundError), yet `opened` stays true and
 *   close() resolves;
 * - a closed device or an unclaimed interface rejects 'invalid state' (WebUSB: InvalidStateError);
 * - claimInterface of a missing interface rejects 'interface not found (errno 2)' (WebUSB: NotFoundError);
 * - controlTransferOut without data throws a TypeError (WebUSB allows omitting it);
 * - on Linux the kernel's cdc_acm driver holds a CDC ACM pair (the communication interface and its data
 *   interface) from enumeration: claimInterface of either rejects 'interface is busy (errno 16)' until
 *   detachKernelDriver (an extension of the package, Linux only) releases the pair; detaching an interface
 *   without a driver rejects 'no kernel driver attached (errno 61)', and attachKernelDriver of the communication
 *   interface binds the pair again ('kernel driver already attached (errno 16)' when it or a claim holds it).
 *   The messages are nusb's (linux_usbfs/device.rs), which the package wraps as `<method> error: <message>`.
 */
export function usbPackageError(method: string, reason: string): Error {
  return Object.assign(new Error(`${method} error: ${reason}`), {code: 'GenericFailure'})
}

/** What the package (on Linux) says when the device node may not be opened: no udev rule for this user. */
const accessDenied = () => usbPackageError('open', 'permission denied (errno 13)')

const REASONS: Record<string, string> = {
  InvalidStateError: 'invalid state',
  NotFoundError: 'device disconnected',
  TimeoutError: 'transfer was cancelled',
}

/** Our device model names its errors as WebUSB does; the `usb` package words them as above. */
async function asUsbPackage<T>(method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    const reason = REASONS[(error as Error)?.name]
    throw reason ? usbPackageError(method, reason) : error
  }
}

/**
 * The `usb` package (3.x) is a napi-rs addon, and napi-rs 3 checks borrows of a native object at run time, per
 * JavaScript object. What it does, as read through the kernel stack (test/usb-vm/guest/probe.js, `npm run
 * test:usb-vm`):
 * - every getter (vendorId, address, opened as much as serialNumber or configuration) borrows the object for
 *   its read, and throws at once when any call holds it: reading `vendorId` while `open()` runs, or while a
 *   transfer is pending, throws;
 * - open, close, forget, claimInterface, releaseInterface and selectAlternateInterface borrow it exclusively
 *   until their promise settles, and throw at once when it is held (`close()` during a transfer throws);
 * - transfers, reset, selectConfiguration, clearHalt and the kernel-driver calls borrow it shared until their
 *   promise settles; a conflict rejects their promise instead (a transfer started while `open()` runs);
 * - the error is an Error with code 'InvalidArg' and the message below.
 * The package hands out a new object on every getDevices() and connect event, so its conflicts arise only where
 * one object is shared (the listeners of one connect event); our bus keeps one object per enumeration (W3C), so
 * here an object listed again while it is in use is busy too. Code that may meet an object in use (discovery.ts
 * identifyParticle) treats the conflict as "in use by this process".
 */
export const BORROW_CONFLICT = 'The same native value cannot be borrowed mutably while another borrow is active'

type Borrow = 'exclusive' | 'shared'

/**
 * The `USBDevice` of one enumeration. Identity fields are fixed for its life; once the device resets or is
 * unplugged, every call rejects ('device disconnected', as the `usb` package does).
 */
let enumerations = 0

export class VirtualUsbDevice implements USBDevice {
  readonly usbVersionMajor = 2
  readonly usbVersionMinor = 0
  readonly usbVersionSubminor = 0
  private readonly enumeration: number
  private readonly claimed = new Set<number>()
  private configurationObjects: USBConfiguration[] | undefined
  /** Interfaces the host's kernel driver (cdc_acm) holds: every CDC ACM pair, from enumeration. */
  private readonly kernelDriver = new Set<number>()
  private gone = false
  private isOpen = false
  /** Borrows held now (napi-rs rules above): shared ones counted, the exclusive one flagged. */
  private shared = 0
  private exclusive = false

  constructor(
    private readonly owner: UsbDeviceOwner,
    /** @internal */ readonly identity: UsbIdentity,
  ) {
    this.enumeration = ++enumerations
    for (const n of this.cdcPair()) this.kernelDriver.add(n)
  }

  /** As in the `usb` package: the bus, and the address the host gave this enumeration (new at each one). */
  get bus(): string {
    return this.peek('1')
  }

  get address(): number {
    return this.peek(this.enumeration)
  }

  get vendorId(): number {
    return this.peek(this.identity.vendorId)
  }

  get productId(): number {
    return this.peek(this.identity.productId)
  }

  get deviceClass(): number {
    return this.peek(this.identity.deviceClass)
  }

  get deviceSubclass(): number {
    return this.peek(this.identity.deviceSubclass)
  }

  get deviceProtocol(): number {
    return this.peek(this.identity.deviceProtocol)
  }

  // bcdDevice 0xJJMN = version JJ.M.N (WebUSB)
  get deviceVersionMajor(): number {
    return this.peek((this.identity.bcdDevice >> 8) & 0xff)
  }

  get deviceVersionMinor(): number {
    return this.peek((this.identity.bcdDevice >> 4) & 0x0f)
  }

  get deviceVersionSubminor(): number {
    return this.peek(this.identity.bcdDevice & 0x0f)
  }

  get manufacturerName(): null | string {
    return this.peek(this.identity.strings.get(1) ?? null)
  }

  get productName(): null | string {
    return this.peek(this.identity.strings.get(2) ?? null)
  }

  get serialNumber(): null | string {
    return this.peek(this.serial)
  }

  /** @internal The serial string without a borrow (the simulator's own bookkeeping, never a client's). */
  get serial(): null | string {
    return this.identity.strings.get(3) ?? null
  }

  /** @internal Whether the host opened it, without a borrow (the device model's own check). */
  get isOpened(): boolean {
    return this.isOpen
  }

  /** The CDC ACM communication interface (class 2, subclass 2) and the data interface after it, if any. */
  private cdcPair(): number[] {
    const comm = this.identity.interfaces.find((i) => i.alternates[0]?.interfaceClass === 0x02 && i.alternates[0]?.interfaceSubclass === 0x02)
    const data = this.identity.interfaces.find((i) => i.alternates[0]?.interfaceClass === 0x0a)
    return comm && data ? [comm.interfaceNumber, data.interfaceNumber] : []
  }

  /**
   * Built when first asked for: a host talking control requests never looks at them, and a tree for every
   * enumeration of every device was a good part of a simulated fleet's memory.
   */
  get configurations(): USBConfiguration[] {
    this.peek(undefined)
    // The package reads the descriptors through an open device, opening it here if the caller has not.
    if (!this.isOpen && this.owner.faults.accessDenied) throw accessDenied()
    return this.tree()
  }

  get configuration(): USBConfiguration | null {
    return this.configurations[0]
  }

  /** @internal The configuration tree without a borrow (the simulator's own use). */
  get configurationTree(): USBConfiguration {
    return this.tree()[0]
  }

  private tree(): USBConfiguration[] {
    this.configurationObjects ??= [
      new VirtualConfiguration(this.identity, {
        currentAlternate: (n) => this.owner.currentAlternate(n),
        isClaimed: (n) => this.claimed.has(n),
      }),
    ]
    return this.configurationObjects
  }

  /** Stays true after the device went away, as in the `usb` package. */
  get opened(): boolean {
    return this.peek(this.isOpen)
  }

  /** @internal */
  markGone(): void {
    this.gone = true
    this.claimed.clear()
  }

  /** @internal */
  isClaimed(interfaceNumber: number): boolean {
    return this.claimed.has(interfaceNumber)
  }

  open(): Promise<void> {
    return this.borrow('exclusive', () => this._open())
  }

  private async _open(): Promise<void> {
    return asUsbPackage('open', async () => {
      this.owner.admitDevice(this)
      if (this.owner.faults.accessDenied) throw accessDenied()
      this.failAs('open')
      this.isOpen = true
    })
  }

  /** Resolves on a device that went away too (`usb` package). */
  close(): Promise<void> {
    return this.borrow('exclusive', () => this._close())
  }

  private async _close(): Promise<void> {
    this.isOpen = false
    this.claimed.clear()
  }

  forget(): Promise<void> {
    return this.borrow('exclusive', () => this._forget())
  }

  private async _forget(): Promise<void> {
    if (!this.gone) await this._close()
  }

  selectConfiguration(configurationValue: number): Promise<void> {
    return this.borrow('shared', () => this._selectConfiguration(configurationValue))
  }

  private async _selectConfiguration(configurationValue: number): Promise<void> {
    return asUsbPackage('selectConfiguration', async () => {
      this.requireOpen()
      if (configurationValue !== this.identity.configurationValue) throw usbPackageError('selectConfiguration', 'invalid configuration')
    })
  }

  claimInterface(interfaceNumber: number): Promise<void> {
    return this.borrow('exclusive', () => this._claimInterface(interfaceNumber))
  }

  private async _claimInterface(interfaceNumber: number): Promise<void> {
    return asUsbPackage('claimInterface', async () => {
      this.requireOpen()
      if (!this.hasInterface(interfaceNumber)) throw usbPackageError('claimInterface', 'interface not found (errno 2)')
      this.failAs('claimInterface')
      if (this.kernelDriver.has(interfaceNumber)) throw usbPackageError('claimInterface', 'interface is busy (errno 16)')
      this.claimed.add(interfaceNumber)
    })
  }

  /** The `usb` package's Linux extension: release the interface from its kernel driver (cdc_acm lets go of its pair). */
  detachKernelDriver(interfaceNumber: number): Promise<void> {
    return this.borrow('shared', () => this._detachKernelDriver(interfaceNumber))
  }

  private async _detachKernelDriver(interfaceNumber: number): Promise<void> {
    return asUsbPackage('detachKernelDriver', async () => {
      this.requireOpen()
      if (!this.hasInterface(interfaceNumber)) throw usbPackageError('detachKernelDriver', 'interface not found (errno 22)')
      if (!this.kernelDriver.has(interfaceNumber)) throw usbPackageError('detachKernelDriver', 'no kernel driver attached (errno 61)')
      for (const n of this.cdcPair()) this.kernelDriver.delete(n)
    })
  }

  /** The `usb` package's Linux extension: let the kernel probe the interface again (cdc_acm takes the pair back). */
  attachKernelDriver(interfaceNumber: number): Promise<void> {
    return this.borrow('shared', () => this._attachKernelDriver(interfaceNumber))
  }

  private async _attachKernelDriver(interfaceNumber: number): Promise<void> {
    return asUsbPackage('attachKernelDriver', async () => {
      this.requireOpen()
      if (!this.hasInterface(interfaceNumber)) throw usbPackageError('attachKernelDriver', 'interface not found (errno 22)')
      if (this.kernelDriver.has(interfaceNumber) || this.claimed.has(interfaceNumber)) {
        throw usbPackageError('attachKernelDriver', 'kernel driver already attached (errno 16)')
      }
      const pair = this.cdcPair()
      // cdc_acm probes the communication interface and claims the data interface with it; nothing else binds.
      if (pair[0] === interfaceNumber && !pair.some((n) => this.claimed.has(n))) for (const n of pair) this.kernelDriver.add(n)
    })
  }

  /** @internal Whether the host's kernel driver holds the interface (tests). */
  hasKernelDriver(interfaceNumber: number): boolean {
    return this.kernelDriver.has(interfaceNumber)
  }

  releaseInterface(interfaceNumber: number): Promise<void> {
    return this.borrow('exclusive', () => this._releaseInterface(interfaceNumber))
  }

  private async _releaseInterface(interfaceNumber: number): Promise<void> {
    return asUsbPackage('releaseInterface', async () => {
      this.requireOpen()
      if (!this.claimed.has(interfaceNumber)) throw usbPackageError('releaseInterface', 'not claimed')
      this.claimed.delete(interfaceNumber)
    })
  }

  /** Sends a standard SET_INTERFACE (logged like any control transfer); the interface must be claimed (WebUSB). */
  selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void> {
    return this.borrow('exclusive', () => this._selectAlternateInterface(interfaceNumber, alternateSetting))
  }

  private async _selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void> {
    return asUsbPackage('selectAlternateInterface', () => this.selectAlternate(interfaceNumber, alternateSetting))
  }

  private async selectAlternate(interfaceNumber: number, alternateSetting: number): Promise<void> {
    this.requireOpen()
    // usb 3.1.0 needs the interface claimed first (the kernel's usbfs would claim it implicitly).
    if (!this.claimed.has(interfaceNumber)) throw usbPackageError('selectAlternateInterface', 'invalid state')
    const iface = this.requireInterface(interfaceNumber)
    if (!iface.alternates.some((a) => a.alternateSetting === alternateSetting)) {
      throw usbPackageError('selectAlternateInterface', 'invalid or unsupported argument')
    }
    const setup: USBControlTransferParameters = {
      index: interfaceNumber,
      recipient: 'interface',
      request: Standard.SET_INTERFACE,
      requestType: 'standard',
      value: alternateSetting,
    }
    const result = await this.owner.transferOut(this, setup, undefined, undefined)
    if (result.status !== 'ok') throw usbPackageError('selectAlternateInterface', 'endpoint stalled')
  }

  /** A stall rejects ('endpoint stalled'), as in the `usb` package; the exchange log still records 'stall'. */
  controlTransferIn(setup: USBControlTransferParameters, length: number, _timeout?: number): Promise<USBInTransferResult> {
    return this.borrow('shared', () => this._controlTransferIn(setup, length, _timeout))
  }

  private async _controlTransferIn(setup: USBControlTransferParameters, length: number, _timeout?: number): Promise<USBInTransferResult> {
    this.hostChecks('controlTransferIn', setup)
    const result = await asUsbPackage('controlTransferIn', () => this.owner.transferIn(this, setup, length))
    if (result.status === 'stall') throw usbPackageError('controlTransferIn', 'endpoint stalled')
    return result
  }

  controlTransferOut(setup: USBControlTransferParameters, data?: BufferSource, timeout?: number): Promise<USBOutTransferResult> {
    return this.borrow('shared', () => this._controlTransferOut(setup, data, timeout))
  }

  private async _controlTransferOut(setup: USBControlTransferParameters, data?: BufferSource, timeout?: number): Promise<USBOutTransferResult> {
    // usb 3.1.0 reads data.buffer unconditionally.
    if (data === undefined) throw new TypeError("Cannot read properties of undefined (reading 'buffer')")
    this.hostChecks('controlTransferOut', setup)
    const result = await asUsbPackage('controlTransferOut', () => this.owner.transferOut(this, setup, data, timeout))
    if (result.status === 'stall') throw usbPackageError('controlTransferOut', 'endpoint stalled')
    return result
  }

  reset(): Promise<void> {
    return this.borrow('shared', () => this._reset())
  }

  private async _reset(): Promise<void> {
    return asUsbPackage('reset', async () => {
      this.requireOpen()
      this.owner.busReset(this)
    })
  }

  clearHalt(_direction: USBDirection, _endpointNumber: number): Promise<void> {
    return this.borrow('shared', () => this._clearHalt(_direction, _endpointNumber))
  }

  private async _clearHalt(_direction: USBDirection, _endpointNumber: number): Promise<void> {
    this.owner.admitDevice(this)
    throw usbErrors.notSupported('clearHalt')
  }

  transferIn(_endpointNumber: number, _length: number): Promise<USBInTransferResult> {
    return this.borrow('shared', () => this._transferIn(_endpointNumber, _length))
  }

  private async _transferIn(_endpointNumber: number, _length: number): Promise<USBInTransferResult> {
    this.owner.admitDevice(this)
    throw usbErrors.notSupported('transferIn')
  }

  transferOut(_endpointNumber: number, _data: BufferSource): Promise<USBOutTransferResult> {
    return this.borrow('shared', () => this._transferOut(_endpointNumber, _data))
  }

  private async _transferOut(_endpointNumber: number, _data: BufferSource): Promise<USBOutTransferResult> {
    this.owner.admitDevice(this)
    throw usbErrors.notSupported('transferOut')
  }

  isochronousTransferIn(_endpointNumber: number, _packetLengths: number[]): Promise<USBIsochronousInTransferResult> {
    return this.borrow('shared', () => this._isochronousTransferIn(_endpointNumber, _packetLengths))
  }

  private async _isochronousTransferIn(_endpointNumber: number, _packetLengths: number[]): Promise<USBIsochronousInTransferResult> {
    this.owner.admitDevice(this)
    throw usbErrors.notSupported('isochronousTransferIn')
  }

  isochronousTransferOut(
    _endpointNumber: number,
    _data: BufferSource,
    _packetLengths: number[],
  ): Promise<USBIsochronousOutTransferResult> {
    return this.borrow('shared', () => this._isochronousTransferOut(_endpointNumber, _data, _packetLengths))
  }

  private async _isochronousTransferOut(
    _endpointNumber: number,
    _data: BufferSource,
    _packetLengths: number[],
  ): Promise<USBIsochronousOutTransferResult> {
    this.owner.admitDevice(this)
    throw usbErrors.notSupported('isochronousTransferOut')
  }

  /**
   * A call under a borrow, held until the call's promise settles. A conflict throws at once for an exclusive
   * call and rejects the promise for a shared one (as the package does).
   */
  private borrow<T>(kind: Borrow, call: () => Promise<T>): Promise<T> {
    if (kind === 'shared') {
      try {
        this.acquire(kind)
      } catch (error) {
        return Promise.reject(error)
      }
    } else this.acquire(kind)
    return call().finally(() => this.release(kind))
  }

  /** A getter's borrow (exclusive, whatever the getter): taken and given back at once; a conflict throws. */
  private peek<T>(value: T): T {
    this.acquire('exclusive')
    this.release('exclusive')
    return value
  }

  private acquire(kind: Borrow): void {
    if (!this.owner.borrowRules) return
    if (this.exclusive || (kind === 'exclusive' && this.shared > 0)) throw Object.assign(new Error(BORROW_CONFLICT), {code: 'InvalidArg'})
    if (kind === 'exclusive') this.exclusive = true
    else this.shared++
  }

  private release(kind: Borrow): void {
    if (!this.owner.borrowRules) return
    if (kind === 'exclusive') this.exclusive = false
    else this.shared--
  }

  /** The faults `usbError` (a call failing below the package, with the system's text) and `claimForControl` (Windows). */
  private failAs(call: 'claimInterface' | 'controlTransfer' | 'open'): void {
    const text = this.owner.faults.usbError?.[call]
    if (text) throw Object.assign(new Error(text), {code: 'GenericFailure'})
  }

  private hostChecks(method: string, setup: USBControlTransferParameters): void {
    if (!this.isOpen || this.gone) return // the device model answers these as the package does
    this.failAs('controlTransfer')
    if (this.owner.faults.claimForControl && setup.recipient === 'device' && this.claimed.size === 0) throw usbPackageError(method, 'invalid state')
  }

  private requireOpen(): void {
    this.owner.admitDevice(this)
    if (!this.isOpen) throw usbErrors.notOpen()
  }

  private hasInterface(interfaceNumber: number): boolean {
    return this.identity.interfaces.some((i) => i.interfaceNumber === interfaceNumber)
  }

  private requireInterface(interfaceNumber: number): USBInterface {
    const iface = this.configurationTree.interfaces.find((i) => i.interfaceNumber === interfaceNumber)
    if (!iface) throw usbErrors.noInterface(interfaceNumber)
    return iface
  }
}
