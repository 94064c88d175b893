import { readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  ConfigError,
  type Clock,
  type Source,
  type SourceBatch,
  type SourceReader,
  type SourceReaderContext,
} from '@weir/core'
import { checkOptionNames, checkPositive, checkWholeNumber } from './internal/options.js'
import { mulberry32, seedFor } from './internal/random.js'
import { Sleeper } from './internal/sleep.js'

/**
 * The path of the bundled corpus, `data/tweet-texts.jsonl` in this package (its provenance note is
 * `data/README.md`), whether this module runs compiled (`dist/src/`) or from its source (`src/`).
 *
 * @example
 * ```ts
 * const lines = (await readFile(tweetCorpusPath(), 'utf8')).split('\n')
 * ```
 */
export function tweetCorpusPath(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  const compiled = basename(here) === 'src' && basename(dirname(here)) === 'dist'
  return join(compiled ? dirname(dirname(here)) : dirname(here), 'data', 'tweet-texts.jsonl')
}

let corpus: Promise<readonly string[]> | undefined

/**
 * The 21,722 texts of the bundled corpus, in file order (read once, then shared).
 *
 * @example
 * ```ts
 * const texts = await loadTweetTexts()
 * texts.length // 21722
 * ```
 */
export async function loadTweetTexts(): Promise<string[]> {
  corpus ??= readCorpus().catch((error: unknown) => {
    corpus = undefined
    throw error
  })
  return [...(await corpus)]
}

async function readCorpus(): Promise<readonly string[]> {
  const texts: string[] = []
  for (const line of (await readFile(tweetCorpusPath(), 'utf8')).split('\n')) {
    if (line.trim() !== '') texts.push((JSON.parse(line) as { tweet_text: string }).tweet_text)
  }
  return texts
}

export interface EmbeddedTweetsOptions {
  /** Tweets per second of wall time, over all partitions. Default 200. */
  readonly rate?: number
  /** Seconds of event time per second of wall time. Default 1. */
  readonly speedup?: number
  /** Event time of the first tweet, in ms. Default: the clock's time when the reader starts. */
  readonly start?: number
  /** Seeds the corpus offset and every tweet's jitter. Default 42. */
  readonly seed?: number
  /** Share of tweets whose creation_time is up to `maxDelayMs` earlier than their place. Default 0.1. */
  readonly outOfOrderFraction?: number
  /** Share of tweets `lateDelayMs` to twice that behind, so that a watermark drops them. Default 0.02. */
  readonly lateFraction?: number
  /** Default 30,000 ms. */
  readonly maxDelayMs?: number
  /** Default 600,000 ms: late tweets are 10 to 20 minutes behind. */
  readonly lateDelayMs?: number
  /** Stop after this many tweets: the source is then bounded. Default: unbounded. */
  readonly count?: number
  /** Paces the tweets. Default: the query's clock. */
  readonly clock?: Clock
  /** Splits (as Kafka partitions): tweet n goes to split `tweets-(n mod partitions)`. Default 1. */
  readonly partitions?: number
}

const MAX_WAIT_MS = 100
const MAX_BATCH = 1000

/**
 * Replays the bundled tweet corpus as a live stream, without Kafka: each value is the JSON line the
 * Kafka producer writes, `{"creation_time":"<ISO-8601>","tweet_text":"..."}`. Texts cycle through the
 * corpus in order from a seeded offset; tweet n falls due `n / rate` seconds of wall time after the
 * start and is stamped `start + n * speedup / rate` seconds of event time, except the out-of-order
 * share (up to `maxDelayMs` earlier) and the late share (`lateDelayMs` to twice that earlier).
 * Everything is decided by the seed and the tweet's number, so a run is deterministic given the seed
 * and the clock.
 *
 * Timestamps: each batch carries the creation times, used when the source node has no `timestamp`
 * extractor. Watermarks: per split, from the node's `watermark` option. State: the position of a split
 * is the number of tweets it has emitted; a restore resumes the same sequence (with the default `start`,
 * the next tweet is stamped with the time of the restart). Bounded only with `count`; with the
 * `availableNow` trigger it emits the tweets already due when it starts.
 *
 * @example
 * ```ts
 * const tweets = readStream(embeddedTweets({ rate: 500, partitions: 4 }))
 *   .parse(tweetSchema)
 *   .withWatermark('creation_time', '1 minute')
 * ```
 */
