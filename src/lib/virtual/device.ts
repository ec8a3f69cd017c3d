/**
 * One virtual Particle device: its persistent state (mode, DCT, flash, faults), its firmware of the moment
 * (control-request engine or DFU bootloader) and, while it is enumerated, the `USBDevice` a host talks to
 * (usb-device.ts). Every mode change is a re-enumeration (docs/protocol.md §4.4): the old USBDevice dies (later
 * calls reject NotFoundError), 'disconnect' fires with it, and bootMs later a new USBDevice appears with the new
 * PID and the same serial number.
 *
 * Transfers are routed by type: standard requests (descriptors, SET_INTERFACE) in every mode; DFU class requests
 * to the bootloader in DFU mode (dfu.ts); vendor requests to the control-request engine (control.ts) and the raw
 * 'P' requests (requests.ts) in normal, listening and Safe Mode. Gen3 system firmware before 0.9.0 has no control
 * interface: its vendor requests stall, its CDC class requests go to the CDC ACM model (cdc.ts), and before
 * 0.8.0-rc.27 it is on USB at all only while USB serial runs (rules.ts systemUsb, docs/protocol.md "Gen3 before 0.9.0").
 */
import type {Clock} from '../clock.js'
import {type Platform, platformByName} from '../particle/platforms.js'
import {parseVersion, type Semver} from '../particle/versions.js'
import {RAW_REQUEST, Service} from '../protocol/constants.js'
import {ControlEngine} from './control.js'
import {DFU_FUNCTIONAL_TYPE, LANGID_DESCRIPTOR, msOsDescriptor, Standard, type UsbIdentity, usbIdentity} from './descriptors.js'
import {DfuBootloader} from './dfu.js'
import {Dct, externalFlash, internalFlash, type Memory, type SparseFlash} from './memory.js'
import {abortsConnection, executeRequest, rawIn, rawOut, type RequestContext} from './requests.js'
import {bootsListening, type SystemUsb, systemUsb} from './rules.js'
import {CdcAcm} from './cdc.js'
import type {ButtonPress, ExchangeRecord, VirtualDeviceSpec, VirtualFaults, VirtualMode, VirtualTiming} from './types.js'
import {type UsbDeviceOwner, VirtualUsbDevice} from './usb-device.js'
import {copyBufferSource, hex, ownDataView, stringDescriptor, u16le, usbErrors} from './util.js'

/** How a device reaches its bus. */
export interface DevicePort {
  /** VirtualUsbOptions.borrowRules. */
  readonly borrowRules: boolean
  readonly clock: Clock
  readonly timing: VirtualTiming
  connected(device: VirtualDevice, usb: VirtualUsbDevice): void
  disconnected(device: VirtualDevice, usb: VirtualUsbDevice): void
  log(record: ExchangeRecord): void
  /** Persistent state changed (DCT byte, mode, presence). */
  stateChanged(): void
  violation(deviceId: string, message: string): void
}

/** Default per-transfer timeout of the `usb` package (ms), used when a caller passes none. */
const DEFAULT_TRANSFER_TIMEOUT = 1000

const REQUEST_TYPE_BITS: Record<USBRequestType, number> = {class: 0x20, standard: 0x00, vendor: 0x40}
const RECIPIENT_BITS: Record<USBRecipient, number> = {device: 0, endpoint: 2, interface: 1, other: 3}

const DescriptorType = {DEVICE: 1, CONFIGURATION: 2, STRING: 3} as const

type InResult = Uint8Array | undefined // undefined = stall
type OutResult = 'ok' | 'stall' | 'timeout'

function setupHex(direction: USBDirection, setup: USBControlTransferParameters, wLength: number): string {
  const bm = (direction === 'in' ? 0x80 : 0) | (REQUEST_TYPE_BITS[setup.requestType] ?? 0) | (RECIPIENT_BITS[setup.recipient] ?? 0)
  return hex([bm, setup.request & 0xff, ...u16le(setup.value), ...u16le(setup.index), ...u16le(wLength)])
}

function checkSetup(setup: USBControlTransferParameters): void {
  const u16 = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffff
  if (!setup || !(setup.requestType in REQUEST_TYPE_BITS) || !(setup.recipient in RECIPIENT_BITS)) {
    throw new TypeError('Invalid control transfer setup: requestType and recipient are required')
  }
  if (!Number.isInteger(setup.request) || setup.request < 0 || setup.request > 0xff || !u16(setup.value) || !u16(setup.index)) {
    throw new TypeError('Invalid control transfer setup: request must be 0-255, value and index 0-65535')
  }
}

