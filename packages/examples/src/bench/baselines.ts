import { from, type Observable } from 'rxjs'
import { map, mergeMap } from 'rxjs/operators'
import type { Tweet } from './corpus.js'

/**
 * What the benchmark compares weir against: the same two queries written by hand, as a careful Node
 * user would write them without weir. Each computes exactly what the weir graph computes, so the bench
 * can check the results are equal before it prints a figure.
 */

/** Word counts: every token of `split(tweet_text, ' ')`, empty tokens included, as Spark's `split`. */
export type WordCounts = Map<string, number>

/** An event-time window count: window start → rows counted in it, and the rows dropped as late. */
export interface WindowCounts {
  readonly counts: Map<number, number>
  readonly dropped: number
}

/**
 * A watermarked window count: windows of `size` every `slide` (tumbling when equal), aligned on the
 * epoch; the watermark is `maxEventTimeSeen - delay`, moved after every `batchSize` records (the batches
 * a source polls, as in Spark, where the watermark moves at the end of a micro-batch); a window closes
 * once `watermark >= end`, and a record whose every window is closed is dropped.
 */
export interface WindowQuery {
  readonly size: number
  readonly slide: number
  readonly delay: number
  readonly batchSize: number
}

/** The hand-written loop: `JSON.parse`, `split`, a `Map`. */
export function loopWordCount(lines: readonly string[]): WordCounts {
  const counts = new Map<string, number>()
  for (let i = 0; i < lines.length; i++) {
    const text = (JSON.parse(lines[i]) as Tweet).tweet_text
    if (text == null) continue
    const words = text.split(' ')
    for (let j = 0; j < words.length; j++) {
      const word = words[j]
      counts.set(word, (counts.get(word) ?? 0) + 1)
    }
  }
  return counts
}

/**
 * The hand-written loop of the window count: per record, parse, take the event time, add one to each
 * of its windows that is still open; per batch, move the watermark and set aside the windows it closes
 * (so the open state stays a few windows, as a long-running program needs).
 */
export function loopWindowCount(lines: readonly string[], query: WindowQuery): WindowCounts {
  const { size, slide, delay, batchSize } = query
  const open = new Map<number, number>()
  const closed = new Map<number, number>()
  let maxSeen = -Infinity
  let watermark = -Infinity
  let dropped = 0
  for (let from = 0; from < lines.length; from += batchSize) {
    const to = Math.min(from + batchSize, lines.length)
    for (let i = from; i < to; i++) {
      const t = Date.parse((JSON.parse(lines[i]) as Tweet).creation_time)
      if (Number.isNaN(t)) continue
      if (t > maxSeen) maxSeen = t
      let counted = false
      // Window starts from the latest down; ends fall with them, so the first closed one ends the loop.
      for (let start = t - mod(t, slide); start > t - size; start -= slide) {
        if (start + size <= watermark) break
        open.set(start, (open.get(start) ?? 0) + 1)
        counted = true
      }
      if (!counted) dropped++
    }
    if (maxSeen - delay > watermark) {
      watermark = maxSeen - delay
      for (const [start, n] of open) {
        if (start + size > watermark) continue
        closed.set(start, n)
        open.delete(start)
      }
    }
  }
  for (const [start, n] of open) closed.set(start, n)
  return { counts: closed, dropped }
}

/** The per-record RxJS pipeline: one emission per line, then one per word. */
export function rxjsWordCount(lines: readonly string[]): Promise<WordCounts> {
  const counts = new Map<string, number>()
  const words = from(lines).pipe(
    map((line) => JSON.parse(line) as Tweet),
    mergeMap((tweet) => tweet.tweet_text?.split(' ') ?? []),
  )
  return drain(words, (word) => counts.set(word, (counts.get(word) ?? 0) + 1)).then(() => counts)
}

/** Marks the end of a batch in the RxJS window pipeline: the watermark moves here. */
interface WatermarkMark {
  readonly watermark: number
}

/**
 * The per-record RxJS pipeline of the window count: one emission per line, then one per window the
 * record is counted in, and a watermark mark after every `batchSize` lines; the subscriber keeps the
 * counts and closes windows as the watermark passes them.
 */
export function rxjsWindowCount(lines: readonly string[], query: WindowQuery): Promise<WindowCounts> {
  const { size, slide, delay, batchSize } = query
  const open = new Map<number, number>()
  const closed = new Map<number, number>()
  let maxSeen = -Infinity
  let watermark = -Infinity
  let dropped = 0
  const last = lines.length - 1
  const events = from(lines).pipe(
    map((line) => Date.parse((JSON.parse(line) as Tweet).creation_time)),
    mergeMap((t, i): (number | WatermarkMark)[] => {
      const out: (number | WatermarkMark)[] = []
      if (!Number.isNaN(t)) {
        if (t > maxSeen) maxSeen = t
        for (let start = t - mod(t, slide); start > t - size; start -= slide) {
          if (start + size <= watermark) break
          out.push(start)
        }
        if (out.length === 0) dropped++
      }
      if ((i + 1) % batchSize === 0 || i === last) out.push({ watermark: maxSeen - delay })
      return out
    }),
  )
  return drain(events, (event) => {
    if (typeof event === 'number') {
      open.set(event, (open.get(event) ?? 0) + 1)
    } else if (event.watermark > watermark) {
      watermark = event.watermark
      for (const [start, n] of open) {
        if (start + size > watermark) continue
        closed.set(start, n)
        open.delete(start)
      }
    }
  }).then(() => {
    for (const [start, n] of open) closed.set(start, n)
    return { counts: closed, dropped }
  })
}

function drain<T>(events: Observable<T>, next: (event: T) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    events.subscribe({ next, error: reject, complete: resolve })
  })
}

/** `t mod m` in [0, m), also for negative t. */
function mod(t: number, m: number): number {
  const r = t % m
  return r < 0 ? r + m : r
}
