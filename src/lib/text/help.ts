/**
 * Each command's help: its summary, description and examples, with the exit statuses made from the one exit
 * table (exits.ts), so help, README and code cannot disagree.
 */
import {type CommandName, COMMANDS, EXIT_TABLE, type ExitCode} from '../exits.js'

export interface Example {
  command: string
  description: string
}

export interface CommandHelp {
  description: string
  examples: Example[]
  summary: string
}

const bin = '<%= config.bin %> <%= command.id %>'

/** What 0 means for each command, and how each status reads there when it differs from the table's words. */
const SUCCESS: Record<CommandName, string> = {
  audit: '0 when every device was read',
  doctor: '0 when the doctor finished (fixed, nothing to fix, or another cause named)',
  get: "0 when every device was read (whatever the flag's value)",
  set: '0 when every device is as asked',
  'shell-init': '0',
  web: '0 when stopped with Ctrl-C',
}

const OWN: Partial<Record<CommandName, Partial<Record<ExitCode, string>>>> = {
  audit: {7: 'the cloud failed (not logged in, unknown product, or some devices not read: the output still lists those read)'},
  doctor: {2: 'bad input, or no terminal without --yes', 6: 'the device did not answer', 7: 'cloud'},
  'shell-init': {2: 'for a missing or unknown shell'},
  web: {1: 'the page is not built (or a bug)', 2: 'bad input, or the --port is in use'},
  set: {3: 'no device or several without a choice', 6: 'a device did not answer'},
  get: {6: 'a device did not answer'},
}

/** "Exit status: 0 when …; 2 bad input, 3 no device, …" for one command, from the exit table. */
export function exitHelp(command: CommandName): string {
  const rows = Object.entries(EXIT_TABLE)
    .filter(([status, row]) => status !== '0' && row.commands.includes(command))
    .map(([status, row]) => `${status} ${OWN[command]?.[Number(status) as ExitCode] ?? row.help}`)
  return `Exit status: ${SUCCESS[command]}${rows.length > 0 ? `; ${rows.join(', ')}` : ''}.`
}

