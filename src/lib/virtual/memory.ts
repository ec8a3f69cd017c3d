/**
 * The memories the DfuSe bootloader exposes (docs/protocol.md §4.1, §4.4, §5, §6): the DCT (alt 1), internal
 * flash (alt 0) and, on Gen3, external flash (alt 2). Flash is sparse: untouched pages read as erased (0xFF),
 * except the system-part module header that lets a DFU-mode host learn the Device OS version (§6).
 */
import type {Platform} from '../particle/platforms.js'
import {moduleOfVersion, parseVersion, type Semver} from '../particle/versions.js'
import {DCT_SIZE, SETUP_DONE_OFFSET, SYSTEM_MODULE_HEADER} from '../protocol/constants.js'
import {atLeast} from './rules.js'
import {u16le, u32le} from './util.js'

export interface Memory {
  readonly base: number
  readonly size: number
  /** Exactly `length` bytes at `address`, or undefined when any of them is outside the memory. */
  read(address: number, length: number): Uint8Array | undefined
  /** false when outside the memory. */
  write(address: number, data: Uint8Array): boolean
  /** Erase the page holding `address`; false when outside the memory. */
  erase(address: number): boolean
}

function inRange(m: {base: number; size: number}, address: number, length: number): boolean {
  return address >= m.base && address + length <= m.base + m.size
}

/**
 * The DCT as the bootloader's DCT backend sees it: 16 KB addressed from 0 (§4.1, §5). Writes change exactly the
 * bytes written (LittleFS file semantics) and erase is a no-op success (§4.4). The file behind it is 8391 bytes
 * filled with 0xFF; bytes past it read as 0xFF here too. Nearly every byte stays 0xFF, so only the setup-done byte
 * is held as such and any other byte written is kept sparse: 16 KB per device was most of a simulated fleet's memory.
 */
export class Dct implements Memory {
  readonly base = 0
  readonly size = DCT_SIZE
  /** The byte at SETUP_DONE_OFFSET. */
  setupDone: number
  /** Every other byte: erased (0xFF) until written. */
  private readonly rest = new SparseFlash(0, DCT_SIZE, [], DCT_PAGE)

  constructor(setupDone: number) {
    this.setupDone = setupDone
  }

  erase(address: number): boolean {
    return inRange(this, address, 1)
  }

  read(address: number, length: number): Uint8Array | undefined {
    const out = this.rest.read(address, length)
    if (out && SETUP_DONE_OFFSET >= address && SETUP_DONE_OFFSET < address + length) out[SETUP_DONE_OFFSET - address] = this.setupDone
    return out
  }

  write(address: number, data: Uint8Array): boolean {
    if (!inRange(this, address, data.length)) return false
    const at = SETUP_DONE_OFFSET - address
    if (at < 0 || at >= data.length) return this.rest.write(address, data)
    this.setupDone = data[at]
    if (at > 0) this.rest.write(address, data.subarray(0, at))
    if (at + 1 < data.length) this.rest.write(SETUP_DONE_OFFSET + 1, data.subarray(at + 1))
    return true
  }
}

/** The DCT's storage granule: it has no pages to erase, so small ones waste least. */
const DCT_PAGE = 256

const PAGE = 4096
const NO_PRESET: Array<{address: number; bytes: Uint8Array}> = []

/**
 * Flash that reads 0xFF wherever nothing was programmed; `preset` bytes model what the factory put there. A preset
 * (a 24-byte module header) stays as it is until its page is programmed or erased: only then does the page get
 * bytes of its own (4 KB per header per device made most of a simulated fleet's memory).
 */
export class SparseFlash implements Memory {
  /** Pages with bytes of their own (made when first needed: most devices never have one). */
  private pages: Map<number, Uint8Array> | undefined
  /** Pages erased since the factory: their preset bytes are gone. */
  private erased: Set<number> | undefined
  private readonly preset: Array<{address: number; bytes: Uint8Array}>

  constructor(
    readonly base: number,
    readonly size: number,
    preset: Array<{address: number; bytes: Uint8Array}> = [],
    private readonly pageSize = PAGE,
  ) {
    this.preset = preset.length === 0 ? NO_PRESET : preset.filter((p) => inRange(this, p.address, p.bytes.length))
  }

  erase(address: number): boolean {
    if (!inRange(this, address, 1)) return false
    const page = Math.floor((address - this.base) / this.pageSize)
    this.pages?.delete(page)
    ;(this.erased ??= new Set()).add(page)
    return true
  }

  read(address: number, length: number): Uint8Array | undefined {
    if (!inRange(this, address, length)) return undefined
    const out = new Uint8Array(length).fill(0xff)
    // Factory bytes first, where their page has not been programmed or erased since.
    for (const p of this.preset) {
      for (let at = Math.max(address, p.address); at < Math.min(address + length, p.address + p.bytes.length); ) {
        const page = Math.floor((at - this.base) / this.pageSize)
        const end = Math.min(address + length, p.address + p.bytes.length, this.base + (page + 1) * this.pageSize)
        if (!this.pages?.has(page) && !this.erased?.has(page)) out.set(p.bytes.subarray(at - p.address, end - p.address), at - address)
        at = end
      }
    }
    for (let i = 0; this.pages && i < length; ) {
      const offset = address - this.base + i
      const page = Math.floor(offset / this.pageSize)
      const within = offset % this.pageSize
      const n = Math.min(this.pageSize - within, length - i)
      const p = this.pages.get(page)
      if (p) out.set(p.subarray(within, within + n), i)
      i += n
    }
    return out
  }

