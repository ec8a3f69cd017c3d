/**
 * Each command's help: its summary, description and examples, with the exit statuses made from the one exit
 * table (exits.ts), so help, README and code cannot disagree; the root help's list of commands; the words of flags
 * that differ by command. Examples are kept in a neutral form (the command as typed after the CLI's name) and
 * composed with the CLI the person typed when shown (cli.ts), as `particle-setup-flag set` or `<host> setup-flag set`.
 */
import {type Cli, commandLine} from '../cli.js'
import {type CommandName, COMMANDS, EXIT_TABLE, type ExitCode} from '../exits.js'

/** An example in its neutral form. */
export interface Example {
  /** Shell text after the command (` | source`). */
  after?: string
  /** Shell text before the command (`PARTICLE_VIRTUAL_DEVICES=mixed-bench `, `eval "$(`). */
  before?: string
  /** The command as typed after the CLI's name: `get --json`. */
  command: string
  description: string
}

/** An example as oclif's help takes it: a shell line and what it does. */
export interface ShownExample {
  command: string
  description: string
}

export interface CommandHelp {
  description: string
  /** For oclif's own help (an oclif host we run in renders its name into them, see TEMPLATE). */
  examples: ShownExample[]
  summary: string
}

/** Facts the examples name that live above the text layer (shell-init's profile files). */
export interface HelpFacts {
  profileFile?: (shell: 'bash' | 'fish' | 'powershell' | 'zsh') => string
}

/**
 * The CLI as oclif's own help spells it when it shows an example: an oclif host that runs our commands uses its own
 * help class, which renders its name here (`<host> setup-flag get`); our bin shows examples with our help (help.ts).
 */
const TEMPLATE: Cli = {bin: '<%= config.bin %>'}

/** An example's shell line for the CLI the person typed. */
export function exampleLine(e: Example, cli: Cli): string {
  return `${e.before ?? ''}${commandLine(cli, e.command)}${e.after ?? ''}`
}

/** What 0 means for each command, and how each status reads there when it differs from the table's words. */
const SUCCESS: Record<CommandName, string> = {
  audit: '0 when every device was read',
  doctor: '0 when the doctor finished (fixed, nothing to fix, or another cause named)',
  get: "0 when every device was read (whatever the flag's value)",
  set: '0 when every device is as asked',
  'shell-init': '0',
  virtual: '0 when every press was made (one that does nothing, like a button of an unplugged device, is said so)',
  web: '0 when stopped with Ctrl-C',
}

const OWN: Partial<Record<CommandName, Partial<Record<ExitCode, string>>>> = {
  audit: {7: 'the cloud failed (not logged in, unknown product, or some devices not read: the output still lists those read)'},
  doctor: {2: 'bad input, or no terminal without --yes', 6: 'the device did not answer', 7: 'cloud'},
  'shell-init': {2: 'for a missing or unknown shell'},
  web: {1: 'the page is not built (or a bug)', 2: 'bad input, or the --port is in use'},
  set: {3: 'no device or several without a choice', 6: 'a device did not answer'},
  get: {6: 'a device did not answer'},
  virtual: {2: 'bad input (an unknown press, no PARTICLE_VIRTUAL_DEVICES)', 3: 'no such device in the devices file, several and none chosen, or a bundled example no run is using'},
}

/** "Exit status: 0 when …; 2 bad input, 3 no device, …" for one command, from the exit table. */
export function exitHelp(command: CommandName): string {
  const rows = Object.entries(EXIT_TABLE)
    .filter(([status, row]) => status !== '0' && row.commands.includes(command))
    .map(([status, row]) => `${status} ${OWN[command]?.[Number(status) as ExitCode] ?? row.help}`)
  return `Exit status: ${SUCCESS[command]}${rows.length > 0 ? `; ${rows.join(', ')}` : ''}.`
}

