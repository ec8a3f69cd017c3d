/**
 * The raw 'P' (0x50) vendor requests (docs/protocol.md §2.8): one control transfer each, no id, no polling,
 * served even while the system thread is busy. They stall in DFU mode, and on Device OS that lacks them.
 */
import {STALL, type UsbIo} from '../usb/io.js'
import {RAW_REQUEST, Raw} from './constants.js'

const ascii = new TextDecoder('latin1')

async function rawIn(io: UsbIo, index: number, what: string): Promise<string | undefined> {
  const data = await io.in({index, recipient: 'device', request: RAW_REQUEST, requestType: 'vendor', value: 0}, 64, what)
  if (data === STALL) return undefined
  return ascii.decode(data).replace(/\0+$/, '')
}

/** The Device OS version string, e.g. "3.3.1"; undefined if refused. */
export async function rawSystemVersion(io: UsbIo): Promise<string | undefined> {
  return rawIn(io, Raw.SYSTEM_VERSION, 'the Device OS version request')
}

/**
 * An OUT raw request without data. Realtek devices need a 1-byte data stage on OUT requests without data
 * (device-constants quirk controlOutTransfersRequireDataStage), or the transfer times out.
 */
async function rawOut(io: UsbIo, index: number, outNeedsDataStage: boolean, what: string): Promise<boolean> {
  const r = await io.out(
    {index, recipient: 'device', request: RAW_REQUEST, requestType: 'vendor', value: 0},
    outNeedsDataStage ? Uint8Array.of(0) : undefined,
    what,
  )
  return r !== STALL
}

/**
 * Abort a network or cloud connection attempt now (Device OS 2.0+): frees a system thread stuck in modem or
 * Wi-Fi bring-up, so queued control requests can run. Harmless otherwise.
 */
export async function rawAbortConnection(io: UsbIo, outNeedsDataStage: boolean): Promise<boolean> {
  return rawOut(io, Raw.ABORT_CONNECTION, outNeedsDataStage, 'the abort-connection request')
}
