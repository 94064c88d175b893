import type { EpochReport } from '../runtime/coordinator.js'

/** One epoch of a query as Spark's `StreamingQueryProgress` reports it, with Spark's field names. */
export interface StreamingQueryProgress {
  readonly id: string
  readonly runId: string
  readonly name: string | null
  /** When the epoch's trigger fired, ISO-8601. */
  readonly timestamp: string
  readonly batchId: number
  readonly numInputRows: number
  /** Rows per second of wall time between this trigger and the previous one. */
  readonly inputRowsPerSecond: number
  /** Rows per second of the epoch's own duration (trigger to last sink commit). */
  readonly processedRowsPerSecond: number
  /** `walCommit`: committing the epoch's snapshot (state and source positions) to the state backend. */
  readonly durationMs: { readonly triggerExecution: number; readonly walCommit: number }
  /** Event times seen in the epoch and the watermark, ISO-8601 (absent when there were none). */
  readonly eventTime: {
    readonly min?: string
    readonly max?: string
    readonly avg?: string
    readonly watermark?: string
  }
  readonly stateOperators: readonly StateOperatorProgress[]
  readonly sources: readonly SourceProgress[]
  readonly sink: { readonly description: string; readonly numOutputRows: number }
  /** Records rejected or set aside in the epoch, by counter name (beyond Spark: bad input is never silent). */
  readonly rejectedRows: Readonly<Record<string, number>>
}

export interface StateOperatorProgress {
  readonly operatorName: string
  readonly numRowsTotal: number
  readonly numRowsUpdated: number
  readonly numRowsDroppedByWatermark: number
  /** An estimate of the bytes the operator's state holds in memory. */
  readonly memoryUsedBytes: number
}

export interface SourceProgress {
  readonly description: string
  readonly startOffset: Readonly<Record<string, unknown>>
  readonly endOffset: Readonly<Record<string, unknown>>
  readonly numInputRows: number
  readonly inputRowsPerSecond: number
  readonly processedRowsPerSecond: number
}

/** Counters of every instance, by `nodeId#instance` (as `Job.counters()` returns them). */
export type CounterSnapshot = Readonly<Record<string, Readonly<Record<string, number>>>>

/** The counters that name rejected or set-aside rows; their epoch deltas go to `rejectedRows`. */
export const REJECTION_COUNTERS = [
  'numMalformedRecords',
  'numRowsDroppedByDecode',
  'numDeadLetters',
  'numRowsWithoutEventTime',
  'numRowsDroppedByWatermark',
] as const

export interface ProgressInput {
  readonly id: string
  readonly runId: string
  readonly name: string | null
  readonly report: EpochReport
  /** When the previous epoch was triggered (for inputRowsPerSecond); undefined for the first. */
  readonly previousTriggeredAt: number | undefined
  readonly counters: CounterSnapshot
  readonly previousCounters: CounterSnapshot
  /** Stateful nodes by id, with their operator name. */
  readonly stateOperators: readonly { readonly id: string; readonly name: string }[]
  readonly sourceDescriptions: Readonly<Record<string, string>>
  readonly sinkDescription: string
  /** Bytes of each stateful node's last snapshot (all instances), for operators that do not count their own. */
  readonly stateBytes?: Readonly<Record<string, number>>
}

/** Builds a progress report from an epoch report and the counters before and after it. Pure. */
export function buildProgress(input: ProgressInput): StreamingQueryProgress {
  const { report } = input
  const duration = Math.max(0, report.completedAt - report.triggeredAt)
  const sinceLast =
    input.previousTriggeredAt === undefined ? undefined : report.triggeredAt - input.previousTriggeredAt
  const rate = (rows: number, ms: number | undefined) =>
    ms === undefined || ms <= 0 ? 0 : round((rows * 1000) / ms)
  const times = report.sources.map((s) => s.info.eventTime).filter((t) => t !== undefined)
  const count = times.reduce((n, t) => n + t.count, 0)
  const eventTime: { min?: string; max?: string; avg?: string; watermark?: string } = {}
  if (count > 0) {
    eventTime.min = iso(Math.min(...times.map((t) => t.min)))
    eventTime.max = iso(Math.max(...times.map((t) => t.max)))
    eventTime.avg = iso(Math.round(times.reduce((n, t) => n + t.sum, 0) / count))
  }
  if (Number.isFinite(report.watermark)) eventTime.watermark = iso(report.watermark)

  const sum = (snapshot: CounterSnapshot, nodeId: string, counter: string) =>
    Object.entries(snapshot)
      .filter(([address]) => address.slice(0, address.lastIndexOf('#')) === nodeId)
      .reduce((n, [, values]) => n + (values[counter] ?? 0), 0)
  const delta = (nodeId: string, counter: string) =>
    sum(input.counters, nodeId, counter) - sum(input.previousCounters, nodeId, counter)

  const stateOperators = input.stateOperators.map((op) => ({
    operatorName: op.name,
    numRowsTotal: sum(input.counters, op.id, 'numRowsTotal'),
    numRowsUpdated: delta(op.id, 'numRowsUpdated'),
    numRowsDroppedByWatermark: delta(op.id, 'numRowsDroppedByWatermark'),
    memoryUsedBytes: sum(input.counters, op.id, 'stateBytes') || (input.stateBytes?.[op.id] ?? 0),
  }))

  const bySource = new Map<string, typeof report.sources>()
  for (const s of report.sources) bySource.set(s.nodeId, [...(bySource.get(s.nodeId) ?? []), s])
  const sources = [...bySource].map(([nodeId, instances]) => {
    const rows = instances.reduce((n, s) => n + s.info.numInputRows, 0)
    const offsets = (pick: 'startPositions' | 'endPositions') =>
      Object.fromEntries(instances.flatMap((s) => [...s.info[pick]]))
    return {
      description: input.sourceDescriptions[nodeId] ?? nodeId,
      startOffset: offsets('startPositions'),
      endOffset: offsets('endPositions'),
      numInputRows: rows,
      inputRowsPerSecond: rate(rows, sinceLast),
      processedRowsPerSecond: rate(rows, duration),
    }
  })

  const nodes = new Set(Object.keys(input.counters).map((a) => a.slice(0, a.lastIndexOf('#'))))
  const rejectedRows: Record<string, number> = {}
  for (const counter of REJECTION_COUNTERS) {
    let n = 0
    for (const node of nodes) n += delta(node, counter)
    if (n !== 0) rejectedRows[counter] = n
  }

  return {
    id: input.id,
    runId: input.runId,
    name: input.name,
    timestamp: iso(report.triggeredAt),
    batchId: report.epoch,
    numInputRows: report.numInputRows,
    inputRowsPerSecond: rate(report.numInputRows, sinceLast),
    processedRowsPerSecond: rate(report.numInputRows, duration),
    durationMs: { triggerExecution: duration, walCommit: report.snapshotMs ?? 0 },
    eventTime,
    stateOperators,
    sources,
    sink: { description: input.sinkDescription, numOutputRows: report.numOutputRows },
    rejectedRows,
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}