const DESCRIPTIONS: Record<CommandName, {examples: (f: HelpFacts) => Example[]; line: string; summary: string; text: string}> = {
  audit: {
    examples: () => [
      {command: 'audit', description: 'Audit every device of your account'},
      {command: 'audit --product my-fleet --risk at-risk', description: 'The devices of a product that can get stuck'},
      {command: 'audit --product 12345 --csv > fleet.csv', description: 'A spreadsheet of a whole product'},
      {command: 'audit --product 12345 --online --json', description: 'Online devices only, for scripts'},
      {command: 'audit my-boron e00fce681a2b3c4d5e6f7a8b', description: 'Named devices'},
    ],
    line: 'Which devices of a fleet can get stuck, and the lasting fix',
    summary: 'Audit a fleet: which devices can get stuck on the setup-done flag, and the lasting fix for each.',
    text: `Lists which devices of a fleet can get stuck blinking dark blue because of the setup-done flag, from what the Particle Cloud knows of each (platform and Device OS version), and what to do about each. Read-only: it never changes a device or the cloud.

Risk: "at-risk" is an nRF52840 Gen3 device (Argon, Boron, B SoM, B5 SoM, Tracker, E SoM X, A SoM) below Device OS 4.0: a settings reset or an unfinished USB setup sends it to Listening Mode. "cannot-upgrade" is a mesh-only device (Xenon, X SoM) that never got Device OS 4.0: the flag is its permanent condition. "safe" is Device OS 4.0 or later, Realtek (P2 / Photon 2, M SoM) or Gen2, with the reason. "unknown" is a device that has not reported its Device OS yet.

The lasting fix for an at-risk device is Device OS 4.0 or later (which has no flag): product devices follow a product firmware release built for 4.x (development devices ignore releases), developer devices are flashed with firmware targeting 4.x; the cloud then upgrades Device OS through Safe Mode. A later downgrade below 4.0 brings the flag back.

Product lists are read page by page with at most --parallel requests in flight, pausing as long as a 429 answer's Retry-After asks; a page that keeps failing is reported (and counted as not read), never dropped.`,
  },
  doctor: {
    examples: () => [
      {command: 'doctor', description: 'Walk through the fix for the connected device'},
      {command: 'doctor my-argon', description: 'A named device'},
      {command: 'doctor --yes --json', description: 'Unattended, with a JSON report'},
    ],
    line: 'Walk through fixing a device that blinks dark blue',
    summary: 'Walk through fixing a device that blinks dark blue.',
    text: `A guided fix for a device that blinks dark blue, from plug-in to verified: it finds the device (and waits for you to plug it in), identifies it (platform, mode, LED, Device OS version), diagnoses whether the setup-done flag is the cause, fixes it with your consent (a USB control request; Safe Mode when the firmware does not answer, with the button steps; DFU mode as a last resort), restarts the device and checks that it no longer listens, and sums up what was wrong, what was done and what to do if it happens again.

It asks before it writes. --yes takes every recommended action without asking, for scripts and support staff; without a terminal, --yes is required. --json prints a report of every step.`,
  },
  get: {
    examples: () => [
      {command: 'get', description: 'Read every connected device'},
      {command: 'get e00fce681a2b3c4d5e6f7a8b', description: 'Read one device'},
      {command: 'get --json', description: 'Machine-readable output for scripts'},
      {before: 'PARTICLE_VIRTUAL_DEVICES=mixed-bench ', command: 'get', description: 'Try it without hardware, on the bundled example devices (mixed-bench, stuck-argon, blocked-boron)'},
    ],
    line: 'Read the setup-done flag of connected devices',
    summary: 'Read the setup-done flag of connected devices.',
    text: `Reads the one-byte "setup done" flag that Gen3 devices (Argon, Boron, B SoM, B5 SoM, Tracker, Xenon) on Device OS below 4.0 keep in their configuration flash (DCT offset 8134). While it is not set, the device boots into Listening Mode and blinks dark blue.

Works in normal, listening and safe mode (control request 74, plus the Device OS version over USB) and in DFU mode (a one-byte DfuSe read, plus the version from the system part's header). Nothing is ever written. On Device OS 4.0 and later, on P2 / Photon 2 / M SoM and on Gen2 devices the flag does not exist, and the output says so and why.`,
  },
  set: {
    examples: () => [
      {command: 'set', description: 'Fix the one connected device'},
      {command: 'set my-boron --method dfu', description: 'Fix a named device over DFU'},
      {command: 'set --all --json', description: 'Fix every connected device, for a production line'},
      {command: 'set --dry-run', description: 'Say what would be done, touch nothing'},
      {command: 'set e00fce681a2b3c4d5e6f7a8b --not-done', description: 'Clear the flag again (the device listens after its next reset)'},
      {command: 'set --watch --json', description: 'Manufacturing station: fix each device the moment it is plugged in, one JSON line per device; Ctrl-C sums up'},
      {
        command: 'set field-boron --method firmware --wait-online 3600 --restore production.bin',
        description: 'Field rescue: print the card for the person on site, flash the moment the device comes online, then flash production back',
      },
    ],
    line: 'Set the flag so a device stops blinking dark blue',
    summary: 'Set the setup-done flag so the device stops blinking dark blue.',
    text: `Fixes a Gen3 device (Argon, Boron, B SoM, B5 SoM, Tracker, Xenon) on Device OS below 4.0 that blinks dark blue because its setup-done flag is not set. Exactly one byte is written, the setup-done byte at DCT offset 8134, and read back; nothing is written when it already holds the wanted value or where the flag does not apply (Device OS 4.0+, P2 / Photon 2 / M SoM, Gen2).

Methods: "usb" sends control request 73 and then leaves Listening Mode (request 71), like \`particle usb setup-done\`; when the firmware does not answer it asks for Safe Mode (request 60) itself and writes there. "dfu" restarts the device in DFU mode (request 50), writes the byte with DfuSe as dfu-util does (no erase), reads it back and restarts the device. "auto" (default) picks dfu for a device in DFU mode, else usb.

Ctrl-C starts no new device and lets those under way reach a safe state (a device this run put into DFU mode leaves it; a write under way completes and is read back), then says what was done to each; a second Ctrl-C quits at once.`,
  },
  'shell-init': {
    examples: ({profileFile: profile = (shell) => `your ${shell} profile`}) => [
      {after: ')"', before: 'eval "$(', command: 'shell-init bash', description: `bash: put this line in ${profile('bash')}, then \`particle setup-flag get\` works`},
      {after: ')"', before: 'eval "$(', command: 'shell-init zsh', description: `zsh: put this line in ${profile('zsh')}`},
      {after: ' | source', command: 'shell-init fish', description: `fish: put this line in ${profile('fish')}`},
      {after: ' | Out-String | Invoke-Expression', command: 'shell-init powershell', description: 'PowerShell: put this line in $PROFILE'},
      {command: 'shell-init bash', description: 'Just look at the function'},
    ],
    line: 'Make `particle setup-flag ...` work beside the Particle CLI',
    summary: 'Print a shell function so that `particle setup-flag ...` works next to the official Particle CLI.',
    text: `For people who also use the official Particle CLI and want to type \`particle setup-flag get\`: prints a small shell function named \`particle\` that sends \`particle setup-flag ...\` to \`particle-setup-flag setup-flag ...\`, and every other command, with its arguments and exit status untouched, to the real \`particle\` (through \`command particle\` in bash, zsh and fish; through the application Get-Command finds in PowerShell).

Nothing is installed and the official CLI is not modified: add the line from the examples to your shell profile, and delete it to undo.`,
  },
  virtual: {
    examples: () => [
      {command: 'virtual press safe-mode', description: 'Put the only virtual device in Safe Mode, as the doctor asks'},
      {command: 'virtual press dfu e00fce681a2b3c4d5e6f7a01', description: 'Put one device of several in DFU mode'},
      {command: 'virtual press unplug,plug e00fce681a2b', description: 'Unplug a device and plug it in again, named by the start of its ID'},
      {before: 'PARTICLE_VIRTUAL_DEVICES=blocked-boron ', command: 'virtual press safe-mode', description: 'Press on the bundled example the doctor runs on in another terminal'},
    ],
    line: "Press a virtual device's buttons, to try it all without hardware",
    summary: 'Press the buttons of a virtual device (Safe Mode, DFU mode, RESET) or unplug and plug it.',
    text: `Does to a virtual device (PARTICLE_VIRTUAL_DEVICES) what hands do to a real one, so that everything the doctor asks can be done without hardware: "safe-mode" holds MODE and RESET, releases RESET, and releases MODE when the LED blinks magenta (Safe Mode); "dfu" holds MODE through a tap of RESET and releases it at yellow (DFU mode); "reset" taps RESET; "unplug" and "plug" pull its USB cable and put it back (without power its buttons do nothing); "replug" is unplug then plug. Several presses run in order; they may be joined by commas.

The device: its ID, the first 6 or more digits of its ID, or its name in the devices file; it may be left out when the file holds one device. A process that has the file open (the doctor waiting for the buttons) sees the press at once: the device leaves USB and comes back in its new mode.

With a bundled example (PARTICLE_VIRTUAL_DEVICES=blocked-boron), it presses on the copy that the runs using the example share while one runs: start the doctor in one terminal, and press in another.`,
  },
  web: {
    examples: () => [
      {command: 'web', description: 'Serve the web doctor on this computer and open it in the browser'},
      {command: 'web --port 8080 --no-open', description: 'On a port of your choice, without opening a browser'},
    ],
    line: 'The doctor in a browser (Chrome or Edge), served on this computer',
    summary: 'Serve the web doctor (the same fix, in Chrome or Edge) on this computer.',
    text: `Serves the web doctor on http://127.0.0.1 (a free port, or --port) and opens it in your browser (--no-open: only print the address). The page is the doctor in a browser, built from the same code: it reads a device's setup-done flag over WebUSB, names the cause, fixes it (one byte, read back), restarts the device and checks; where the firmware does not answer it shows the Safe Mode and DFU button steps with the LED to wait for. It needs Chrome or Edge (WebUSB), sends nothing anywhere but to the device, and its "virtual devices" rehearse the whole fix without hardware.

127.0.0.1 is a secure context, where browsers offer WebUSB; served from another machine over plain http it would not be. The page is static (dist/web): any HTTPS host can publish it. Ctrl-C stops the server.`,
  },
}

