/**
 * Mapping of what a WebUSB implementation throws (the `usb` package in Node, a browser, or our virtual device)
 * to our errors. WebUSB names its errors (NotFoundError, SecurityError, NetworkError, ...); the `usb` package
 * also rejects with plain Errors whose text comes from the OS, so both the name and the text are looked at.
 * `usb` 3.x words them "<method> error: <nusb's message> (<errno N | error N | error 0x...>)" (the system's code
 * on Linux, Windows and macOS).
 */
import {errors, isSetupFlagError, SetupFlagError} from '../errors.js'
import {hostSystem} from '../host.js'

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

/**
 * Another program holds the device or interface. Texts: `usb` 3.x (nusb) "interface is busy (errno 16)" and
 * "device is busy" (Linux), "could not open interface for exclusive access (error 0xe00002c5)" (macOS,
 * kIOReturnExclusiveAccess), "failed to open device (error 5)" (Windows: ERROR_ACCESS_DENIED opening the WinUSB
 * handle), "interface is already claimed"; `usb` 2.x (libusb) LIBUSB_ERROR_BUSY; browsers "Unable to claim interface".
 */
export function isBusy(e: unknown): boolean {
  const {message} = describe(e)
  return /interface is busy|device is busy|already claimed|exclusive access|e00002c5|LIBUSB_ERROR_BUSY|unable to claim interface|failed to open device \(error 5\)/i.test(message)
}

/**
 * No usable driver on the interface (Windows). `usb` 3.x (nusb): "incompatible driver is installed for this
 * interface" (or "device"), "could not determine driver for interface", "Could not find DeviceInterfaceGUIDs in
 * registry...", "failed to find device path for WinUSB ..."; `usb` 2.x (libusb): LIBUSB_ERROR_NOT_SUPPORTED, which
 * on Windows means the driver is not WinUSB (elsewhere it means no USB support at all).
 */
export function isDriverMissing(e: unknown, system: string): boolean {
  const {message} = describe(e)
  if (/incompatible driver is installed|could not determine driver for interface|DeviceInterfaceGUIDs|device path for WinUSB|failed to initialize WinUSB/i.test(message)) return true
  return system === 'win32' && /LIBUSB_ERROR_NOT_SUPPORTED/.test(message)
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

/**
 * Turn anything a USB call threw into a SetupFlagError that says what happened and what to do, with the advice of
 * the system it happened on (`system` as process.platform names it, host.ts). Permission problems are
 * udev's on Linux; on Windows and macOS "access denied" means another program has the device.
 */
export function mapUsbError(e: unknown, what: string, deviceId?: string, system: string = hostSystem()): SetupFlagError {
  if (isSetupFlagError(e)) return e
  if (isDriverMissing(e, system)) return errors.usbDriver({deviceId, system}, e)
  if (isBusy(e)) return errors.usbBusy({deviceId, system}, e)
  if (isAccessDenied(e)) return system === 'win32' || system === 'darwin' ? errors.usbBusy({deviceId, system}, e) : errors.accessDenied(deviceId, e)
  if (isGone(e)) return errors.disconnected(deviceId, e)
  if (isTimeout(e)) return errors.timeout(what, e)
  if (isNoUsbSubsystem(e)) return errors.noUsbSubsystem(e)
  return errors.protocol(what, e)
}
