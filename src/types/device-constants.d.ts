// @particle/device-constants ships plain JavaScript; these are the fields we read.
declare module '@particle/device-constants' {
  export interface DeviceConstantsUsb {
    productId: string
    quirks?: {controlOutTransfersRequireDataStage?: boolean; controlRequestsNotSupported?: boolean}
    vendorId: string
  }
  export interface DeviceConstantsPlatform {
    baseMcu: string
    dfu?: {productId: string; vendorId: string}
    displayName: string
    features: string[]
    generation: number
    id: number
    name: string
    public?: boolean
    usb?: DeviceConstantsUsb
  }
  export const platforms: Readonly<Record<string, DeviceConstantsPlatform>>
  export const platformsById: Readonly<Record<number, DeviceConstantsPlatform>>
}

// The package's platform table itself (what its index freezes as `platforms`); the page's bundle reads it directly.
declare module '@particle/device-constants/src/constants.json' {
  const table: Record<string, import('@particle/device-constants').DeviceConstantsPlatform>
  export default table
}
