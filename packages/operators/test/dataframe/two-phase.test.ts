import test from 'ava'
import {
  buildPhysicalPlan,
  ConfigError,
  describePlan,
  MemoryStateBackend,
  StreamingQueryManager,
  type StreamingQuery,
  type StreamingQueryProgress,
} from '@weir/core'
import { CollectSink, QueueSource } from '@weir/core/testing'
import {
  avg,
  col,
  count,
  desc,
  max,
  min,
  planQuery,
  readStream,
  sessionWindow,
  sum,
  window,
  type AggPhaseStrategy,
  type Aggregator,
  type DataFrame,
  type OutputMode,
} from '../../src/index.js'
import { prng } from '../aggregate/runs.js'

// The DataFrame planner's two-phase aggregation (a partial aggregate before the hash exchange): where it
// is planned, that every epoch's rows and counters are the same as in one phase, at parallelism 2, and
// that a checkpoint taken one way restores the other.

interface Tweet {
  readonly creation_time: Date | null
  readonly tweet_text: string | null
  readonly retweets: number | null
}

const MINUTE = 60_000
const T0 = Date.UTC(2026, 10, 24, 10, 0, 0)
const VOCABULARY = ['the', 'cat', 'dog', 'a', '', 'spark', 'weir', 'stream', 'late', 'window']

/**
 * Epochs of tweets for two partitions, seeded: event time moves about 20 s a tweet, 1 in 8 is up to 10
 * minutes behind (late for the 1-minute watermark, often), 1 in 40 has no time. Both partitions of an
 * epoch hold its latest tweet, so their watermarks move together and which rows are late does not depend
 * on how the two source instances interleave.
 */
function epochsOfTweets(seed: number, epochs: number): [Tweet[], Tweet[]][] {
  const random = prng(seed)
  let now = T0
  return Array.from({ length: epochs }, () => {
    const tweets: Tweet[] = []
    for (let i = 8 + Math.floor(random() * 20); i > 0; i--) {
      now += Math.floor(random() * 40_000)
      const behind = random() < 0.125 ? Math.floor(random() * 10 * MINUTE) : 0
      const words = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
        return VOCABULARY[Math.floor(random() * random() * VOCABULARY.length)]
      })
      tweets.push({
        creation_time: random() < 0.025 ? null : new Date(now - behind),
        tweet_text: random() < 0.03 ? null : words.join(' '),
        retweets: random() < 0.1 ? null : Math.floor(random() * 50),
      })
    }
    const latest = tweets.reduce((a, b) =>
      (b.creation_time?.getTime() ?? -Infinity) > (a.creation_time?.getTime() ?? -Infinity) ? b : a,
    )
    const parts: [Tweet[], Tweet[]] = [[], []]
    tweets.forEach((tweet, i) => parts[i % 2].push(tweet))
    for (const part of parts) if (!part.includes(latest)) part.push(latest)
    return parts
  })
}

interface Run {
  readonly epochs: unknown[][]
  readonly progress: {
    input: number
    watermark: string | undefined
    late: number
    state: number
    withoutTime: number
  }[]
  readonly plan: string
}

/** Runs `frame` on the epochs at parallelism 2, one epoch per push (manual trigger, processAllAvailable). */
async function run(
  frame: (tweets: DataFrame<Tweet>) => DataFrame<unknown>,
  outputMode: OutputMode,
  aggPhaseStrategy: AggPhaseStrategy,
  epochs: readonly [Tweet[], Tweet[]][],
  options: { stateBackend?: MemoryStateBackend; from?: number; parallelism?: number } = {},
): Promise<Run> {
  const input = new QueueSource<Tweet>(['p0', 'p1'])
  const out = new CollectSink<unknown>()
  const query = await frame(readStream(input))
    .writeStream({
      sink: out,
      outputMode,
      parallelism: options.parallelism ?? 2,
      aggPhaseStrategy,
      trigger: { manual: true },
      manager: new StreamingQueryManager(),
      stateBackend: options.stateBackend,
    })
    .start()
  const from = options.from ?? 0
  try {
    for (const [p0, p1] of epochs) {
      input.push('p0', p0)
      input.push('p1', p1)
      await query.processAllAvailable()
    }
  } finally {
    await query.stop()
  }
  const numbers = epochs.map((_, i) => from + i)
  return {
    epochs: numbers.map((i) => out.epoch(i)),
    progress: numbers.map((i) => summary(query, i)),
    plan: query.explain(),
  }
}

