import { join } from 'node:path'
import { StreamingQueryManager, type Sink, type StreamingQuery } from '@weir/core'
import {
  kafkaScaleOut,
  kafkaSource,
  loadTweetTexts,
  mockSafeAssigner,
  type KafkaLogEntry,
} from '@weir/connectors'
import { window } from '@weir/operators'
import { lastOwned, useScaleOutCluster } from './groups.js'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { tweetRecord } from '../../src/producer/tweet-records.js'
import { tweets } from '../../src/tutorial/queries.js'

// A query scaled out with kafkaScaleOut, run in this process (each StreamingQueryManager plays one
// process: the two share nothing but the Kafka cluster and the checkpoint location), compared with
// the same DataFrame query in one process. The query explodes tweets into words before sliding
// windows, so one tweet crosses the repartition topic as up to hundreds of rows.

const texts = await loadTweetTexts()
const START = Date.UTC(2026, 10, 24, 10, 0, 0)
const records = [
  ...Array.from({ length: 400 }, (_, n) =>
    tweetRecord(n, { texts, seed: 9, start: START, stepMs: 700, lateFraction: 0.15, maxDelayMs: 20_000 }),
  ),
  // Not JSON: parsed permissively into a row without a time, in no window.
  { key: 'bad', value: '{"creation_time": "yesterday", ' },
]

const { serial, cluster, dir } = useScaleOutCluster('weir-scale-out-query-')

