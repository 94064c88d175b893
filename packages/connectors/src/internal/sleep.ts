import type { Clock } from '@weir/core'

/**
 * A wait on an injected clock that `close()` cuts short, so a reader stopped while it waits for new
 * data (a file to appear, a tweet to fall due) returns at once instead of at its next timeout.
 */
export class Sleeper {
  private wake: (() => void) | undefined
  private closed = false

  constructor(private readonly clock: Clock) {}

  /** Resolves after ms on the clock, or at once when closed. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const cancel = this.clock.setTimeout(() => {
        this.wake = undefined
        resolve()
      }, ms)
      this.wake = () => {
        cancel()
        this.wake = undefined
        resolve()
      }
    })
  }

  /** Ends the current wait and every later one. */
  close(): void {
    this.closed = true
    this.wake?.()
  }
}
