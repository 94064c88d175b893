import test from 'ava'
import type { JobMetrics } from '../../src/metrics/job-metrics.js'
import { formatPrometheus, metricFamilies } from '../../src/metrics/prometheus.js'

test('writes families in the text exposition format, escaping labels and writing infinities as Prometheus does', (t) => {
  const text = formatPrometheus([
    {
      name: 'weir_watermark_seconds',
      help: 'The watermark.',
      type: 'gauge',
      labelNames: ['query', 'operator'],
      samples: [
        { labels: { query: 'a "b"\\c', operator: 'x\ny' }, value: -Infinity },
        { labels: { query: 'q', operator: 'o' }, value: Infinity },
        { labels: { query: 'q', operator: 'p' }, value: 12.5 },
      ],
    },
    {
      name: 'weir_epochs_completed_total',
      help: 'Epochs.',
      type: 'counter',
      labelNames: [],
      samples: [{ labels: {}, value: NaN }],
    },
  ])
  t.is(
    text,
    [
      '# HELP weir_watermark_seconds The watermark.',
      '# TYPE weir_watermark_seconds gauge',
      'weir_watermark_seconds{query="a \\"b\\"\\\\c",operator="x\\ny"} -Inf',
      'weir_watermark_seconds{query="q",operator="o"} +Inf',
      'weir_watermark_seconds{query="q",operator="p"} 12.5',
      '# HELP weir_epochs_completed_total Epochs.',
      '# TYPE weir_epochs_completed_total counter',
      'weir_epochs_completed_total NaN',
      '',
    ].join('\n'),
  )
})

const metrics: JobMetrics = {
  takenAt: 100_000,
  state: 'running',
  watermark: 40_000,
  backpressured: true,
  timed: true,
  instances: [
    {
      nodeId: 'tweets',
      operator: 'file',
      kind: 'source',
      instance: 0,
      recordsIn: 12,
      recordsOut: 10,
      batches: 2,
      watermark: 40_000,
      busyMs: 250,
      counters: { recordsRead: 12, recordsOut: 10, batchesOut: 2, numMalformedRecords: 2 },
      backpressuredMs: 1500,
    },
    {
      nodeId: 'counts',
      operator: 'keyed-aggregate',
      kind: 'transform',
      instance: 1,
      recordsIn: 10,
      recordsOut: 3,
      batches: 2,
      watermark: -Infinity,
      busyMs: 0,
      counters: { numRowsDroppedByWatermark: 4 },
      stateRows: 3,
      stateBytes: 120,
    },
    {
      nodeId: 'out',
      operator: 'console',
      kind: 'sink',
      instance: 0,
      recordsIn: 3,
      recordsOut: 3,
      batches: 1,
      watermark: 40_000,
      busyMs: 5,
      counters: {},
      queueFill: 0.25,
    },
  ],
  splits: [
    { nodeId: 'tweets', instance: 0, split: 'files-0', position: { file: '/data/a.jsonl', line: 12 } },
    { nodeId: 'tweets', instance: 0, split: 'p-1', position: '42', lag: 7 },
    { nodeId: 'tweets', instance: 0, split: 'opaque', position: { cursor: 'abc' } },
  ],
  epochs: {
    current: 5,
    completed: 5,
    inFlight: 0,
    recent: [
      {
        epoch: 4,
        triggeredAt: 90_000,
        completedAt: 90_400,
        durationMs: 400,
        snapshotMs: 30,
        checkpointed: true,
        numInputRows: 10,
        numOutputRows: 3,
        watermark: 40_000,
      },
    ],
  },
  graph: {
    nodes: [
      { id: 'tweets', operator: 'file', kind: 'source', parallelism: 1, stateful: false },
      { id: 'counts', operator: 'keyed-aggregate', kind: 'transform', parallelism: 2, stateful: true },
      { id: 'out', operator: 'console', kind: 'sink', parallelism: 1, stateful: false },
    ],
    edges: [],
  },
}

test('names each figure of a snapshot once, labelled by query, operator and instance', (t) => {
  const families = metricFamilies({ query: 'counts', id: 'id-1', runId: 'run-1' }, metrics)
  const samples = (name: string) => families.find((f) => f.name === name)?.samples
  const at = (operator: string, instance: number) => ({
    query: 'counts',
    operator,
    instance: String(instance),
  })
  t.deepEqual(samples('weir_query_info'), [
    { labels: { query: 'counts', id: 'id-1', run_id: 'run-1' }, value: 1 },
  ])
  t.deepEqual(samples('weir_records_in_total'), [
    { labels: at('tweets', 0), value: 12 },
    { labels: at('counts', 1), value: 10 },
    { labels: at('out', 0), value: 3 },
  ])
  t.deepEqual(samples('weir_busy_seconds_total'), [
    { labels: at('tweets', 0), value: 0.25 },
    { labels: at('counts', 1), value: 0 },
    { labels: at('out', 0), value: 0.005 },
  ])
  t.deepEqual(samples('weir_backpressure_seconds_total'), [{ labels: at('tweets', 0), value: 1.5 }])
  t.deepEqual(samples('weir_queue_fill_ratio'), [{ labels: at('out', 0), value: 0.25 }])
  t.deepEqual(samples('weir_watermark_seconds'), [
    { labels: at('tweets', 0), value: 40 },
    { labels: at('counts', 1), value: -Infinity },
    { labels: at('out', 0), value: 40 },
  ])
  // No lag for an instance without a watermark.
  t.deepEqual(samples('weir_watermark_lag_seconds'), [
    { labels: at('tweets', 0), value: 60 },
    { labels: at('out', 0), value: 60 },
  ])
  t.deepEqual(samples('weir_state_rows'), [{ labels: at('counts', 1), value: 3 }])
  t.deepEqual(samples('weir_state_bytes'), [{ labels: at('counts', 1), value: 120 }])
  t.deepEqual(samples('weir_late_rows_total'), [{ labels: at('counts', 1), value: 4 }])
  t.deepEqual(samples('weir_rejected_rows_total'), [
    { labels: { ...at('tweets', 0), reason: 'numMalformedRecords' }, value: 2 },
  ])
  // Positions that are one number (a line, an offset as a string) are exported; others are not.
  t.deepEqual(samples('weir_source_split_position'), [
    { labels: { ...at('tweets', 0), split: 'files-0' }, value: 12 },
    { labels: { ...at('tweets', 0), split: 'p-1' }, value: 42 },
  ])
  t.deepEqual(samples('weir_source_split_lag_records'), [
    { labels: { ...at('tweets', 0), split: 'p-1' }, value: 7 },
  ])
  t.deepEqual(samples('weir_query_watermark_lag_seconds'), [{ labels: { query: 'counts' }, value: 60 }])
  t.deepEqual(samples('weir_query_backpressured'), [{ labels: { query: 'counts' }, value: 1 }])
  t.deepEqual(samples('weir_epoch_duration_seconds'), [{ labels: { query: 'counts' }, value: 0.4 }])
  t.deepEqual(samples('weir_epoch_snapshot_seconds'), [{ labels: { query: 'counts' }, value: 0.03 }])
  t.is(new Set(families.map((f) => f.name)).size, families.length, 'each name once')
  t.true(
    families.every((f) => f.samples.every((s) => Object.keys(s.labels).join() === f.labelNames.join())),
    'labels as declared',
  )
})
