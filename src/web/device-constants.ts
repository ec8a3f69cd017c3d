/**
 * @particle/device-constants for the page: the package's own platform table (src/constants.json), as its index
 * exposes it. Its index also requires a helper for Linux devices that uses Node's Buffer, which the page never
 * calls and the browser does not have (scripts/build-web.js puts this module in the package's place).
 */
import table from '@particle/device-constants/src/constants.json'

import type {DeviceConstantsPlatform} from '@particle/device-constants'

export const platforms: Readonly<Record<string, DeviceConstantsPlatform>> = Object.freeze(table)
export const platformsById: Readonly<Record<number, DeviceConstantsPlatform>> = Object.freeze(Object.fromEntries(Object.values(platforms).map((p) => [p.id, p])))
