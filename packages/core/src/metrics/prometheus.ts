import type { JobMetrics } from './job-metrics.js'

/** One Prometheus metric with its samples, before it is written as text (or handed to prom-client). */
export interface MetricFamily {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge'
  readonly labelNames: readonly string[]
  readonly samples: readonly MetricSample[]
}

export interface MetricSample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

type Definition = Omit<MetricFamily, 'samples'>

const INSTANCE = ['query', 'operator', 'instance'] as const
const SPLIT = ['query', 'operator', 'instance', 'split'] as const

/**
 * Every metric a query exports, by name. Labels: `query` (its name, or its id when it has none),
 * `operator` (the node's id), `instance` (its index among the node's parallel instances).
 */
export const METRIC_DEFINITIONS = {
  queryInfo: def('weir_query_info', 'gauge', 'A running query: always 1; its id and run id as labels.', [
    'query',
    'id',
    'run_id',
  ]),
  operatorInfo: def(
    'weir_operator_info',
    'gauge',
    'A node of the physical graph: always 1; its type, kind and parallelism as labels.',
    ['query', 'operator', 'type', 'kind', 'parallelism'],
  ),
  recordsIn: def(
    'weir_records_in_total',
    'counter',
    'Records into an instance (read by a source).',
    INSTANCE,
  ),
  recordsOut: def(
    'weir_records_out_total',
    'counter',
    'Records out of an instance (written by a sink).',
    INSTANCE,
  ),
  batches: def('weir_batches_total', 'counter', 'Batches an instance handled.', INSTANCE),
  busy: def(
    'weir_busy_seconds_total',
    'counter',
    'Time an instance spent handling messages, its chained downstream excluded.',
    INSTANCE,
  ),
  backpressure: def(
    'weir_backpressure_seconds_total',
    'counter',
    'Time a source instance waited for room before polling.',
    INSTANCE,
  ),
  queueFill: def(
    'weir_queue_fill_ratio',
    'gauge',
    'Rows queued at a sink instance over its capacity (1 = full: sources are held back).',
    INSTANCE,
  ),
  watermark: def(
    'weir_watermark_seconds',
    'gauge',
    'The watermark an instance has seen, in seconds since the Unix epoch.',
    INSTANCE,
  ),
  watermarkLag: def(
    'weir_watermark_lag_seconds',
    'gauge',
    'Wall-clock time minus the watermark of an instance.',
    INSTANCE,
  ),
  stateRows: def('weir_state_rows', 'gauge', 'Rows a stateful instance holds.', INSTANCE),
  stateBytes: def(
    'weir_state_bytes',
    'gauge',
    "Bytes of a stateful instance's state in its last snapshot.",
    INSTANCE,
  ),
  lateRows: def(
    'weir_late_rows_total',
    'counter',
    'Rows that came after the watermark closed their windows (dropped, or sent to the late output).',
    INSTANCE,
  ),
  rejectedRows: def(
    'weir_rejected_rows_total',
    'counter',
    'Bad records by reason (the progress counter that counts them).',
    [...INSTANCE, 'reason'],
  ),
  splitPosition: def(
    'weir_source_split_position',
    'gauge',
    'Where a source split stands (an offset, a line), when it is a number.',
    SPLIT,
  ),
  splitLag: def(
    'weir_source_split_lag_records',
    'gauge',
    "Records between a source split's position and its end, where the source knows it.",
    SPLIT,
  ),
  queryWatermark: def(
    'weir_query_watermark_seconds',
    'gauge',
    "The query's watermark (the minimum over its sources), in seconds since the Unix epoch.",
    ['query'],
  ),
  queryWatermarkLag: def(
    'weir_query_watermark_lag_seconds',
    'gauge',
    "Wall-clock time minus the query's watermark.",
    ['query'],
  ),
  backpressured: def(
    'weir_query_backpressured',
    'gauge',
    '1 while a bounded queue is full and the sources are held back.',
    ['query'],
  ),
  epoch: def('weir_query_epoch', 'gauge', 'The number the next barrier will carry.', ['query']),
  epochsCompleted: def(
    'weir_epochs_completed_total',
    'counter',
    'Epochs committed by this run of the query.',
    ['query'],
  ),
  epochDuration: def(
    'weir_epoch_duration_seconds',
    'gauge',
    'The last committed epoch, from its trigger to its last sink commit.',
    ['query'],
  ),
  snapshotDuration: def(
    'weir_epoch_snapshot_seconds',
    'gauge',
    'Time the last committed epoch took to commit its snapshot to the state backend.',
    ['query'],
  ),
} as const satisfies Record<string, Definition>

/** The counters of rejected records, as `StreamingQueryProgress.rejectedRows` names them (late rows aside). */
export const BAD_RECORD_COUNTERS = [
  'numMalformedRecords',
  'numRowsDroppedByDecode',
  'numDeadLetters',
  'numRowsWithoutEventTime',
] as const

