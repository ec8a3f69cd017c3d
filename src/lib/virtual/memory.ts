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
 * filled with 0xFF; bytes past it read as 0xFF here too.
 */
export class Dct implements Memory {
  readonly base = 0
  readonly bytes = new Uint8Array(DCT_SIZE).fill(0xff)
  readonly size = DCT_SIZE

  constructor(setupDone: number) {
    this.bytes[SETUP_DONE_OFFSET] = setupDone
  }

  get setupDone(): number {
    return this.bytes[SETUP_DONE_OFFSET]
  }

  set setupDone(v: number) {
    this.bytes[SETUP_DONE_OFFSET] = v
  }

  erase(address: number): boolean {
    return inRange(this, address, 1)
  }

  read(address: number, length: number): Uint8Array | undefined {
    if (!inRange(this, address, length)) return undefined
    return this.bytes.slice(address, address + length)
  }

  write(address: number, data: Uint8Array): boolean {
    if (!inRange(this, address, data.length)) return false
    this.bytes.set(data, address)
    return true
  }
}

const PAGE = 4096

/** Flash that reads 0xFF wherever nothing was programmed; `preset` bytes model what the factory put there. */
export class SparseFlash implements Memory {
  private readonly pages = new Map<number, Uint8Array>()

  constructor(
    readonly base: number,
    readonly size: number,
    preset: Array<{address: number; bytes: Uint8Array}> = [],
  ) {
    for (const {address, bytes} of preset) this.write(address, bytes)
  }

  erase(address: number): boolean {
    if (!inRange(this, address, 1)) return false
    this.pages.delete(Math.floor((address - this.base) / PAGE))
    return true
  }

  read(address: number, length: number): Uint8Array | undefined {
    if (!inRange(this, address, length)) return undefined
    const out = new Uint8Array(length).fill(0xff)
    for (let i = 0; i < length; ) {
      const offset = address - this.base + i
      const page = Math.floor(offset / PAGE)
      const within = offset % PAGE
      const n = Math.min(PAGE - within, length - i)
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
      const page = Math.floor(offset / PAGE)
      const within = offset % PAGE
      const n = Math.min(PAGE - within, data.length - i)
      let p = this.pages.get(page)
      if (!p) {
        p = new Uint8Array(PAGE).fill(0xff)
        this.pages.set(page, p)
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
