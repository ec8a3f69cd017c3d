/**
 * Public types of the virtual Particle USB device and bus. The shapes are a contract: the CLI, its tests and
 * users' own tests build devices from `VirtualDeviceSpec`s (directly or through a PARTICLE_VIRTUAL_DEVICES file)
 * and inspect `log` / `violations` afterwards.
 */
import type {Clock} from '../clock.js'

/**
 * What the device is doing. 'normal', 'listening' and 'safe' are served by the system firmware (same USB
 * identity, the CDC PID); 'dfu' is the bootloader (DFU PID). See docs/protocol.md §1.1, §2.1, §4.
 */
export type VirtualMode = 'dfu' | 'listening' | 'normal' | 'safe'

export const VIRTUAL_MODES: readonly VirtualMode[] = ['normal', 'listening', 'safe', 'dfu']

/**
 * What hands do to a device (`virtual press`), in the words of the button steps a person is given: the buttons into
 * Safe Mode or DFU mode, RESET, and the USB cable out and in.
 */
export type ButtonPress = 'dfu' | 'plug' | 'reset' | 'safe-mode' | 'unplug'

export const BUTTON_PRESSES: readonly ButtonPress[] = ['safe-mode', 'dfu', 'reset', 'unplug', 'plug']

export interface VirtualFaults {
  /**
   * true / 'app': a user application blocks the system thread, so every queued control request stays PENDING
   * forever outside Safe Mode (INIT still answers, CHECK answers PENDING).
   * 'connecting': the system thread is stuck in a network/cloud connection attempt; an INIT of 40, 41, 50, 60
   * or 70 (or the raw 'P' 302 request) aborts the attempt (docs/protocol.md §2.5), after which requests are
   * processed until the next reboot. No connection is attempted while listening, so nothing blocks then.
   */
  blockedSystemThread?: 'app' | 'connecting' | boolean
  /** The first N INITs answer BUSY (status 3, flags 0x01), counted over the device's lifetime in this process. */
  busy?: number
  /** Any DfuSe data DNLOAD (wValue >= 2) fails: the second GETSTATUS reports dfuERROR/errUNKNOWN, nothing is written. */
  dfuWriteError?: boolean
  /**
   * No permission to open the device node (a missing udev rule): open() rejects, and so does reading
   * `configuration` before it, as the `usb` package does on Linux ('open error: permission denied (errno 13)').
   */
  accessDenied?: boolean
  /**
   * Device Protection (6.x): control requests other than 20, 76, 77, 10 complete with result -1801; DFU layouts
   * end in 'Kb'; UPLOAD returns 0 bytes and DNLOAD data fails, both with dfuERROR/errVENDOR (iString 10).
   */
  protected?: boolean
  /** Every vendor control request (service and raw 'P') stalls; standard and DFU class requests still work. */
  stallControl?: boolean
  /**
   * After N control transfers on this device (any kind, counted from the creation of the VirtualUsb) the device
   * vanishes: 'disconnect' is emitted, getDevices() no longer lists it, and every later call on its old USBDevice
   * rejects with a NotFoundError. It stays in `specs()` (it was unplugged, not destroyed).
   */
  unplugAfterTransfers?: number
  /**
   * The system part is missing or damaged (a common reason to sit in DFU mode): internal flash holds no module
   * header, so a DFU-mode host cannot learn the Device OS version from the device.
   */
  noSystemPart?: boolean
  /**
   * Calls of the host's `usb` package that fail below it, on the system in question: each rejects with exactly the
   * text given, as the package words it (e.g. Windows without WinUSB on the control interface: claimInterface
   * "claimInterface error: incompatible driver is installed for this interface"). `controlTransfer` applies to every
   * control transfer.
   */
  usbError?: {claimInterface?: string; controlTransfer?: string; open?: string}
  /**
   * The `usb` package (3.x) on Windows: WinUSB has no handle for the whole device, so a device-recipient control
   * transfer goes through a claimed interface and, with none claimed, rejects "controlTransferIn error: invalid state".
   */
  claimForControl?: boolean
}

export const FAULT_NAMES: readonly (keyof VirtualFaults)[] = [
  'blockedSystemThread',
  'stallControl',
  'busy',
  'unplugAfterTransfers',
  'dfuWriteError',
  'accessDenied',
  'protected',
  'noSystemPart',
  'usbError',
  'claimForControl',
]

