/**
 * What the system firmware does with each control request type (docs/protocol.md §2.5, §2.9–§2.11) and with
 * the raw 'P' requests (§2.8). Pure functions of a small context the device model provides.
 */
import type {Platform} from '../particle/platforms.js'
import {hasRawOutRequests, type Semver} from '../particle/versions.js'
import {RequestType, Raw, Result, SETUP_DONE, SETUP_NOT_DONE} from '../protocol/constants.js'
import {
  DeviceMode,
  MessageError,
  decodeSetDeviceSetupDoneRequest,
  encodeGetDeviceModeReply,
  encodeIsDeviceSetupDoneReply,
  encodeStringField1,
} from '../protocol/messages.js'
import type {Outcome} from './control.js'
import {atLeast, hasFlag, reportsDone} from './rules.js'

/** What a request may see of and do to the device. */
export interface RequestContext {
  readonly deviceOs: string
  /** 24 lowercase hex digits. */
  readonly id: string
  readonly isProtected: boolean
  readonly platform: Platform
  readonly version: Semver
  /** Abort a network/cloud connection attempt in progress (§2.5, raw 302). */
  abortConnection(): void
  isListening(): boolean
  /** Reset into a mode resetDelayMs from now (§2.9: "~1 s after reply"); 'normal' applies the boot rule. */
  resetInto(mode: 'dfu' | 'normal' | 'safe'): void
  /** Reset at once (raw 40 calls HAL_Core_System_Reset_Ex in the ISR, usb_control_request_channel.cpp@v3.3.1:546). */
  resetNow(): void
  readonly setupDone: number
  startListening(): void
  stopListening(): void
  writeSetupDone(value: number): void
}

/** Request types a protected device still serves over USB (services/src/security_mode.cpp@v6.1.1:203-206): device id, protected state (76, 77), app custom (10). */
const ALLOWED_WHEN_PROTECTED = new Set([RequestType.DEVICE_ID, 76, 77, 10])

/**
 * What the USB ISR does to a connection attempt at the INIT of `type` (usb_control_request_channel.cpp,
 * cancelNetworkConnectionIfNeeded): 40/41/50/60 abort it and set the cloud-disconnect flag ('disconnect'), 70
 * aborts it without touching the flag ('abort'). The abort exists from 1.3.1-rc.1 (absent in 1.3.0-rc.1), and from
 * 6.1.1 not on a protected device. See docs/protocol.md "Connection abort at INIT".
 */
export function abortsConnection(type: number, version: Semver, isProtected: boolean): 'abort' | 'disconnect' | undefined {
  if (!atLeast(version, '1.3.1') || (isProtected && atLeast(version, '6.1.1'))) return undefined
  switch (type) {
    case RequestType.RESET:
    case RequestType.FACTORY_RESET:
    case RequestType.DFU_MODE:
    case RequestType.SAFE_MODE: {
      return 'disconnect'
    }
    case RequestType.START_LISTENING: {
      return 'abort'
    }
    default: {
      return undefined
    }
  }
}

const ok = (reply?: Uint8Array, onComplete?: () => void): Outcome => ({onComplete, reply, result: Result.OK})
const fail = (result: number): Outcome => ({result})

/** A stand-in hardware serial number (request 21): not the device id, stable per id. */
export function fakeSerialNumber(id: string): string {
  return `P046AB${id.slice(-10).toUpperCase()}`
}

