/**
 * A way of writing the flag: control request 73 (write-control.ts), DfuSe at DCT 8134 (write-dfu.ts), both on a
 * device on USB, or the preparatory firmware over the air (firmware.ts) on a device the cloud knows. The operation
 * picks one (operation.ts, the one place `--method` is routed) and hands it the device's session; the writer reads,
 * decides, writes, reads back and restarts as its method needs, recording each step.
 */
import {type WriteOptions} from './decide.js'
import {type DeviceSession} from './session.js'

export interface Writer<S = DeviceSession> {
  readonly method: 'dfu' | 'firmware' | 'usb'
  write(s: S, o: WriteOptions): Promise<void>
}
