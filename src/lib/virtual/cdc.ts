/**
 * The CDC ACM class of Gen3 system firmware before 0.9.0 (docs/protocol.md "Gen3 before 0.9.0"): the line coding
 * a host sets with SET_LINE_CODING and the "magic baud rates" the system watches for. Only devices whose system
 * firmware has no control interface get this model (rules.ts systemUsb); the CDC class of later firmware is not
 * modelled (its requests stall on the virtual bus, as before).
 *
 * The order of events is Nordic's SDK as Device OS carries it: the SET_LINE_CODING user event fires when the
 * SETUP arrives, before the data stage, and the system's handler reads the line coding the class holds then,
 * which is still the previous one (`app_usbd_cdc_acm.c@8433b5f2:382-395` calls the handler after only arming the
 * data stage; `:284-288` stores the new coding when the data arrives; `usb_hal_cdc.c@v0.8.0-rc.25-mesh:140-144`
 * passes `usb_uart_get_baudrate()`, `:390-399`). So a host that wants 14400 to be seen sets it and then sets a line
 * coding again (any rate; on Linux the tty layer sends nothing when the coding does not change).
 */
import {CdcRequest, SERIAL_LINE_RATE} from '../protocol/constants.js'

/** The rates the system reacts to (`build/module-defaults.mk@v0.8.0-rc.25-mesh:2, :4`): the host's constants. */
const DFU_BAUD = SERIAL_LINE_RATE.dfu
const LISTEN_BAUD = SERIAL_LINE_RATE.listening

/** What the system does for a rate its handler sees (`system/src/system_update.cpp@v0.8.0-rc.25-mesh:183-202`). */
export interface CdcHost {
  /** `System.dfu(false)`: reset into DFU mode now (it resets from the USB interrupt, like raw request 40). */
  enterDfu(): void
  isListening(): boolean
  /** `network_listen()`: enter Listening Mode (only when not listening already). */
  startListening(): void
}

const LINE_CODING_LENGTH = 7

/** dwDTERate u32 LE, bCharFormat, bParityType, bDataBits. */
export function lineCoding(rate: number, stopBits = 0, parity = 0, dataBits = 8): Uint8Array {
  return Uint8Array.of(rate & 0xff, (rate >>> 8) & 0xff, (rate >>> 16) & 0xff, (rate >>> 24) & 0xff, stopBits, parity, dataBits)
}

export class CdcAcm {
  /**
   * 9600 until a host sets another: the system registers its handler through HAL_USB_USART_Begin(…, 9600)
   * (`usb_hal.cpp@v0.8.0-rc.25-mesh:114-118`), and the Listening Mode console begins at 9600 (`system_setup.cpp:157`).
   */
  private coding = lineCoding(9600)
  private lineState = 0

  constructor(private readonly host: CdcHost) {}

  get rate(): number {
    return this.coding[0] | (this.coding[1] << 8) | (this.coding[2] << 16) | (this.coding[3] << 24)
  }

  /** DTR and RTS as the host last set them (SET_CONTROL_LINE_STATE wValue). */
  get controlLineState(): number {
    return this.lineState
  }

  /** A class OUT request to either CDC interface (the SDK's class instance owns both). Returns false to stall. */
  out(request: number, value: number, data: Uint8Array): boolean {
    switch (request) {
      case CdcRequest.SET_LINE_CODING: {
        if (data.length !== LINE_CODING_LENGTH) return false // wLength must be 7 (app_usbd_cdc_acm.c@8433b5f2:384-387)
        const seen = this.rate // the handler runs before the data stage: it sees the previous coding
        if (seen === DFU_BAUD) {
          this.host.enterDfu()
          return true
        }
        if (seen === LISTEN_BAUD && !this.host.isListening()) this.host.startListening()
        this.coding = data.slice()
        return true
      }
      case CdcRequest.SET_CONTROL_LINE_STATE: {
        if (data.length !== 0) return false // (app_usbd_cdc_acm.c@8433b5f2:399-402)
        this.lineState = value
        return true
      }
      default: {
        return false
      }
    }
  }

  /** A class IN request. Returns undefined to stall. */
  in(request: number, length: number): Uint8Array | undefined {
    // GET_LINE_CODING with a wLength of exactly 7 (app_usbd_cdc_acm.c@8433b5f2:246-256); anything else stalls.
    if (request === CdcRequest.GET_LINE_CODING && length === LINE_CODING_LENGTH) return this.coding.slice()
    return undefined
  }
}
