/**
 * particle-plugin-setup-flag: an oclif plugin (and standalone CLI `particle-setup-flag`) that reads and fixes the
 * setup-done flag of Gen3 Particle devices. The library surface is small on purpose: the virtual device lives
 * at `particle-plugin-setup-flag/virtual`.
 */
export {EXIT, SetupFlagError} from './lib/errors.js'
export type {FlagReport, SetReport} from './lib/text/report.js'
