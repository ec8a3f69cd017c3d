/** The words of each kind of step (setup-flag/steps.ts): the one place they are written. */
import {type Step} from '../setup-flag/steps.js'
import {hex} from '../words.js'

type Words = {[K in Step['kind']]: (s: Extract<Step, {kind: K}>) => string}

const LATE = {dfu: 'in DFU mode', online: 'to reconnect to the cloud', safe: 'in Safe Mode'}

const WORDS: Words = {
  // Dry run: what would happen.
  'would-leave-dfu': () => 'Would leave DFU mode, then write with control request 73.',
  'would-write-control': (s) => `Would write ${hex(s.byte)} with control request 73${s.stopListening ? ', then stop Listening Mode (request 71)' : ''}.`,
  'would-write-dfu': (s) => `Would write ${hex(s.byte)} at DCT 8134 (alt 1) and leave DFU mode.`,
  'would-enter-dfu': (s) => `Would restart the device in DFU mode (request 50), write ${hex(s.byte)} at DCT 8134 if it differs, and leave DFU mode.`,
  'would-enter-dfu-serial': (s) =>
    `Would restart the device in DFU mode through its serial line (line coding 14400: Device OS below 0.9.0 has no USB control requests), write ${hex(s.byte)} at DCT 8134 if it differs, and leave DFU mode.`,
  'would-flash': (s) => `Would compile a preparatory firmware for ${s.platform} on Device OS ${s.version}, flash it over the air, and wait for the event ${s.event}.`,

  // Deciding.
  'not-applicable': () => 'Nothing written: the flag does not apply here.',
  'not-applicable-downgrade': () => 'Nothing written: the flag does not apply here (for a planned downgrade below 4.0, --force --method dfu writes it).',
  'not-applicable-protected': () => 'Nothing written: the device is protected, and the flag does not exist on its Device OS.',
  already: (s) => `Nothing written: the flag is already ${s.done ? 'set' : 'not set'}.`,
  forced: (s) => `--force: writing although ${s.noEffect ? 'the flag has no effect on this device' : 'the Device OS version is unknown'}.`,
  'late-write-landed': () => 'The earlier write request (73) has landed: the flag now reads as wanted.',

  // Writing and reading back.
  writing: (s) => `Writing ${hex(s.byte)} to the setup-done byte (DCT offset 8134).`,
  'write-pending': () => 'The write request (73) did not complete in time; the device may still carry it out later, so the byte is unknown until read back.',
  'read-back': (s) => `Read back: the flag is ${s.done ? 'set' : 'not set'}.`,
  'read-back-byte': (s) => `Read back ${hex(s.byte)}.`,
  'no-effect': () => 'Request 73 accepted; on this device it has no effect.',
  'downgrade-written': () => 'Written for a planned downgrade: Device OS 4.0 and later ignore the byte; below 4.0 it decides whether the device boots into Listening Mode.',

  // Modes: leaving DFU, Listening Mode, Safe Mode, restarts.
  'left-dfu-for-control': () => 'Left DFU mode to use control requests.',
  'left-dfu': () => 'Left DFU mode.',
  'stopped-listening': () => 'Stopped Listening Mode (request 71).',
  'listening-at-reset': () => 'The device will enter Listening Mode at its next reset.',
  'late-reset-wait': (s) =>
    `The request did not complete in time; the device may still carry it out once its firmware frees up, so waiting for it to restart ${LATE[s.mode]} instead of asking again.`,
  'aborting-connection': () =>
    'The device firmware does not complete USB requests; aborting its connection attempt (raw request 302, which keeps it off the cloud until it restarts) and trying again.',
  'off-cloud': () => 'Raw request 302 took the device off the cloud: it reconnects when it restarts (tap RESET).',
  'not-restarted-off-cloud': () => 'The device did not restart: it stays off the cloud until it does (tap RESET).',
  'restarted-online': () => 'Restarted the device (request 40) so it connects to the cloud again.',
  'asking-safe-mode': () => 'The device firmware does not complete USB requests; asking it to restart in Safe Mode (request 60).',
  'restarted-safe-mode': () => 'The device restarted in Safe Mode.',
  'left-safe-mode': () => 'Restarted the device to leave Safe Mode (request 40).',
  'asked-dfu': () => 'Asked the device to restart in DFU mode (request 50).',
  'asked-dfu-serial': () => 'Device OS below 0.9.0 has no USB control requests: restarted the device in DFU mode through its serial line (line coding 14400).',
  'restarted-listening': () => 'The device restarted and is still in Listening Mode: something else keeps it there.',
  'restarted-normal': () => 'The device restarted in normal mode.',
  'restarted-unconfirmed': () => 'The device restarted; its mode could not be confirmed (its firmware is not answering requests).',
  'restarted-off-usb': () =>
    'The device restarted and left USB: below 0.8.0-rc.27 Device OS is on USB only while it listens or an application uses USB serial, so it does not listen.',
  'restarted-no-requests': () =>
    'The device restarted; Device OS below 0.9.0 cannot be asked whether it listens (its LED tells: breathing cyan or green once set up, not blinking dark blue).',

  // Over the air.
  'flash-not-applicable': () => 'Nothing flashed: the flag does not apply here.',
  'flash-cancelled': () => 'Cancelled: nothing flashed.',
  compiled: (s) => `Compiled the preparatory firmware for ${s.platform} on Device OS ${s.version} (${s.bytes} bytes).`,
  online: (s) => (s.how === 'safe-mode' ? `${s.who} came online in Safe Mode.` : s.how === 'online' ? `${s.who} came online.` : `${s.who} is online.`),
  flashed: () => 'Flashed it over the air.',
  reported: (s) => `The device reported ${s.data}.`,
  'restore-failed': (s) => `Flashing the production firmware back (${s.file}) failed: the device still runs the preparatory firmware.`,
  restored: (s) => `Flashed the production firmware back (${s.file}).`,
  'restore-reminder': () => 'Now flash your production firmware back, e.g. `particle flash <device> <firmware.bin>`: the device runs only the preparatory firmware until then.',
}

export function stepText(s: Step): string {
  return (WORDS[s.kind] as (s: Step) => string)(s)
}
