/**
 * The simulator in memory: the bus, its devices, a browser's grants around it (browser.ts) and the checks of a
 * devices document, with nothing of Node in them, so the page's bundle can put it behind `navigator.usb`. The devices file (file.ts: reading, locking and
 * writing back on disk) is the Node adapter on top; index.ts (the `./virtual` export) offers both.
 */
export {type Chooser, GrantingUsb} from './browser.js'
export {createVirtualUsb, VirtualUsb} from './bus.js'
export {VirtualDevice} from './device.js'
export {checkDevicesDocument, SpecProblem} from './spec.js'
export {VirtualUsbDevice} from './usb-device.js'
export {
  DEFAULT_TIMING,
  type ExchangeRecord,
  FAULT_NAMES,
  type Violation,
  type VirtualDeviceSpec,
  type VirtualDevicesFile,
  type VirtualFaults,
  type VirtualMode,
  type VirtualTiming,
  type VirtualUsbOptions,
} from './types.js'