export function executeRequest(ctx: RequestContext, type: number, payload: Uint8Array): Outcome {
  // The system firmware filters requests on a protected device from 6.1.1 (security_mode_init is called there);
  // 6.0.0 and 6.1.0 define the bootloader check but never call it, so only their bootloader is protected.
  if (ctx.isProtected && atLeast(ctx.version, '6.1.1') && !ALLOWED_WHEN_PROTECTED.has(type)) return fail(Result.PROTECTED)
  switch (type) {
    case RequestType.DEVICE_ID: {
      return ok(encodeStringField1(ctx.id))
    }
    case RequestType.SERIAL_NUMBER: {
      return ok(encodeStringField1(fakeSerialNumber(ctx.id)))
    }
    case RequestType.SYSTEM_VERSION: {
      return ok(encodeStringField1(ctx.deviceOs))
    }
    case RequestType.RESET:
    case RequestType.FACTORY_RESET: {
      // 41 is modelled as a plain reset: what a factory reset restores depends on a factory image the virtual
      // device does not have, and it must not touch the setup-done byte behind the test's back.
      return ok(undefined, () => ctx.resetInto('normal'))
    }
    case RequestType.DFU_MODE: {
      return ok(undefined, () => ctx.resetInto('dfu'))
    }
    case RequestType.SAFE_MODE: {
      return ok(undefined, () => ctx.resetInto('safe'))
    }
    case RequestType.START_LISTENING: {
      // Already listening: -210 INVALID_STATE where the handler returns network_listen_sync()'s result as is
      // (system_control_internal.cpp@v4.0.0-alpha.1:191, @v5.0.0:191, to 4.0.2 and 5.3.2); 0 up to 3.3.1 and
      // where it maps INVALID_STATE-while-listening to 0 (@v4.1.0:191-192, 4.2.0, @v5.4.0:191-192 and later).
      if (ctx.isListening() && listenReportsInvalidState(ctx.version)) return fail(Result.INVALID_STATE)
      ctx.startListening()
      return ok()
    }
    case RequestType.STOP_LISTENING: {
      ctx.stopListening()
      return ok()
    }
    case RequestType.GET_DEVICE_MODE: {
      return ok(encodeGetDeviceModeReply(ctx.isListening() ? DeviceMode.LISTENING : DeviceMode.NORMAL))
    }
    case RequestType.SET_DEVICE_SETUP_DONE: {
      return setSetupDone(ctx, payload)
    }
    case RequestType.IS_DEVICE_SETUP_DONE: {
      return isSetupDone(ctx)
    }
    default: {
      return fail(Result.NOT_SUPPORTED) // no application handler registered
    }
  }
}

function listenReportsInvalidState(v: Semver): boolean {
  return (v.major === 4 && !atLeast(v, '4.1.0')) || (v.major === 5 && !atLeast(v, '5.4.0'))
}

/**
 * Below 4.0 the 73/74 handlers exist only where HAL_PLATFORM_DCT_SETUP_DONE is set, else they answer -120
 * (system/src/control/config.cpp@v3.3.1:173-190): Gen2, and P2 on its 3.x early-access builds (3.0.1-p2.x,
 * 3.2.1-p2.x), whose Realtek HAL config has it at 0.
 */
function setupDoneCompiledOut(ctx: RequestContext): boolean {
  return ctx.platform.family === 'gen2' || (ctx.platform.family === 'realtek' && ctx.version.major < 4)
}

/** Request 73 by version and platform (§2.11). */
function setSetupDone(ctx: RequestContext, payload: Uint8Array): Outcome {
  if (setupDoneCompiledOut(ctx)) return fail(Result.NOT_SUPPORTED)
  let done: boolean
  try {
    done = decodeSetDeviceSetupDoneRequest(payload)
  } catch (error) {
    if (error instanceof MessageError) return fail(Result.BAD_DATA)
    throw error
  }
  if (hasFlag(ctx.platform, ctx.version)) {
    ctx.writeSetupDone(done ? SETUP_DONE : SETUP_NOT_DONE) // 0x01 / 0xFF
    return ok()
  }
  // 4.0.0-alpha.1 and later, Realtek included: true is a no-op, false is refused.
  return done ? ok() : fail(Result.NOT_SUPPORTED)
}

/** Request 74 by version and platform (§2.11). */
function isSetupDone(ctx: RequestContext): Outcome {
  if (setupDoneCompiledOut(ctx)) return fail(Result.NOT_SUPPORTED)
  if (hasFlag(ctx.platform, ctx.version)) return ok(encodeIsDeviceSetupDoneReply(reportsDone(ctx.setupDone)))
  return ok(encodeIsDeviceSetupDoneReply(true)) // stub: always done, DCT not read
}

/** Raw IN requests (§2.8). Returns the reply, or undefined to stall. */
export function rawIn(ctx: RequestContext, index: number, length: number): Uint8Array | undefined {
  if (length > 64) return undefined // the HAL lends only a 64-byte buffer
  let text: string
  switch (index) {
    case Raw.DEVICE_ID: {
      text = ctx.id.toUpperCase()
      break
    }
    case Raw.SYSTEM_VERSION: {
      text = ctx.deviceOs
      break
    }
    default: {
      return undefined
    }
  }
  if (length < text.length) return undefined
  return new TextEncoder().encode(text)
}

/** Raw OUT requests, present from Device OS 2.0.0-alpha.3 (absent in 2.0.0-alpha.2). Returns false to stall. */
export function rawOut(ctx: RequestContext, index: number): boolean {
  if (!hasRawOutRequests(ctx.deviceOs)) return false
  switch (index) {
    case Raw.RESET: {
      ctx.resetNow()
      return true
    }
    case Raw.ABORT_CONNECTION: {
      ctx.abortConnection()
      return true
    }
    default: {
      return false
    }
  }
}