/** A command's help for oclif: its examples as oclif's own help (an oclif host's) renders them. */
export function commandHelp(command: CommandName, facts: HelpFacts = {}): CommandHelp {
  const d = DESCRIPTIONS[command]
  const examples = d.examples(facts).map((e) => ({command: exampleLine(e, TEMPLATE), description: e.description}))
  return {description: `${d.text}\n\n${exitHelp(command)}`, examples, summary: d.summary}
}

/** A command's examples in their neutral form, for our own help to compose with the CLI the person typed. */
export function helpExamples(command: CommandName, facts: HelpFacts = {}): Example[] {
  return DESCRIPTIONS[command].examples(facts)
}

/** The root help lists the commands in this order: the doctor first, for a person whose device blinks dark blue. */
export const ROOT_ORDER: readonly CommandName[] = ['doctor', 'get', 'set', 'audit', 'web', 'shell-init', 'virtual']

export interface RootHelp {
  /** Each command and its one line, in ROOT_ORDER. */
  commands: Array<[CommandName, string]>
  /** What follows the list: a few words, and the command they are about. */
  more: Array<{command: string; text: string}>
  /** The line under the summary. */
  lead: string
  summary: string
  usage: string
}

/** The root help (`particle-setup-flag --help`): what the tool is, the way in, the commands with one line each. */
export function rootHelp(cli: Cli): RootHelp {
  return {
    commands: ROOT_ORDER.map((c) => [c, DESCRIPTIONS[c].line]),
    lead: `Device blinking dark blue? Run: ${commandLine(cli, 'doctor')}`,
    more: [
      {command: commandLine(cli, 'COMMAND --help'), text: "A command's flags and examples:"},
      {command: `PARTICLE_VIRTUAL_DEVICES=mixed-bench ${commandLine(cli, 'get')}`, text: 'Try it without hardware, on bundled example devices:'},
    ],
    summary: 'Read, set and fix the Gen3 setup-done flag of Particle devices stuck blinking dark blue.',
    usage: commandLine(cli, 'COMMAND'),
  }
}

/** `--timeout` is about what the command talks to: a device (get, set, doctor) or the Particle Cloud (audit). */
export const TIMEOUT_HELP = {
  cloud: 'Seconds to wait for the Particle Cloud to answer one request (15 when not given).',
  device: 'Seconds to wait for a device to answer one request before giving up.',
} as const

/** The README's exit-status table, as the one exit table makes it (test/ux/readme.test.ts holds the README to it). */
export function exitTableMarkdown(): string {
  const rows = Object.entries(EXIT_TABLE).map(([status, row]) => `| ${status} | ${row.meaning} | ${row.commands.length === COMMANDS.length ? 'all' : row.commands.join(', ')} |`)
  return ['| status | meaning | commands |', '| --- | --- | --- |', ...rows].join('\n')
}