export class VirtualDevice implements UsbDeviceOwner {
  readonly id: string
  readonly platform: Platform
  readonly deviceOs: string
  readonly version: Semver
  /** A cloud name for humans and tests; the device ignores it. */
  name: string | undefined
  /** The release it was downgraded from (what it left in flash); kept in the devices file. */
  readonly downgradedFrom: string | undefined
  readonly dct: Dct
  private readonly internal: SparseFlash
  private readonly external: SparseFlash | undefined
  private givenFaults: VirtualFaults | undefined
  private currentMode: VirtualMode
  private safeListening: boolean
  /** Plugged in (false after the unplug fault fired, or unplugged by hand). */
  private present = true
  /** Unplugged by hand (`press('unplug')`): kept in the devices file, unlike the unplug fault. */
  private handsUnplugged = false
  /** How many times hands worked its buttons or cable (the devices file's "presses"). */
  private pressCount = 0
  private current: VirtualUsbDevice | undefined
  private control: ControlEngine | undefined
  private dfu: DfuBootloader | undefined
  private cdc: CdcAcm | undefined
  /** How the system firmware shows itself on USB (rules.ts). */
  private readonly systemUsb: SystemUsb
  /** The application runs USB serial (`Serial.begin`): devices file "serial". */
  readonly appSerial: boolean
  /** 'cdc-with-serial' firmware: USB serial started during this boot (it stays on until the next reset). */
  private serialStarted = false
  private busyAnswered = 0
  private transfers = 0
  private connectionAborted = false
  /**
   * The cloud-disconnect flag (`spark_cloud_flag_disconnect()`), set by raw 302 and by the INIT of 40/41/50/60
   * (docs/protocol.md "Raw requests"); only a reset clears it. While set the device stays off the cloud
   * (breathing green) and makes no connection attempt.
   */
  private cloudOff = false
  private pendingReset: {cancel: () => void; mode: VirtualMode} | undefined
  private cancelBoot: (() => void) | undefined
  private readonly context: RequestContext

  constructor(
    spec: VirtualDeviceSpec,
    private readonly port: DevicePort,
  ) {
    this.id = spec.id.toLowerCase()
    this.platform = platformByName(spec.platform)!
    this.deviceOs = spec.deviceOs
    this.version = parseVersion(spec.deviceOs)!
    this.name = spec.name
    this.givenFaults = spec.faults && {...spec.faults}
    this.currentMode = spec.mode
    this.safeListening = spec.mode === 'safe' && spec.listening === true
    this.cloudOff = spec.cloudDisconnected === true && spec.mode !== 'dfu'
    this.dct = new Dct(spec.setupDone)
    this.downgradedFrom = spec.downgradedFrom
    this.internal = internalFlash(this.platform, this.version, this.deviceOs, spec.faults?.noSystemPart === true, spec.downgradedFrom)
    this.external = externalFlash(this.platform)
    this.systemUsb = systemUsb(this.platform, this.version)
    this.appSerial = spec.serial === true
    this.pressCount = spec.presses ?? 0
    this.handsUnplugged = spec.unplugged === true
    this.present = !this.handsUnplugged
    this.context = this.makeContext()
  }

  // ---- state, as tests and the bus see it ----

  get mode(): VirtualMode {
    return this.currentMode
  }

  /** In Listening Mode (mode 'listening', or Safe Mode and listening). */
  get listening(): boolean {
    return this.currentMode === 'listening' || (this.currentMode === 'safe' && this.safeListening)
  }

  get setupDone(): number {
    return this.dct.setupDone
  }

  /** Kept off the cloud until the next reset (raw 302, or the INIT of 40/41/50/60). */
  get cloudDisconnected(): boolean {
    return this.cloudOff
  }

  get faults(): VirtualFaults {
    return {...this.givenFaults}
  }

  /** The USBDevice of the current enumeration; undefined while rebooting or unplugged. */
  get usbDevice(): USBDevice | undefined {
    return this.current
  }

  get connected(): boolean {
    return this.current !== undefined
  }

  /** Whether the device is plugged in (the unplugAfterTransfers fault unplugs it). */
  get pluggedIn(): boolean {
    return this.present
  }

