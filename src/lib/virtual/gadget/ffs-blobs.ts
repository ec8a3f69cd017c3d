/**
 * The FunctionFS descriptor and string blobs (Linux include/uapi/linux/usb/functionfs.h) of one enumeration of a
 * virtual device, made from the raw configuration descriptor the WebUSB virtual bus serves (descriptors.ts), so
 * both transports present the same interfaces. Hand-written because no npm package speaks FunctionFS.
 *
 * What FunctionFS cannot carry is left out and listed in `dropped`: class-specific CDC descriptors (type 0x24;
 * FunctionFS accepts only HID, CCID and, from Linux 6.9, DFU functional descriptors). Interface numbers, string
 * indexes and endpoint addresses are renumbered by the kernel (the function's own strings get the indexes after
 * the device's manufacturer, product and serial strings; endpoints get the UDC's addresses).
 */
import type {UsbIdentity} from '../descriptors.js'

const DESCRIPTORS_MAGIC_V2 = 3
const STRINGS_MAGIC = 2
const HAS_FS_DESC = 1
/** Device- and other-recipient requests reach user space too (Particle's vendor requests are device-recipient). */
const ALL_CTRL_RECIP = 64

const DT_INTERFACE = 0x04
const DT_ENDPOINT = 0x05
const DT_INTERFACE_ASSOCIATION = 0x0b
const DT_DFU_FUNCTIONAL = 0x21

export interface FfsBlobs {
  descriptors: Buffer
  strings: Buffer
  /** Descriptor types left out, e.g. ['0x24 x4']. */
  dropped: string[]
  /** Interfaces the blob carries (0: FunctionFS has nothing to serve in this configuration). */
  interfaces: number
}

export interface FfsOptions {
  /**
   * Leave the CDC ACM pair (and its association) to the kernel's f_acm, which comes first in the configuration:
   * the interfaces kept are numbered from 0 within the function, and the kernel places them after f_acm's.
   */
  skipCdcPair?: boolean
}

const CDC_CLASSES = new Set([0x02, 0x0a])

function u32(v: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(v)
  return b
}

export function ffsBlobs(identity: UsbIdentity, options: FfsOptions = {}): FfsBlobs {
  const config = identity.configDescriptor
  const kept: Buffer[] = []
  const dropped = new Map<number, number>()
  const localStrings: string[] = []
  const stringIndex = new Map<number, number>()
  let count = 0
  let interfaceClass = -1
  let skipping = false
  const numbers = new Map<number, number>()
  for (let i = config[0]; i + 2 <= config.length; ) {
    const len = config[i]
    const type = config[i + 1]
    if (len < 2) break
    const d = Buffer.from(config.subarray(i, i + len))
    i += len
    if (options.skipCdcPair && type === DT_INTERFACE_ASSOCIATION && d[4] === 0x02) continue
    if (type === DT_INTERFACE) skipping = options.skipCdcPair === true && CDC_CLASSES.has(d[5])
    if (skipping) continue
    if (type === DT_INTERFACE) {
      interfaceClass = d[5]
      if (!numbers.has(d[2])) numbers.set(d[2], numbers.size)
      if (options.skipCdcPair) d[2] = numbers.get(d[2])!
      const iInterface = d[8]
      if (iInterface) {
        if (!stringIndex.has(iInterface)) {
          localStrings.push(identity.strings.get(iInterface) ?? '')
          stringIndex.set(iInterface, localStrings.length)
        }
        d[8] = stringIndex.get(iInterface)!
      }
    } else if (type === DT_DFU_FUNCTIONAL && interfaceClass !== 0xfe) {
      dropped.set(type, (dropped.get(type) ?? 0) + 1)
      continue
    } else if (type !== DT_ENDPOINT && type !== DT_INTERFACE_ASSOCIATION && type !== DT_DFU_FUNCTIONAL) {
      dropped.set(type, (dropped.get(type) ?? 0) + 1)
      continue
    }
    kept.push(d)
    count++
  }
  const body = Buffer.concat(kept)
  const header = Buffer.concat([u32(DESCRIPTORS_MAGIC_V2), u32(0), u32(HAS_FS_DESC | ALL_CTRL_RECIP), u32(count)])
  const descriptors = Buffer.concat([header, body])
  descriptors.writeUInt32LE(descriptors.length, 4)

  const parts = [u32(STRINGS_MAGIC), u32(0), u32(localStrings.length), u32(localStrings.length > 0 ? 1 : 0)]
  if (localStrings.length > 0) {
    const lang = Buffer.alloc(2)
    lang.writeUInt16LE(0x0409)
    parts.push(lang, ...localStrings.map((s) => Buffer.from(`${s}\0`, 'utf8')))
  }
  const strings = Buffer.concat(parts)
  strings.writeUInt32LE(strings.length, 4)
  return {descriptors, dropped: [...dropped].map(([t, n]) => `0x${t.toString(16)} x${n}`), interfaces: numbers.size, strings}
}
