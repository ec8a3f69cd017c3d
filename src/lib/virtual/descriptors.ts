/**
 * What the virtual device looks like on the bus in each mode: device, configuration and string descriptors
 * (docs/protocol.md §1.3, §4.1), the DfuSe memory layouts (§4.1), and a structural model of the same
 * configuration for the WebUSB objects (usb-objects.ts). Any client that reads raw descriptors (as dfu-util or
 * particle-usb do, §4.5 step 1, §4.7) sees the same thing as one that reads `USBDevice.configuration`.
 */
import {PARTICLE_VENDOR_ID, type Platform} from '../particle/platforms.js'
import {compareVersions, parseVersion, type Semver} from '../particle/versions.js'
import {DFU_TRANSFER_SIZE} from '../protocol/constants.js'
import {atLeast} from './rules.js'
import {u16le, u32le} from './util.js'

export type UsbMode = 'dfu' | 'normal'

export interface EndpointModel {
  direction: 'in' | 'out'
  endpointNumber: number
  packetSize: number
  type: 'bulk' | 'interrupt' | 'isochronous'
}

export interface AlternateModel {
  alternateSetting: number
  endpoints: EndpointModel[]
  iInterface: number
  interfaceClass: number
  interfaceProtocol: number
  interfaceSubclass: number
}

export interface InterfaceModel {
  alternates: AlternateModel[]
  interfaceNumber: number
}

export interface UsbIdentity {
  bcdDevice: number
  configDescriptor: Uint8Array
  configurationValue: number
  deviceClass: number
  deviceDescriptor: Uint8Array
  deviceProtocol: number
  deviceSubclass: number
  iConfiguration: number
  interfaces: InterfaceModel[]
  mode: UsbMode
  productId: number
  /** String descriptors by index (index 0, the LANGID list, is answered separately). */
  strings: Map<number, string>
  vendorId: number
}

/** Standard request codes (USB 2.0 §9.4) the virtual device answers. */
export const Standard = {
  GET_STATUS: 0,
  GET_DESCRIPTOR: 6,
  GET_CONFIGURATION: 8,
  SET_CONFIGURATION: 9,
  GET_INTERFACE: 10,
  SET_INTERFACE: 11,
} as const

/** String indices (§1.3). */
export const StringIndex = {
  MANUFACTURER: 1,
  PRODUCT: 2,
  SERIAL: 3,
  CONFIGURATION: 4,
  /** Normal mode: the name of the vendor control interface (interface 2). */
  CONTROL_INTERFACE: 4,
  DFU_INTERFACE: 5,
  /** DFU alt setting names are at 6, 7, 8 (alt 0, 1, 2). */
  FIRST_ALT_NAME: 6,
  DFU_ERROR_TEXT: 10,
  MS_OS: 0xee,
  PROTECTION_STATE: 0xfa,
} as const

/** LANGID list: US English only (§4.5 step 1: `04 03 09 04`). */
export const LANGID_DESCRIPTOR = Uint8Array.of(0x04, 0x03, 0x09, 0x04)

/** The error text a protected bootloader names with iString 10 (§4.3). */
export const PROTECTED_TEXT = 'Device is in protected mode'

/** USB product names use short names where device-constants' display name is not what the firmware reports (§1.3). */
const USB_NAMES: Record<string, string> = {
  p2: 'P2',
  tracker: 'Tracker',
}

export function usbName(platform: Platform): string {
  return USB_NAMES[platform.name] ?? platform.displayName
}

/** SoM names the nRF52840 bootloader reports, spaced and hyphenated (bootloader/src/nRF52840/usbd_device.cpp). */
const SOM_DFU_NAMES: Record<string, [spaced: string, hyphenated: string]> = {
  asom: ['A SoM', 'A-SoM'],
  b5som: ['B5 SoM', 'B5-SoM'],
  bsom: ['B SoM', 'B-SoM'],
  esomx: ['E SoM X', 'E-SoM-X'],
}

/**
 * The product name in the DFU bootloader's strings: SoMs with spaces ("B SoM"), with hyphens only in 5.8.0-5.9.x
 * and from 6.1.0 (usbd_device.cpp@v5.7.0 "B SoM", @v5.8.0 "B-SoM", @v6.0.0 "B SoM", @v6.1.0 "B-SoM").
 */
