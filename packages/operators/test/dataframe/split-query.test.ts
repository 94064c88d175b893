import test from 'ava'
import {
  ConfigError,
  defineSink,
  defineSource,
  Job,
  StreamGraph,
  StreamingQueryManager,
  type ExchangeRow,
  type Key,
  type ScaleOut,
  type Source,
  type SplitQuery,
} from '@weir/core'
import { CollectSink, listSource } from '@weir/core/testing'
import {
  desc,
  readStream,
  sessionWindow,
  splitQuery,
  string,
  struct,
  timestamp,
  window,
  type DataFrame,
  type OutputMode,
} from '../../src/index.js'
import { prng } from '../aggregate/runs.js'

// splitQuery cuts a DataFrame query at its exchange for running over processes (kafkaScaleOut does it
// over Kafka; its tests are in examples/test/scale-out). Here the exchange is a list in memory: the
// upstream half's rows are collected, routed by `route`, and read back by the downstream half, and
// the final rows must be the ones the query gives in one process.

const schema = struct({ creation_time: timestamp(), tweet_text: string() })
const START = Date.UTC(2026, 10, 24, 10, 0, 0)
const WORDS = ['spark', 'flink', 'kafka', 'weir', 'node', 'stream', 'window', 'count']

/** JSON lines of tweets: some out of order, a few without a time, one that is not JSON, some long. */
function input(n: number, seed: number): string[] {
  const random = prng(seed)
  return Array.from({ length: n }, (_, i) => {
    if (i === 7) return '{not json'
    const t = START + i * 700 - (random() < 0.2 ? Math.floor(random() * 20_000) : 0)
    const length = i % 50 === 0 ? 40 : 1 + Math.floor(random() * 6)
    const text = Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ')
    return JSON.stringify({
      creation_time: i % 31 === 0 ? null : new Date(t).toISOString(),
      tweet_text: text,
    })
  })
}

type Query = (
  tweets: DataFrame<{ creation_time: Date | null; tweet_text: string | null }>,
) => DataFrame<object>

const QUERIES: Record<string, { query: Query; outputMode: OutputMode }> = {
  // 40-word tweets in 5 sliding windows each: 200 rows of one input record cross the exchange.
  'words per sliding window behind a watermark': {
    query: (tweets) =>
      tweets
        .withWatermark('creation_time', '1 minute')
        .explode('word', (t) => t.tweet_text?.split(' '))
        .groupBy(window('creation_time', '5 minutes', '1 minute'), 'word')
        .count(),
    outputMode: 'update',
  },
  'tweets per sliding window (query 3), append': {
    query: (tweets) =>
      tweets
        .withWatermark('creation_time', '1 minute')
        .groupBy(window('creation_time', '5 minutes', '1 minute'))
        .count(),
    outputMode: 'append',
  },
  'words without windows (rows without a time count too)': {
    query: (tweets) =>
      tweets
        .explode('word', (t) => t.tweet_text?.split(' '))
        .filter((r) => r.word !== 'node')
        .groupBy('word')
        .count(),
    outputMode: 'complete',
  },
  'sessions per word (the exchange keys by word alone)': {
    query: (tweets) =>
      tweets
        .withWatermark('creation_time', '1 minute')
        .explode('word', (t) => t.tweet_text?.split(' '))
        .groupBy(sessionWindow('creation_time', '10 seconds'), 'word')
        .count(),
    outputMode: 'append',
  },
}

/** The last row of each group (window and keys) wins, as an upsert sink keeps update-mode rows. */
function finalRows(rows: readonly Record<string, unknown>[]): string[] {
  const last = new Map<string, string>()
  for (const row of rows) {
    const { count: _count, ...group } = row
    last.set(JSON.stringify(group), JSON.stringify(row))
  }
  return [...last.values()].sort()
}

/** Runs the split's halves in this process with a list between them; the rows reach `sink`. */
async function runSplit(split: SplitQuery): Promise<void> {
  const exchanged: { row: ExchangeRow; t: number | null }[] = []
  const up = new StreamGraph()
  up.from(
    defineSource<unknown, unknown>('source', split.source, {
      decode: split.decode,
      timestamp: split.timestamp,
    }),
  ).to(
    defineSink('exchange', {
      name: 'list',
      createWriter: () => ({
        write: (rows: readonly unknown[]) => {
          for (const row of rows) {
            // The event time is the decoded row's, taken in the source as in one process.
            const t = split.timestamp?.(row) ?? null
            for (const r of split.rowsOf(row))
              for (const key of split.exchange!.route(r, t)) exchanged.push({ row: { key, value: r }, t })
          }
        },
        commit: () => undefined,
        close: () => undefined,
      }),
    }),
  )
  await (
    await Job.start(up, { trigger: { kind: 'availableNow' } })
  ).done
  const down = split.exchange!.downstream(exchangeOf(exchanged), (raw) => raw as ExchangeRow)
  await (
    await Job.start(down, { trigger: { kind: 'availableNow' } })
  ).done
}

