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

/** A small, fast, seeded PRNG (mulberry32): uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), a | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** A seed for item n of a seeded sequence (murmur3's finaliser), so each tweet's draws depend on (seed, n) alone. */
function seedFor(seed: number, n: number): number {
  let h = (seed ^ Math.imul(n >>> 0, 0x9e3779b1) ^ Math.imul(Math.floor(n / 4294967296), 0x85ebca6b)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}
