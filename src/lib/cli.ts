/**
 * The CLI a person typed: our own bin (`particle-setup-flag set`), or an oclif host such as the Particle CLI, where
 * our commands sit under their topic (`particle setup-flag set`). Every text that names one of our commands is
 * composed with it (docs/architecture.md, "Words"), never rewritten afterwards.
 */
export interface Cli {
  readonly bin: string
}

export const OUR_BIN = 'particle-setup-flag'

/** The standalone bin: what texts say when no command runs them (a library caller, a test, an error's `message`). */
export const STANDALONE: Cli = {bin: OUR_BIN}

/** How to run one of our commands from where the person is: `particle-setup-flag set x` or `<host> setup-flag set x`. */
export function commandLine(cli: Cli, command: string): string {
  return cli.bin === OUR_BIN ? `${OUR_BIN} ${command}` : `${cli.bin} setup-flag ${command}`
}