/** One split holding every exchanged row, with their event times, read in one batch. */
function exchangeOf(rows: readonly { row: ExchangeRow; t: number | null }[]): Source<unknown> {
  return {
    name: 'exchange',
    bounded: true,
    createReader: () => {
      let done = false
      return {
        poll: () => {
          if (done) return Promise.resolve('end' as const)
          done = true
          return Promise.resolve({
            split: 'x',
            values: rows.map((r) => r.row),
            timestamps: rows.map((r) => r.t),
            position: rows.length,
            splitEnded: true,
          })
        },
        splits: () => ['x'],
        close: () => Promise.resolve(),
      }
    },
  }
}

for (const [name, { query, outputMode }] of Object.entries(QUERIES)) {
  test(`${name}: the split halves give the rows of one process`, async (t) => {
    const lines = input(600, 11)
    const frame = () => query(readStream(listSource(lines, { batchSize: 50 })).parse(schema))
    const whole = new CollectSink<Record<string, unknown>>()
    const q = await frame()
      .writeStream({
        sink: whole,
        outputMode,
        trigger: { availableNow: true },
        manager: new StreamingQueryManager(),
      })
      .start()
    await q.awaitTermination()
    const halves = new CollectSink<Record<string, unknown>>()
    await runSplit(splitQuery(frame().plan, { sink: halves, outputMode }))
    t.true(whole.rows().length >= 7, `${whole.rows().length} rows`)
    t.deepEqual(finalRows(halves.rows()), finalRows(whole.rows()))
  })
}

test('route keys a row by group and window start for sliding windows, by group alone for sessions', (t) => {
  const frame = readStream(listSource<string>([])).parse(schema)
  const sink = new CollectSink()
  const plan = (df: DataFrame<object>) => df.plan
  const sliding = splitQuery(
    plan(frame.groupBy(window('creation_time', '3 minutes', '1 minute'), 'tweet_text').count()),
    { sink, outputMode: 'update' },
  )
  const row = { creation_time: new Date(START + 90_000), tweet_text: 'a' }
  t.deepEqual(sliding.exchange!.route(row, START + 90_000), [
    JSON.stringify(['a', START - 60_000]),
    JSON.stringify(['a', START]),
    JSON.stringify(['a', START + 60_000]),
  ] satisfies Key[])
  const sessions = splitQuery(
    plan(frame.groupBy(sessionWindow('creation_time', '1 minute'), 'tweet_text').count()),
    { sink, outputMode: 'update' },
  )
  t.deepEqual(sessions.exchange!.route(row, START + 90_000), ['a'])
  const plain = splitQuery(plan(frame.groupBy('tweet_text').count()), { sink, outputMode: 'update' })
  t.deepEqual(plain.exchange!.route(row, null), ['a'])
  const none = splitQuery(plan(frame.select('tweet_text')), { sink, outputMode: 'append' })
  t.is(none.exchange, undefined)
})

test('writeStream refuses what a query over processes cannot do, saying why', async (t) => {
  const frame = readStream(listSource<string>([])).parse(schema)
  const scaleOut: ScaleOut = { name: 'test', start: () => Promise.reject(new Error('not reached')) }
  const sink = new CollectSink()
  const counts = frame.groupBy('tweet_text').count()
  await t.throwsAsync(
    counts
      .orderBy(desc('count'))
      .writeStream({ sink, outputMode: 'complete', scaleOut, checkpointLocation: '/x' })
      .start(),
    { instanceOf: ConfigError, message: /orderBy orders the whole result in one place/ },
  )
  await t.throwsAsync(counts.writeStream({ sink, outputMode: 'update', scaleOut }).start(), {
    instanceOf: ConfigError,
    message: /scaleOut needs a checkpointLocation every process sees/,
  })
  await t.throwsAsync(
    counts
      .writeStream({ sink, outputMode: 'update', scaleOut, checkpointLocation: '/x', parallelism: 2 })
      .start(),
    {
      instanceOf: ConfigError,
      message: /parallelism does not go with scaleOut.*start more processes instead/,
    },
  )
  await t.throwsAsync(
    counts
      .writeStream({ sink, outputMode: 'update', scaleOut: {} as ScaleOut, checkpointLocation: '/x' })
      .start(),
    { instanceOf: ConfigError, message: /scaleOut must be a ScaleOut, e.g. scaleOut: kafkaScaleOut/ },
  )
})
