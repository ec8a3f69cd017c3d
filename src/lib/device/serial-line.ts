/**
 * Mode changes over the serial line, for Gen3 devices whose firmware has no USB control requests (Device OS below
 * 0.9.0, docs/protocol.md §10): the line coding 14400 resets such a device into DFU mode, 28800 puts it in
 * Listening Mode. The framing is protocol/cdc.ts; here the device's re-enumeration is awaited.
 */
import {sendLineCoding, SERIAL_LINE_RATE} from '../protocol/cdc.js'
import type {FoundDevice} from '../usb/discovery.js'
import {type RebootWait, waitForReturn} from './reboot.js'

export interface SerialLineOptions extends RebootWait {
  /** Per-transfer timeout of the two SET_LINE_CODING requests, ms (default: the USB layer's). */
  transferTimeoutMs?: number
}

/**
 * Send 14400 over the device's serial line and wait (up to `timeoutMs`) until it is back on the bus in DFU mode;
 * returns the DFU-mode device. Rejects with the serialLine error when the line cannot be used here, and with
 * noReturn (which names the buttons) when the device does not come back in DFU mode.
 */
export async function enterDfuBySerialLine(found: FoundDevice, opts: SerialLineOptions): Promise<FoundDevice> {
  await sendLineCoding(found.usbDevice, SERIAL_LINE_RATE.dfu, {deviceId: found.id, timeoutMs: opts.transferTimeoutMs})
  return waitForReturn(found, 'dfu', opts, 'dfu')
}

/**
 * Send 28800 over the device's serial line: Device OS enters Listening Mode when it is not listening already (no
 * reset, so nothing to wait for; whether it listens is for the caller to read, e.g. from the LED or a later boot).
 */
export async function enterListeningBySerialLine(found: FoundDevice, opts: Pick<SerialLineOptions, 'transferTimeoutMs'> = {}): Promise<void> {
  await sendLineCoding(found.usbDevice, SERIAL_LINE_RATE.listening, {deviceId: found.id, timeoutMs: opts.transferTimeoutMs})
}