  /** `length` DCT bytes from `offset` (a copy). */
  readDct(offset: number, length: number): Uint8Array {
    const from = Math.max(0, Math.min(offset, this.dct.size))
    return this.dct.read(from, Math.max(0, Math.min(offset + length, this.dct.size) - from)) ?? new Uint8Array(0)
  }

  /** The device as a spec (its state now). While a reset is pending this is still the current mode. */
  spec(): VirtualDeviceSpec {
    return {
      id: this.id,
      ...(this.name === undefined ? {} : {name: this.name}),
      platform: this.platform.name,
      deviceOs: this.deviceOs,
      mode: this.currentMode,
      ...(this.currentMode === 'safe' && this.safeListening ? {listening: true} : {}),
      setupDone: this.dct.setupDone,
      ...(this.cloudOff ? {cloudDisconnected: true} : {}),
      ...(this.downgradedFrom === undefined ? {} : {downgradedFrom: this.downgradedFrom}),
      ...(this.appSerial ? {serial: true} : {}),
      ...(this.handsUnplugged ? {unplugged: true} : {}),
      ...(this.pressCount > 0 ? {presses: this.pressCount} : {}),
      ...(this.givenFaults ? {faults: {...this.givenFaults}} : {}),
    }
  }

  /** Change the DCT byte from outside (a test, or an edited devices file). */
  setSetupDone(value: number): void {
    if (value === this.dct.setupDone) return
    this.dct.setupDone = value
    this.port.stateChanged()
  }

  /** Change the faults from outside (a test, or an edited devices file); they apply from the next transfer. */
  setFaults(faults: VirtualFaults | undefined): void {
    if (JSON.stringify(faults) === JSON.stringify(this.givenFaults)) return
    this.givenFaults = faults && {...faults}
    this.port.stateChanged()
    this.control?.kick() // a lifted blockage lets queued requests run
  }

  // ---- life cycle (driven by the bus) ----

  /** Appear on the bus in the current mode with a fresh USBDevice; `announce` emits 'connect'. */
  enumerate(announce: boolean): void {
    if (!this.present) return
    this.connectionAborted = false
    this.control = undefined
    this.dfu = undefined
    this.cdc = undefined
    if (this.currentMode !== 'dfu' && !this.systemOnUsb()) return // off the bus until its next reset
    const identity = usbIdentity({
      controlInterface: this.systemUsb === 'control',
      id: this.id,
      isProtected: this.isProtected(),
      mode: this.currentMode === 'dfu' ? 'dfu' : 'normal',
      platform: this.platform,
      version: this.version,
    })
    if (this.currentMode === 'dfu') this.dfu = new DfuBootloader(this.dfuHost(identity))
    else if (this.systemUsb === 'control') this.control = new ControlEngine(this.engineHost())
    else this.cdc = new CdcAcm(this.cdcHost())
    this.current = new VirtualUsbDevice(this, identity)
    if (announce) this.port.connected(this, this.current)
  }

  /**
   * Whether the system firmware (normal, listening, Safe Mode) is on USB now. Before 0.8.0-rc.15 never; before
   * 0.8.0-rc.27 once USB serial has started this boot: by the application (devices file "serial"; Safe Mode runs
   * no application) or by the Listening Mode console, whose USBSerial member starts it
   * (`system/inc/system_setup.h@v0.8.0-rc.25-mesh:103`, `wiring/src/spark_wiring_usbserial.cpp:33-40`); nothing
   * stops it before the next reset. docs/protocol.md "Gen3 before 0.9.0".
   */
  private systemOnUsb(): boolean {
    switch (this.systemUsb) {
      case 'none': {
        return false
      }
      case 'cdc-with-serial': {
        if ((this.appSerial && this.currentMode !== 'safe') || this.listening) this.serialStarted = true
        return this.serialStarted
      }
      default: {
        return true
      }
    }
  }

  /**
   * Reset into `mode` now: disconnect, then re-enumerate bootMs later. Booting into 'normal' applies the boot
   * rule (§3.1), as does Safe Mode unless `listening` says otherwise.
   */
  reboot(mode: VirtualMode, listening?: boolean): void {
    this.cancelTimers()
    this.goOffBus()
    this.applyBoot(mode, listening)
    this.port.stateChanged()
    if (this.present) {
      this.cancelBoot = this.port.clock.setTimer(this.port.timing.bootMs, () => {
        this.cancelBoot = undefined
        this.enumerate(true)
      })
    }
  }