  write(address: number, data: Uint8Array): boolean {
    if (!inRange(this, address, data.length)) return false
    for (let i = 0; i < data.length; ) {
      const offset = address - this.base + i
      const page = Math.floor(offset / this.pageSize)
      const within = offset % this.pageSize
      const n = Math.min(this.pageSize - within, data.length - i)
      let p = this.pages?.get(page)
      if (!p) {
        // The page gets bytes of its own, starting from what reads there now (erased, or the factory's bytes).
        const start = this.base + page * this.pageSize
        p = new Uint8Array(this.pageSize).fill(0xff)
        p.set(this.read(start, Math.min(this.pageSize, this.base + this.size - start))!)
        ;(this.pages ??= new Map()).set(page, p)
      }
      p.set(data.subarray(i, i + n), within)
      i += n
    }
    return true
  }
}

/**
 * A 24-byte `module_info_t` (§6): start, end, reserved, flags, module_version at +10, platform_id at +12,
 * module_function at +14 (4 = system part), index at +15 (system part 1), no dependencies.
 */
export function systemModuleHeader(start: number, end: number, moduleVersion: number, platformId: number): Uint8Array {
  const h = new Uint8Array(SYSTEM_MODULE_HEADER.length)
  h.set([...u32le(start), ...u32le(end), 0x00, 0x00, ...u16le(moduleVersion), ...u16le(platformId), 0x04, 0x01], 0)
  return h
}

/** Gen3 flash end of the system part region (0xB4000 in 5.x-6.2). */
const GEN3_SYSTEM_END = 0xb4000
/** End of the short legacy module of a 6.2.0+ image (vector table, header, dynalib, CRC): a stand-in value. */
const LEGACY_620_END = 0x31000

/**
 * Internal flash of a platform with the system part's module header where the bootloader keeps it
 * (docs/protocol.md "Device OS version in DFU mode"): Gen3 up to 6.1.x at 0x30200 (part at 0x30000); from 6.2.0
 * at 0x28200 (part at 0x28000, to 0xB4000) plus the legacy header at 0x30200 that every 6.2.0+ image carries with
 * the same module version and a short range (dynalib/inc/module_info.inc@v6.2.0:175-186; its end is a stand-in).
 * `downgradedFrom` 6.2.0+ on an older version leaves that release's header at 0x28200: a downgrade writes the
 * older part from 0x30000 and never touches 0x28000-0x2FFFF. Gen2 and Realtek headers are not modelled (blank).
 */
export function internalFlash(platform: Platform, version: Semver, deviceOs: string, noSystemPart = false, downgradedFrom?: string): SparseFlash {
  switch (platform.family) {
    case 'nrf52840': {
      if (noSystemPart) return new SparseFlash(0, 1024 * 1024)
      const moduleVersion = moduleOfVersion(deviceOs) ?? 0
      const preset: Array<{address: number; bytes: Uint8Array}> = []
      if (atLeast(version, '6.2.0')) {
        preset.push(
          {address: SYSTEM_MODULE_HEADER.v620, bytes: systemModuleHeader(0x28000, GEN3_SYSTEM_END, moduleVersion, platform.id)},
          {address: SYSTEM_MODULE_HEADER.legacy, bytes: systemModuleHeader(0x30000, LEGACY_620_END, moduleVersion, platform.id)},
        )
      } else {
        const old = downgradedFrom ? parseVersion(downgradedFrom) : undefined
        if (old && atLeast(old, '6.2.0')) {
          const stale = moduleOfVersion(downgradedFrom!) ?? 0
          preset.push({address: SYSTEM_MODULE_HEADER.v620, bytes: systemModuleHeader(0x28000, GEN3_SYSTEM_END, stale, platform.id)})
        }
        preset.push({address: SYSTEM_MODULE_HEADER.legacy, bytes: systemModuleHeader(0x30000, GEN3_SYSTEM_END, moduleVersion, platform.id)})
      }
      return new SparseFlash(0, 1024 * 1024, preset)
    }
    case 'realtek': {
      return new SparseFlash(0x08000000, 2048 * PAGE)
    }
    default: {
      return new SparseFlash(0x08000000, 1024 * 1024)
    }
  }
}

/** Gen3 external QSPI flash mapped at 0x80000000 (§4.1): 4 MB, or 8 MB on B5 SoM, Tracker and E SoM X. */
export function externalFlash(platform: Platform): SparseFlash | undefined {
  if (platform.family !== 'nrf52840') return undefined
  const big = ['b5som', 'tracker', 'esomx'].includes(platform.name)
  return new SparseFlash(0x80000000, (big ? 8 : 4) * 1024 * 1024)
}
