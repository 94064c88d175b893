import test from 'ava'
import { sep } from 'node:path'
import {
  ConfigError,
  defineSink,
  defineSource,
  Job,
  ManualClock,
  StreamGraph,
  type SourceBatch,
  type SourceReader,
  type SourceReaderContext,
} from '@weir/core'
import { CollectSink } from '@weir/core/testing'

import { embeddedTweets, loadTweetTexts, tweetCorpusPath, type EmbeddedTweetsOptions } from '../src/index.js'

const START = Date.UTC(2026, 10, 24, 10)
/** Where seed 42 starts in the corpus: floor(mulberry32(42)() * 21,722). */
const OFFSET_42 = 13_057
const EXACT = { outOfOrderFraction: 0, lateFraction: 0 } as const

function context(overrides: Partial<SourceReaderContext> = {}): SourceReaderContext {
  return {
    sourceId: 'tweets',
    instance: 0,
    parallelism: 1,
    clock: new ManualClock(0),
    restored: new Map(),
    availableNow: false,
    ...overrides,
  }
}

async function reader(
  options: EmbeddedTweetsOptions,
  overrides: Partial<SourceReaderContext> = {},
): Promise<SourceReader<string>> {
  return embeddedTweets(options).createReader(context(overrides))
}

/** Polls until the reader ends; every tweet must be due already (no waiting). */
async function drain(r: SourceReader<string>): Promise<SourceBatch<string>[]> {
  const batches: SourceBatch<string>[] = []
  for (;;) {
    const batch = await r.poll()
    if (batch === 'end') return batches
    if (batch === 'idle') throw new Error('the reader went idle: advance the clock past the last tweet first')
    batches.push(batch)
  }
}

const values = (batches: readonly SourceBatch<string>[]) => batches.flatMap((b) => b.values)
const tweet = (time: number, text: string) =>
  JSON.stringify({ creation_time: new Date(time).toISOString(), tweet_text: text })

