import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { mulberry32 } from '@weir/connectors'

/** The watermarked sliding-window count of the tutorial: 5-minute windows every minute, 1 minute of delay. */
export const WINDOW_MS = 300_000
export const SLIDE_MS = 60_000
export const DELAY_MS = 60_000

const START = Date.UTC(2026, 10, 24, 10, 0, 0)

export interface TweetInputOptions {
  readonly seed: number
  readonly files: number
  readonly tweetsPerFile: number
  /** Event time each file moves on by. */
  readonly fileSpanMs: number
  /** Share of tweets a little out of order: earlier than the newest tweet so far, by less than the delay. */
  readonly outOfOrder: number
  /**
   * Share of tweets later than the watermark allows: up to 6 minutes before it, so some of their windows
   * are closed (or all: then they are dropped). 0 for an input whose result does not depend on how
   * parallel source instances interleave (the watermark is their minimum).
   */
  readonly late: number
  /** Lines that are not tweets with a time (bad JSON, no creation_time), spread over the files. */
  readonly malformed: number
}

/**
 * Writes `files` JSON-lines files of tweets into `dir` (`tweets-000.jsonl`, ...), deterministic by seed.
 * File k holds tweets of its own span of event time, shuffled, plus out-of-order and late ones relative
 * to the watermark after file k-1 (the newest tweet of the files before, minus the delay).
 */
export async function writeTweets(dir: string, options: TweetInputOptions): Promise<void> {
  await mkdir(dir, { recursive: true })
  const random = mulberry32(options.seed)
  const between = (from: number, to: number) => from + Math.floor(random() * (to - from))
  let newest = -Infinity
  let n = 0
  for (let k = 0; k < options.files; k++) {
    const from = START + k * options.fileSpanMs
    const lines: string[] = []
    let max = -Infinity
    for (let i = 0; i < options.tweetsPerFile; i++) {
      const roll = random()
      let t: number
      if (k > 0 && roll < options.late) t = between(newest - DELAY_MS - 6 * SLIDE_MS, newest - DELAY_MS)
      else if (k > 0 && roll < options.late + options.outOfOrder) t = between(newest - DELAY_MS, newest)
      else t = between(from, from + options.fileSpanMs)
      if (t > max) max = t
      const text = `tweet ${n++} w${Math.floor(random() * 50)}`
      lines.push(JSON.stringify({ creation_time: new Date(t).toISOString(), tweet_text: text }))
    }
    for (let m = 0; m < options.malformed && k % 7 === 3; m++) {
      lines.splice(
        between(0, lines.length),
        0,
        m % 2 === 0 ? '{"creation_time": "2026-11-24T1' : '{"tweet_text":"no time"}',
      )
    }
    newest = Math.max(newest, max)
    await writeFile(join(dir, `tweets-${String(k).padStart(3, '0')}.jsonl`), lines.join('\n') + '\n')
  }
}

/** The event times of each file of `dir`, in name order, read with nothing but JSON.parse and Date.parse. */
export async function readEventTimes(dir: string): Promise<number[][]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort()
  const files: number[][] = []
  for (const name of names) {
    const times: number[] = []
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
      let tweet: { creation_time?: unknown }
      try {
        tweet = JSON.parse(line) as { creation_time?: unknown }
      } catch {
        continue
      }
      const t = typeof tweet.creation_time === 'string' ? Date.parse(tweet.creation_time) : NaN
      if (!Number.isNaN(t)) times.push(t)
    }
    files.push(times)
  }
  return files
}

/**
 * The rows the query must write, as `start ISO → count`, computed with plain loops: a directory read one
 * file per batch, the watermark moving after each file to the newest event time so far minus the delay;
 * a tweet counts in each of its windows that the watermark has not passed when it comes (none: it is
 * late and dropped). Append mode writes each window once, when the watermark passes its end: with a
 * bounded input every window at the end (the watermark goes to +∞); with an unbounded one read to its
 * end (`availableNow`), only those the last watermark passed — the others stay open in the checkpoint.
 */
export function expectedWindows(
  files: readonly (readonly number[])[],
  options: { bounded: boolean },
): Map<string, number> {
  const counts = new Map<number, number>()
  let watermark = -Infinity
  for (const times of files) {
    let max = -Infinity
    for (const t of times) {
      const slice = Math.floor(t / SLIDE_MS) * SLIDE_MS
      for (let start = slice - WINDOW_MS + SLIDE_MS; start <= slice; start += SLIDE_MS) {
        if (start + WINDOW_MS > watermark) counts.set(start, (counts.get(start) ?? 0) + 1)
      }
      if (t > max) max = t
    }
    watermark = Math.max(watermark, max - DELAY_MS)
  }
  const rows = new Map<string, number>()
  for (const [start, count] of [...counts].sort((a, b) => a[0] - b[0])) {
    if (options.bounded || start + WINDOW_MS <= watermark) rows.set(new Date(start).toISOString(), count)
  }
  return rows
}

/**
 * The tweets of `dir` as Kafka messages over `partitions` partitions (round robin), in event-time order
 * shuffled by up to 30 seconds: no tweet is older than the newest before it by the watermark's delay, so
 * however the source's batches and partitions interleave, none is late and the result is one.
 */
export async function tweetMessages(
  dir: string,
  options: { seed: number; partitions: number },
): Promise<{ partition: number; value: string }[]> {
  const random = mulberry32(options.seed)
  const tweets: { at: number; line: string }[] = []
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
      if (line === '') continue
      let t = NaN
      try {
        t = Date.parse((JSON.parse(line) as { creation_time?: string }).creation_time ?? '')
      } catch {
        // A malformed line goes where it falls.
      }
      tweets.push({ at: (Number.isNaN(t) ? (tweets.at(-1)?.at ?? 0) : t) + random() * 30_000, line })
    }
  }
  tweets.sort((a, b) => a.at - b.at)
  return tweets.map((tweet, i) => ({ partition: i % options.partitions, value: tweet.line }))
}
