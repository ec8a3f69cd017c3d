/**
 * Ctrl-C and SIGTERM as an AbortSignal, for the time a piece of work runs: the handlers live only while `fn` runs
 * (the process-wide signal handling of a whole run is in the command that owns it).
 */
export async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return twoStage(fn, () => {})
}


/**
 * The first Ctrl-C (or SIGTERM) aborts the signal `fn` gets, so it starts nothing new and finishes what is under way;
 * a second one calls `now` (which says what may be left half-done and ends the process).
 */
export async function twoStage<T>(fn: (signal: AbortSignal) => Promise<T>, now: () => void): Promise<T> {
  const ac = new AbortController()
  const onSignal = () => (ac.signal.aborted ? now() : ac.abort())
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await fn(ac.signal)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
