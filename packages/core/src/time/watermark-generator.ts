import { ConfigError } from '../errors.js'

/**
 * The watermark of one split under bounded out-of-orderness: `maxEventTimeSeen - delay`. A source
 * observes every record of a polled batch, then emits `current` once, after the batch (never per
 * record, so records of one batch are never late against each other, as in Spark's micro-batches).
 *
 * `current` is -Infinity before any record and never decreases, because the maximum never does.
 *
 * @example
 * ```ts
 * const wm = new BoundedOutOfOrderness({ delay: 10_000 })
 * for (const r of batch) wm.observe(r.timestamp ?? NaN)
 * wm.current  // max timestamp of the batch - 10 s
 * ```
 */
export class BoundedOutOfOrderness {
  readonly delay: number
  private maxSeen = -Infinity

  constructor(options: { delay: number }) {
    if (!Number.isSafeInteger(options.delay) || options.delay < 0) {
      throw new ConfigError(
        `watermark delay ${String(options.delay)} is not a whole number of milliseconds >= 0: write e.g. 600000, or parseDuration('10 minutes')`,
      )
    }
    this.delay = options.delay
  }

  /** Takes one event time into account; NaN (a record without a time) is ignored. */
  observe(t: number): void {
    if (t > this.maxSeen) this.maxSeen = t
  }

  /** The watermark: no record with an earlier time is expected any more. */
  get current(): number {
    return this.maxSeen - this.delay
  }
}
