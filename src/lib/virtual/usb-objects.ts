/**
 * The WebUSB configuration objects (`USBConfiguration`, `USBInterface`, `USBAlternateInterface`, `USBEndpoint`)
 * built from the same model as the raw descriptors (descriptors.ts), so both views of a device always agree.
 * Interface state (claimed, current alt setting) is read live from the owning USBDevice.
 */
import type {AlternateModel, EndpointModel, InterfaceModel, UsbIdentity} from './descriptors.js'

/** What an interface needs to know about its device's live state. */
export interface InterfaceState {
  currentAlternate(interfaceNumber: number): number
  isClaimed(interfaceNumber: number): boolean
}

class VirtualEndpoint implements USBEndpoint {
  readonly direction: USBDirection
  readonly endpointNumber: number
  readonly packetSize: number
  readonly type: USBEndpointType

  constructor(m: EndpointModel) {
    this.direction = m.direction
    this.endpointNumber = m.endpointNumber
    this.packetSize = m.packetSize
    this.type = m.type
  }
}

class VirtualAlternateInterface implements USBAlternateInterface {
  readonly alternateSetting: number
  readonly endpoints: USBEndpoint[]
  readonly interfaceClass: number
  readonly interfaceName: null | string
  readonly interfaceProtocol: number
  readonly interfaceSubclass: number

  constructor(m: AlternateModel, strings: Map<number, string>) {
    this.alternateSetting = m.alternateSetting
    this.endpoints = m.endpoints.map((e) => new VirtualEndpoint(e))
    this.interfaceClass = m.interfaceClass
    this.interfaceName = m.iInterface ? (strings.get(m.iInterface) ?? null) : null
    this.interfaceProtocol = m.interfaceProtocol
    this.interfaceSubclass = m.interfaceSubclass
  }
}

class VirtualInterface implements USBInterface {
  readonly alternates: USBAlternateInterface[]
  readonly interfaceNumber: number

  constructor(
    m: InterfaceModel,
    strings: Map<number, string>,
    private readonly state: InterfaceState,
  ) {
    this.interfaceNumber = m.interfaceNumber
    this.alternates = m.alternates.map((a) => new VirtualAlternateInterface(a, strings))
  }

  get alternate(): USBAlternateInterface {
    const current = this.state.currentAlternate(this.interfaceNumber)
    return this.alternates.find((a) => a.alternateSetting === current) ?? this.alternates[0]
  }

  get claimed(): boolean {
    return this.state.isClaimed(this.interfaceNumber)
  }
}

export class VirtualConfiguration implements USBConfiguration {
  readonly configurationName: null | string
  readonly configurationValue: number
  readonly interfaces: USBInterface[]

  constructor(identity: UsbIdentity, state: InterfaceState) {
    this.configurationValue = identity.configurationValue
    this.configurationName = identity.iConfiguration ? (identity.strings.get(identity.iConfiguration) ?? null) : null
    this.interfaces = identity.interfaces.map((i) => new VirtualInterface(i, identity.strings, state))
  }
}