export function dfuUsbName(platform: Platform, version: Semver): string {
  const som = SOM_DFU_NAMES[platform.name]
  if (!som) return usbName(platform)
  const hyphens = (version.major === 5 && version.minor >= 8) || atLeast(version, '6.1.0')
  return hyphens ? som[1] : som[0]
}

const v = (s: string) => parseVersion(s)!

/**
 * External flash of B5 SoM and Tracker (and E SoM X): `1024*008Kg` up to 2.1.x and on the 3.0.0 line,
 * `2048*004Kg` from 2.2.0-rc.1 and 3.1.0-rc.1 (usbd_dfu_mal.h@v2.1.0 / @v2.2.0-rc.1 / @v3.0.0 / @v3.1.0-rc.1:36).
 */
function externalFlashLayout(platform: Platform, version: Semver): string {
  if (!['b5som', 'tracker', 'esomx'].includes(platform.name)) return '1024*004Kg' // 4 MB
  const old = compareVersions(version, v('2.2.0-rc.1')) < 0 || (version.major === 3 && compareVersions(version, v('3.1.0-rc.1')) < 0)
  return old ? '1024*008Kg' : '2048*004Kg'
}

/**
 * The DCT alt is `@DCD Flash` until `@DCT Flash` appears in 4.0.1-rc.1 on the 4.x line and 5.0.1 on the 5.x line
 * (Realtek 5.0.0 included): usbd_dfu_mal.h@v4.0.0:31 / @v4.0.1-rc.1:31 / @v5.0.0:31 / @v5.0.1:31.
 */
function dctAltPrefix(version: Semver): string {
  const dct =
    version.major >= 6 ||
    (version.major === 5 && compareVersions(version, v('5.0.1')) >= 0) ||
    (version.major === 4 && compareVersions(version, v('4.0.1-rc.1')) >= 0)
  return dct ? '@DCT Flash   ' : '@DCD Flash   '
}

/** Device Protection turns every type letter into `b` (erase only: no read, no write), §4.1. */
function protect(layout: string): string {
  return layout.replaceAll(/(\d+\*\d+K)[a-g]/g, '$1b')
}

/** The DfuSe alt-setting names (memory layouts) of the bootloader, alt 0 first (§4.1). */
export function dfuAltNames(platform: Platform, version: Semver, isProtected: boolean): string[] {
  let names: string[]
  switch (platform.family) {
    case 'nrf52840': {
      names = [
        '@Internal Flash   /0x00000000/1*004Ka,47*004Kg,192*004Kg,4*004Kg,4*004Kg,8*004Ka',
        `${dctAltPrefix(version)}/0x00000000/1*016Ke`,
        `@External Flash   /0x80000000/${externalFlashLayout(platform, version)}`,
      ]
      break
    }
    case 'realtek': {
      names = ['@Internal Flash   /0x08000000/2048*004Kg', `${dctAltPrefix(version)}/0x00000000/1*016Ke`]
      break
    }
    default: {
      // Gen2 (STM32F2): not in docs/protocol.md; a plausible layout of its 1 MB flash and its flash-backed,
      // erasable 16 KB DCT.
      names = ['@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg', '@DCT Flash   /0x00000000/01*016Kg']
    }
  }
  return isProtected ? names.map((n) => protect(n)) : names
}

/**
 * DfuSe GET_COMMANDS reply (UPLOAD wValue 0) by bootloader version (§4.2): 0x00 (GET_COMMANDS), 0x21
 * (SET_ADDRESS), 0x41 (ERASE), plus Particle's 0xFA (enter Safe Mode) from 6.1.1 and 0xFB from 6.2.0.
 */
export function dfuCommands(version: Semver): Uint8Array {
  const cmds = [0x00, 0x21, 0x41]
  if (atLeast(version, '6.1.1')) cmds.push(0xfa)
  if (atLeast(version, '6.2.0')) cmds.push(0xfb)
  return Uint8Array.from(cmds)
}

