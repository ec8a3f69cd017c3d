/**
 * The DfuSe bootloader (docs/protocol.md §4.2–§4.4) as the Gen3 bootloader behaves, used for every platform
 * in DFU mode (Gen2 and Realtek differ in layouts only, §4.1).
 *
 * The key behaviour hosts trip over:
 * - a DNLOAD is only stored; the first GETSTATUS after it answers dfuDNBUSY and the command or write runs right
 *   after that answer; the second GETSTATUS shows the outcome (dfuDNLOAD_IDLE or dfuERROR);
 * - a zero-length DNLOAD is "leave": GETSTATUS answers dfuMANIFEST, then the device resets ~500 ms later;
 * - UPLOAD only from dfuIDLE / dfuUPLOAD_IDLE (so ABORT after SET_ADDRESS), CLRSTATUS only in dfuERROR (anywhere
 *   else it stalls and enters dfuERROR), anything without a defined transition stalls and enters dfuERROR;
 * - bwPollTimeout is always 0.
 */
import type {Semver} from '../particle/versions.js'
import {DFU_TRANSFER_SIZE, Dfu, DfuAlt, DfuState, DfuStatus, DfuseCommand, SETUP_DONE_OFFSET} from '../protocol/constants.js'
import {dfuCommands, StringIndex} from './descriptors.js'
import type {Memory} from './memory.js'
import {atLeast} from './rules.js'

const CLEAR_SECURITY_MODE_OVERRIDE = 0xfb
const MASS_ERASE_LENGTH = 1

export interface DfuHost {
  readonly version: Semver
  /** The memory behind an alt setting; undefined for an alt the platform does not have. */
  memory(alt: number): Memory | undefined
  readonly altCount: number
  isProtected(): boolean
  writeFails(): boolean
  /** The write guard: something a correct host never does (the tests assert that none was recorded). */
  violation(message: string): void
  /** A write reached the DCT (so the setup-done byte may have changed). */
  dctWritten(): void
  /** The dfuMANIFEST status went out: reset dfuLeaveMs later, into normal mode (leave) or Safe Mode (0xFA). */
  leave(mode: 'normal' | 'safe'): void
  /** A request after the dfuMANIFEST status: the reset that leave() scheduled does not happen. */
  cancelLeave(): void
  /** DFU_DETACH in DFU mode: bus detach and re-attach, still in the bootloader. */
  detach(): void
}

type Pending = {address: number; alt: number; data: Uint8Array; wValue: number}

/** States DFU_ABORT and DFU_DETACH accept (usbd_dfu.cpp@v3.3.1:146-151, :339-343). */
const ABORTABLE: number[] = [DfuState.dfuIDLE, DfuState.dfuDNLOAD_SYNC, DfuState.dfuDNLOAD_IDLE, DfuState.dfuMANIFEST_SYNC, DfuState.dfuUPLOAD_IDLE]

/** A command outcome meaning "go to dfuMANIFEST_SYNC" (0xFA); not a DFU status code. */
const MANIFEST = -1

export class DfuBootloader {
  alt = 0
  pointer = 0
  state: number = DfuState.dfuIDLE
  status: number = DfuStatus.OK
  private pending: Pending | undefined
  /** Where the dfuMANIFEST status leads: a leave (DNLOAD of 0 bytes) or DfuSe 0xFA. */
  private manifestInto: 'normal' | 'safe' = 'normal'

  constructor(private readonly host: DfuHost) {}

  private get iString(): number {
    return this.status === DfuStatus.errVENDOR ? StringIndex.DFU_ERROR_TEXT : 0
  }

  /** Standard SET_INTERFACE on interface 0. false = stall. The address pointer survives it (§4.4). */
  setInterface(alt: number): boolean {
    if (alt >= this.host.altCount) return false
    this.alt = alt
    return true
  }

  /** USB bus reset: back to a fresh dfuIDLE unless the device is already on its way out. */
  busReset(): void {
    if (this.state === DfuState.dfuMANIFEST_WAIT_RESET) return
    this.state = DfuState.dfuIDLE
    this.status = DfuStatus.OK
    this.pending = undefined
  }

  /** Class IN request on interface 0. Returns the data, or undefined to stall. */
  classIn(request: number, value: number, index: number, length: number): Uint8Array | undefined {
    if (index !== 0) return undefined
    switch (request) {
      case Dfu.GETSTATUS: {
        return this.getStatus()?.slice(0, length)
      }
      case Dfu.GETSTATE: {
        if (([DfuState.dfuDNBUSY, DfuState.dfuMANIFEST, DfuState.dfuMANIFEST_WAIT_RESET] as number[]).includes(this.state)) {
          return this.stallIntoError()
        }
        return Uint8Array.of(this.state).slice(0, length)
      }
      case Dfu.UPLOAD: {
        return this.upload(value, length)
      }
      default: {
        return this.stallIntoError()
      }
    }
  }

