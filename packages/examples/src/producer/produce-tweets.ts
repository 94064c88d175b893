import { ConfigError, systemClock, type Clock } from '@weir/core'
import { kafkaClient, loadTweetTexts, type KafkaClient, type KafkaLog } from '@weir/connectors'
import { tweetRecord } from './tweet-records.js'

export interface ProduceTweetsOptions {
  /** Bootstrap brokers, or a client (`kafka`). */
  readonly brokers?: string | readonly string[]
  readonly kafka?: KafkaClient
  readonly topic: string
  /** Tweets to send; default: until `signal` aborts. */
  readonly count?: number
  /** Tweets per second of wall time; 0: as fast as the brokers take them. Default 100. */
  readonly rate?: number
  /** Event time between two tweets, ms. Default: `1000 / rate`, or 10 when the rate is unlimited. */
  readonly stepMs?: number
  /** Share of tweets stamped up to `maxDelayMs` earlier than their place. Default 0.02. */
  readonly lateFraction?: number
  /** Default 10 minutes. */
  readonly maxDelayMs?: number
  /** Default 42. */
  readonly seed?: number
  /** Event time of the first tweet, ms since the epoch. Default: now. */
  readonly start?: number
  /** Tweets per send, at most. Default 500. */
  readonly batchSize?: number
  /** Stops the replay (after the send under way). */
  readonly signal?: AbortSignal
  readonly clock?: Clock
  /** Called after every send. */
  readonly onProgress?: (progress: ProduceProgress) => void
  readonly log?: KafkaLog
}

export interface ProduceProgress {
  readonly sent: number
  /** Infinity when there is no `count`. */
  readonly total: number
  readonly elapsedMs: number
}

/**
 * Replays the bundled tweet corpus into a Kafka topic, as the Spark tutorial's producer.py does:
 * tweet n is `tweetRecord(n)` (JSON with `creation_time` and `tweet_text`, key `n`), due `n / rate`
 * seconds after the start and stamped `start + n * 1000 / rate` ms of event time (10 ms apart when
 * the rate is unlimited), save the late share. Deterministic given the seed and `start`.
 *
 * @example
 * ```ts
 * await produceTweets({ brokers: 'localhost:9092', topic: 'tweets', count: 1000, rate: 200 })
 * ```
 */
export async function produceTweets(options: ProduceTweetsOptions): Promise<ProduceProgress> {
  const rate = options.rate ?? 100
  const count = options.count ?? Infinity
  const batchSize = options.batchSize ?? 500
  if (!(rate >= 0) || !Number.isFinite(rate))
    throw new ConfigError(`rate ${rate} must be tweets per second >= 0 (0: unlimited), e.g. 100`)
  if (count !== Infinity && !(Number.isSafeInteger(count) && count >= 0))
    throw new ConfigError(`count ${count} must be a whole number >= 0`)
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1))
    throw new ConfigError(`batchSize ${batchSize} must be a whole number >= 1`)
  const clock = options.clock ?? systemClock
  const texts = await loadTweetTexts()
  const recordOptions = {
    texts,
    seed: options.seed ?? 42,
    start: options.start ?? clock.now(),
    stepMs: options.stepMs ?? (rate > 0 ? 1000 / rate : 10),
    lateFraction: options.lateFraction ?? 0.02,
    maxDelayMs: options.maxDelayMs ?? 600_000,
  }
  if (!(recordOptions.stepMs > 0) || !Number.isFinite(recordOptions.stepMs))
    throw new ConfigError(
      `stepMs ${options.stepMs} must be ms > 0 between two tweets' event times, e.g. 1000`,
    )
  if (!(recordOptions.lateFraction >= 0 && recordOptions.lateFraction <= 1)) {
    throw new ConfigError(`lateFraction ${recordOptions.lateFraction} must be between 0 and 1, e.g. 0.02`)
  }
  const kafka =
    options.kafka ?? kafkaClient({ brokers: options.brokers, log: options.log, clientId: 'weir-produce' })
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  const began = clock.now()
  let sent = 0
  const progress = (): ProduceProgress => ({ sent, total: count, elapsedMs: clock.now() - began })
  try {
    while (sent < count && !options.signal?.aborted) {
      const due = rate > 0 ? Math.floor(((clock.now() - began) * rate) / 1000) + 1 : Infinity
      const n = Math.min(count, due, sent + batchSize) - sent
      if (n <= 0) {
        await sleep(
          clock,
          Math.min(100, Math.max(1, Math.ceil((sent * 1000) / rate - (clock.now() - began)))),
          options.signal,
        )
        continue
      }
      const messages = Array.from({ length: n }, (_, i) => {
        const { key, value, creationTime } = tweetRecord(sent + i, recordOptions)
        return { key, value, timestamp: String(creationTime) }
      })
      await producer.send({ topic: options.topic, messages, acks: -1 })
      sent += n
      options.onProgress?.(progress())
    }
  } finally {
    await producer.disconnect()
  }
  return progress()
}

function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      cancel()
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const cancel = clock.setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
