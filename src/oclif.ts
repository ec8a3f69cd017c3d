/**
 * The parts of @oclif/core that bin/run.js uses to run one of our commands. The build bundles this entry with the
 * commands, so that the commands and the runner share one copy of oclif loaded from a few files (see
 * scripts/bundle-commands.js); help and "did you mean" load oclif's plugins, and with them the package itself.
 */
export {Config, flush, handle, run, toConfiguredId} from '@oclif/core'
