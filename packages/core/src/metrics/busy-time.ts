import { performance } from 'node:perf_hooks'

/** Something whose busy time is measured: an operator, source or sink instance. */
export interface BusyMeter {
  busyMs: number
}

/**
 * Measures how long each instance spends handling messages, per batch (never per record), as Flink's
 * `busyTimeMsPerSecond`. Chained instances call each other synchronously, so an instance's section
 * holds its downstream's sections; each instance is charged its own time only: the time of the
 * sections nested in it is taken off. One per job: sections of one job nest only in each other.
 *
 * It reads `performance.now()`, not the job's `Clock`: it measures the host's work, not event or
 * trigger time, so a manual clock in a test must not stop it.
 *
 * @example
 * ```ts
 * const start = busy.enter()
 * try { handle(message) } finally { busy.exit(this, start) }
 * ```
 */
export class BusyTime {
  /** Time of the sections nested in the open one, and of each enclosing one's nested sections. */
  private nested = 0
  private readonly stack: number[] = []

  /** Opens a section; returns its start, for `exit`. */
  enter(): number {
    this.stack.push(this.nested)
    this.nested = 0
    return performance.now()
  }

  /** Closes the section opened at `start` and charges its own time to `meter`. */
  exit(meter: BusyMeter, start: number): void {
    const elapsed = performance.now() - start
    meter.busyMs += elapsed - this.nested
    this.nested = (this.stack.pop() ?? 0) + elapsed
  }
}
