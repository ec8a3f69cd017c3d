/** The 24-byte `module_info_t` header of a Device OS module (device-protocol.md §6), little-endian. */
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