  /**
   * What hands do to a real device (buttons.ts): the buttons restart it into a mode (MODE+RESET into Safe Mode, MODE
   * held through RESET into DFU mode, RESET alone into the boot check), or the cable is pulled or put back (a plug is
   * a power-up: the boot check). Without power (unplugged) the buttons do nothing. Returns whether anything happened.
   */
  press(press: ButtonPress): boolean {
    if (press === 'unplug' ? !this.present : press === 'plug' ? this.present : !this.present) return false
    this.pressCount++
    if (press === 'unplug') {
      this.handsUnplugged = true
      this.vanish()
      return true
    }
    this.handsUnplugged = false
    this.present = true
    this.reboot(press === 'dfu' ? 'dfu' : press === 'safe-mode' ? 'safe' : 'normal')
    return true
  }

  /**
   * Another process pressed (the devices file's press count grew): become what the file now says, the way hands
   * make it so: off USB when it says unplugged, else a restart into its mode (a re-enumeration, even in the same mode).
   */
  followPresses(spec: VirtualDeviceSpec): void {
    this.pressCount = spec.presses ?? 0
    this.handsUnplugged = spec.unplugged === true
    if (this.handsUnplugged) {
      this.vanish()
      return
    }
    this.present = true
    this.reboot(spec.mode, spec.mode === 'safe' ? spec.listening === true : undefined)
  }

  /**
   * RESET pressed while MODE is held: the device resets and its bootloader waits for MODE to be released (the
   * bus's setMode then boots it into the mode the LED showed at the release). Off the bus until then.
   */
  holdInReset(): void {
    this.cancelTimers()
    this.goOffBus()
    this.port.stateChanged()
  }

  /** The cable pulled (the state kept, as the unplug fault keeps it): off the bus until plugIn(). */
  pullOut(): void {
    this.vanish()
  }

  /**
   * The cable plugged in again: a power-up, so the device boots as after a reset (the boot rule, §3.1). A loose
   * cable rehearsed with unplugAfterTransfers is fixed by the replug: that fault is dropped.
   */
  plugIn(): void {
    if (this.present) return
    if (this.givenFaults?.unplugAfterTransfers !== undefined) {
      const {unplugAfterTransfers: _dropped, ...rest} = this.givenFaults
      this.givenFaults = Object.keys(rest).length > 0 ? rest : undefined
    }
    this.present = true
    this.reboot('normal')
  }

  /** Unplugged for good (removeDevice): off the bus, nothing pending. */
  unplug(): void {
    this.cancelTimers()
    this.present = false
    this.goOffBus()
  }

  /** The bus is closing: a reset that is already due still happens (the file keeps the mode it leads to). */
  settle(): void {
    const due = this.pendingReset
    this.cancelTimers()
    if (due) {
      this.applyBoot(due.mode)
      this.port.stateChanged()
    }
    this.control?.dispose()
  }

  private cancelTimers(): void {
    this.pendingReset?.cancel()
    this.pendingReset = undefined
    this.cancelBoot?.()
    this.cancelBoot = undefined
  }

  private goOffBus(): void {
    this.control?.dispose()
    this.control = undefined
    this.dfu = undefined
    const old = this.current
    this.current = undefined
    if (old) {
      old.markGone()
      this.port.disconnected(this, old)
    }
  }

  private applyBoot(mode: VirtualMode, listening?: boolean): void {
    this.cloudOff = false // any reset clears the cloud-disconnect flag
    this.serialStarted = false
    const flagSaysListen = bootsListening(this.platform, this.version, this.dct.setupDone)
    this.currentMode = mode === 'normal' && flagSaysListen ? 'listening' : mode
    this.safeListening = mode === 'safe' ? (listening ?? flagSaysListen) : false
  }

  /** A reset `delay` ms from now (the host usually reads the result first, §2.9). */
  private resetLater(mode: VirtualMode, delay: number): void {
    this.pendingReset?.cancel()
    const cancel = this.port.clock.setTimer(delay, () => {
      this.pendingReset = undefined
      this.reboot(mode)
    })
    this.pendingReset = {cancel, mode}
  }

  /** The unplug fault: gone from the bus, but still a known device with its state. */
  private vanish(): void {
    this.cancelTimers()
    this.present = false
    this.goOffBus()
    this.port.stateChanged()
  }

  private isProtected(): boolean {
    return this.givenFaults?.protected === true
  }

