import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineSink, defineSource, StreamGraph } from '@weir/core'
import { CollectSink } from '@weir/core/testing'
import {
  decodeRepartitioned,
  mockSafeAssigner,
  RepartitionTasks,
  repartitionSink,
  type RepartitionData,
  type RepartitionRow,
} from '../../src/index.js'
import { captureLog, GROUP, unique, waitFor } from './helpers.js'
import { useKafka } from './mock-cluster.js'

const kafka = useKafka()
const test = kafka.test

/** Writes `rows` to `topic` with the repartition sink, 500 a write. */
async function writeRows(topic: string, rows: readonly RepartitionRow[]): Promise<void> {
  const writer = await repartitionSink({
    brokers: kafka.brokers(),
    log: captureLog().log,
    topic,
  }).createWriter({
    sinkId: 'repartition',
    instance: 0,
    parallelism: 1,
    firstEpoch: 0,
  })
  for (let i = 0; i < rows.length; i += 500) await writer.write(rows.slice(i, i + 500), 0)
  await writer.close()
}

/** Tasks over `topic` whose job reads its rows into `out` (a sink of `capacity` rows). */
async function startTasks(
  t: { teardown(fn: () => unknown): void },
  topic: string,
  out: CollectSink<RepartitionData>,
  options: { capacity?: number; maxBufferedBytes?: number } = {},
): Promise<RepartitionTasks> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-tasks-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const tasks = await RepartitionTasks.start({
    brokers: kafka.brokers(),
    log: captureLog().log,
    topic,
    groupId: unique(`${topic}-group`),
    writers: ['in-0'],
    checkpointDir: dir,
    graph: (source) => {
      const graph = new StreamGraph()
      graph
        .from(defineSource('source', source, { decode: decodeRepartitioned }))
        .to(defineSink('out', out, { capacity: options.capacity }))
      return graph
    },
    job: { trigger: { kind: 'processingTime', intervalMs: 100 } },
    maxBufferedBytes: options.maxBufferedBytes,
    partitionAssigners: [mockSafeAssigner()],
    ...GROUP,
  })
  t.teardown(() => tasks.stop())
  return tasks
}

test('a slow aggregate holds the repartition topic back: what is fetched and not taken stays bounded, and every row comes once', async (t) => {
  const topic = unique('tasks-bounded')
  // 4,000 rows of about 1 KB over the 4 partitions: 4 MB in the topic before the tasks start.
  await writeRows(
    topic,
    Array.from({ length: 4000 }, (_, i) => ({
      kind: 'data',
      writer: 'in-0',
      offset: i,
      index: 0,
      t: 1000 + i,
      key: `k${i % 97}`,
      value: { i, pad: 'x'.repeat(1000) },
    })),
  )
  const out = new CollectSink<RepartitionData>({ delayMs: 100 })
  const maxBufferedBytes = 256 * 1024
  const tasks = await startTasks(t, topic, out, { capacity: 100, maxBufferedBytes })
  let most = 0
  const sampler = setInterval(() => (most = Math.max(most, tasks.bufferedBytes)), 2)
  t.teardown(() => clearInterval(sampler))
  await waitFor(() => out.rows().length >= 4000, 60_000, '4,000 rows')
  clearInterval(sampler)
  // At most the limit, one fetch (its size is the limit too) and one record past it.
  t.true(most <= 2 * maxBufferedBytes + 128 * 1024, `${most} bytes buffered at most`)
  t.true(most > 0)
  const seen = out.rows().map((r) => (r.value as { i: number }).i)
  t.is(new Set(seen).size, 4000)
  t.is(seen.length, 4000)
})

test('rows deleted from the topic before they were read fail the tasks with the offsets, never silently', async (t) => {
  const topic = unique('tasks-lost')
  // 16 MB to one partition: the mock cluster keeps a few MB of a partition and deletes the oldest,
  // as a real topic's retention would while a downstream is away.
  await writeRows(
    topic,
    Array.from({ length: 16_000 }, (_, i) => ({
      kind: 'data',
      writer: 'in-0',
      offset: i,
      index: 0,
      t: 1000,
      key: 'one',
      value: { pad: `${i}`.padEnd(1000, 'x') },
    })),
  )
  const tasks = await startTasks(t, topic, new CollectSink<RepartitionData>())
  const error = await t.throwsAsync(tasks.done)
  t.regex(
    error?.message ?? '',
    /offsets 0 to \d+ of partition \d of '.*' are gone before they were read \(the topic's retention deleted them\?\): their rows would be lost/,
  )
  t.is(tasks.error, error)
})
