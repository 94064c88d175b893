import { ConfigError } from '../errors.js'
import type { Window } from '../messages/messages.js'
import { formatDuration } from './duration.js'

/**
 * Assigns event times to windows. Windows are half-open, `[start, end)`, in ms since the epoch.
 *
 * Besides whole windows, an assigner knows **slices**: the pieces that windows are made of, such that
 * every point of a slice lies in exactly the same windows. An aggregate keeps one partial per slice and
 * combines a window from its slices, so a record is added once, not once per overlapping window.
 *
 * Every method is pure; `sliceOf` and `lastEnd` are called per record and do nothing but arithmetic.
 */
export interface WindowAssigner {
  readonly kind: 'tumbling' | 'sliding' | 'session'
  /** Window length in ms; for sessions, the gap. */
  readonly size: number
  /** Distance between window starts in ms; tumbling: = size; session: = gap. */
  readonly slide: number
  /** Where windows start, relative to the epoch, normalised into `[0, slide)`; session: 0. */
  readonly offset: number
  /** Every window that contains t, ordered by start ascending. Session: the proto-window `[t, t+gap)`. */
  assign(t: number): Window[]
  /**
   * The slice of t: the largest aligned interval whose points all belong to exactly the same windows.
   * Tumbling: the window. Sliding: length gcd(size, slide), aligned at offset. Session: `[t, t+gap)`.
   */
  sliceOf(t: number): Window
  /** The windows that contain a slice (start ascending). For sessions: `[slice]`. */
  windowsOfSlice(slice: Window): Window[]
  /** The start of every slice that makes up window w, ascending (session: `[w.start]`). */
  slicesOfWindow(w: Window): number[]
  /** The end of the last window containing t; t is late when `lastEnd(t) + allowedLateness <= watermark`. */
  lastEnd(t: number): number
  /** e.g. `'sliding 5 minutes every 1 minute'` */
  describe(): string
}

/**
 * Fixed-size windows that do not overlap: each record is in exactly one. `offset` shifts the grid away
 * from the epoch (e.g. `-1 hour` for days that start at 23:00 UTC); `|offset| < size`, and it is
 * normalised into `[0, size)`. Sizes are in ms: parse user text with `parseDuration` first.
 *
 * @example
 * ```ts
 * const hourly = tumblingWindows({ size: 3_600_000 })
 * hourly.assign(5_400_000)  // [{ start: 3_600_000, end: 7_200_000 }]
 * hourly.describe()         // 'tumbling 1 hour'
 * ```
 */
export function tumblingWindows(options: { size: number; offset?: number }): WindowAssigner {
  const size = checkLength(options.size, 'window size')
  const offset = checkOffset(options.offset ?? 0, size, 'size')
  return new SlidingAssigner('tumbling', size, size, offset)
}

/**
 * Windows of `size` that start every `slide` (Spark's `window(col, '5 minutes', '1 minute')`): a record
 * at t is in every window whose start is `t - mod(t - offset, slide) - k*slide`, k = 0, 1, …, while
 * `start > t - size`. With a slide that divides the size that is exactly size/slide windows; starts are
 * aligned to the epoch (UTC) plus offset. Requires `slide <= size` and `|offset| < slide`, as Spark does.
 *
 * @example
 * ```ts
 * const w = slidingWindows({ size: 300_000, slide: 60_000 })
 * w.assign(90_000).map((x) => x.start)  // [-180_000, -120_000, -60_000, 0, 60_000]
 * w.sliceOf(90_000)                     // { start: 60_000, end: 120_000 }
 * w.describe()                          // 'sliding 5 minutes every 1 minute'
 * ```
 */
export function slidingWindows(options: { size: number; slide: number; offset?: number }): WindowAssigner {
  const size = checkLength(options.size, 'window size')
  const slide = checkLength(options.slide, 'window slide')
  if (slide > size) {
    throw new ConfigError(
      `window slide (${formatDuration(slide)}) is longer than its size (${formatDuration(size)}): use a slide <= size`,
    )
  }
  const offset = checkOffset(options.offset ?? 0, slide, 'slide')
  return new SlidingAssigner(slide === size ? 'tumbling' : 'sliding', size, slide, offset)
}