  /** Whether the system thread can run control requests now (faults.blockedSystemThread). */
  private blocked(): boolean {
    const b = this.givenFaults?.blockedSystemThread
    if (b === true || b === 'app') return this.currentMode !== 'safe' // Safe Mode does not run the application
    // No connection attempt while listening or while the cloud-disconnect flag is set.
    if (b === 'connecting') return !this.connectionAborted && !this.cloudOff && !this.listening
    return false
  }

  /** cancelNetworkConnection(disconnect): abort the attempt; with `disconnect` also set the cloud-disconnect flag. */
  private abortConnection(disconnect: boolean): void {
    this.connectionAborted = true
    if (disconnect && !this.cloudOff) {
      this.cloudOff = true
      this.port.stateChanged()
    }
    this.control?.kick()
  }

  private setListening(on: boolean): void {
    const before = this.listening
    if (this.currentMode === 'safe') this.safeListening = on
    else if (on && this.currentMode === 'normal') this.currentMode = 'listening'
    else if (!on && this.currentMode === 'listening') this.currentMode = 'normal'
    if (before !== this.listening) {
      this.port.stateChanged()
      this.control?.kick()
    }
  }

  private makeContext(): RequestContext {
    return new VirtualDevice.Requests(this)
  }

  /**
   * What the request handlers (requests.ts) see of a device and may do to it: one small object per device, its
   * getters and methods on the prototype (an object literal of closures and getters cost 1.5 KB per device).
   */
  private static readonly Requests: new (device: VirtualDevice) => RequestContext = class {
    constructor(private readonly device: VirtualDevice) {}
    get deviceOs() {
      return this.device.deviceOs
    }
    get id() {
      return this.device.id
    }
    get isProtected() {
      return this.device.isProtected()
    }
    get platform() {
      return this.device.platform
    }
    get setupDone() {
      return this.device.dct.setupDone
    }
    get version() {
      return this.device.version
    }
    abortConnection() {
      this.device.abortConnection(true)
    }
    isListening() {
      return this.device.listening
    }
    resetInto(mode: 'dfu' | 'normal' | 'safe') {
      this.device.resetLater(mode, this.device.port.timing.resetDelayMs)
    }
    resetNow() {
      this.device.resetLater('normal', 0)
    }
    startListening() {
      this.device.setListening(true)
    }
    stopListening() {
      this.device.setListening(false)
    }
    writeSetupDone(value: number) {
      // Device OS writes one byte at 8134 (§2.11, §5).
      if (this.device.dct.setupDone === value) return
      this.device.dct.setupDone = value
      this.device.port.stateChanged()
    }
  }

  private engineHost() {
    return {
      acceptsPaddingSend: this.platform.outNeedsDataStage,
      blocked: () => this.blocked(),
      clock: this.port.clock,
      execute: (type: number, payload: Uint8Array) => executeRequest(this.context, type, payload),
      forceBusy: () => {
        if (this.busyAnswered >= (this.givenFaults?.busy ?? 0)) return false
        this.busyAnswered++
        return true
      },
      initReceived: (type: number) => {
        const abort = abortsConnection(type, this.version, this.isProtected())
        if (abort) this.abortConnection(abort === 'disconnect')
      },
      processingMs: this.port.timing.processingMs,
      smallServiceBuffer: this.platform.family === 'nrf52840',
    }
  }

  private cdcHost() {
    return {
      // System.dfu(false) resets from the USB interrupt at once, like raw request 40.
      enterDfu: () => this.resetLater('dfu', 0),
      isListening: () => this.listening,
      startListening: () => this.setListening(true),
    }
  }

  private dfuHost(identity: UsbIdentity) {
    const memories: Array<Memory | undefined> = [this.internal, this.dct, this.external]
    const altCount = identity.interfaces[0].alternates.length
    return {
      altCount,
      dctWritten: () => this.port.stateChanged(),
      detach: () => this.reboot('dfu'),
      cancelLeave: () => this.cancelTimers(),
      isProtected: () => this.isProtected(),
      leave: (mode: 'normal' | 'safe') => this.resetLater(mode, this.port.timing.dfuLeaveMs),
      memory: (alt: number) => (alt < altCount ? memories[alt] : undefined),
      version: this.version,
      violation: (message: string) => this.port.violation(this.id, message),
      writeFails: () => this.givenFaults?.dfuWriteError === true,
    }
  }

