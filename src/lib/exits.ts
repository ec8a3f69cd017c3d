/**
 * Exit statuses: the one table. Each command's help is made from it (text/help.ts) and the README's table is tested
 * against it, so the three can never disagree (docs/architecture.md, "Words").
 */
export const EXIT = {
  OK: 0,
  UNEXPECTED: 1,
  USAGE: 2,
  NO_DEVICE: 3,
  USB_UNAVAILABLE: 4,
  USB_ACCESS: 5,
  DEVICE: 6,
  CLOUD: 7,
  WRITE: 8,
  PROTECTED: 9,
  DECLINED: 10,
  INTERRUPTED: 130,
  CLOSED_PIPE: 141,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export type CommandName = 'audit' | 'doctor' | 'get' | 'set' | 'shell-init' | 'virtual' | 'web'

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandName[] = ['audit', 'doctor', 'get', 'set', 'shell-init', 'virtual', 'web']

export interface ExitRow {
  /** The commands that end with it. */
  commands: readonly CommandName[]
  /** A few words for a command's help ("3 no device"). */
  help: string
  /** The README's words. */
  meaning: string
}

export const EXIT_TABLE: Record<ExitCode, ExitRow> = {
  0: {
    commands: ['get', 'set', 'doctor', 'audit', 'shell-init', 'virtual', 'web'],
    help: 'success',
    meaning: 'done: every device read, set as asked, or (doctor) fixed, nothing to fix, or another cause named; (web) the page served until Ctrl-C',
  },
  1: {
    commands: ['get', 'set', 'doctor', 'audit', 'shell-init', 'virtual', 'web'],
    help: 'a bug in this tool',
    meaning: "a bug in this tool (rerun with `DEBUG=*` and report it); (web) the page is not built (a clone without `npm run build`)",
  },
  2: {
    commands: ['get', 'set', 'doctor', 'audit', 'shell-init', 'virtual', 'web'],
    help: 'bad input',
    meaning: 'bad input: an unknown command or flag, a device ID that is not 24 hex digits, a malformed devices file; the doctor without a terminal and without `--yes`; (virtual) an unknown press, or PARTICLE_VIRTUAL_DEVICES not set; (web) a --port in use',
  },
  3: {
    commands: ['get', 'set', 'doctor', 'virtual'],
    help: 'no device',
    meaning: 'no device: nothing connected, the device named is not connected, several and none chosen; (virtual) no such device in the devices file, or a bundled example no run is using',
  },
  4: {commands: ['get', 'set', 'doctor'], help: 'no USB', meaning: 'no USB on this machine'},
  5: {commands: ['get', 'set', 'doctor'], help: 'USB permission', meaning: 'USB permission denied (the message prints the udev rule)'},
  6: {
    commands: ['get', 'set', 'doctor'],
    help: 'the device did not answer',
    meaning: 'a device did not answer properly (timeout, stall, unplugged mid-way); (set --wait-online) the device did not come online in time',
  },
  7: {
    commands: ['get', 'set', 'doctor', 'audit'],
    help: 'cloud',
    meaning: 'the Particle Cloud: not logged in (for a name), token rejected, unknown name or product, unreachable; (audit) some devices could not be read, the rest listed',
  },
  8: {commands: ['set', 'doctor'], help: 'the write did not take', meaning: 'a write did not take'},
  9: {commands: ['get', 'set', 'doctor'], help: 'Device Protection', meaning: 'Device Protection refuses the operation'},
  10: {
    commands: ['doctor'],
    help: 'not fixed: you declined the fix',
    meaning: 'not fixed: you declined the fix the doctor offered (it named the cause and the command that fixes it later)',
  },
  130: {
    commands: ['get', 'set', 'doctor', 'audit'],
    help: 'interrupted before the fix was done',
    meaning:
      'interrupted: Ctrl-C or SIGTERM, or the end of input at a question, before the fix was done (what had been done is printed; a flag already written and read back counts as fixed, 0); a second Ctrl-C (station); Ctrl-C while waiting for a device to come online (nothing flashed)',
  },
  141: {
    commands: ['get', 'set', 'doctor', 'audit', 'shell-init', 'virtual', 'web'],
    help: 'the output was cut (its reader closed it)',
    meaning:
      'the output was cut: whatever read stdout or stderr closed it early (`get | head -1`); nothing more is printed, the devices already started are finished (the station stops as on Ctrl-C). A shell reports 141 (128 + SIGPIPE) for a pipeline member whose reader left, so `set -o pipefail` scripts already know it, and it never claims everything was delivered as 0 would; a failure met before keeps its own status (1 to 9)',
  },
}
