/**
 * Firmware facts that several parts of the virtual device need: which Device OS versions have which behaviour.
 * Each rule cites the section of docs/protocol.md it comes from (section numbers there match the older notes).
 */
import type {Platform} from '../particle/platforms.js'
import {compareCore, compareVersions, parseVersion, type Semver} from '../particle/versions.js'
import {SETUP_DONE} from '../protocol/constants.js'

/** a >= b on major.minor.patch, ignoring prerelease tags (firmware feature checks are per release line). */
export function atLeast(v: Semver, b: string): boolean {
  return compareCore(v, parseVersion(b)!) >= 0
}

export function sameCore(v: Semver, b: string): boolean {
  return compareCore(v, parseVersion(b)!) === 0
}

/** The flag exists (requests 73/74 read and write DCT[8134], the boot check runs) only on nRF52840 below 4.0 (§1.2, §2.11). */
export function hasFlag(platform: Platform, version: Semver): boolean {
  return platform.family === 'nrf52840' && version.major < 4
}

/**
 * The boot rule (§3.1): on a flag platform, a DCT byte of 0x00 or 0xFF sends the device to Listening Mode the
 * first time it brings the network up after a boot; any other value counts as done. Gen2, Realtek and 4.0+
 * never look at the byte.
 */
export function bootsListening(platform: Platform, version: Semver, setupDone: number): boolean {
  return hasFlag(platform, version) && (setupDone === 0x00 || setupDone === 0xff)
}

/** Request 74 on a flag device reports done only for exactly 0x01 (§2.11, §5). */
export function reportsDone(setupDone: number): boolean {
  return setupDone === SETUP_DONE
}

/**
 * How the system firmware (not the bootloader) of a device shows itself on USB (docs/protocol.md "Gen3 before
 * 0.9.0"):
 * - 'control': the vendor control interface and its requests; every platform but nRF52840 below 0.9.0, whose
 *   requests arrive with commit e2d35d45f, first released in 0.9.0-rc.1 (`hal/inc/usb_config_hal.h@v0.9.0-rc.3:41-43`);
 * - 'cdc': nRF52840 from 0.8.0-rc.27 to 0.9.0: only the CDC ACM interfaces, on USB from boot ("enable USB Serial by
 *   default", 5ab85f53d: `hal/src/nRF52840/usb_hal.cpp@v0.8.0-rc.27:116`);
 * - 'cdc-with-serial': nRF52840 from 0.8.0-rc.15 to 0.8.0-rc.26: the same interfaces, but the USB device starts only
 *   when something uses USB serial (`usb_hal.cpp@v0.8.0-rc.26:114-119` registers the line-coding handler without
 *   HAL_USB_USART_Init, and only usb_uart_init enables USB, `usb_hal_cdc.c@v0.8.0-rc.25-mesh:303-335`);
 * - 'none': nRF52840 below 0.8.0-rc.15: the system HAL's USB is a stub (0.8.0-rc.13 release commit b9715fa4e,
 *   `hal/src/nRF52840/usb_hal.cpp:98-185`); only DFU mode (the bootloader) is on USB.
 */
export type SystemUsb = 'cdc' | 'cdc-with-serial' | 'control' | 'none'

const FIRST_CDC = parseVersion('0.8.0-rc.15')!
const SERIAL_BY_DEFAULT = parseVersion('0.8.0-rc.27')!

export function systemUsb(platform: Platform, version: Semver): SystemUsb {
  // 0.9.0-rc.1 counts as 0.9.0 here (atLeast ignores prerelease tags): its release commit e7e6e96be has e2d35d45f.
  if (platform.family !== 'nrf52840' || atLeast(version, '0.9.0')) return 'control'
  if (compareVersions(version, SERIAL_BY_DEFAULT) >= 0) return 'cdc'
  if (compareVersions(version, FIRST_CDC) >= 0) return 'cdc-with-serial'
  return 'none'
}