/** Lets pending I/O and microtasks run once: no timer, no sleep. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await turn()
}

test('finds the bundled corpus and loads its 21,722 texts', async (t) => {
  t.true(tweetCorpusPath().endsWith(['packages', 'connectors', 'data', 'tweet-texts.jsonl'].join(sep)))
  const texts = await loadTweetTexts()
  t.is(texts.length, 21_722)
  t.is(texts[0], '"God is a comedian playing to an audience too afraid to laugh." -- Voltaire')
})

test('replays the corpus from the seeded offset as the JSON lines the Kafka producer writes', async (t) => {
  const texts = await loadTweetTexts()
  const clock = new ManualClock(5_000)
  const source = embeddedTweets({ ...EXACT, rate: 10, speedup: 60, start: START, count: 3 })
  t.true(source.bounded)
  const r = await source.createReader(context({ clock }))
  clock.advance(200)
  t.deepEqual(await drain(r), [
    {
      split: 'tweets-0',
      values: [0, 1, 2].map((n) => tweet(START + n * 6_000, texts[OFFSET_42 + n])),
      timestamps: [START, START + 6_000, START + 12_000],
      position: 3,
      splitEnded: true,
    },
  ])
})

test('waits on the clock for a tweet due within 100 ms, and answers idle after 100 ms otherwise', async (t) => {
  const clock = new ManualClock(0)
  const r = await reader({ ...EXACT, rate: 5, start: START }, { clock })
  t.is(((await r.poll()) as SourceBatch<string>).position, 1)
  const idle = r.poll()
  await until(() => clock.pendingTimers === 1)
  clock.advance(100)
  t.is(await idle, 'idle')
  const next = r.poll()
  await until(() => clock.pendingTimers === 1)
  clock.advance(99)
  t.is(clock.pendingTimers, 1)
  clock.advance(1)
  const batch = (await next) as SourceBatch<string>
  t.deepEqual([batch.position, batch.timestamps], [2, [START + 200]])
  await r.close()
})

test('is deterministic given the seed and the clock', async (t) => {
  const run = async (seed: number) => {
    const clock = new ManualClock(1_000)
    const r = await reader({ seed, rate: 1000, count: 2000 }, { clock })
    clock.advance(2000)
    return values(await drain(r))
  }
  const first = await run(42)
  t.is(first.length, 2000)
  t.deepEqual(await run(42), first)
  t.notDeepEqual(await run(7), first)
})

test('makes out-of-order and late tweets in the shares asked for', async (t) => {
  const clock = new ManualClock(0)
  const r = await reader({ rate: 1000, start: START, count: 20_000 }, { clock })
  clock.advance(20_000)
  const batches = await drain(r)
  t.is(batches.length, 20)
  const behind = batches.flatMap((b) => b.timestamps!).map((time, n) => START + n - time!)
  const late = behind.filter((d) => d >= 600_000 && d < 1_200_000).length
  const outOfOrder = behind.filter((d) => d > 0 && d < 30_000).length
  const onTime = behind.filter((d) => d === 0).length
  t.deepEqual({ late, outOfOrder, onTime }, { late: 441, outOfOrder: 1962, onTime: 17_597 })
  t.true(Math.abs(late / 20_000 - 0.02) < 0.005 && Math.abs(outOfOrder / 20_000 - 0.1) < 0.01)
})

test('resumes the same sequence from a restored position', async (t) => {
  const options = { rate: 100, start: START, count: 10 }
  const clock = new ManualClock(0)
  const whole = await reader(options, { clock })
  clock.advance(1000)
  const all = values(await drain(whole))
  const rest = await reader(options, { clock, restored: new Map([['tweets-0', 4]]) })
  clock.advance(1000)
  t.deepEqual(values(await drain(rest)), all.slice(4))
})

test('stamps the first tweet after a restore with the time of the restart by default', async (t) => {
  const clock = new ManualClock(START)
  const r = await reader({ ...EXACT, rate: 10, count: 10 }, { clock, restored: new Map([['tweets-0', 4]]) })
  const texts = await loadTweetTexts()
  t.deepEqual(await r.poll(), {
    split: 'tweets-0',
    values: [tweet(START, texts[OFFSET_42 + 4])],
    timestamps: [START],
    position: 5,
  })
})

test('spreads tweets over partitions, and partitions over instances', async (t) => {
  const options = { rate: 1000, start: START, count: 100 }
  const clock = new ManualClock(0)
  const one = await reader(options, { clock })
  const first = await reader({ ...options, partitions: 3 }, { clock, instance: 0, parallelism: 2 })
  const second = await reader({ ...options, partitions: 3 }, { clock, instance: 1, parallelism: 2 })
  t.deepEqual(first.splits(), ['tweets-0', 'tweets-2'])
  t.deepEqual(second.splits(), ['tweets-1'])
  clock.advance(1000)
  const expected = values(await drain(one))
  const a = await drain(first)
  const b = await drain(second)
  t.deepEqual(
    a.map((batch) => [batch.split, batch.values.length, batch.position]),
    [
      ['tweets-0', 34, 34],
      ['tweets-2', 33, 33],
    ],
  )
  const byNumber = [...a, ...b].flatMap((batch) =>
    batch.values.map((v, k) => [k * 3 + Number(batch.split.slice(-1)), v] as const),
  )
  t.deepEqual(
    byNumber.sort((x, y) => x[0] - y[0]).map(([, v]) => v),
    expected,
  )
})

test('emits the tweets due at start with availableNow, then ends', async (t) => {
  const clock = new ManualClock(0)
  const r = await reader(
    { rate: 10, start: START },
    { clock, availableNow: true, restored: new Map([['tweets-0', 7]]) },
  )
  clock.advance(10_000)
  t.deepEqual(
    (await drain(r)).map((b) => b.position),
    [8],
  )
})

test('ends at once on an instance that owns no split', async (t) => {
  const r = await reader({ partitions: 1 }, { instance: 1, parallelism: 2 })
  t.deepEqual(r.splits(), [])
  t.is(await r.poll(), 'end')
})

test('refuses options it does not know or cannot honour, saying what to write', (t) => {
  t.throws(() => embeddedTweets({ rate: 0 }), {
    instanceOf: ConfigError,
    message: 'embeddedTweets: rate 0 must be a number > 0, e.g. 200',
  })
  t.throws(() => embeddedTweets({ lateFraction: 0.6, outOfOrderFraction: 0.5 }), {
    instanceOf: ConfigError,
    message:
      'embeddedTweets: outOfOrderFraction 0.5 and lateFraction 0.6 add up to more than 1: lower one of them',
  })
  t.throws(() => embeddedTweets({ partitions: 1.5 }), {
    instanceOf: ConfigError,
    message: 'embeddedTweets: partitions 1.5 must be a whole number >= 1, e.g. 4',
  })
  t.throws(() => embeddedTweets({ tweetsPerSecond: 5 } as never), {
    instanceOf: ConfigError,
    message: /unknown option 'tweetsPerSecond'/,
  })
})

test('feeds a query at parallelism 2 with the same tweets as one reader', async (t) => {
  const options = { rate: 1_000_000, start: START, count: 300 }
  const clock = new ManualClock(0)
  const one = await reader(options, { clock })
  clock.advance(1)
  const expected = values(await drain(one))

  const out = new CollectSink<string>()
  const graph = new StreamGraph()
  graph
    .from(
      defineSource('tweets', embeddedTweets({ ...options, partitions: 2 }), { watermark: { delay: 60_000 } }),
      { parallelism: 2 },
    )
    .to(defineSink('out', out), { parallelism: 2 })
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.done
  t.deepEqual(out.rows().sort(), [...expected].sort())
  t.is(out.rows().length, 300)
  t.is(job.watermark, Infinity)
})