function deviceDescriptor(id: UsbIdentity): Uint8Array {
  return Uint8Array.of(
    18,
    0x01,
    ...u16le(0x0200), // bcdUSB 2.00
    id.deviceClass,
    id.deviceSubclass,
    id.deviceProtocol,
    64, // bMaxPacketSize0
    ...u16le(id.vendorId),
    ...u16le(id.productId),
    ...u16le(id.bcdDevice),
    StringIndex.MANUFACTURER,
    StringIndex.PRODUCT,
    StringIndex.SERIAL,
    1, // bNumConfigurations
  )
}

/**
 * DFU mode configuration (§4.1), byte for byte the Boron one for Gen3: one interface with an alt setting per
 * memory, class FE/01/02, no endpoints, iInterface 6+alt, and the DfuSe functional descriptor after the last alt
 * (so libusb attaches it to that alt): bmAttributes 0x0B, wDetachTimeout 255, wTransferSize 4096, bcdDFU 0x011A.
 */
function dfuConfiguration(altCount: number): {bytes: Uint8Array; interfaces: InterfaceModel[]} {
  const alternates: AlternateModel[] = []
  const body: number[] = []
  for (let alt = 0; alt < altCount; alt++) {
    const iInterface = StringIndex.FIRST_ALT_NAME + alt
    alternates.push({alternateSetting: alt, endpoints: [], iInterface, interfaceClass: 0xfe, interfaceProtocol: 0x02, interfaceSubclass: 0x01})
    body.push(0x09, 0x04, 0x00, alt, 0x00, 0xfe, 0x01, 0x02, iInterface)
  }
  body.push(0x09, 0x21, 0x0b, ...u16le(255), ...u16le(DFU_TRANSFER_SIZE), ...u16le(0x011a))
  const total = 9 + body.length
  const bytes = Uint8Array.of(0x09, 0x02, ...u16le(total), 0x01, 0x01, StringIndex.CONFIGURATION, 0xc0, 0x32, ...body)
  return {bytes, interfaces: [{alternates, interfaceNumber: 0}]}
}

/** bMaxPower of nRF52840 normal mode: 500 mA in 2 mA units (sdk_config_system.h@v6.2.0:132, APP_USBD_CONFIG_MAX_POWER). */
const NRF_MAX_POWER = 250

/**
 * Normal mode configuration. docs/protocol.md only fixes that the vendor control interface is number 2 and is
 * named `<Name> Control Interface` (§1.3); the CDC ACM pair in front of it (an IAD, interfaces 0 and 1, one
 * interrupt and two bulk endpoints) is the usual shape of a CDC composite and is plausible, not measured. Gen3
 * system firmware before 0.9.0 has the CDC pair only (`withControlInterface` false): Device OS appends just the
 * CDC ACM class (`hal/src/nRF52840/usb_hal_cdc.c@v0.8.0-rc.25-mesh:318-320`) and no control interface
 * (`hal/inc/usb_config_hal.h@v0.8.0-rc.27:60-62`), docs/protocol.md "Gen3 before 0.9.0".
 */