  // ---- transfers (called by VirtualUsbDevice) ----

  /** @internal */
  async transferIn(usb: VirtualUsbDevice, setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
    const record = this.record('in', setup, length)
    try {
      this.admit(usb, setup)
      if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw new TypeError('length must be 0-65535')
    } catch (error) {
      record.status = 'error'
      throw error
    }
    this.transfers++
    const result = this.dispatchIn(setup, length)?.slice(0, length)
    if (result) {
      record.status = 'ok'
      if (result.length > 0) record.dataIn = hex(result)
    } else record.status = 'stall'
    this.afterTransfer()
    return result ? {data: ownDataView(result), status: 'ok'} : {status: 'stall'}
  }

  /** @internal */
  async transferOut(
    usb: VirtualUsbDevice,
    setup: USBControlTransferParameters,
    data: BufferSource | undefined,
    timeout: number | undefined,
  ): Promise<USBOutTransferResult> {
    let bytes: Uint8Array
    try {
      bytes = copyBufferSource(data)
    } catch (error) {
      this.record('out', setup, 0).status = 'error'
      throw error
    }
    const record = this.record('out', setup, bytes.length, bytes)
    try {
      this.admit(usb, setup)
    } catch (error) {
      record.status = 'error'
      throw error
    }
    this.transfers++
    const result = this.dispatchOut(setup, bytes)
    if (result === 'timeout') {
      // Realtek: no status stage without a data stage; the host's transfer timeout expires (§1.1 quirk).
      await this.port.clock.sleep(timeout ?? DEFAULT_TRANSFER_TIMEOUT)
      record.status = 'error'
      this.afterTransfer()
      throw usbErrors.timeout()
    }
    record.status = result
    this.afterTransfer()
    return {bytesWritten: result === 'ok' ? bytes.length : 0, status: result}
  }

  /** @internal A USB bus reset from the host: cancels active control requests (§2.5); DFU goes back to dfuIDLE. */
  busReset(usb: VirtualUsbDevice): void {
    this.admitDevice(usb)
    this.control?.abortAll()
    this.dfu?.busReset()
  }

  /** @internal */
  currentAlternate(interfaceNumber: number): number {
    return interfaceNumber === 0 && this.dfu ? this.dfu.alt : 0
  }

  /** @internal Throws NotFoundError if `usb` is not the device's live enumeration. */
  admitDevice(usb: VirtualUsbDevice): void {
    if (usb !== this.current) throw usbErrors.gone()
  }

  /** @internal */
  get borrowRules(): boolean {
    return this.port.borrowRules
  }

  private admit(usb: VirtualUsbDevice, setup: USBControlTransferParameters): void {
    this.admitDevice(usb)
    if (!usb.isOpened) throw usbErrors.notOpen()
    checkSetup(setup)
    if (setup.recipient === 'interface' && !usb.isClaimed(setup.index & 0xff)) throw usbErrors.notClaimed(setup.index & 0xff)
  }

  /** Appends the transfer to the log now (so the log keeps call order); its status is filled in later. */
  private record(direction: USBDirection, setup: USBControlTransferParameters, wLength: number, data?: Uint8Array): ExchangeRecord {
    let text: string
    try {
      text = setupHex(direction, setup, wLength)
    } catch {
      text = '?' // malformed setup object; the transfer is rejected with a TypeError
    }
    const record: ExchangeRecord = {
      deviceId: this.id,
      at: this.port.clock.now(),
      setup: text,
      ...(data && data.length > 0 ? {dataOut: hex(data)} : {}),
      status: 'error',
    }
    this.port.log(record)
    return record
  }

  private afterTransfer(): void {
    const limit = this.givenFaults?.unplugAfterTransfers
    if (limit !== undefined && this.transfers >= limit && this.present) this.vanish()
  }

  private dispatchIn(setup: USBControlTransferParameters, length: number): InResult {
    switch (setup.requestType) {
      case 'standard': {
        return this.standardIn(setup)
      }
      case 'class': {
        if (setup.recipient !== 'interface') return undefined
        if (this.cdc) return this.isCdcInterface(setup.index) ? this.cdc.in(setup.request, length) : undefined
        return this.dfu?.classIn(setup.request, setup.value, setup.index, length)
      }
      case 'vendor': {
        // The bootloader answers Microsoft's OS descriptor requests (vendor code 0xEE), nothing else.
        if (this.dfu) return msOsDescriptor(setup.recipient === 'device' ? 0xc0 : setup.recipient === 'interface' ? 0xc1 : 0, setup.request, setup.value, setup.index)
        if (setup.recipient !== 'device' || !this.control || this.givenFaults?.stallControl) return undefined
        if (setup.request >= Service.INIT && setup.request <= Service.RESET) {
          return this.control.in(setup.request, setup.value, setup.index, length)
        }
        if (setup.request === RAW_REQUEST) return rawIn(this.context, setup.index, length)
        return undefined
      }
    }
  }

