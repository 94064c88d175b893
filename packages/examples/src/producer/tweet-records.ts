import { mulberry32, seedFor } from '@weir/connectors'
/** How the producer turns the corpus into timed records. */
export interface TweetRecordOptions {
  /** The corpus texts, cycled through from a seeded offset. */
  readonly texts: readonly string[]
  /** Decides the corpus offset and which tweets are late, and by how much. */
  readonly seed: number
  /** Event time of tweet 0, ms since the epoch. */
  readonly start: number
  /** Event time between two tweets, in ms (the producer uses 1000 / rate). */
  readonly stepMs: number
  /** Share of tweets stamped earlier than their place, by up to `maxDelayMs`: out of order, or late for a watermark. */
  readonly lateFraction: number
  readonly maxDelayMs: number
}

/** One record for Kafka: the key partitions it, the value is the tutorial's JSON. */
export interface TweetRecord {
  readonly key: string
  readonly value: string
  /** The event time in the value, in ms. */
  readonly creationTime: number
}

/**
 * Tweet `n` of a replay, as the tutorial's producer.py writes it: `{"creation_time": ISO-8601,
 * "tweet_text": ...}`, keyed by its number. It depends on `n` and the options alone (each tweet has its
 * own seeded draws), so a replay is the same whatever the rate, the batching or where it resumed.
 *
 * @example
 * ```ts
 * tweetRecord(0, { texts, seed: 42, start: Date.UTC(2026, 10, 24, 10), stepMs: 100, lateFraction: 0.02, maxDelayMs: 600_000 })
 * // { key: '0', value: '{"creation_time":"2026-11-24T10:00:00.000Z","tweet_text":"..."}', creationTime: ... }
 * ```
 */
export function tweetRecord(n: number, options: TweetRecordOptions): TweetRecord {
  const { texts, seed, start, stepMs, lateFraction, maxDelayMs } = options
  const offset = Math.floor(mulberry32(seed)() * texts.length)
  const random = mulberry32(seedFor(seed, n))
  let creationTime = start + Math.floor(n * stepMs)
  if (random() < lateFraction) creationTime -= 1 + Math.floor(random() * maxDelayMs)
  const value = JSON.stringify({
    creation_time: new Date(creationTime).toISOString(),
    tweet_text: texts[(offset + n) % texts.length],
  })
  return { key: String(n), value, creationTime }
}
