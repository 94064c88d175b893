import { defineOperator, defineSink, defineSource, StreamGraph } from '@weir/core'
import { CollectSink } from '@weir/core/testing'
import { kafkaSource, type KafkaRecord, type KafkaSourceOptions } from '../../src/index.js'
import { captureLog, GROUP, numbered, produce, startJob, unique, waitFor, within } from './helpers.js'
import { useKafka } from './mock-cluster.js'

const kafka = useKafka()
const test = kafka.test

function source(options: Partial<KafkaSourceOptions>) {
  return kafkaSource({
    brokers: kafka.brokers(),
    log: captureLog().log,
    startingOffsets: 'earliest',
    ...GROUP,
    ...options,
  })
}

test('four partitions over two source instances: each reads two, and every record arrives exactly once', async (t) => {
  const topic = unique('spread')
  const messages = numbered('v', 200)
  await produce(kafka.brokers(), topic, messages)
  const out = new CollectSink<KafkaRecord>()
  const graph = new StreamGraph()
  graph
    .from(defineSource('kafka', source({ subscribe: [topic] })), { parallelism: 2 })
    .to(defineSink('out', out), { parallelism: 2 })
  const job = await startJob(t, graph)
  await waitFor(() => out.rows().length >= 200, 20_000, '200 rows')
  await within(job.stop(), 20_000, 'the job to stop')
  const partitionsOf = (instance: number) =>
    [
      ...new Set(
        out.epochs.filter((e) => e.instance === instance).flatMap((e) => e.rows.map((r) => r.partition)),
      ),
    ].sort()
  t.deepEqual(partitionsOf(0), [0, 2])
  t.deepEqual(partitionsOf(1), [1, 3])
  const values = out.rows().map((r) => r.value!.toString())
  t.is(new Set(values).size, values.length, 'no record twice')
  t.deepEqual(values.sort(), messages.map((m) => String(m.value)).sort())
})

interface WindowCount {
  readonly start: number
  readonly count: number
}

/** Counts records per 10 s tumbling window of their Kafka timestamps; emits a window once the watermark passes its end. */
function tumblingCount(id: string) {
  const size = 10_000
  return defineOperator<KafkaRecord, WindowCount>({
    id,
    name: 'tumbling-count',
    stateful: true,
    build: () => {
      const counts = new Map<number, number>()
      return {
        onData(records) {
          for (const r of records) {
            const start = Math.floor(r.timestamp! / size) * size
            counts.set(start, (counts.get(start) ?? 0) + 1)
          }
        },
        onWatermark(time, out) {
          const closed = [...counts].filter(([start]) => start + size <= time).sort((a, b) => a[0] - b[0])
          for (const [start] of closed) counts.delete(start)
          out.emit(closed.map(([start, count]) => ({ value: { start, count }, timestamp: start })))
        },
      }
    },
  })
}

test('an idle partition does not stop windows from closing', async (t) => {
  const topic = unique('idle')
  const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 10_000)
  // Partitions 0 and 1 only: 2 and 3 stay empty. Event times 0..29 s, then one record at 45 s moves the watermark.
  const times = [0, 1_000, 9_999, 10_000, 15_000, 20_000, 29_999]
  const messages = [0, 1].flatMap((partition) =>
    [...times, 45_000].map((dt) => ({ partition, value: `p${partition}+${dt}`, timestamp: String(t0 + dt) })),
  )
  await produce(kafka.brokers(), topic, messages)
  const run = async (idleTimeout: number | undefined) => {
    const out = new CollectSink<WindowCount>()
    const graph = new StreamGraph()
    graph
      .from(defineSource('kafka', source({ subscribe: [topic] }), { watermark: { delay: 0, idleTimeout } }), {
        parallelism: 2,
      })
      .via(tumblingCount('count'), { parallelism: 2 })
      .to(defineSink('out', out), { parallelism: 2 })
    await startJob(t, graph)
    return out
  }
  const withIdle = await run(1_000)
  const withoutIdle = await run(undefined)
  const total = (out: CollectSink<WindowCount>) => {
    const sums = new Map<number, number>()
    for (const { start, count } of out.rows()) sums.set(start - t0, (sums.get(start - t0) ?? 0) + count)
    return [...sums].sort((a, b) => a[0] - b[0])
  }
  await waitFor(() => total(withIdle).length >= 3, 20_000, 'three windows to close')
  // Both partitions (one per instance) counted: windows [0,10), [10,20), [20,30) s.
  t.deepEqual(total(withIdle), [
    [0, 6],
    [10_000, 4],
    [20_000, 4],
  ])
  t.deepEqual(withoutIdle.rows(), [], 'without idleness the empty partitions hold every window open')
})