/** What identifies the query in the samples. */
export interface QueryLabels {
  /** The query's name, or its id when it has none. */
  readonly query: string
  readonly id: string
  readonly runId: string
}

/**
 * The metric families of one query, from a snapshot of its job. Pure: the same snapshot gives the same
 * families, so a scrape costs one snapshot.
 *
 * @example
 * ```ts
 * const text = formatPrometheus(metricFamilies({ query: 'counts', id, runId }, job.metrics()))
 * ```
 */
export function metricFamilies(labels: QueryLabels, metrics: JobMetrics): MetricFamily[] {
  const d = METRIC_DEFINITIONS
  const samples = new Map<Definition, MetricSample[]>(Object.values(d).map((definition) => [definition, []]))
  const add = (definition: Definition, sampleLabels: Record<string, string>, value: number) =>
    samples.get(definition)!.push({ labels: sampleLabels, value })
  const query = labels.query
  const now = metrics.takenAt

  add(d.queryInfo, { query, id: labels.id, run_id: labels.runId }, 1)
  for (const node of metrics.graph.nodes) {
    add(
      d.operatorInfo,
      {
        query,
        operator: node.id,
        type: node.operator,
        kind: node.kind,
        parallelism: String(node.parallelism),
      },
      1,
    )
  }
  for (const i of metrics.instances) {
    const at = { query, operator: i.nodeId, instance: String(i.instance) }
    add(d.recordsIn, at, i.recordsIn)
    add(d.recordsOut, at, i.recordsOut)
    add(d.batches, at, i.batches)
    add(d.busy, at, i.busyMs / 1000)
    if (i.backpressuredMs !== undefined) add(d.backpressure, at, i.backpressuredMs / 1000)
    if (i.queueFill !== undefined) add(d.queueFill, at, i.queueFill)
    add(d.watermark, at, i.watermark / 1000)
    if (Number.isFinite(i.watermark)) add(d.watermarkLag, at, (now - i.watermark) / 1000)
    if (i.stateRows !== undefined) add(d.stateRows, at, i.stateRows)
    if (i.stateBytes !== undefined) add(d.stateBytes, at, i.stateBytes)
    if ('numRowsDroppedByWatermark' in i.counters) add(d.lateRows, at, i.counters.numRowsDroppedByWatermark)
    for (const reason of BAD_RECORD_COUNTERS) {
      if (reason in i.counters) add(d.rejectedRows, { ...at, reason }, i.counters[reason])
    }
  }
  for (const s of metrics.splits) {
    const at = { query, operator: s.nodeId, instance: String(s.instance), split: s.split }
    const position = numericPosition(s.position)
    if (position !== undefined) add(d.splitPosition, at, position)
    if (s.lag !== undefined) add(d.splitLag, at, s.lag)
  }
  add(d.queryWatermark, { query }, metrics.watermark / 1000)
  if (Number.isFinite(metrics.watermark))
    add(d.queryWatermarkLag, { query }, (now - metrics.watermark) / 1000)
  add(d.backpressured, { query }, metrics.backpressured ? 1 : 0)
  add(d.epoch, { query }, metrics.epochs.current)
  add(d.epochsCompleted, { query }, metrics.epochs.completed)
  const last = metrics.epochs.recent.at(-1)
  if (last) {
    add(d.epochDuration, { query }, last.durationMs / 1000)
    add(d.snapshotDuration, { query }, last.snapshotMs / 1000)
  }
  return [...samples]
    .filter(([, list]) => list.length > 0)
    .map(([definition, list]) => ({ ...definition, samples: list }))
}

/**
 * Writes metric families in Prometheus' text exposition format (version 0.0.4), as a `/metrics`
 * endpoint serves it.
 */
export function formatPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = []
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`)
    lines.push(`# TYPE ${family.name} ${family.type}`)
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      lines.push(`${family.name}${labels.length ? `{${labels.join(',')}}` : ''} ${formatValue(sample.value)}`)
    }
  }
  return lines.length ? lines.join('\n') + '\n' : ''
}

/** A position as one number, when it is one: an offset, a numeric string (Kafka's), or `{ line }` / `{ offset }`. */
function numericPosition(position: unknown): number | undefined {
  if (typeof position === 'number') return Number.isFinite(position) ? position : undefined
  if (typeof position === 'bigint') return Number(position)
  if (typeof position === 'string' && /^-?\d+$/.test(position)) return Number(position)
  if (typeof position === 'object' && position !== null) {
    for (const field of ['offset', 'line']) {
      const value = (position as Record<string, unknown>)[field]
      if (typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint')
        return numericPosition(value)
    }
  }
  return undefined
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

function def(
  name: string,
  type: 'counter' | 'gauge',
  help: string,
  labelNames: readonly string[],
): Definition {
  return { name, type, help, labelNames }
}
