/**
 * Device OS result codes (`system_error_t`, docs/protocol.md §2.12): one table, as particle-usb's
 * `result.js` keeps one. `id` is how our code names a value; `name` is Device OS's own name (SYSTEM_ERROR_<name>),
 * the word our messages print. Pure facts: this file imports nothing.
 */
export const RESULTS = [
  {id: 'OK', name: 'NONE', value: 0},
  {id: 'UNKNOWN', name: 'UNKNOWN', value: -100},
  {id: 'BUSY', name: 'BUSY', value: -110},
  {id: 'NOT_SUPPORTED', name: 'NOT_SUPPORTED', value: -120},
  {id: 'NOT_ALLOWED', name: 'NOT_ALLOWED', value: -130},
  {id: 'CANCELLED', name: 'CANCELLED', value: -140},
  {id: 'ABORTED', name: 'ABORTED', value: -150},
  {id: 'TIMEOUT', name: 'TIMEOUT', value: -160},
  {id: 'NOT_FOUND', name: 'NOT_FOUND', value: -170},
  {id: 'INVALID_STATE', name: 'INVALID_STATE', value: -210},
  {id: 'FLASH_IO', name: 'FLASH_IO', value: -219},
  {id: 'IO', name: 'IO', value: -220},
  {id: 'NO_MEMORY', name: 'NO_MEMORY', value: -260},
  {id: 'INVALID_ARGUMENT', name: 'INVALID_ARGUMENT', value: -270},
  {id: 'BAD_DATA', name: 'BAD_DATA', value: -280},
  {id: 'PROTECTED', name: 'PROTECTED', value: -1801},
] as const

type ResultRow = (typeof RESULTS)[number]

/** `Result.OK`, `Result.PROTECTED`, ...: the values by id, for code that sends or checks them. */
export const Result = Object.fromEntries(RESULTS.map((r) => [r.id, r.value])) as {[R in ResultRow as R['id']]: R['value']}

const NAMES = new Map<number, string>(RESULTS.map((r) => [r.value, r.name]))

/** Device OS's name for a result code ("error" for one not in the table). */
export function resultName(result: number): string {
  return NAMES.get(result) ?? 'error'
}
