/** The 24-byte `module_info_t` header of a Device OS module (docs/protocol.md §6), little-endian. */
export interface ModuleHeader {
  end: number
  function: number
  index: number
  platformId: number
  start: number
  version: number
}

export const MODULE_FUNCTION_SYSTEM_PART = 4

export function parseModuleHeader(data: Uint8Array): ModuleHeader | undefined {
  if (data.length < 16) return undefined
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength)
  return {
    end: v.getUint32(4, true),
    function: v.getUint8(14),
    index: v.getUint8(15),
    platformId: v.getUint16(12, true),
    start: v.getUint32(0, true),
    version: v.getUint16(10, true),
  }
}

/** A header read at `headerAddress` that really is this platform's system part. */
export function isSystemPartHeader(h: ModuleHeader | undefined, platformId: number, headerAddress: number): h is ModuleHeader {
  return (
    h !== undefined &&
    h.function === MODULE_FUNCTION_SYSTEM_PART &&
    h.platformId === platformId &&
    h.start === headerAddress - 0x200 &&
    h.end > h.start
  )
}

/**
 * Which of the two Gen3 system-part headers belongs to the system part that runs (docs/protocol.md "Device OS
 * version in DFU mode"). The 6.2.0 bootloader boots the part at 0x28000 when its header is valid and its CRC
 * over the whole module checks, else the one at 0x30000 (bootloader/src/nRF52840/dfu_usb.c@v6.2.0:16-25). A
 * 6.2.0+ image spans 0x30200 and carries its own legacy header there with the same module version
 * (dynalib/inc/module_info.inc@v6.2.0:175-186); so when the header at 0x30200 is missing or names another version,
 * the 0x28000 part has been overwritten by an older one and would fail its CRC: it is a stale leftover of a
 * downgrade, and the part at 0x30000 is the one that runs. Reading the 560 KB to check the CRC is not needed.
 */
export function runningSystemHeader(
  primary: ModuleHeader | undefined,
  legacy: ModuleHeader | undefined,
  platformId: number,
  addresses: {legacy: number; primary: number},
): ModuleHeader | undefined {
  const p = isSystemPartHeader(primary, platformId, addresses.primary) ? primary : undefined
  const l = isSystemPartHeader(legacy, platformId, addresses.legacy) ? legacy : undefined
  if (!p) return l
  const spansLegacy = p.end > addresses.legacy
  if (spansLegacy && (!l || l.version !== p.version)) return l // stale 6.2.0+ header left by a downgrade
  return p
}
