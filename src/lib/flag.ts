/**
 * The library surface of one device: read or set its flag and get the report as `get --json` / `set --json` print
 * it (words composed for the standalone bin). The commands use the services and the text layer directly; this is
 * for embedding and for tests that drive one device in process.
 */
import {type Cli, STANDALONE} from './cli.js'
import {FlagOperation, type SetOptions} from './setup-flag/operation.js'
import {type OperationContext} from './setup-flag/session.js'
import {flagJson, type FlagReport, setJson, type SetReport} from './text/report.js'
import {waitTitle} from './text/waits.js'
import {type UsbBackend} from './usb/backend.js'
import {type FoundDevice} from './usb/discovery.js'

export type {FlagReport, SetReport} from './text/report.js'
export {type Method} from './setup-flag/operation.js'

export interface LibraryOptions extends Omit<OperationContext, 'progress'> {
  cli?: Cli
  /** Called when the device is about to be waited on, with the line a terminal would show. */
  onWaiting?: (what: string) => void
}

/** Reading never waits for a device to come back, so it needs no bus beyond the device itself. */
export async function readSetupFlag(found: FoundDevice, o: Omit<LibraryOptions, 'backend'> & {backend?: UsbBackend; unstick?: boolean}): Promise<FlagReport> {
  const backend = o.backend ?? {close() {}, description: 'one device', kind: 'usb' as const, usb: {addEventListener() {}, getDevices: async () => [found.usbDevice], removeEventListener() {}} as unknown as USB}
  return flagJson(await new FlagOperation(found, context({...o, backend})).read({unstick: o.unstick}), o.cli ?? STANDALONE)
}

export async function setSetupFlag(found: FoundDevice, o: LibraryOptions & SetOptions): Promise<SetReport> {
  return setJson(await new FlagOperation(found, context(o)).set(o), o.cli ?? STANDALONE)
}

function context(o: LibraryOptions): OperationContext {
  const {onWaiting} = o
  return {...o, progress: onWaiting ? {waited() {}, waiting: (w) => onWaiting(waitTitle(w))} : undefined}
}