export function embeddedTweets(options: EmbeddedTweetsOptions = {}): Source<string> {
  const settings = checkOptions(options)
  const source = {
    name: 'embedded-tweets',
    /** Names the source in a query's progress, as Spark's does. */
    description: `EmbeddedTweets[rate=${settings.rate}, partitions=${settings.partitions}]`,
    bounded: settings.count !== Infinity,
    createReader: async (context: SourceReaderContext) =>
      new TweetReader(await loadTweetTexts(), settings, context),
  }
  return source
}

type Settings = Required<Omit<EmbeddedTweetsOptions, 'start' | 'clock'>> &
  Pick<EmbeddedTweetsOptions, 'start' | 'clock'>

interface Split {
  readonly name: string
  readonly index: number
  /** Tweets this split has emitted: its position. */
  next: number
  /** Tweets it emits in all (Infinity when unbounded). */
  readonly limit: number
}

class TweetReader implements SourceReader<string> {
  private readonly owned: Split[]
  private readonly clock: Clock
  private readonly sleeper: Sleeper
  private readonly intervalMs: number
  private readonly wallOrigin: number
  private readonly start: number
  private readonly offset: number
  /** With availableNow, the last tweet number due at start. */
  private readonly lastDue: number
  private closed = false

  constructor(
    private readonly texts: readonly string[],
    private readonly settings: Settings,
    context: SourceReaderContext,
  ) {
    const { partitions, count, rate, speedup, seed } = settings
    this.clock = settings.clock ?? context.clock
    this.sleeper = new Sleeper(this.clock)
    this.intervalMs = 1000 / rate
    const restored = Array.from({ length: partitions }, (_, j) => restoredCount(context, `tweets-${j}`))
    // The first tweet some split has yet to emit is due now, and (by default) stamped now.
    const first = Math.min(...restored.map((k, j) => k * partitions + j))
    const now = this.clock.now()
    this.wallOrigin = now - first * this.intervalMs
    this.start = settings.start ?? now - first * this.intervalMs * speedup
    this.offset = Math.floor(mulberry32(seed)() * texts.length)
    this.lastDue = context.availableNow ? first : Infinity
    this.owned = []
    for (let j = context.instance; j < partitions; j += context.parallelism) {
      this.owned.push({
        name: `tweets-${j}`,
        index: j,
        next: restored[j],
        limit: Math.max(0, Math.ceil((count - j) / partitions)),
      })
    }
  }

  async poll(): Promise<SourceBatch<string> | 'idle' | 'end'> {
    while (!this.closed) {
      let split: Split | undefined
      let n = Infinity
      for (const s of this.owned) {
        const candidate = s.next * this.settings.partitions + s.index
        if (s.next < s.limit && candidate <= this.lastDue && candidate < n) {
          split = s
          n = candidate
        }
      }
      if (!split) return 'end'
      const wait = this.dueAt(n) - this.clock.now()
      if (wait <= 0) return this.emit(split)
      if (wait > MAX_WAIT_MS) {
        await this.sleeper.sleep(MAX_WAIT_MS)
        return 'idle'
      }
      await this.sleeper.sleep(wait)
    }
    return 'idle'
  }

  splits(): readonly string[] {
    return this.owned.map((s) => s.name)
  }

  close(): Promise<void> {
    this.closed = true
    this.sleeper.close()
    return Promise.resolve()
  }

  private dueAt(n: number): number {
    return this.wallOrigin + n * this.intervalMs
  }