const DESCRIPTIONS: Record<CommandName, {examples: Example[]; summary: string; text: string}> = {
  audit: {
    examples: [
      {command: bin, description: 'Audit every device of your account'},
      {command: `${bin} --product my-fleet --risk at-risk`, description: 'The devices of a product that can get stuck'},
      {command: `${bin} --product 12345 --csv > fleet.csv`, description: 'A spreadsheet of a whole product'},
      {command: `${bin} --product 12345 --online --json`, description: 'Online devices only, for scripts'},
      {command: `${bin} my-boron e00fce681a2b3c4d5e6f7a8b`, description: 'Named devices'},
    ],
    summary: 'Audit a fleet: which devices can get stuck on the setup-done flag, and the lasting fix for each.',
    text: `Lists which devices of a fleet can get stuck blinking dark blue because of the setup-done flag, from what the Particle Cloud knows of each (platform and Device OS version), and what to do about each. Read-only: it never changes a device or the cloud.

Risk: "at-risk" is an nRF52840 Gen3 device (Argon, Boron, B SoM, B5 SoM, Tracker, E SoM X, A SoM) below Device OS 4.0: a settings reset or an unfinished USB setup sends it to Listening Mode. "cannot-upgrade" is a mesh-only device (Xenon, X SoM) that never got Device OS 4.0: the flag is its permanent condition. "safe" is Device OS 4.0 or later, Realtek (P2 / Photon 2, M SoM) or Gen2, with the reason. "unknown" is a device that has not reported its Device OS yet.

The lasting fix for an at-risk device is Device OS 4.0 or later (which has no flag): product devices follow a product firmware release built for 4.x (development devices ignore releases), developer devices are flashed with firmware targeting 4.x; the cloud then upgrades Device OS through Safe Mode. A later downgrade below 4.0 brings the flag back.

Product lists are read page by page with at most --parallel requests in flight, pausing as long as a 429 answer's Retry-After asks; a page that keeps failing is reported (and counted as not read), never dropped.`,
  },
  doctor: {
    examples: [
      {command: bin, description: 'Walk through the fix for the connected device'},
      {command: `${bin} my-argon`, description: 'A named device'},
      {command: `${bin} --yes --json`, description: 'Unattended, with a JSON report'},
    ],
    summary: 'Walk through fixing a device that blinks dark blue.',
    text: `A guided fix for a device that blinks dark blue, from plug-in to verified: it finds the device (and waits for you to plug it in), identifies it (platform, mode, LED, Device OS version), diagnoses whether the setup-done flag is the cause, fixes it with your consent (a USB control request; Safe Mode when the firmware does not answer, with the button steps; DFU mode as a last resort), restarts the device and checks that it no longer listens, and sums up what was wrong, what was done and what to do if it happens again.

It asks before it writes. --yes takes every recommended action without asking, for scripts and support staff; without a terminal, --yes is required. --json prints a report of every step.`,
  },
  get: {
    examples: [
      {command: bin, description: 'Read every connected device'},
      {command: `${bin} e00fce681a2b3c4d5e6f7a8b`, description: 'Read one device'},
      {command: `${bin} --json`, description: 'Machine-readable output for scripts'},
      {command: `PARTICLE_VIRTUAL_DEVICES=mixed-bench ${bin}`, description: 'Try it without hardware, on the bundled example devices (mixed-bench, stuck-argon, blocked-boron)'},
    ],
    summary: 'Read the setup-done flag of connected devices.',
    text: `Reads the one-byte "setup done" flag that Gen3 devices (Argon, Boron, B SoM, B5 SoM, Tracker, Xenon) on Device OS below 4.0 keep in their configuration flash (DCT offset 8134). While it is not set, the device boots into Listening Mode and blinks dark blue.

Works in normal, listening and safe mode (control request 74, plus the Device OS version over USB) and in DFU mode (a one-byte DfuSe read, plus the version from the system part's header). Nothing is ever written. On Device OS 4.0 and later, on P2 / Photon 2 / M SoM and on Gen2 devices the flag does not exist, and the output says so and why.`,
  },
  set: {
    examples: [
      {command: bin, description: 'Fix the one connected device'},
      {command: `${bin} my-boron --method dfu`, description: 'Fix a named device over DFU'},
      {command: `${bin} --all --json`, description: 'Fix every connected device, for a production line'},
      {command: `${bin} --dry-run`, description: 'Say what would be done, touch nothing'},
      {command: `${bin} e00fce681a2b3c4d5e6f7a8b --not-done`, description: 'Clear the flag again (the device listens after its next reset)'},
      {command: `${bin} --watch --json`, description: 'Manufacturing station: fix each device the moment it is plugged in, one JSON line per device; Ctrl-C sums up'},
      {
        command: `${bin} field-boron --method firmware --wait-online 3600 --restore production.bin`,
        description: 'Field rescue: print the card for the person on site, flash the moment the device comes online, then flash production back',
      },
    ],
    summary: 'Set the setup-done flag so the device stops blinking dark blue.',
    text: `Fixes a Gen3 device (Argon, Boron, B SoM, B5 SoM, Tracker, Xenon) on Device OS below 4.0 that blinks dark blue because its setup-done flag is not set. Exactly one byte is written, the setup-done byte at DCT offset 8134, and read back; nothing is written when it already holds the wanted value or where the flag does not apply (Device OS 4.0+, P2 / Photon 2 / M SoM, Gen2).

Methods: "usb" sends control request 73 and then leaves Listening Mode (request 71), like \`particle usb setup-done\`; when the firmware does not answer it asks for Safe Mode (request 60) itself and writes there. "dfu" restarts the device in DFU mode (request 50), writes the byte with DfuSe as dfu-util does (no erase), reads it back and restarts the device. "auto" (default) picks dfu for a device in DFU mode, else usb.

Ctrl-C starts no new device and lets those under way reach a safe state (a device this run put into DFU mode leaves it; a write under way completes and is read back), then says what was done to each; a second Ctrl-C quits at once.`,
  },
  'shell-init': {
    examples: [],
    summary: 'Print a shell function so that `particle setup-flag ...` works next to the official Particle CLI.',
    text: `For people who also use the official Particle CLI and want to type \`particle setup-flag get\`: prints a small shell function named \`particle\` that sends \`particle setup-flag ...\` to \`particle-setup-flag setup-flag ...\`, and every other command, with its arguments and exit status untouched, to the real \`particle\` (through \`command particle\` in bash, zsh and fish; through the application Get-Command finds in PowerShell).

Nothing is installed and the official CLI is not modified: add the line from the examples to your shell profile, and delete it to undo.`,
  },
  web: {
    examples: [
      {command: bin, description: 'Serve the web doctor on this computer and open it in the browser'},
      {command: `${bin} --port 8080 --no-open`, description: 'On a port of your choice, without opening a browser'},
    ],
    summary: 'Serve the web doctor (the same fix, in Chrome or Edge) on this computer.',
    text: `Serves the web doctor on http://127.0.0.1 (a free port, or --port) and opens it in your browser (--no-open: only print the address). The page is the doctor in a browser, built from the same code: it reads a device's setup-done flag over WebUSB, names the cause, fixes it (one byte, read back), restarts the device and checks; where the firmware does not answer it shows the Safe Mode and DFU button steps with the LED to wait for. It needs Chrome or Edge (WebUSB), sends nothing anywhere but to the device, and its "virtual devices" rehearse the whole fix without hardware.

127.0.0.1 is a secure context, where browsers offer WebUSB; served from another machine over plain http it would not be. The page is static (dist/web): any HTTPS host can publish it. Ctrl-C stops the server.`,
  },
}

export function commandHelp(command: CommandName): CommandHelp {
  const d = DESCRIPTIONS[command]
  return {description: `${d.text}\n\n${exitHelp(command)}`, examples: d.examples, summary: d.summary}
}

/** The README's exit-status table, as the one exit table makes it (test/ux/readme.test.ts holds the README to it). */
export function exitTableMarkdown(): string {
  const rows = Object.entries(EXIT_TABLE).map(([status, row]) => `| ${status} | ${row.meaning} | ${row.commands.length === COMMANDS.length ? 'all' : row.commands.join(', ')} |`)
  return ['| status | meaning | commands |', '| --- | --- | --- |', ...rows].join('\n')
}