function summary(query: StreamingQuery, epoch: number) {
  const p: StreamingQueryProgress = query.recentProgress.find((p) => p.batchId === epoch)!
  return {
    input: p.numInputRows,
    watermark: p.eventTime.watermark,
    late: p.stateOperators[0].numRowsDroppedByWatermark,
    state: p.stateOperators[0].numRowsTotal,
    withoutTime: p.rejectedRows.numRowsWithoutEventTime ?? 0,
  }
}

const words = (tweets: DataFrame<Tweet>) => tweets.explode('word', (t) => t.tweet_text?.split(' '))

const queries: [string, (tweets: DataFrame<Tweet>) => DataFrame<unknown>, OutputMode[]][] = [
  [
    'word count, sorted (tutorial query 1)',
    (tweets) => words(tweets).groupBy('word').count().orderBy(desc('count'), 'word'),
    ['complete'],
  ],
  [
    'tweets per sliding window (tutorial query 2)',
    (tweets) => tweets.groupBy(window('creation_time', '5 minutes', '1 minute')).count(),
    ['update', 'complete'],
  ],
  [
    'tweets per sliding window behind a watermark (tutorial query 3)',
    (tweets) =>
      tweets
        .withWatermark('creation_time', '1 minute')
        .groupBy(window('creation_time', '5 minutes', '1 minute'))
        .count(),
    ['append', 'update', 'complete'],
  ],
  [
    'words per tumbling window behind a watermark',
    (tweets) =>
      words(tweets)
        .withWatermark('creation_time', '1 minute')
        .groupBy(window('creation_time', '2 minutes'), 'word')
        .count(),
    ['append', 'update'],
  ],
  [
    'count, sum, min, max and avg of retweets per word',
    (tweets) =>
      words(tweets)
        .groupBy('word')
        .agg({
          n: count(),
          total: sum(col('retweets')),
          least: min(col('retweets')),
          most: max(col('retweets')),
          mean: avg(col('retweets')),
        }),
    ['update', 'complete'],
  ],
]

for (const [name, frame, modes] of queries) {
  for (const mode of modes) {
    test(`${name}, ${mode}: two phases give the rows and counters of one phase, epoch by epoch, at parallelism 2`, async (t) => {
      const epochs = epochsOfTweets(7, 12)
      const one = await run(frame, mode, 'one-phase', epochs)
      const two = await run(frame, mode, 'auto', epochs)
      t.notRegex(one.plan, /partial-aggregate/)
      t.regex(two.plan, /^partial \(partial-aggregate\) \[2\] <-chained- /m)
      t.deepEqual(two.epochs, one.epochs)
      t.deepEqual(two.progress, one.progress)
      t.true(
        one.epochs.some((rows) => rows.length > 0),
        'no rows at all',
      )
      if (mode !== 'complete' && /watermark/.test(name))
        t.true(
          one.progress.some((p) => p.late > 0),
          'nothing late',
        )
    })
  }
}

const watermarked = (tweets: DataFrame<Tweet>) =>
  words(tweets)
    .withWatermark('creation_time', '1 minute')
    .groupBy(window('creation_time', '5 minutes', '1 minute'), 'word')
    .count()

for (const [first, then] of [
  ['one-phase', 'two-phase'],
  ['two-phase', 'one-phase'],
] as const) {
  test(`a checkpoint taken in ${first} restores in ${then}, and the rows go on as if never stopped`, async (t) => {
    const epochs = epochsOfTweets(11, 10)
    for (const mode of ['append', 'update'] as const) {
      const uninterrupted = await run(watermarked, mode, first, epochs)
      const stateBackend = new MemoryStateBackend()
      const before = await run(watermarked, mode, first, epochs.slice(0, 5), { stateBackend })
      const after = await run(watermarked, mode, then, epochs.slice(5), { stateBackend, from: 6 })
      // stop() ended epoch 5 with no new input: its rows (none) are not compared.
      t.deepEqual([...before.epochs, ...after.epochs], uninterrupted.epochs, mode)
      t.deepEqual(
        [...before.progress, ...after.progress].map((p) => p.late),
        uninterrupted.progress.map((p) => p.late),
        mode,
      )
      t.is(/partial-aggregate/.test(after.plan), then === 'two-phase')
    }
  })
}