  private dispatchOut(setup: USBControlTransferParameters, data: Uint8Array): OutResult {
    const stallUnless = (ok: boolean | undefined): OutResult => (ok ? 'ok' : 'stall')
    switch (setup.requestType) {
      case 'standard': {
        return stallUnless(this.standardOut(setup))
      }
      case 'class': {
        if (this.cdc) return stallUnless(setup.recipient === 'interface' && this.isCdcInterface(setup.index) && this.cdc.out(setup.request, setup.value, data))
        return stallUnless(setup.recipient === 'interface' && this.dfu?.classOut(setup.request, setup.value, setup.index, data))
      }
      case 'vendor': {
        // Not served by the bootloader (§2.1); the stall fault covers every vendor request.
        if (setup.recipient !== 'device' || !this.control || this.givenFaults?.stallControl) return 'stall'
        if (data.length === 0 && this.platform.outNeedsDataStage) return 'timeout'
        if (setup.request === Service.SEND) return stallUnless(this.control.out(setup.request, setup.index, data))
        // Raw OUT requests carry no data; a 1-byte Realtek data stage is ignored.
        if (setup.request === RAW_REQUEST) return stallUnless(rawOut(this.context, setup.index))
        return 'stall'
      }
    }
  }

  /** Both interfaces belong to the SDK's one CDC ACM class instance, which takes class requests on either. */
  private isCdcInterface(index: number): boolean {
    return (index & 0xff) === 0 || (index & 0xff) === 1
  }

  private standardIn(setup: USBControlTransferParameters): InResult {
    const identity = this.current!.identity
    switch (setup.request) {
      case Standard.GET_DESCRIPTOR: {
        // The bootloader returns its DFU functional descriptor to an interface GET_DESCRIPTOR of type 0x21.
        if (setup.recipient === 'interface' && this.dfu && setup.value >> 8 === DFU_FUNCTIONAL_TYPE) return identity.configDescriptor.slice(-9)
        if (setup.recipient !== 'device') return undefined
        const type = setup.value >> 8
        const index = setup.value & 0xff
        if (type === DescriptorType.DEVICE) return identity.deviceDescriptor
        if (type === DescriptorType.CONFIGURATION) return index === 0 ? identity.configDescriptor : undefined
        if (type === DescriptorType.STRING) {
          if (index === 0) return LANGID_DESCRIPTOR
          const s = identity.strings.get(index)
          return s === undefined ? undefined : stringDescriptor(s)
        }
        return undefined // no device qualifier (full speed), no BOS
      }
      case Standard.GET_STATUS: {
        return Uint8Array.of(setup.recipient === 'device' ? 0x01 : 0x00, 0x00) // self-powered (bmAttributes 0xC0)
      }
      case Standard.GET_CONFIGURATION: {
        return Uint8Array.of(identity.configurationValue)
      }
      case Standard.GET_INTERFACE: {
        const n = setup.index & 0xff
        if (setup.recipient !== 'interface' || !identity.interfaces.some((i) => i.interfaceNumber === n)) return undefined
        return Uint8Array.of(this.currentAlternate(n))
      }
      default: {
        return undefined
      }
    }
  }

  private standardOut(setup: USBControlTransferParameters): boolean {
    const identity = this.current!.identity
    switch (setup.request) {
      case Standard.SET_INTERFACE: {
        const n = setup.index & 0xff
        if (setup.recipient !== 'interface') return false
        if (this.dfu && n === 0) return this.dfu.setInterface(setup.value) // alt >= count stalls (§4.4)
        const iface = identity.interfaces.find((i) => i.interfaceNumber === n)
        return iface?.alternates.some((a) => a.alternateSetting === setup.value) ?? false
      }
      case Standard.SET_CONFIGURATION: {
        return setup.recipient === 'device' && setup.value === identity.configurationValue
      }
      default: {
        return false
      }
    }
  }
}
