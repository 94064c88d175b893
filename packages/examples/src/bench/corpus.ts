import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { mulberry32 } from '@weir/connectors'

/**
 * The corpus bundled with `@weir/connectors`, in its package's `data/` folder: found from where the
 * package resolves (`dist/src/index.js`), so it works in the monorepo and from an install alike.
 */
export const CORPUS = fileURLToPath(
  new URL('../../data/tweet-texts.jsonl', import.meta.resolve('@weir/connectors')),
)

/** The 21,722 texts of the bundled `tweet-texts.jsonl`, in file order. */
export function loadTexts(path: string = CORPUS): string[] {
  const texts: string[] = []
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    texts.push((JSON.parse(line) as { tweet_text: string }).tweet_text)
  }
  return texts
}

/** One replayed tweet as it travels: a JSON line, as read from Kafka or a file. */
export interface Tweet {
  readonly creation_time: string
  readonly tweet_text: string | null
}

export interface ReplayOptions {
  /** How many lines to make; the corpus is replayed cyclically. */
  readonly records: number
  /** Seed of the jitter, so every run (and every contender) sees the same lines. Default 42. */
  readonly seed?: number
  /** Event time of the first record. Default 2026-11-24T10:00:00Z. */
  readonly startMs?: number
  /** Event time between two consecutive tweets. Default 10 ms (100 tweets per second of event time). */
  readonly stepMs?: number
  /** Share of records up to 50 s behind the stream: out of order, within a 60 s watermark delay. Default 1.5 %. */
  readonly outOfOrderShare?: number
  /** Share of records 1 to 10 minutes behind: many of them late for a 60 s watermark delay. Default 0.5 %. */
  readonly lateShare?: number
}

export const DEFAULT_START_MS = Date.UTC(2026, 10, 24, 10, 0, 0)

/**
 * The corpus replayed as JSON lines `{"creation_time": ISO-8601, "tweet_text": ...}` with event times
 * that advance `stepMs` per tweet, with a seeded jitter, a share of out-of-order records and a share of
 * late ones. Lazy, so a long run need not hold its input in memory.
 */
export function* replayLines(texts: readonly string[], options: ReplayOptions): Generator<string> {
  const random = mulberry32(options.seed ?? 42)
  const start = options.startMs ?? DEFAULT_START_MS
  const step = options.stepMs ?? 10
  const late = options.lateShare ?? 0.005
  const outOfOrder = late + (options.outOfOrderShare ?? 0.015)
  for (let i = 0; i < options.records; i++) {
    const base = start + i * step
    const r = random()
    const t =
      r < late
        ? base - 60_000 - Math.floor(random() * 540_000)
        : r < outOfOrder
          ? base - Math.floor(random() * 50_000)
          : base + Math.floor(random() * step)
    const tweet: Tweet = { creation_time: new Date(t).toISOString(), tweet_text: texts[i % texts.length] }
    yield JSON.stringify(tweet)
  }
}

/** `replayLines` into an array: made once, before any timing, and read by every contender. */
export function replay(texts: readonly string[], options: ReplayOptions): string[] {
  const lines = new Array<string>(options.records)
  let i = 0
  for (const line of replayLines(texts, options)) lines[i++] = line
  return lines
}