  /** The split's tweets that are due now, at most MAX_BATCH. */
  private emit(split: Split): SourceBatch<string> {
    const now = this.clock.now()
    const { partitions } = this.settings
    const values: string[] = []
    const timestamps: number[] = []
    for (let k = split.next; k < split.limit && values.length < MAX_BATCH; k++) {
      const n = k * partitions + split.index
      if (n > this.lastDue || this.dueAt(n) > now) break
      const t = this.creationTime(n)
      values.push(
        JSON.stringify({
          creation_time: new Date(t).toISOString(),
          tweet_text: this.texts[(this.offset + n) % this.texts.length],
        }),
      )
      timestamps.push(t)
    }
    split.next += values.length
    const ended = split.next >= split.limit
    return {
      split: split.name,
      values,
      timestamps,
      position: split.next,
      ...(ended ? { splitEnded: true } : {}),
    }
  }

  private creationTime(n: number): number {
    const { seed, speedup, lateFraction, outOfOrderFraction, maxDelayMs, lateDelayMs } = this.settings
    const random = mulberry32(seedFor(seed, n))
    const t = this.start + Math.floor(n * this.intervalMs * speedup)
    const draw = random()
    if (draw < lateFraction) return t - lateDelayMs - Math.floor(random() * lateDelayMs)
    if (draw < lateFraction + outOfOrderFraction) return t - Math.floor(random() * maxDelayMs)
    return t
  }
}

function restoredCount(context: SourceReaderContext, split: string): number {
  const position = context.restored.get(split)
  if (position === undefined) return 0
  if (!Number.isSafeInteger(position) || (position as number) < 0) {
    throw new ConfigError(
      `embeddedTweets '${context.sourceId}': the checkpoint holds ${JSON.stringify(position)} for split '${split}', not a count of tweets: ` +
        `was it written by another source? Use a new checkpoint location`,
    )
  }
  return position as number
}

function checkOptions(options: EmbeddedTweetsOptions): Settings {
  const name = 'embeddedTweets'
  checkOptionNames(name, options, [
    'rate',
    'speedup',
    'start',
    'seed',
    'outOfOrderFraction',
    'lateFraction',
    'maxDelayMs',
    'lateDelayMs',
    'count',
    'clock',
    'partitions',
  ])
  const settings: Settings = {
    rate: options.rate ?? 200,
    speedup: options.speedup ?? 1,
    start: options.start,
    seed: options.seed ?? 42,
    outOfOrderFraction: options.outOfOrderFraction ?? 0.1,
    lateFraction: options.lateFraction ?? 0.02,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    lateDelayMs: options.lateDelayMs ?? 600_000,
    count: options.count ?? Infinity,
    clock: options.clock,
    partitions: options.partitions ?? 1,
  }
  checkPositive(name, 'rate', settings.rate, 200)
  checkPositive(name, 'speedup', settings.speedup, 1)
  if (
    settings.start !== undefined &&
    !(Number.isFinite(settings.start) && Math.abs(settings.start) <= 8.64e15)
  ) {
    throw new ConfigError(
      `${name}: start ${String(settings.start)} must be a time in ms since the epoch, e.g. Date.UTC(2026, 10, 24, 10)`,
    )
  }
  checkWholeNumber(name, 'seed', settings.seed, -(2 ** 31), 42)
  for (const key of ['outOfOrderFraction', 'lateFraction'] as const) {
    const share = settings[key]
    if (typeof share !== 'number' || !(share >= 0 && share <= 1)) {
      throw new ConfigError(`${name}: ${key} ${String(share)} must be a share between 0 and 1, e.g. 0.1`)
    }
  }
  if (settings.outOfOrderFraction + settings.lateFraction > 1) {
    throw new ConfigError(
      `${name}: outOfOrderFraction ${settings.outOfOrderFraction} and lateFraction ${settings.lateFraction} add up to more than 1: lower one of them`,
    )
  }
  checkWholeNumber(name, 'maxDelayMs', settings.maxDelayMs, 0, 30_000)
  checkWholeNumber(name, 'lateDelayMs', settings.lateDelayMs, 0, 600_000)
  if (options.count !== undefined) checkWholeNumber(name, 'count', options.count, 0, 1000)
  checkWholeNumber(name, 'partitions', settings.partitions, 1, 4)
  return settings
}
