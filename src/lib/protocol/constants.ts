/** Wire constants of the Particle control-request protocol (docs/protocol.md §2) and DfuSe (§4). */

/** Service requests (bRequest). */
export const Service = {
  INIT: 0x01,
  CHECK: 0x02,
  SEND: 0x03,
  RECV: 0x04,
  RESET: 0x05,
} as const

/** bRequest of the raw 'P' family (no id, no polling). */
export const RAW_REQUEST = 0x50

/** wIndex values of raw requests. */
export const Raw = {
  DEVICE_ID: 20,
  SYSTEM_VERSION: 30,
  RESET: 40,
  ABORT_CONNECTION: 302,
} as const

/** wLength the device requires for INIT/CHECK/RESET replies. */
export const SERVICE_REPLY_LENGTH = 64

/** Service reply flags. */
export const ReplyFlag = {
  STATUS: 0x01,
  ID: 0x02,
  SIZE: 0x04,
  RESULT: 0x08,
} as const

/** Service reply status codes. */
export const Status = {
  OK: 0,
  ERROR: 1,
  PENDING: 2,
  BUSY: 3,
  NO_MEMORY: 4,
  NOT_FOUND: 5,
} as const

/** Control request types we use (firmware enum values). */
export const RequestType = {
  DEVICE_ID: 20,
  SERIAL_NUMBER: 21,
  SYSTEM_VERSION: 30,
  RESET: 40,
  FACTORY_RESET: 41,
  DFU_MODE: 50,
  SAFE_MODE: 60,
  START_LISTENING: 70,
  STOP_LISTENING: 71,
  GET_DEVICE_MODE: 72,
  SET_DEVICE_SETUP_DONE: 73,
  IS_DEVICE_SETUP_DONE: 74,
} as const

/** Device OS result codes: the one table is in particle/results.ts. */
export {Result} from '../particle/results.js'

/** The setup-done byte in the DCT. */
export const SETUP_DONE_OFFSET = 8134 // 0x1FC6
export const DCT_SIZE = 16 * 1024
export const SETUP_DONE = 0x01
export const SETUP_NOT_DONE = 0xff

/** DFU class requests (interface recipient). */
export const Dfu = {
  DETACH: 0,
  DNLOAD: 1,
  UPLOAD: 2,
  GETSTATUS: 3,
  CLRSTATUS: 4,
  GETSTATE: 5,
  ABORT: 6,
} as const

export const DfuState = {
  appIDLE: 0,
  appDETACH: 1,
  dfuIDLE: 2,
  dfuDNLOAD_SYNC: 3,
  dfuDNBUSY: 4,
  dfuDNLOAD_IDLE: 5,
  dfuMANIFEST_SYNC: 6,
  dfuMANIFEST: 7,
  dfuMANIFEST_WAIT_RESET: 8,
  dfuUPLOAD_IDLE: 9,
  dfuERROR: 10,
} as const

export const DfuStatus = {
  OK: 0x00,
  errTARGET: 0x01,
  errWRITE: 0x03,
  errADDRESS: 0x08,
  errVENDOR: 0x0b,
  errUNKNOWN: 0x0e,
  errSTALLEDPKT: 0x0f,
} as const

/** DfuSe commands (first byte of a DNLOAD with wValue 0). */
export const DfuseCommand = {
  SET_ADDRESS: 0x21,
  ERASE: 0x41,
  READ_UNPROTECT: 0x92,
  ENTER_SAFE_MODE: 0xfa,
} as const

/** DFU alt settings of Gen3 bootloaders. */
export const DfuAlt = {
  INTERNAL_FLASH: 0,
  DCT: 1,
  EXTERNAL_FLASH: 2,
} as const

/** DfuSe transfer size fixed by the bootloader (also in the functional descriptor). */
export const DFU_TRANSFER_SIZE = 4096

/** Where the system part's module header sits in internal flash (docs/protocol.md §6). */
export const SYSTEM_MODULE_HEADER = {legacy: 0x30200, v620: 0x28200, length: 24} as const

/** CDC class requests (USB CDC 1.2, section 6.2), on a Gen3 device's serial line (docs/protocol.md §10). */
export const CdcRequest = {
  SET_LINE_CODING: 0x20,
  GET_LINE_CODING: 0x21,
  SET_CONTROL_LINE_STATE: 0x22,
} as const

/** The line-coding rates Device OS reacts to: 14400 enters DFU mode, 28800 Listening Mode (docs/protocol.md §10.1). */
export const SERIAL_LINE_RATE = {dfu: 14_400, listening: 28_800} as const
