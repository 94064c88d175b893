import test from 'ava'
import { ConfigError, defineSink, defineSource, Job, StreamGraph, type SinkWriter } from '@weir/core'
import { listSource } from '@weir/core/testing'

import { MemorySink } from '../src/index.js'

interface Count {
  readonly word: string
  readonly count: number
}

function writer<T>(sink: MemorySink<T>, instance = 0, parallelism = 1): SinkWriter<T> {
  return sink.createWriter({ sinkId: 'out', instance, parallelism, firstEpoch: 0 })
}

async function epoch<T>(w: SinkWriter<T>, n: number, rows: T[]): Promise<void> {
  await w.write(rows, n)
  await w.commit(n)
}

test('appends the rows of each committed epoch', async (t) => {
  const sink = new MemorySink<number>({ outputMode: 'append' })
  const w = writer(sink)
  await epoch(w, 0, [1, 2])
  await epoch(w, 1, [3])
  t.deepEqual(sink.rows(), [1, 2, 3])
  t.is(sink.lastEpoch, 1)
  t.deepEqual(sink.epochs, [
    { epoch: 0, rows: [1, 2] },
    { epoch: 1, rows: [3] },
  ])
})

test('shows the rows of an epoch only once it commits', async (t) => {
  const sink = new MemorySink<number>({ outputMode: 'append' })
  const w = writer(sink)
  t.is(sink.lastEpoch, undefined)
  await w.write([1], 0)
  t.deepEqual(sink.rows(), [])
  await w.commit(0)
  t.deepEqual(sink.rows(), [1])
})

test('replaces the table with each epoch in complete mode', async (t) => {
  const sink = new MemorySink<Count>({ outputMode: 'complete' })
  const w = writer(sink)
  await epoch(w, 0, [{ word: 'a', count: 1 }])
  await epoch(w, 1, [
    { word: 'a', count: 2 },
    { word: 'b', count: 1 },
  ])
  t.deepEqual(sink.rows(), [
    { word: 'a', count: 2 },
    { word: 'b', count: 1 },
  ])
  await epoch(w, 2, [])
  t.deepEqual(sink.rows(), [])
})

test('upserts by key in update mode, keeping the order keys first came in', async (t) => {
  const sink = new MemorySink<Count>({ outputMode: 'update', key: (r) => r.word })
  const w = writer(sink)
  await epoch(w, 0, [
    { word: 'a', count: 1 },
    { word: 'b', count: 1 },
  ])
  await epoch(w, 1, [
    { word: 'a', count: 3 },
    { word: 'c', count: 1 },
  ])
  t.deepEqual(sink.rows(), [
    { word: 'a', count: 3 },
    { word: 'b', count: 1 },
    { word: 'c', count: 1 },
  ])
})

test('refuses update mode without a key', (t) => {
  t.throws(() => new MemorySink({ outputMode: 'update' }), {
    instanceOf: ConfigError,
    message:
      "MemorySink: outputMode 'update' upserts rows by key: pass key, e.g. { outputMode: 'update', key: (row) => row.word }",
  })
  t.throws(() => new MemorySink({ outputMode: 'upsert' as 'update' }), {
    instanceOf: ConfigError,
    message: "MemorySink: outputMode 'upsert' is not one of 'append', 'update', 'complete'",
  })
})

test('skips an epoch delivered again after a restore', async (t) => {
  const sink = new MemorySink<number>({ outputMode: 'append' })
  const first = writer(sink)
  await epoch(first, 0, [1])
  await epoch(first, 1, [2])
  await first.write([3], 2) // the run fails before epoch 2 commits
  const again = writer(sink) // the restored run replays from epoch 1
  await epoch(again, 1, [2])
  await epoch(again, 2, [3])
  t.deepEqual(sink.rows(), [1, 2, 3])
  t.deepEqual(
    sink.epochs.map((e) => e.epoch),
    [0, 1, 2],
  )
})

test('applies an epoch once every instance has committed its part', async (t) => {
  const sink = new MemorySink<number>({ outputMode: 'append' })
  const w0 = writer(sink, 0, 2)
  const w1 = writer(sink, 1, 2)
  await w1.write([10], 0)
  await w0.write([1], 0)
  await w0.commit(0)
  t.deepEqual(sink.rows(), [])
  await w0.write([2], 1)
  await w0.commit(1)
  await w1.commit(0)
  t.deepEqual(sink.rows(), [1, 10])
  await w1.commit(1)
  t.deepEqual(sink.rows(), [1, 10, 2])
})

test('drops the parts of a half-committed epoch when the query restarts', async (t) => {
  const sink = new MemorySink<number>({ outputMode: 'append' })
  const old0 = writer(sink, 0, 2)
  writer(sink, 1, 2)
  await epoch(old0, 0, [1]) // instance 1 never commits epoch 0: the run fails
  const w0 = writer(sink, 0, 2)
  const w1 = writer(sink, 1, 2)
  await epoch(w1, 0, [10])
  t.deepEqual(sink.rows(), [])
  await epoch(old0, 0, [99]) // a writer of the failed run is ignored
  await epoch(w0, 0, [1])
  t.deepEqual(sink.rows(), [1, 10])
})

test('tells its listeners about each epoch it applies', async (t) => {
  const sink = new MemorySink<number>({ outputMode: 'append' })
  const seen: unknown[] = []
  const stop = sink.onCommit((e) => seen.push(e))
  const w = writer(sink)
  await epoch(w, 0, [1])
  stop()
  await epoch(w, 1, [2])
  t.deepEqual(seen, [{ epoch: 0, rows: [1] }])
})

test('holds the output of a query run at parallelism 2', async (t) => {
  const sink = new MemorySink<number>({ outputMode: 'append' })
  const graph = new StreamGraph()
  graph
    .from(defineSource('nums', listSource({ a: [1, 2, 3], b: [4, 5] })), { parallelism: 2 })
    .to(defineSink('out', sink), { parallelism: 2 })
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.done
  t.deepEqual(sink.rows(), [1, 2, 3, 4, 5])
  t.deepEqual(
    sink.epochs.map((e) => e.epoch),
    [0],
  )
})
