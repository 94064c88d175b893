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

test('a slow aggregate holds the repartition topic back: what is fetched and not taken stays bounded, and every row comes once', async (t) => {
  const topic = unique('tasks-bounded')
  const dir = await mkdtemp(join(tmpdir(), 'weir-tasks-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // 4,000 rows of about 1 KB over the 4 partitions: 4 MB in the topic before the tasks start.
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
  const rows: RepartitionRow[] = Array.from({ length: 4000 }, (_, i) => ({
    kind: 'data',
    writer: 'in-0',
    offset: i,
    index: 0,
    t: 1000 + i,
    key: `k${i % 97}`,
    value: { i, pad: 'x'.repeat(1000) },
  }))
  for (let i = 0; i < rows.length; i += 500) await writer.write(rows.slice(i, i + 500), 0)
  await writer.close()

  const out = new CollectSink<RepartitionData>({ delayMs: 100 })
  const maxBufferedBytes = 256 * 1024
  const tasks = await RepartitionTasks.start({
    brokers: kafka.brokers(),
    log: captureLog().log,
    topic,
    groupId: unique('tasks-group'),
    writers: ['in-0'],
    checkpointDir: dir,
    graph: (source) => {
      const graph = new StreamGraph()
      graph
        .from(defineSource('source', source, { decode: decodeRepartitioned }))
        .to(defineSink('out', out, { capacity: 100 }))
      return graph
    },
    job: { trigger: { kind: 'processingTime', intervalMs: 100 } },
    maxBufferedBytes,
    partitionAssigners: [mockSafeAssigner()],
    ...GROUP,
  })
  t.teardown(() => tasks.stop())
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
  const dir = await mkdtemp(join(tmpdir(), 'weir-tasks-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // 16 MB to one partition: the mock cluster keeps a few MB of a partition and deletes the oldest,
  // as a real topic's retention would while a downstream is away.
  const writer = await repartitionSink({
    brokers: kafka.brokers(),
    log: captureLog().log,
    topic,
  }).createWriter({ sinkId: 'repartition', instance: 0, parallelism: 1, firstEpoch: 0 })
  for (let i = 0; i < 16_000; i += 500) {
    await writer.write(
      Array.from({ length: 500 }, (_, j) => ({
        kind: 'data' as const,
        writer: 'in-0',
        offset: i + j,
        index: 0,
        t: 1000,
        key: 'one',
        value: { pad: `${i + j}`.padEnd(1000, 'x') },
      })),
      0,
    )
  }
  await writer.close()
  const out = new CollectSink<RepartitionData>()
  const tasks = await RepartitionTasks.start({
    brokers: kafka.brokers(),
    log: captureLog().log,
    topic,
    groupId: unique('tasks-lost-group'),
    writers: ['in-0'],
    checkpointDir: dir,
    graph: (source) => {
      const graph = new StreamGraph()
      graph.from(defineSource('source', source, { decode: decodeRepartitioned })).to(defineSink('out', out))
      return graph
    },
    job: { trigger: { kind: 'processingTime', intervalMs: 100 } },
    partitionAssigners: [mockSafeAssigner()],
    ...GROUP,
  })
  t.teardown(() => tasks.stop())
  const error = await t.throwsAsync(tasks.done)
  t.regex(
    error?.message ?? '',
    /offsets 0 to \d+ of partition \d of '.*' are gone before they were read \(the topic's retention deleted them\?\): their rows would be lost/,
  )
  t.is(tasks.error, error)
})