  /** Class OUT request on interface 0. false = stall. */
  classOut(request: number, value: number, index: number, data: Uint8Array): boolean {
    if (index !== 0) return false
    switch (request) {
      case Dfu.DNLOAD: {
        return this.download(value, data)
      }
      case Dfu.CLRSTATUS: {
        if (this.state !== DfuState.dfuERROR) return this.stallIntoError() !== undefined
        this.state = DfuState.dfuIDLE
        this.status = DfuStatus.OK
        return true
      }
      case Dfu.ABORT: {
        if (!ABORTABLE.includes(this.state)) return this.stallIntoError() !== undefined
        this.pending = undefined
        this.state = DfuState.dfuIDLE
        this.status = DfuStatus.OK
        return true
      }
      case Dfu.DETACH: {
        // Only from the states ABORT accepts; elsewhere no transition is defined (usbd_dfu.cpp@v3.3.1:140-170).
        if (!ABORTABLE.includes(this.state)) return this.stallIntoError() !== undefined
        this.state = DfuState.dfuIDLE
        this.host.detach()
        return true
      }
      default: {
        return this.stallIntoError() !== undefined
      }
    }
  }

  /**
   * Any request with no defined transition stalls and enters dfuERROR/errUNKNOWN. That includes every DFU request
   * after the dfuMANIFEST status (state dfuMANIFEST_WAIT_RESET has no transitions): the reset counts down only in
   * that state, so the leave is cancelled and the device stays in DFU mode (usbd_dfu.cpp@v3.3.1:290-295, :538-545).
   * Always undefined.
   */
  private stallIntoError(): undefined {
    if (this.state === DfuState.dfuMANIFEST_WAIT_RESET) this.host.cancelLeave()
    this.state = DfuState.dfuERROR
    this.status = DfuStatus.errUNKNOWN
    this.pending = undefined
    return undefined
  }

  private statusBytes(state: number): Uint8Array {
    return Uint8Array.of(this.status, 0, 0, 0, state, this.iString) // bwPollTimeout 0 (§4.4)
  }

  private getStatus(): Uint8Array | undefined {
    switch (this.state) {
      case DfuState.dfuDNLOAD_SYNC: {
        if (this.refusedWhileProtected()) {
          // Protected bootloader: the command or write fails at this first GETSTATUS, without a stall
          // (usbd_dfu.cpp@v6.0.0:266-268; from 6.2.0 0xFA and 0xFB are let through, @v6.2.0:270-285).
          this.pending = undefined
          this.state = DfuState.dfuERROR
          this.status = DfuStatus.errVENDOR
          return this.statusBytes(DfuState.dfuERROR)
        }
        const reply = this.statusBytes(DfuState.dfuDNBUSY)
        this.execute() // runs once the DNBUSY status has been sent
        return reply
      }
      case DfuState.dfuMANIFEST_SYNC: {
        const reply = this.statusBytes(DfuState.dfuMANIFEST)
        this.state = DfuState.dfuMANIFEST_WAIT_RESET
        this.host.leave(this.manifestInto)
        this.manifestInto = 'normal'
        return reply
      }
      case DfuState.dfuMANIFEST_WAIT_RESET: {
        return this.stallIntoError()
      }
      default: {
        return this.statusBytes(this.state)
      }
    }
  }

  /** A protected bootloader refuses every DNLOAD with data but, from 6.2.0, the commands 0xFA and 0xFB. */
  private refusedWhileProtected(): boolean {
    if (!this.host.isProtected() || !this.pending) return false
    const cmd = this.pending.wValue === 0 ? this.pending.data[0] : undefined
    return !(atLeast(this.host.version, '6.2.0') && (cmd === DfuseCommand.ENTER_SAFE_MODE || cmd === CLEAR_SECURITY_MODE_OVERRIDE))
  }

  private upload(block: number, length: number): Uint8Array | undefined {
    if (this.state !== DfuState.dfuIDLE && this.state !== DfuState.dfuUPLOAD_IDLE) return this.stallIntoError()
    if (length > DFU_TRANSFER_SIZE) return this.stallIntoError()
    if (block === 0) {
      this.state = DfuState.dfuIDLE // GET_COMMANDS leaves dfuIDLE (usbd_dfu.cpp@v3.3.1:205-212)
      return dfuCommands(this.host.version).slice(0, length)
    }
    if (block === 1) return this.stallIntoError()
    if (this.host.isProtected()) {
      // Protected: nothing is readable; an empty data stage and errVENDOR naming string 10 (§4.1, §4.6).
      this.state = DfuState.dfuERROR
      this.status = DfuStatus.errVENDOR
      return new Uint8Array(0)
    }
    const address = (block - 2) * DFU_TRANSFER_SIZE + this.pointer
    const data = this.host.memory(this.alt)?.read(address, length)
    if (!data) return this.stallIntoError()
    this.state = DfuState.dfuUPLOAD_IDLE
    return data
  }