export interface VirtualDeviceSpec {
  /** 24 hex digits; stored and served lowercase. */
  id: string
  /** @particle/device-constants platform name: argon, boron, bsom, b5som, tracker, xenon, p2, msom, photon, electron, ... */
  platform: string
  /** Device OS version, e.g. "1.5.2", "3.3.1", "4.2.0", "6.2.0". */
  deviceOs: string
  mode: VirtualMode
  /** The DCT byte at offset 8134 (docs/protocol.md §5), 0-255. */
  setupDone: number
  faults?: VirtualFaults
  /** Only meaningful with mode 'safe': Safe Mode and also Listening Mode. */
  listening?: boolean
  /** Ignored by the device (a cloud name for humans and tests); preserved on write-back. */
  name?: string
  /**
   * The cloud-disconnect flag: set by raw request 302 (and the INIT of 40/41/50/60), cleared by any reset. While
   * set, a real device stays off the cloud (breathing green). Written only when true. See docs/protocol.md.
   */
  cloudDisconnected?: boolean
  /**
   * The Device OS it was downgraded from, when that left something behind: from 6.2.0, a stale system-part header
   * at 0x28200 (docs/protocol.md "Device OS version in DFU mode"). Must be newer than deviceOs.
   */
  downgradedFrom?: string
  /**
   * The application runs USB serial (calls `Serial.begin`). Matters only to Gen3 system firmware before
   * 0.8.0-rc.27, which is on USB at all only while USB serial runs (docs/protocol.md "Gen3 before 0.9.0").
   * Written only when true.
   */
  serial?: boolean
  /**
   * Unplugged by hand (`virtual press unplug`): known, but off USB and without power until plugged in again. Written
   * only when true. (The unplugAfterTransfers fault is not this: it vanishes for one process only.)
   */
  unplugged?: boolean
  /**
   * How many times hands worked its buttons or its cable (`virtual press`, buttons.ts), written only when above 0.
   * Every process sharing the devices file acts out a press when it sees this count grow: the device restarts
   * into the mode the file now says (re-enumerating), or leaves USB when the file says it is unplugged.
   */
  presses?: number
}

export interface VirtualDevicesFile {
  devices: VirtualDeviceSpec[]
}

/** One control transfer as the wire saw it. */
export interface ExchangeRecord {
  deviceId: string
  /** clock.now() when the transfer was issued. */
  at: number
  /** The 8-byte setup packet as uppercase hex pairs, e.g. 'C0 01 02 00 49 00 40 00' (wLength of OUT = data length). */
  setup: string
  /** OUT data as hex, e.g. '08 01' (absent when there was none). */
  dataOut?: string
  /** 'error' = the call rejected (device gone, device closed, timeout, bad arguments). */
  status: 'error' | 'ok' | 'stall'
  /** IN data returned, hex (absent when none or on stall/error). */
  dataIn?: string
}

/** Something a well-behaved host must never do to a device (see the write guard in device.ts and dfu.ts). */
export interface Violation {
  deviceId: string
  message: string
}

export interface VirtualTiming {
  /**
   * 0 (default): a queued control request completes synchronously when it is queued (idle, fast system thread).
   * > 0: it completes that many ms later on the clock, so CHECK answers PENDING meanwhile. Also the delay of the
   * asynchronous buffer allocation for payloads over 64 bytes (0 = the next turn of the clock).
   */
  processingMs: number
  /** Delay between the completion of RESET(40)/FACTORY_RESET(41)/DFU_MODE(50)/SAFE_MODE(60)/raw reset and the disconnect. */
  resetDelayMs: number
  /** From a disconnect to the device re-appearing ('connect') in its new mode. */
  bootMs: number
  /** From the dfuMANIFEST status of a DFU leave (or the 0xFA command) to the disconnect. */
  dfuLeaveMs: number
}

export const DEFAULT_TIMING: Readonly<VirtualTiming> = {
  processingMs: 0,
  resetDelayMs: 1000,
  bootMs: 500,
  dfuLeaveMs: 500,
}

export interface VirtualUsbOptions {
  devices: VirtualDeviceSpec[]
  /** Default: realClock. */
  clock?: Clock
  timing?: Partial<VirtualTiming>
  /**
   * Keep every control transfer in the bus's `log` (default true, for tests). A run of the CLI over a devices file
   * turns it off: nobody reads it there, and over 10,000 devices it held hundreds of thousands of records.
   */
  keepLog?: boolean
  /**
   * Hold the `usb` package's borrow rules (usb-device.ts: a getter or call on a USBDevice object that another
   * call is using throws). Default true: the virtual bus stands where the package stands. False where it stands
   * for a browser's WebUSB (the web doctor's virtual devices) or serves as a real device's firmware (the gadget
   * bridge), neither of which has them.
   */
  borrowRules?: boolean
}
