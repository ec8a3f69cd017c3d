/**
 * What an operation did to a device, step by step, as records (`{kind, ...data}`): code reads them by kind, and
 * the text layer (text/steps.ts) puts each kind into words. Never English here (docs/architecture.md, "Words").
 */

/** A mode a device restarts into, or the reason we wait for a late restart. */
export type RestartMode = 'dfu' | 'online' | 'safe'

/** How a device in the field came online (the field rescue). */
export type OnlineHow = 'already' | 'online' | 'safe-mode'

export type Step =
  // Dry run: what would happen.
  | {kind: 'would-leave-dfu'}
  | {byte: number; kind: 'would-write-control'; stopListening: boolean}
  | {byte: number; kind: 'would-write-dfu'}
  | {byte: number; kind: 'would-enter-dfu'}
  | {byte: number; kind: 'would-enter-dfu-serial'}
  | {event: string; kind: 'would-flash'; platform: string; version: string}
  // Deciding.
  | {kind: 'not-applicable' | 'not-applicable-downgrade' | 'not-applicable-protected' | 'late-write-landed'}
  | {done: boolean; kind: 'already'}
  | {kind: 'forced'; noEffect: boolean}
  // Writing and reading back.
  | {byte: number; kind: 'writing'}
  | {kind: 'write-pending' | 'no-effect' | 'downgrade-written'}
  | {done: boolean; kind: 'read-back'}
  | {byte: number; kind: 'read-back-byte'}
  // Modes: leaving DFU, Listening Mode, Safe Mode, restarts.
  | {kind: 'left-dfu-for-control' | 'left-dfu' | 'stopped-listening' | 'listening-at-reset'}
  | {kind: 'late-reset-wait'; mode: RestartMode}
  | {kind: 'aborting-connection' | 'off-cloud' | 'not-restarted-off-cloud' | 'restarted-online'}
  | {kind: 'asking-safe-mode' | 'restarted-safe-mode' | 'left-safe-mode' | 'asked-dfu' | 'asked-dfu-serial'}
  | {kind: 'restarted-listening' | 'restarted-normal' | 'restarted-unconfirmed' | 'restarted-no-requests' | 'restarted-off-usb'}
  // Over the air.
  | {kind: 'flash-not-applicable' | 'flash-cancelled' | 'flashed' | 'restore-reminder'}
  | {bytes: number; kind: 'compiled'; platform: string; version: string}
  | {how: OnlineHow; kind: 'online'; who: string}
  | {data: string | undefined; kind: 'reported'}
  | {file: string; kind: 'restore-failed'}
  | {file: string; kind: 'restored'}

export type StepKind = Step['kind']

/** The dry-run steps: what would have been done. */
export const WOULD: readonly StepKind[] = ['would-leave-dfu', 'would-write-control', 'would-write-dfu', 'would-enter-dfu', 'would-enter-dfu-serial', 'would-flash']

/** Steps a person should read beside "flag set": the device's mode changed, or will at its next reset. */
export const MODE_CHANGES: readonly StepKind[] = [
  'stopped-listening',
  'listening-at-reset',
  'restarted-online',
  'restarted-safe-mode',
  'left-safe-mode',
  'restarted-listening',
  'restarted-normal',
  'restarted-unconfirmed',
  'restarted-no-requests',
  'restarted-off-usb',
  'downgrade-written',
]

/** The steps of these kinds, in order. */
export function stepsOf(steps: readonly Step[], kinds: readonly StepKind[]): Step[] {
  return steps.filter((s) => kinds.includes(s.kind))
}

export function hasStep(steps: readonly Step[], kinds: readonly StepKind[]): boolean {
  return steps.some((s) => kinds.includes(s.kind))
}
