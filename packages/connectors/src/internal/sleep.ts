import type { Clock } from '@weir/core'

/**
 * A wait on an injected clock that `close()` cuts short, so a reader stopped while it waits for new
 * data (a file to appear, a tweet to fall due) returns at once instead of at its next timeout.
 */
export class Sleeper {
  private waking: (() => void) | undefined
  private closed = false
  /** `wake()` came while nothing waited: the next wait ends at once. */
  private woken = false

  constructor(private readonly clock: Clock) {}

  /** Resolves after ms on the clock, or at once when closed. */
  sleep(ms: number): Promise<void> {
    if (this.closed || this.woken) {
      this.woken = false
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const cancel = this.clock.setTimeout(() => {
        this.waking = undefined
        resolve()
      }, ms)
      this.waking = () => {
        cancel()
        this.waking = undefined
        resolve()
      }
    })
  }

  /** Ends the current wait, or the next one if none is under way. */
  wake(): void {
    if (this.waking) this.waking()
    else this.woken = true
  }

  /** Ends the current wait and every later one. */
  close(): void {
    this.closed = true
    this.waking?.()
  }
}