test('a query checkpointed at parallelism 1 (one phase) goes on at parallelism 2 (two phases), and back to 1', async (t) => {
  const epochs = epochsOfTweets(13, 9)
  for (const [name, frame, mode] of [
    ['word count', (tweets: DataFrame<Tweet>) => words(tweets).groupBy('word').count(), 'update'],
    ['words per sliding window', watermarked, 'append'],
  ] as const) {
    const uninterrupted = await run(frame, mode, 'auto', epochs, { parallelism: 2 })
    const stateBackend = new MemoryStateBackend()
    const runs = [
      await run(frame, mode, 'auto', epochs.slice(0, 3), { stateBackend, parallelism: 1 }),
      await run(frame, mode, 'auto', epochs.slice(3, 6), { stateBackend, parallelism: 2, from: 4 }),
      await run(frame, mode, 'auto', epochs.slice(6), { stateBackend, parallelism: 1, from: 8 }),
    ]
    t.deepEqual(
      runs.map((r) => /partial-aggregate/.test(r.plan)),
      [false, true, false],
    )
    // Rows come from one sink instance or two: compare each epoch's rows as a set.
    const sorted = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).sort()
    t.deepEqual(
      runs.flatMap((r) => r.epochs.map(sorted)),
      uninterrupted.epochs.map(sorted),
      name,
    )
    t.true(
      uninterrupted.epochs.every((rows) => rows.length > 0),
      name,
    )
  }
})

test('auto plans two phases only for more than one instance, a mergeable aggregator and no session windows', (t) => {
  const sink = new CollectSink<unknown>()
  const plan = (frame: DataFrame<unknown>, parallelism: number, aggPhaseStrategy?: AggPhaseStrategy) =>
    describePlan(
      buildPhysicalPlan(
        planQuery(frame.plan, { sink, outputMode: 'complete', parallelism, aggPhaseStrategy }).graph,
      ),
    )
  const input = () => readStream(new QueueSource<Tweet>(['p0']))
  const counted = input().groupBy('tweet_text').count()
  t.is(
    plan(counted, 2),
    [
      'source (source) [2]',
      'partial (partial-aggregate) [2] <-chained- source',
      'aggregate (keyed-aggregate) [2] <=hash= partial',
      'project (map) [2] <-chained- aggregate',
      'sink (sink) [2] <-chained- project',
    ].join('\n'),
  )
  t.notRegex(plan(counted, 1), /partial/)
  t.regex(plan(counted, 1, 'two-phase'), /partial \(partial-aggregate\) \[1\]/)
  t.notRegex(plan(counted, 2, 'one-phase'), /partial/)
  t.regex(
    plan(
      input()
        .groupBy(window('creation_time', '5 minutes', '1 minute'))
        .count(),
      2,
    ),
    /window \(window-assign\) \[2\] <-chained- source\npartial \(partial-aggregate\) \[2\] <-chained- window\n/,
  )
  const sessions = input()
    .withWatermark('creation_time', '1 minute')
    .groupBy(sessionWindow('creation_time', '5 minutes'))
    .count()
  t.notRegex(plan(sessions, 2), /partial/)
  const first: Aggregator<Tweet, string | null, string | null> = {
    name: 'first',
    init: () => null,
    add: (acc, tweet) => acc ?? tweet.tweet_text,
    result: (acc) => acc,
  }
  const unmergeable = input().groupBy('retweets').agg({ first })
  t.notRegex(plan(unmergeable, 2), /partial/)
  t.throws(() => plan(unmergeable, 2, 'two-phase'), {
    instanceOf: ConfigError,
    message:
      "aggPhaseStrategy 'two-phase' cannot be followed: aggregator 'combine(first)' has no merge(a, b) to combine partial accumulators. " +
      "Use 'auto' or 'one-phase', or an aggregator with merge",
  })
  t.throws(() => plan(sessions, 2, 'two-phase'), { instanceOf: ConfigError, message: /session windows/ })
  t.throws(() => plan(counted, 2, 'twice' as AggPhaseStrategy), {
    instanceOf: ConfigError,
    message: /aggPhaseStrategy "twice" is not one of 'auto', 'one-phase', 'two-phase'/,
  })
})
