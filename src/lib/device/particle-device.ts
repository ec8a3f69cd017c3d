/**
 * One opened Particle device in normal, listening or safe mode (Device OS running): the requests the setup
 * flag needs, over the control-request protocol and the raw 'P' requests.
 */
import type {Clock} from '../clock.js'

import {errors, requestLabel} from '../errors.js'
import {RequestType, Result} from '../protocol/constants.js'
import {ControlChannel, type RequestOptions} from '../protocol/control-request.js'
import {
  decodeGetDeviceModeReply,
  decodeGetSystemVersionReply,
  decodeIsDeviceSetupDoneReply,
  DeviceMode,
  encodeSetDeviceSetupDoneRequest,
  MessageError,
} from '../protocol/messages.js'
import {rawAbortConnection, rawSystemVersion} from '../protocol/raw.js'
import {openForControl, type UsbIo} from '../usb/io.js'
import {type FoundDevice} from '../usb/discovery.js'

/** Open a device's USB handle (any mode). Permission and driver problems surface here. */
export async function openUsb(found: FoundDevice): Promise<UsbIo> {
  return openForControl(found.usbDevice, found.id)
}

/**
 * Open a device that runs Device OS. RESET(0) is not sent here: a caller sends it before its first
 * control request (the raw version request needs no slot and goes first).
 */
export async function openDevice(found: FoundDevice, clock: Clock): Promise<OpenDevice> {
  const io = await openUsb(found)
  return new OpenDevice(found, io, new ControlChannel(io, clock))
}

export class OpenDevice {
  constructor(
    readonly found: FoundDevice,
    readonly io: UsbIo,
    readonly channel: ControlChannel,
  ) {}

  /** Raw request 302: abort a connection attempt that holds the system thread (Device OS 2.0+). */
  async abortConnection(): Promise<boolean> {
    return rawAbortConnection(this.io, this.found.platform.outNeedsDataStage)
  }

  get id(): string {
    return this.found.id
  }

  async close(): Promise<void> {
    try {
      if (this.found.usbDevice.opened) await this.found.usbDevice.close()
    } catch {
      // closing a device that went away is not an error worth reporting
    }
  }

  /** Enter DFU mode (request 50); the device reboots about a second after answering. */
  async enterDfu(opts?: RequestOptions): Promise<void> {
    await this.expectOk(RequestType.DFU_MODE, undefined, opts)
  }

  /** Enter Safe Mode (request 60). */
  async enterSafeMode(opts?: RequestOptions): Promise<void> {
    await this.expectOk(RequestType.SAFE_MODE, undefined, opts)
  }

  /** Whether the device is in Listening Mode (request 72). Safe Mode reports as normal. */
  async isListening(opts?: RequestOptions): Promise<boolean> {
    const reply = await this.expectOk(RequestType.GET_DEVICE_MODE, undefined, opts)
    return this.decode(() => decodeGetDeviceModeReply(reply), RequestType.GET_DEVICE_MODE) === DeviceMode.LISTENING
  }

  /** Request 74. Only meaningful on nRF52840 below Device OS 4.0 (4.0+ always says true). */
  async isSetupDone(opts?: RequestOptions): Promise<boolean> {
    const reply = await this.expectOk(RequestType.IS_DEVICE_SETUP_DONE, undefined, opts)
    return this.decode(() => decodeIsDeviceSetupDoneReply(reply), RequestType.IS_DEVICE_SETUP_DONE)
  }

  /** Restart the device (request 40); it resets about a second after answering. */
  async reset(opts?: RequestOptions): Promise<void> {
    await this.expectOk(RequestType.RESET, undefined, opts)
  }

  /** RESET(0) on the control-request channel. */
  async resetPending(): Promise<void> {
    await this.channel.resetAll()
  }

  /** Request 73: writes 0x01 (done) or 0xFF (not done) to the DCT on nRF52840 below 4.0. */
  async setSetupDone(done: boolean, opts?: RequestOptions): Promise<void> {
    await this.expectOk(RequestType.SET_DEVICE_SETUP_DONE, encodeSetDeviceSetupDoneRequest(done), opts)
  }

  /** Leave Listening Mode now (request 71). */
  async stopListening(opts?: RequestOptions): Promise<void> {
    await this.expectOk(RequestType.STOP_LISTENING, undefined, opts)
  }

  /** The Device OS version: the raw request first (one transfer), request 30 when the raw one is refused. */
  async systemVersion(opts?: RequestOptions): Promise<string> {
    const raw = await rawSystemVersion(this.io)
    if (raw) return raw
    const reply = await this.expectOk(RequestType.SYSTEM_VERSION, undefined, opts)
    return this.decode(() => decodeGetSystemVersionReply(reply), RequestType.SYSTEM_VERSION)
  }

  private decode<T>(fn: () => T, type: number): T {
    try {
      return fn()
    } catch (error) {
      if (error instanceof MessageError) throw errors.protocol(requestLabel(type), error)
      throw error
    }
  }

  private async expectOk(type: number, payload: Uint8Array | undefined, opts: RequestOptions = {}): Promise<Uint8Array> {
    const {data, result} = await this.channel.request(type, payload, opts)
    if (result === Result.PROTECTED) throw errors.protectedDevice(this.id)
    if (result !== Result.OK) throw errors.deviceResult(type, result)
    return data
  }
}
