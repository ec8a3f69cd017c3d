/**
 * Time, injectable. Everything that waits (polling back-off, deadlines, re-enumeration, the virtual device's
 * reboot delays) asks a Clock, so tests run on a fake clock and never sleep for real.
 */
export interface Clock {
  now(): number
  /** Resolve after `ms`; reject with the signal's reason if it is aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /** Run `fn` after `ms`; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void
}

/** Node's timers hold at most 2^31-1 ms (24.8 days); a longer one fires at once, with a warning. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** setTimeout for any delay: a long one is re-armed in steps the timer can hold. */
function setLongTimeout(ms: number, fn: () => void): () => void {
  let t: ReturnType<typeof setTimeout>
  const arm = (left: number) => {
    t = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(Math.max(left, 0), MAX_TIMER_MS))
  }
  arm(ms)
  return () => clearTimeout(t)
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    return setLongTimeout(ms, fn)
  },
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const cancel = setLongTimeout(ms, () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      })
      const onAbort = () => {
        cancel()
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, {once: true})
    })
  },
}

interface Timer {
  at: number
  fn: () => void
  seq: number
}

/**
 * A discrete-event clock for tests. Timers fire in time order; when `auto` is on (the default) the clock jumps
 * to the next timer as soon as the process has nothing else to do (after pending I/O and microtasks), so a
 * 60-second deadline over a device that never answers takes no real time, and the order of events stays exactly
 * what real time would give.
 */
export class FakeClock implements Clock {
  private current: number
  private seq = 0
  private timers: Timer[] = []
  private driving = false

  constructor(start = 0, private readonly auto = true) {
    this.current = start
  }

  /** Advance by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms
    for (;;) {
      const next = this.timers[0]
      if (!next || next.at > target) break
      this.timers.shift()
      this.current = Math.max(this.current, next.at)
      next.fn()
      await new Promise((r) => setImmediate(r))
    }
    this.current = target
  }

  now(): number {
    return this.current
  }

  get pending(): number {
    return this.timers.length
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: Timer = {at: this.current + Math.max(0, ms), fn, seq: this.seq++}
    const i = this.timers.findIndex((t) => t.at > timer.at)
    if (i === -1) this.timers.push(timer)
    else this.timers.splice(i, 0, timer)
    this.drive()
    return () => {
      const j = this.timers.indexOf(timer)
      if (j !== -1) this.timers.splice(j, 1)
    }
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const cancel = this.setTimer(ms, () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      })
      const onAbort = () => {
        cancel()
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, {once: true})
    })
  }

  private drive(): void {
    if (!this.auto || this.driving) return
    this.driving = true
    const step = () => {
      // Let everything that is not waiting on the clock run first (two turns: I/O callbacks, then immediates).
      setImmediate(() =>
        setImmediate(() => {
          const next = this.timers.shift()
          if (!next) {
            this.driving = false
            return
          }
          this.current = Math.max(this.current, next.at)
          next.fn()
          step()
        }),
      )
    }
    step()
  }
}
