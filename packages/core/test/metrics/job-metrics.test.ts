import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { defineOperator, type TransformSpec } from '../../src/graph/operator.js'
import { defineSink, defineSource } from '../../src/graph/specs.js'
import { StreamGraph } from '../../src/graph/stream-graph.js'
import { StreamingQueryManager } from '../../src/query/manager.js'
import { Job } from '../../src/runtime/job.js'
import { CollectSink } from '../../src/testing/collect-sink.js'
import { listSource } from '../../src/testing/list-source.js'

interface Tweet {
  readonly word: string
  readonly time: number
}

const tweets: Tweet[] = Array.from({ length: 40 }, (_, i) => ({ word: `w${i % 5}`, time: i * 1000 }))

/** Counts per key, keeps the counts as state, and says how many keys it holds (as keyed-aggregate does). */
function countWords(id: string): TransformSpec<Tweet, { word: string; count: number }> {
  return defineOperator({
    id,
    name: 'count-words',
    stateful: true,
    build(ctx) {
      const counts = new Map<string, number>()
      return {
        onData(records) {
          for (const r of records) counts.set(r.value.word, (counts.get(r.value.word) ?? 0) + 1)
          ctx.counters.set('numRowsTotal', counts.size)
        },
        onBarrier(_barrier, out) {
          out.emit(
            [...counts].map(([word, count]) => ({ value: { word, count }, timestamp: null, key: word })),
          )
        },
        snapshot: () => ({ keyGroups: new Map([[0, [...counts]]]) }),
      }
    },
  })
}

function graph(out: CollectSink<unknown>): StreamGraph {
  const g = new StreamGraph()
  g.from(
    defineSource('tweets', listSource(tweets, { batchSize: 10 }), {
      timestamp: (t: Tweet) => t.time,
      watermark: { delay: 0 },
    }),
  )
    .keyBy((t) => t.word)
    .via(countWords('counts'), { parallelism: 2 })
    .to(defineSink('out', out), { parallelism: 2 })
  return g
}

test('a job reports every instance, in graph order: records, batches, watermark, busy time, queue fill and state', async (t) => {
  const job = await Job.start(graph(new CollectSink()), { trigger: { kind: 'manual' } })
  await job.done
  const m = job.metrics()
  t.is(m.state, 'finished')
  t.true(m.timed)
  t.deepEqual(
    m.instances.map((i) => [i.nodeId, i.kind, i.operator, i.instance]),
    [
      ['tweets', 'source', 'list', 0],
      ['counts', 'transform', 'count-words', 0],
      ['counts', 'transform', 'count-words', 1],
      ['out', 'sink', 'collect', 0],
      ['out', 'sink', 'collect', 1],
    ],
  )
  const [source, c0, c1, o0, o1] = m.instances
  t.like(source, { recordsIn: 40, recordsOut: 40, batches: 4, watermark: Infinity, backpressuredMs: 0 })
  t.is(c0.recordsIn + c1.recordsIn, 40)
  t.is(c0.batches + c1.batches, 8, 'each polled batch is split over the two instances')
  t.is(c0.stateRows! + c1.stateRows!, 5)
  t.deepEqual([c0.stateBytes, c1.stateBytes], [0, 0], 'no state backend: no snapshot to measure')
  t.is(o0.recordsOut + o1.recordsOut, 5, 'rows written')
  t.deepEqual([o0.queueFill, o1.queueFill], [0, 0])
  t.is(m.watermark, Infinity, 'a bounded source read to its end')
  t.true(m.instances.some((i) => i.busyMs > 0))
  t.deepEqual(m.splits, [{ nodeId: 'tweets', instance: 0, split: '0', position: 40 }])
  t.like(m.epochs, { current: 1, completed: 1, inFlight: 0 })
  t.like(m.epochs.recent[0], {
    epoch: 0,
    numInputRows: 40,
    numOutputRows: 5,
    checkpointed: false,
    snapshotMs: 0,
  })
  t.deepEqual(m.graph, {
    nodes: [
      { id: 'tweets', operator: 'list', kind: 'source', parallelism: 1, stateful: false },
      { id: 'counts', operator: 'count-words', kind: 'transform', parallelism: 2, stateful: true },
      { id: 'out', operator: 'collect', kind: 'sink', parallelism: 2, stateful: false },
    ],
    edges: [
      { from: 'tweets', to: 'counts', tag: 'main', partitioner: 'hash', chained: false },
      { from: 'counts', to: 'out', tag: 'main', partitioner: 'forward', chained: true },
    ],
  })
})

test('with metrics off, busy and backpressure times are not measured; counters still are', async (t) => {
  const job = await Job.start(graph(new CollectSink()), { trigger: { kind: 'manual' }, metrics: false })
  await job.done
  const m = job.metrics()
  t.false(m.timed)
  t.true(m.instances.every((i) => i.busyMs === 0 && (i.backpressuredMs ?? 0) === 0))
  t.is(m.instances[0].recordsOut, 40)
})

test('a query with a checkpoint location measures its snapshots: state bytes, snapshot time, and its Prometheus text', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-metrics-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const manager = new StreamingQueryManager()
  const query = await manager.start(graph(new CollectSink()), {
    queryName: 'word_counts',
    checkpointLocation: dir,
    trigger: { kind: 'manual' },
  })
  await query.awaitTermination()
  const snapshot = query.metricsSnapshot()
  t.like(snapshot, { name: 'word_counts', id: query.id, runId: query.runId })
  const state = snapshot.instances.filter((i) => i.nodeId === 'counts')
  t.true(
    state.every((i) => i.stateBytes! > 0),
    `state bytes ${state.map((i) => i.stateBytes).join()}`,
  )
  t.like(snapshot.epochs.recent.at(-1), { checkpointed: true })
  const progress = query.lastProgress!
  t.is(
    progress.stateOperators[0].memoryUsedBytes,
    state.reduce((n, i) => n + i.stateBytes!, 0),
  )
  t.true(progress.durationMs.walCommit >= 0)

  const text = query.metrics()
  t.regex(text, /^# HELP weir_query_info /)
  t.true(text.includes('weir_records_in_total{query="word_counts",operator="tweets",instance="0"} 40\n'))
  t.true(text.includes('weir_state_rows{query="word_counts",operator="counts",instance="0"}'))
  t.regex(text, /^weir_state_bytes\{query="word_counts",operator="counts",instance="1"\} [1-9]\d*$/m)
  t.true(text.includes('weir_query_watermark_seconds{query="word_counts"} +Inf\n'))
  t.true(text.includes('weir_epochs_completed_total{query="word_counts"} 1\n'))
})
