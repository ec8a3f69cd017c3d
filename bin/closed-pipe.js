// A reader that closes our stdout or stderr early (`particle-setup-flag get | head -1`) is not a crash.
//
// Without this, the next write fails with EPIPE: oclif ignores the error on stdout, but its final flush() then
// waits for a 'drain' that never comes, the event loop empties under the top-level await of bin/run.js, and Node
// exits 13 ("unsettled top-level await"), a status in no table; on stderr the error is not handled at all.
//
// Here, loaded before anything else, the first EPIPE on either stream:
// - silences that stream: later writes are dropped (their callbacks still run, and a pending flush() is released),
//   so nothing more is printed about it and no stack trace can come of it;
// - asks the run to stop as SIGTERM would, when it listens for SIGTERM (the station of `set --watch`, the wait of
//   `--wait-online`): nobody reads what it goes on producing, yet a device it has started on is brought to a safe
//   state by the same path as a signal, instead of being dropped mid-write. A run without such a listener simply
//   finishes what it does, silently, as it would have;
// - makes the exit status 141, the status a shell gives a pipeline member ended by SIGPIPE (128 + 13): scripts
//   that run with `set -o pipefail` already treat it as "the reader left early", and it never claims that
//   everything was delivered (0 would). A failure the run met before (its own status, 1 to 9) takes precedence:
//   it says more. The README's exit-status table documents both.
// Node itself ignores SIGPIPE, so EPIPE is the only way a closed pipe shows.

export const CLOSED_PIPE_EXIT = 141
const INTERRUPTED = 130

let closed = false

/** Watch both output streams of this process (once). */
export function endQuietlyOnClosedPipe(proc = process) {
  for (const stream of [proc.stdout, proc.stderr]) {
    stream.on('error', (error) => {
      if (error?.code !== 'EPIPE') throw error
      silence(stream)
      if (closed) return
      closed = true
      proc.on('exit', () => {
        const status = proc.exitCode === undefined ? 0 : Number(proc.exitCode)
        if (status === 0 || status === INTERRUPTED) proc.exitCode = CLOSED_PIPE_EXIT
      })
      if (proc.listenerCount('SIGTERM') > 0) proc.emit('SIGTERM', 'SIGTERM')
    })
  }
}

/** Drop every later write to `stream`, calling its callback, and release anyone waiting for it to drain. */
function silence(stream) {
  stream.write = (_chunk, encoding, callback) => {
    const done = typeof encoding === 'function' ? encoding : callback
    if (typeof done === 'function') process.nextTick(done)
    return true
  }
  stream.emit('drain')
}
