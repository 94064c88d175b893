import { WeirError } from '../errors.js'

/**
 * Wall-clock time, injected: anything that needs "now" or a timer (processing-time triggers, idle
 * timeouts) takes a `Clock`, so tests drive it with a `ManualClock` and never sleep.
 *
 * @example
 * ```ts
 * const cancel = clock.setTimeout(() => emitIdle(), idleTimeoutMs)
 * // data arrived in time:
 * cancel()
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Calls fn once, ms from now; returns a function that cancels it (harmless after it ran). */
  setTimeout(fn: () => void, ms: number): () => void
}

/**
 * The real clock: `Date.now()` and the global `setTimeout`. Timers keep the process alive (they are
 * not unref'd): a pending trigger is work still to do, and stopping a query cancels its timers.
 *
 * @example
 * ```ts
 * const started = systemClock.now()
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout(fn: () => void, ms: number): () => void {
    const handle = setTimeout(fn, ms)
    return () => clearTimeout(handle)
  },
})

interface Timer {
  readonly due: number
  readonly seq: number
  readonly fn: () => void
}

/**
 * A clock for tests: time stands still until the test moves it. `advance` runs the timers that fall
 * due, in time order (ties in the order they were set), each with `now()` equal to its due time;
 * a timer set while advancing runs too if it falls due within the span.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(1_000)
 * const seen: number[] = []
 * clock.setTimeout(() => seen.push(clock.now()), 500)
 * clock.advance(499)  // seen: []
 * clock.advance(1)    // seen: [1_500]
 * ```
 */
export class ManualClock implements Clock {
  private time: number
  private seq = 0
  /** Sorted by (due, seq). */
  private timers: Timer[] = []

  constructor(start = 0) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): () => void {
    // As Node does, a negative or NaN delay means "as soon as possible".
    const delay = ms > 0 ? ms : 0
    const timer: Timer = { due: this.time + delay, seq: this.seq++, fn }
    let i = this.timers.length
    while (i > 0 && this.timers[i - 1].due > timer.due) i--
    this.timers.splice(i, 0, timer)
    return () => {
      const at = this.timers.indexOf(timer)
      if (at !== -1) this.timers.splice(at, 1)
    }
  }

  /** Moves time forward by ms, running every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) {
      throw new WeirError(
        'invalid-argument',
        `ManualClock.advance(${ms}): time only moves forward; pass ms >= 0`,
      )
    }
    this.runUntil(this.time + ms)
  }

  /**
   * Sets the time to t. Forward, it runs the timers that fall due on the way, as `advance` does;
   * backward, it runs nothing (a wall clock may be set back), and timers keep their due times.
   */
  set(t: number): void {
    if (t >= this.time) this.runUntil(t)
    else this.time = t
  }

  /** How many timers are set and not yet run or cancelled. */
  get pendingTimers(): number {
    return this.timers.length
  }

  private runUntil(target: number): void {
    while (this.timers.length > 0 && this.timers[0].due <= target) {
      const timer = this.timers.shift() as Timer
      if (timer.due > this.time) this.time = timer.due
      timer.fn()
    }
    this.time = target
  }
}