function normalConfiguration(maxPower: number, withControlInterface: boolean): {bytes: Uint8Array; interfaces: InterfaceModel[]} {
  const body = [
    // Interface association: interfaces 0-1, CDC ACM
    0x08, 0x0b, 0x00, 0x02, 0x02, 0x02, 0x01, 0x00,
    // Interface 0: CDC communication
    0x09, 0x04, 0x00, 0x00, 0x01, 0x02, 0x02, 0x01, 0x00,
    0x05, 0x24, 0x00, 0x10, 0x01, // header, CDC 1.10
    0x05, 0x24, 0x01, 0x00, 0x01, // call management, data interface 1
    0x04, 0x24, 0x02, 0x02, // ACM
    0x05, 0x24, 0x06, 0x00, 0x01, // union 0 -> 1
    0x07, 0x05, 0x82, 0x03, 0x08, 0x00, 0x10, // EP 2 IN interrupt, 8 bytes
    // Interface 1: CDC data
    0x09, 0x04, 0x01, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x00,
    0x07, 0x05, 0x01, 0x02, 0x40, 0x00, 0x00, // EP 1 OUT bulk, 64 bytes
    0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00, // EP 1 IN bulk, 64 bytes
    // Interface 2: vendor control interface (control requests go to the device recipient on endpoint 0)
    ...(withControlInterface ? [0x09, 0x04, 0x02, 0x00, 0x00, 0xff, 0xff, 0xff, StringIndex.CONTROL_INTERFACE] : []),
  ]
  const total = 9 + body.length
  const bytes = Uint8Array.of(0x09, 0x02, ...u16le(total), withControlInterface ? 0x03 : 0x02, 0x01, 0x00, 0xc0, maxPower, ...body)
  const interfaces: InterfaceModel[] = [
    {
      alternates: [
        {
          alternateSetting: 0,
          endpoints: [{direction: 'in', endpointNumber: 2, packetSize: 8, type: 'interrupt'}],
          iInterface: 0,
          interfaceClass: 0x02,
          interfaceProtocol: 0x01,
          interfaceSubclass: 0x02,
        },
      ],
      interfaceNumber: 0,
    },
    {
      alternates: [
        {
          alternateSetting: 0,
          endpoints: [
            {direction: 'out', endpointNumber: 1, packetSize: 64, type: 'bulk'},
            {direction: 'in', endpointNumber: 1, packetSize: 64, type: 'bulk'},
          ],
          iInterface: 0,
          interfaceClass: 0x0a,
          interfaceProtocol: 0x00,
          interfaceSubclass: 0x00,
        },
      ],
      interfaceNumber: 1,
    },
  ]
  if (withControlInterface) {
    interfaces.push({
      alternates: [
        {
          alternateSetting: 0,
          endpoints: [],
          iInterface: StringIndex.CONTROL_INTERFACE,
          interfaceClass: 0xff,
          interfaceProtocol: 0xff,
          interfaceSubclass: 0xff,
        },
      ],
      interfaceNumber: 2,
    })
  }
  return {bytes, interfaces}
}

export interface IdentityInput {
  /** Normal mode has the vendor control interface (false: Gen3 system firmware before 0.9.0, CDC only). */
  controlInterface?: boolean
  id: string
  isProtected: boolean
  mode: UsbMode
  platform: Platform
  version: Semver
}