test('subscribePattern reads matching topics, and finds a topic created after the start', async (t) => {
  const prefix = unique('pattern')
  await produce(kafka.brokers(), `${prefix}-a`, numbered('a', 8))
  const out = new CollectSink<KafkaRecord>()
  const graph = new StreamGraph()
  graph
    .from(
      defineSource('kafka', source({ subscribePattern: `${prefix}-.*`, partitionDiscoveryIntervalMs: 500 })),
    )
    .to(defineSink('out', out))
  await startJob(t, graph)
  await waitFor(() => out.rows().length >= 8, 20_000, "topic a's records")
  await produce(kafka.brokers(), `${prefix}-b`, numbered('b', 8))
  await waitFor(() => out.rows().length >= 16, 25_000, "topic b's records")
  await new Promise((r) => setTimeout(r, 300))
  t.deepEqual(
    out
      .rows()
      .map((r) => `${r.topic.slice(prefix.length + 1)}:${r.value!.toString()}`)
      .sort(),
    [
      ...numbered('a', 8).map((m) => `a:${String(m.value)}`),
      ...numbered('b', 8).map((m) => `b:${String(m.value)}`),
    ].sort(),
  )
})

/** 100 records on a new topic, read with `maxOffsetsPerTrigger: 30` into `out`. */
async function cappedRead(name: string): Promise<{ graph: StreamGraph; out: CollectSink<KafkaRecord> }> {
  const topic = unique(name)
  await produce(kafka.brokers(), topic, numbered('v', 100))
  const out = new CollectSink<KafkaRecord>()
  const graph = new StreamGraph()
  graph
    .from(defineSource('kafka', source({ subscribe: [topic], maxOffsetsPerTrigger: 30 })))
    .to(defineSink('out', out))
  return { graph, out }
}

test('maxOffsetsPerTrigger caps every epoch', async (t) => {
  const { graph, out } = await cappedRead('rate')
  const job = await startJob(t, graph, { trigger: { kind: 'processingTime', intervalMs: 100 } })
  const epochs: number[] = []
  job.onEpoch((report) => epochs.push(report.numInputRows))
  await waitFor(() => out.rows().length >= 100, 20_000, '100 rows')
  await new Promise((r) => setTimeout(r, 300))
  t.is(out.rows().length, 100)
  t.true(
    epochs.every((n) => n <= 30),
    `epochs read ${epochs.join(', ')}`,
  )
  t.true(epochs.filter((n) => n > 0).length >= 4, `epochs read ${epochs.join(', ')}`)
})

test('processAllAvailable ends epochs until maxOffsetsPerTrigger holds nothing back', async (t) => {
  const { graph, out } = await cappedRead('drain')
  const job = await startJob(t, graph, { trigger: { kind: 'manual' } })
  const epochs: number[] = []
  job.onEpoch((report) => epochs.push(report.numInputRows))
  // Once the consumer has fetched (its first share is out), one call reads the topic to its end.
  await waitFor(() => (job.counters()['kafka#0']?.recordsOut ?? 0) > 0, 20_000, 'a first batch')
  await job.processAllAvailable()
  t.is(out.rows().length, 100, `epochs read ${epochs.join(', ')}`)
  t.true(
    epochs.every((n) => n <= 30),
    `epochs read ${epochs.join(', ')}`,
  )
})