/**
 * Session windows: a record at t opens the proto-window `[t, t + gap)`; the aggregate merges
 * overlapping proto-windows of one key into a session, which closes once the watermark passes its end.
 *
 * @example
 * ```ts
 * const s = sessionWindows({ gap: 600_000 })
 * s.assign(1_000)  // [{ start: 1_000, end: 601_000 }]
 * s.describe()     // 'session gap 10 minutes'
 * ```
 */
export function sessionWindows(options: { gap: number }): WindowAssigner {
  return new SessionAssigner(checkLength(options.gap, 'session gap'))
}

class SlidingAssigner implements WindowAssigner {
  /** The slice length: gcd(size, slide). Every window boundary is ≡ offset (mod sliceLength). */
  private readonly sliceLength: number

  constructor(
    readonly kind: 'tumbling' | 'sliding',
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    this.sliceLength = gcd(size, slide)
  }

  assign(t: number): Window[] {
    const last = lastStartOf(t, this.offset, this.slide)
    let first = last
    while (first - this.slide > t - this.size) first -= this.slide
    const windows: Window[] = []
    for (let start = first; start <= last; start += this.slide) {
      windows.push({ start, end: start + this.size })
    }
    return windows
  }

  sliceOf(t: number): Window {
    const start = lastStartOf(t, this.offset, this.sliceLength)
    return { start, end: start + this.sliceLength }
  }

  windowsOfSlice(slice: Window): Window[] {
    return this.assign(slice.start)
  }

  slicesOfWindow(w: Window): number[] {
    const starts: number[] = []
    for (let start = w.start; start < w.end; start += this.sliceLength) starts.push(start)
    return starts
  }

  lastEnd(t: number): number {
    return lastStartOf(t, this.offset, this.slide) + this.size
  }

  describe(): string {
    const shift = this.offset === 0 ? '' : ` offset ${formatDuration(this.offset)}`
    return this.kind === 'tumbling'
      ? `tumbling ${formatDuration(this.size)}${shift}`
      : `sliding ${formatDuration(this.size)} every ${formatDuration(this.slide)}${shift}`
  }
}

class SessionAssigner implements WindowAssigner {
  readonly kind = 'session'
  readonly offset = 0
  readonly slide: number

  constructor(readonly size: number) {
    this.slide = size
  }

  assign(t: number): Window[] {
    return [{ start: t, end: t + this.size }]
  }

  sliceOf(t: number): Window {
    return { start: t, end: t + this.size }
  }

  windowsOfSlice(slice: Window): Window[] {
    return [slice]
  }

  slicesOfWindow(w: Window): number[] {
    return [w.start]
  }

  lastEnd(t: number): number {
    return t + this.size
  }

  describe(): string {
    return `session gap ${formatDuration(this.size)}`
  }
}

/** The greatest `offset + k*step` that is <= t; correct for negative t (the modulo is non-negative). */
function lastStartOf(t: number, offset: number, step: number): number {
  let r = (t - offset) % step
  if (r < 0) r += step
  return t - r
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

function checkLength(ms: number, what: string): number {
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new ConfigError(
      `${what} ${String(ms)} is not a positive whole number of milliseconds: write e.g. 300000, or parseDuration('5 minutes')`,
    )
  }
  return ms
}

function checkOffset(offset: number, step: number, stepName: 'size' | 'slide'): number {
  if (!Number.isSafeInteger(offset)) {
    throw new ConfigError(
      `window offset ${String(offset)} is not a whole number of milliseconds: write e.g. 0, 30000 or -60000`,
    )
  }
  if (Math.abs(offset) >= step) {
    throw new ConfigError(
      `window offset (${formatDuration(offset)}) is not shorter than the window ${stepName} (${formatDuration(step)}): ` +
        `use an offset strictly between -${stepName} and ${stepName} (an offset of a whole ${stepName} shifts nothing)`,
    )
  }
  return offset < 0 ? offset + step : offset
}