/** The whole USB identity of a device in a mode. */
export function usbIdentity({controlInterface = true, id, isProtected, mode, platform, version}: IdentityInput): UsbIdentity {
  const name = usbName(platform)
  const strings = new Map<number, string>([
    [StringIndex.MANUFACTURER, 'Particle'],
    [StringIndex.SERIAL, id.toLowerCase()],
    // Microsoft OS string descriptor: "MSFT100" + vendor code 0xEE + pad (§1.3); as UTF-16 the last two
    // bytes come out as EE 00 exactly as the firmware sends them.
    [StringIndex.MS_OS, 'MSFT100\u00ee'],
  ])
  let identity: Omit<UsbIdentity, 'deviceDescriptor'>
  if (mode === 'dfu') {
    const altNames = dfuAltNames(platform, version, isProtected)
    const {bytes, interfaces} = dfuConfiguration(altNames.length)
    // Product, configuration (4) and interface (5) strings are all "<Name> DFU Mode" (usbd_device.cpp@v6.2.0:156-158).
    const dfuName = `${dfuUsbName(platform, version)} DFU Mode`
    strings.set(StringIndex.PRODUCT, dfuName)
    strings.set(StringIndex.CONFIGURATION, dfuName)
    strings.set(StringIndex.DFU_INTERFACE, dfuName)
    for (const [i, n] of altNames.entries()) strings.set(StringIndex.FIRST_ALT_NAME + i, n)
    strings.set(StringIndex.DFU_ERROR_TEXT, PROTECTED_TEXT)
    // The protection state string appears in the 6.2.0 bootloader (particle-usb: 6.1.2+), §1.3.
    if (atLeast(version, '6.1.2')) strings.set(StringIndex.PROTECTION_STATE, isProtected ? 'sm=p' : 'sm=o')
    identity = {
      // 2.51 on nRF52840 (usbd_device.cpp@v6.2.0:173-174), 2.52 from the Realtek bootloader (bootloader/src/rtl872x/usb_hal.cpp@v6.2.0:51-52).
      bcdDevice: platform.family === 'realtek' ? 0x0252 : 0x0251,
      configDescriptor: bytes,
      configurationValue: 1,
      deviceClass: 0,
      deviceProtocol: 0,
      deviceSubclass: 0,
      iConfiguration: StringIndex.CONFIGURATION,
      interfaces,
      mode,
      productId: platform.dfuProductId!,
      strings,
      vendorId: platform.vendorId ?? PARTICLE_VENDOR_ID,
    }
  } else {
    const {bytes, interfaces} = normalConfiguration(platform.family === 'nrf52840' ? NRF_MAX_POWER : 0x32, controlInterface)
    strings.set(StringIndex.PRODUCT, `${name} CDC Mode`)
    if (controlInterface) strings.set(StringIndex.CONTROL_INTERFACE, `${name} Control Interface`)
    identity = {
      // nRF52840: device version 1.2 in BCD (platform/MCU/nRF52840/inc/sdk_config_system.h@v6.2.0:147-148);
      // Realtek: 2.51 (hal/src/rtl872x/usb_hal.cpp@v6.2.0:59-60); Gen2 is not modelled (kept at 2.50).
      bcdDevice: platform.family === 'nrf52840' ? 0x0102 : platform.family === 'realtek' ? 0x0251 : 0x0250,
      configDescriptor: bytes,
      configurationValue: 1,
      // Miscellaneous / common class / IAD: the class triple of a composite device with an interface association.
      // Before 0.9.0 the nRF5 SDK Device OS carried wrote 0/0/0 ("specified by interface"; its device class became
      // configurable later): third_party/nrf5_sdk@8433b5f2 components/libraries/usbd/app_usbd_core.c:99-101.
      deviceClass: controlInterface ? 0xef : 0x00,
      deviceProtocol: controlInterface ? 0x01 : 0x00,
      deviceSubclass: controlInterface ? 0x02 : 0x00,
      iConfiguration: 0,
      interfaces,
      mode,
      productId: platform.productId!,
      strings,
      vendorId: platform.vendorId ?? PARTICLE_VENDOR_ID,
    }
  }
  // Completed in place, not spread into a copy: a spread copy got a hidden class of its own per device (≈1.7 KB each).
  const full = identity as UsbIdentity
  full.deviceDescriptor = deviceDescriptor(full)
  return full
}

/** Descriptor type of the DFU functional descriptor (DFU 1.1 §4.1.3). */
export const DFU_FUNCTIONAL_TYPE = 0x21

/** The bootloader's Microsoft OS descriptors (usbd_dfu.cpp@v6.2.0:70-88, :424-427; layouts hal/src/nRF52840/usbd_wcid.h@v6.2.0). */
const MS_COMPAT_ID = Uint8Array.of(
  ...u32le(0x28), ...u16le(0x0100), ...u16le(0x0004), 0x01, 0, 0, 0, 0, 0, 0, 0,
  0x00, 0x01, ...new TextEncoder().encode('WINUSB'), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
)
const MS_GUID = '{37fb5f90-1a34-4929-933b-8a27e1850033}'
const MS_EXT_PROPERTIES = Uint8Array.of(
  ...u32le(0x92), ...u16le(0x0100), ...u16le(0x0005), ...u16le(1),
  ...u32le(0x88), ...u32le(7), ...u16le(0x2a),
  ...[...'DeviceInterfaceGUIDs'].flatMap((c) => [c.charCodeAt(0), 0]), 0, 0,
  ...u32le(0x50),
  ...[...MS_GUID].flatMap((c) => [c.charCodeAt(0), 0]).slice(0, -1), 0, 0, 0, 0, 0,
)

/**
 * Vendor request 0xEE in DFU mode: the extended compat ID (bmRequestType 0xC0, wIndex 4, "WINUSB") and the
 * extended properties (0xC1, wIndex 5; 10 zero bytes for a page other than 0). Anything else stalls (undefined).
 */
export function msOsDescriptor(bmRequestType: number, request: number, value: number, index: number): Uint8Array | undefined {
  if (request !== 0xee) return undefined
  if (bmRequestType === 0xc0 && index === 4) return MS_COMPAT_ID
  if (bmRequestType === 0xc1 && index === 5) return (value & 0xff) === 0 ? MS_EXT_PROPERTIES : new Uint8Array(10)
  return undefined
}
