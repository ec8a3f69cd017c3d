/**
 * Mapping of what a WebUSB implementation throws (the `usb` package in Node, a browser, or our virtual device)
 * to our errors. WebUSB names its errors (NotFoundError, SecurityError, NetworkError, ...); the `usb` package
 * also rejects with plain Errors whose text comes from the OS, so both the name and the text are looked at.
 */
import {errors, isSetupFlagError, SetupFlagError} from '../errors.js'

function describe(e: unknown): {message: string; name: string} {
  if (e && typeof e === 'object') {
    const o = e as {message?: unknown; name?: unknown}
    return {message: String(o.message ?? ''), name: String(o.name ?? '')}
  }
  return {message: String(e), name: ''}
}

export function isAccessDenied(e: unknown): boolean {
  const {message, name} = describe(e)
  return name === 'SecurityError' || /permission denied|access denied|EACCES|LIBUSB_ERROR_ACCESS|os error 13/i.test(message)
}

export function isGone(e: unknown): boolean {
  const {message, name} = describe(e)
  return (
    name === 'NotFoundError' ||
    /no such device|device (was )?disconnected|device not found|LIBUSB_ERROR_NO_DEVICE|os error 19|ENODEV/i.test(message)
  )
}

/**
 * The `usb` package (3.1.0) ends a transfer at its timeout by cancelling it: "controlTransferIn error: transfer
 * was cancelled". We never cancel transfers ourselves, so a cancelled one is a timeout.
 */
export function isTimeout(e: unknown): boolean {
  const {message, name} = describe(e)
  return name === 'TimeoutError' || /timed? ?out|LIBUSB_TRANSFER_TIMED_OUT|ETIMEDOUT|transfer was cancelled/i.test(message)
}

/**
 * A stalled control transfer. W3C WebUSB resolves it with status 'stall'; the `usb` package (3.1.0) rejects:
 * "controlTransferIn error: endpoint stalled" (libusb-based bindings: LIBUSB_ERROR_PIPE).
 */
export function isStall(e: unknown): boolean {
  const {message} = describe(e)
  return /endpoint stalled|LIBUSB_ERROR_PIPE/i.test(message)
}

/** True when the machine has no USB subsystem at all (Linux without /sys/bus/usb, e.g. this sandbox). */
export function isNoUsbSubsystem(e: unknown): boolean {
  const {message} = describe(e)
  return /\/sys\/bus\/usb|no usb subsystem|LIBUSB_ERROR_NOT_SUPPORTED/i.test(message)
}

/** Turn anything a USB call threw into a SetupFlagError that says what happened and what to do. */
export function mapUsbError(e: unknown, what: string, deviceId?: string): SetupFlagError {
  if (isSetupFlagError(e)) return e
  if (isAccessDenied(e)) return errors.accessDenied(deviceId, e)
  if (isGone(e)) return errors.disconnected(deviceId, e)
  if (isTimeout(e)) return errors.timeout(what, e)
  if (isNoUsbSubsystem(e)) return errors.noUsbSubsystem(e)
  return errors.protocol(what, e)
}