async function produce(topic: string): Promise<void> {
  const producer = new Kafka({ brokers: cluster().brokers, logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await producer.connect()
  try {
    await producer.send({ topic, messages: records.map((r) => ({ key: r.key, value: r.value })), acks: -1 })
  } finally {
    await producer.disconnect()
  }
}

type Row = { readonly window: { readonly start: Date }; readonly word: string; readonly count: number }

/** Committed rows, in commit order. */
function rowsSink(into: Row[]): Sink<Row> {
  return {
    name: 'rows',
    createWriter: () => {
      const pending = new Map<number, Row[]>()
      return {
        write: (rows, epoch) => void pending.set(epoch, [...(pending.get(epoch) ?? []), ...rows]),
        commit: (epoch) => {
          into.push(...(pending.get(epoch) ?? []))
          pending.delete(epoch)
        },
        close: () => undefined,
      }
    },
  }
}

/** Update mode as an upsert sink keeps it: the last row of each (window, word). */
function finalRows(rows: readonly Row[]): string[] {
  const last = new Map<string, number>()
  for (const r of rows) last.set(`${r.window.start.toISOString()} ${r.word}`, r.count)
  return [...last].map(([k, n]) => `${k} ${n}`).sort()
}

function start(
  topic: string,
  into: Row[],
  placement: object,
  log: (entry: KafkaLogEntry) => void = () => undefined,
): Promise<StreamingQuery> {
  return tweets(
    kafkaSource({ brokers: cluster().brokers, subscribe: [topic], startingOffsets: 'earliest', log }),
  )
    .withWatermark('creation_time', '1 minute')
    .explode('word', (t) => t.tweet_text?.split(' '))
    .groupBy(window('creation_time', '5 minutes', '1 minute'), 'word')
    .count()
    .writeStream({
      sink: rowsSink(into),
      outputMode: 'update',
      manager: new StreamingQueryManager(),
      ...placement,
    })
    .start()
}

const group = { partitionAssigners: [mockSafeAssigner()], sessionTimeout: 6000, heartbeatInterval: 1000 }

/** The query in one process, reading the topic to its end (availableNow). */
async function oneProcess(
  topic: string,
  options: { outputMode?: 'update' | 'append'; idleTimeout?: string } = {},
): Promise<string[]> {
  const rows: Row[] = []
  const query = await start(topic, rows, { trigger: { availableNow: true }, ...options })
  await query.awaitTermination(60_000)
  return finalRows(rows)
}

const TOPIC = `words-${process.pid}`

serial(
  'a scaled-out query is a StreamingQuery: listed, progress with its input, both halves explained, processAllAvailable, stop',
  async (t) => {
    await produce(TOPIC)
    const expected = await oneProcess(TOPIC)
    t.true(expected.length > 1000, `${expected.length} rows`)
    const rows: Row[] = []
    const manager = new StreamingQueryManager()
    const query = await tweets(
      kafkaSource({ brokers: cluster().brokers, subscribe: [TOPIC], startingOffsets: 'earliest' }),
    )
      .withWatermark('creation_time', '1 minute')
      .explode('word', (tweet) => tweet.tweet_text?.split(' '))
      .groupBy(window('creation_time', '5 minutes', '1 minute'), 'word')
      .count()
      .writeStream({
        sink: rowsSink(rows),
        outputMode: 'update',
        queryName: 'words',
        trigger: { processingTime: 200 },
        manager,
        checkpointLocation: join(dir(), 'single'),
        scaleOut: kafkaScaleOut(group),
      })
      .start()
    t.teardown(() => query.stop())
    t.deepEqual(
      manager.active.map((q) => q.name),
      ['words'],
    )
    // Every tweet reaches the aggregate once the group has joined; then everything available is done.
    const deadline = Date.now() + 60_000
    while (finalRows(rows).join('\n') !== expected.join('\n') && Date.now() < deadline)
      await query.processAllAvailable()
    t.deepEqual(finalRows(rows), expected)
    const input = query.recentProgress.reduce((n, p) => n + p.numInputRows, 0)
    t.is(input, records.length, 'numInputRows over the progress reports: every input record once')
    const plan = query.explain()
    t.regex(plan, /source[\s\S]*exchange-rows[\s\S]*repartition-[\s\S]*exchange[\s\S]*aggregate[\s\S]*sink/)
    t.truthy(query.lastProgress?.stateOperators.find((s) => s.numRowsTotal > 0))
    const metrics = query.metricsSnapshot()
    t.true(metrics.graph.edges.some((e) => e.from === 'repartition' && e.to === 'exchange'))
    await query.stop()
    t.false(query.isActive)
    t.deepEqual(manager.active, [])
  },
)

serial(
  'two processes of a scaled-out query share the input and the windows, and give the rows of one process',
  async (t) => {
    const topic = `words-two-${process.pid}`
    // Rows of both processes in the order their epochs committed: a window moves only once its old owner stopped.
    const arrivals: Row[] = []
    const rows: Row[][] = [[], []]
    const logs: string[][] = [[], []]
    const location = join(dir(), 'two')
    const members = await Promise.all(
      [0, 1].map((i) =>
        start(
          topic,
          rows[i],
          { checkpointLocation: location, trigger: { processingTime: 200 }, scaleOut: kafkaScaleOut(group) },
          (e) => logs[i].push(e.message),
        ),
      ),
    )
    t.teardown(() => Promise.all(members.map((m) => m.stop())))
    t.is(members[0].id, members[1].id, 'one query: the id both found in the shared location')
    const transcript = () => logs.map((l, i) => `member ${i}:\n${l.slice(-8).join('\n')}`).join('\n')
    // Both groups (input, repartition) split 2 + 2 before any tweet is written.
    const split = () =>
      logs.every(
        (l) =>
          lastOwned(l, /joined group .* with partitions (.*)$/) === 2 &&
          lastOwned(l, /runs partitions ([^ ]+(?:, [^ ]+)*) of/) === 2,
      )
    for (const deadline = Date.now() + 45_000; !split() && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 100))
    t.true(split(), transcript())
    await produce(topic)
    const expected = await oneProcess(topic)
    const deadline = Date.now() + 60_000
    while (finalRows(arrivals).join('\n') !== expected.join('\n') && Date.now() < deadline) {
      for (const i of [0, 1]) arrivals.push(...rows[i].splice(0))
      await new Promise((r) => setTimeout(r, 100))
    }
    t.deepEqual(finalRows(arrivals), expected, transcript())
    const by = (member: StreamingQuery) => member.recentProgress.reduce((n, p) => n + p.numInputRows, 0)
    t.true(
      members.every((m) => by(m) > 0),
      `both processes read input: ${members.map(by).join(' + ')}`,
    )
    t.is(by(members[0]) + by(members[1]), records.length, 'every input record read once')
  },
)

serial(
  'with idleTimeout, input partitions that get no tweets stop holding the windows back, as in one process',
  async (t) => {
    const topic = `words-idle-${process.pid}`
    const rows: Row[] = []
    const query = await start(topic, rows, {
      checkpointLocation: join(dir(), 'idle'),
      trigger: { processingTime: 200 },
      outputMode: 'append',
      idleTimeout: '2 seconds',
      scaleOut: kafkaScaleOut(group),
    })
    t.teardown(() => query.stop())
    // Every tweet to partition 0: partitions 1 to 3 never write to the repartition topic.
    const producer = new Kafka({ brokers: cluster().brokers, logLevel: logLevel.NOTHING }).producer()
    await producer.connect()
    await producer.send({ topic, messages: records.map((r) => ({ value: r.value, partition: 0 })), acks: -1 })
    await producer.disconnect()
    // In one process the same idleTimeout lets partition 0's watermark close windows.
    const reference = await oneProcess(topic, { outputMode: 'append', idleTimeout: '2 seconds' })
    t.true(reference.length > 100, `${reference.length} rows in one process`)
    const deadline = Date.now() + 30_000
    while (rows.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    t.true(rows.length > 0, 'windows closed by the watermark of the one writer that writes')
    // Append rows are final: each is the one-process row of its (window, word).
    t.deepEqual(
      finalRows(rows).filter((r) => !reference.includes(r)),
      [],
    )
  },
)

serial(
  'a query without groupBy scales out too: each process writes the rows of its input partitions',
  async (t) => {
    const topic = `words-plain-${process.pid}`
    await produce(topic)
    type Word = { readonly word: string; readonly creation_time: Date | null }
    const words = (into: Word[], placement: object) =>
      tweets(kafkaSource({ brokers: cluster().brokers, subscribe: [topic], startingOffsets: 'earliest' }))
        .explode('word', (tweet) => tweet.tweet_text?.split(' '))
        .filter((r) => r.word.length > 6)
        .select('word', 'creation_time')
        .writeStream({
          sink: {
            name: 'words',
            createWriter: () => ({
              write: (rows: readonly Word[]) => void into.push(...rows),
              commit: () => undefined,
              close: () => undefined,
            }),
          },
          outputMode: 'append',
          manager: new StreamingQueryManager(),
          ...placement,
        })
        .start()
    const expected: Word[] = []
    await (await words(expected, { trigger: { availableNow: true } })).awaitTermination(60_000)
    const scaled: Word[] = []
    const query = await words(scaled, {
      checkpointLocation: join(dir(), 'plain'),
      trigger: { processingTime: 200 },
      scaleOut: kafkaScaleOut(group),
    })
    t.teardown(() => query.stop())
    const deadline = Date.now() + 30_000
    while (scaled.length < expected.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    const show = (rows: readonly Word[]) =>
      rows.map((r) => `${r.creation_time?.toISOString() ?? 'null'} ${r.word}`).sort()
    t.true(expected.length > 500, `${expected.length} words`)
    t.deepEqual(show(scaled), show(expected))
    t.regex(query.explain(), /source[\s\S]*rows[\s\S]*sink/)
  },
)
