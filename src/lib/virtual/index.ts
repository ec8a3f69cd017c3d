/**
 * The virtual Particle USB device and bus (`particle-plugin-setup-flag/virtual`): WebUSB devices that behave like
 * real Gen2, Gen3 and Realtek Particle devices per docs/protocol.md, for tests and for trying the CLI without
 * hardware (PARTICLE_VIRTUAL_DEVICES). The simulator itself is core.ts (memory only); file.ts keeps devices in a file.
 */
export {
  devicesFileTarget,
  loadDevicesFile,
  openVirtualUsbFile,
  saveDevices,
  updateDevicesFile,
  validateDevicesFile,
  withDevicesFileLock,
} from './file.js'
export {
  createVirtualUsb,
  DEFAULT_TIMING,
  type ExchangeRecord,
  type Violation,
  type VirtualDeviceSpec,
  type VirtualDevicesFile,
  type VirtualFaults,
  type VirtualMode,
  type VirtualTiming,
  type VirtualUsbOptions,
  VirtualDevice,
  VirtualUsb,
  VirtualUsbDevice,
} from './core.js'