  private download(block: number, data: Uint8Array): boolean {
    if (this.state !== DfuState.dfuIDLE && this.state !== DfuState.dfuDNLOAD_IDLE) return this.stallIntoError() !== undefined
    if (data.length === 0) {
      this.state = DfuState.dfuMANIFEST_SYNC // leave (any wValue)
      return true
    }
    if (data.length > DFU_TRANSFER_SIZE) return this.stallIntoError() !== undefined
    const address = block >= 2 ? (block - 2) * DFU_TRANSFER_SIZE + this.pointer : this.pointer
    this.guard(block, address, data)
    this.pending = {address, alt: this.alt, data, wValue: block}
    this.state = DfuState.dfuDNLOAD_SYNC
    return true
  }

  /** The write guard: record what a careful host never sends, then behave as the bootloader would anyway. */
  private guard(block: number, address: number, data: Uint8Array): void {
    if (block === 0 && data[0] === DfuseCommand.ERASE) {
      const what =
        data.length === MASS_ERASE_LENGTH ? 'MASS ERASE' : data.length === 5 ? `ERASE of the page at 0x${address32(data).toString(16)}` : 'ERASE'
      this.host.violation(`DfuSe ${what} on alt ${this.alt}: erasing is never needed`)
      return
    }
    if (block < 2) return
    if (this.alt === DfuAlt.DCT) {
      if (this.host.isProtected()) {
        this.host.violation(`DFU write to the DCT of a protected device (offset ${address}, ${data.length} bytes)`)
      } else if (address !== SETUP_DONE_OFFSET || data.length !== 1) {
        this.host.violation(
          `DFU write to the DCT at offset ${address} (0x${address.toString(16)}), ${data.length} bytes: only offset ${SETUP_DONE_OFFSET}, 1 byte may be written`,
        )
      }
      return
    }
    const memory = this.alt === DfuAlt.INTERNAL_FLASH ? 'internal flash' : 'external flash'
    this.host.violation(`DFU write to alt ${this.alt} (${memory}) at 0x${address.toString(16)}, ${data.length} bytes`)
  }

  /** The step the bootloader runs after the DNBUSY status (§4.4). */
  private execute(): void {
    const p = this.pending!
    this.pending = undefined
    const outcome = p.wValue === 0 ? this.command(p) : p.wValue === 1 ? DfuStatus.errTARGET : this.write(p)
    if (outcome === MANIFEST) {
      this.state = DfuState.dfuMANIFEST_SYNC
      this.status = DfuStatus.OK
    } else if (outcome === DfuStatus.OK) {
      this.state = DfuState.dfuDNLOAD_IDLE
      this.status = DfuStatus.OK
    } else {
      this.state = DfuState.dfuERROR
      this.status = outcome
    }
  }

  private command({alt, data}: Pending): number {
    const v = this.host.version
    switch (data[0]) {
      case DfuseCommand.SET_ADDRESS: {
        if (data.length !== 5) return DfuStatus.errUNKNOWN // usbd_dfu.cpp@v3.3.1:436-442
        this.pointer = address32(data)
        return DfuStatus.OK
      }
      case DfuseCommand.ERASE: {
        if (data.length === MASS_ERASE_LENGTH) return DfuStatus.errTARGET // refused (usbd_dfu.cpp@v3.3.1:455-457)
        if (data.length !== 5) return DfuStatus.errUNKNOWN // usbd_dfu.cpp@v3.3.1:458-460
        const memory = this.host.memory(alt)
        if (!memory) return DfuStatus.errUNKNOWN
        if (alt === DfuAlt.DCT) return DfuStatus.OK // DctMal::erase returns 0 for any address (usbd_dfu_mal.cpp@v6.2.0:210-211)
        return memory.erase(address32(data)) ? DfuStatus.OK : DfuStatus.errUNKNOWN
      }
      case DfuseCommand.READ_UNPROTECT: {
        return DfuStatus.errUNKNOWN
      }
      case DfuseCommand.ENTER_SAFE_MODE: {
        if (!atLeast(v, '6.1.1')) return DfuStatus.errSTALLEDPKT
        // Like a leave: dfuMANIFEST_SYNC, and the reset starts after the GETSTATUS that shows dfuMANIFEST
        // (usbd_dfu.cpp@v6.1.1:494-499).
        this.manifestInto = 'safe'
        return MANIFEST
      }
      case CLEAR_SECURITY_MODE_OVERRIDE: {
        if (data.length !== 1 || !atLeast(v, '6.2.0')) return DfuStatus.errSTALLEDPKT
        return DfuStatus.OK // nothing to clear on a virtual device
      }
      default: {
        return DfuStatus.errSTALLEDPKT
      }
    }
  }

  private write({address, alt, data}: Pending): number {
    if (this.host.isProtected()) return DfuStatus.errVENDOR
    if (this.host.writeFails()) return DfuStatus.errUNKNOWN
    const memory = this.host.memory(alt)
    if (!memory?.write(address, data)) return DfuStatus.errUNKNOWN
    if (alt === DfuAlt.DCT) this.host.dctWritten()
    return DfuStatus.OK
  }
}

/** The little-endian u32 address after a DfuSe command byte (computed without 32-bit signed arithmetic). */
function address32(data: Uint8Array): number {
  return data[1] + data[2] * 0x100 + data[3] * 0x10000 + data[4] * 0x1000000
}
