import { BAD_RECORD_COUNTERS, type QueryMetrics } from '@weir/core'

/**
 * A time as JSON carries it: ms since the Unix epoch, `null` for -∞ (no watermark yet), `'end'` for +∞
 * (a bounded input read to its end).
 */
export type WireTime = number | null | 'end'

/** One query in one tick, as the page receives it: figures only, never a record, a description or an error text. */
export interface WireQuery {
  readonly id: string
  readonly runId: string
  readonly name: string | null
  readonly active: boolean
  readonly state: QueryMetrics['state']
  readonly status: string
  /** A failed query's error code (its message may quote a record, so it stays off the page). */
  readonly failure?: string
  readonly watermark: WireTime
  readonly backpressured: boolean
  readonly timed: boolean
  readonly epoch: number
  readonly epochsCompleted: number
  readonly recentEpochs: readonly {
    readonly epoch: number
    readonly triggeredAt: number
    readonly durationMs: number
    readonly snapshotMs: number
    readonly checkpointed: boolean
    readonly numInputRows: number
    readonly numOutputRows: number
    readonly watermark: WireTime
  }[]
  readonly instances: readonly WireInstance[]
  readonly splits: readonly {
    readonly node: string
    readonly instance: number
    readonly split: string
    readonly position: string
    readonly lag?: number
  }[]
}

export interface WireInstance {
  readonly node: string
  readonly instance: number
  readonly recordsIn: number
  readonly recordsOut: number
  readonly batches: number
  readonly watermark: WireTime
  readonly busyMs: number
  readonly queueFill?: number
  readonly backpressuredMs?: number
  readonly stateRows?: number
  readonly stateBytes?: number
  /** Rows after the watermark closed their windows. */
  readonly late: number
  /** Bad records by counter (malformed, dropped by decode, dead letters, without event time). */
  readonly bad: Readonly<Record<string, number>>
}

/** One push to the page: every known query at one moment of wall time. */
export interface Tick {
  readonly takenAt: number
  readonly queries: readonly WireQuery[]
}

export function wireTime(ms: number): WireTime {
  if (ms === Infinity) return 'end'
  return Number.isFinite(ms) ? ms : null
}

export function toWire(metrics: QueryMetrics, options: { active: boolean; failure?: string }): WireQuery {
  return {
    id: metrics.id,
    runId: metrics.runId,
    name: metrics.name,
    active: options.active,
    state: metrics.state,
    status: metrics.status.message,
    ...(options.failure === undefined ? {} : { failure: options.failure }),
    watermark: wireTime(metrics.watermark),
    backpressured: metrics.backpressured,
    timed: metrics.timed,
    epoch: metrics.epochs.current,
    epochsCompleted: metrics.epochs.completed,
    recentEpochs: metrics.epochs.recent.slice(-12).map((e) => ({
      epoch: e.epoch,
      triggeredAt: e.triggeredAt,
      durationMs: e.durationMs,
      snapshotMs: e.snapshotMs,
      checkpointed: e.checkpointed,
      numInputRows: e.numInputRows,
      numOutputRows: e.numOutputRows,
      watermark: wireTime(e.watermark),
    })),
    instances: metrics.instances.map((i) => {
      const bad: Record<string, number> = {}
      for (const name of BAD_RECORD_COUNTERS) if (i.counters[name]) bad[name] = i.counters[name]!
      return {
        node: i.nodeId,
        instance: i.instance,
        recordsIn: i.recordsIn,
        recordsOut: i.recordsOut,
        batches: i.batches,
        watermark: wireTime(i.watermark),
        busyMs: Math.round(i.busyMs * 10) / 10,
        ...(i.queueFill === undefined ? {} : { queueFill: Math.round(i.queueFill * 1000) / 1000 }),
        ...(i.backpressuredMs === undefined ? {} : { backpressuredMs: Math.round(i.backpressuredMs) }),
        ...(i.stateRows === undefined ? {} : { stateRows: i.stateRows }),
        ...(i.stateBytes === undefined ? {} : { stateBytes: i.stateBytes }),
        late: i.counters.numRowsDroppedByWatermark ?? 0,
        bad,
      }
    }),
    splits: metrics.splits.map((s) => ({
      node: s.nodeId,
      instance: s.instance,
      split: s.split,
      position: describePosition(s.position),
      ...(s.lag === undefined ? {} : { lag: s.lag }),
    })),
  }
}

/** A position in a few characters: an offset as it is, a file position as `name:line`. */
function describePosition(position: unknown): string {
  if (position === undefined || position === null) return '–'
  if (typeof position === 'number' || typeof position === 'bigint' || typeof position === 'string')
    return String(position).slice(0, 40)
  if (typeof position === 'object' && 'line' in position) {
    const { file, line } = position as { file?: unknown; line?: unknown }
    const name = typeof file === 'string' ? file.split(/[\\/]/).pop() : undefined
    return `${name ?? ''}:${String(line)}`.slice(0, 60)
  }
  try {
    return JSON.stringify(position).slice(0, 60)
  } catch {
    return '…' // a BigInt or a cycle: nothing a position should hold
  }
}
