/**
 * A structured snapshot of a running job's metrics: what `Job.metrics()` returns, what a query's
 * Prometheus text and the dashboard are made from. Every figure is read from what the runtime already
 * keeps per batch (counters, watermarks, queue lengths), so taking one costs nothing per record.
 * Counters are totals since the job started; a reader that wants rates takes two snapshots and divides
 * the difference by the difference of their `takenAt`.
 */
export interface JobMetrics {
  /** Wall-clock ms (the job's clock) when the snapshot was taken. */
  readonly takenAt: number
  readonly state: 'running' | 'stopping' | 'finished' | 'failed'
  /** The query's watermark: the one that reached every sink; -Infinity before any, +Infinity at the end. */
  readonly watermark: number
  /** Whether a bounded queue is full and the sources are held back now. */
  readonly backpressured: boolean
  /** Whether busy and backpressure times are measured (`JobOptions.metrics`). */
  readonly timed: boolean
  readonly instances: readonly InstanceMetrics[]
  /** Every split the source instances read, with its position and, where the source knows it, its lag. */
  readonly splits: readonly SplitMetrics[]
  readonly epochs: EpochsMetrics
  readonly graph: PhysicalGraphView
}

/** One parallel instance of a node. */
export interface InstanceMetrics {
  readonly nodeId: string
  /** The operator's type (`keyed-aggregate`, `explode`), or the connector's name for a source or sink. */
  readonly operator: string
  readonly kind: 'source' | 'transform' | 'sink'
  readonly instance: number
  /** Records in: read by a source, handed to a transform or a sink. */
  readonly recordsIn: number
  /** Records out: emitted by a source or a transform, written by a sink. */
  readonly recordsOut: number
  /** Batches handled (polled by a source). */
  readonly batches: number
  /** The watermark this instance has seen (a source: emitted): -Infinity before any. */
  readonly watermark: number
  /** Ms spent handling messages, its chained downstream's time excluded (0 when not timed). */
  readonly busyMs: number
  /** Every counter of the instance, as `Job.counters()` has them. */
  readonly counters: Readonly<Record<string, number>>
  /** A sink: rows waiting to be written over the rows it may hold before sources are held back (1 = full). */
  readonly queueFill?: number
  /** A source: ms it waited for room before polling (backpressure; 0 when not timed). */
  readonly backpressuredMs?: number
  /** A stateful transform: rows (keys, or window and key) it holds. */
  readonly stateRows?: number
  /** A stateful transform: bytes of its state, as its last snapshot encoded them (0 before one). */
  readonly stateBytes?: number
}

export interface SplitMetrics {
  readonly nodeId: string
  readonly instance: number
  readonly split: string
  /** Where the split stands (a Kafka offset, `{ file, line }`), as its snapshot would keep it. */
  readonly position: unknown
  /** Records between the position and the split's end, where the source knows it (a Kafka lag). */
  readonly lag?: number
}

export interface EpochsMetrics {
  /** The number the next barrier will carry. */
  readonly current: number
  /** Epochs committed by this run. */
  readonly completed: number
  /** Epochs whose barrier is out and that are not committed yet. */
  readonly inFlight: number
  /** The last epochs committed, oldest first (at most 30). */
  readonly recent: readonly EpochSummary[]
}

/** One committed epoch, from the coordinator's report. */
export interface EpochSummary {
  readonly epoch: number
  readonly triggeredAt: number
  readonly completedAt: number
  /** Trigger to last sink commit. */
  readonly durationMs: number
  /** Time to commit the epoch's snapshot to the state backend (0 when it took none). */
  readonly snapshotMs: number
  readonly checkpointed: boolean
  readonly numInputRows: number
  readonly numOutputRows: number
  readonly watermark: number
}

/** The physical graph, node by node, for drawing. */
export interface PhysicalGraphView {
  readonly nodes: readonly {
    readonly id: string
    readonly operator: string
    readonly kind: 'source' | 'transform' | 'sink'
    readonly parallelism: number
    readonly stateful: boolean
  }[]
  readonly edges: readonly {
    readonly from: string
    readonly to: string
    /** `main`, or a side output (`late`, `dead-letter`). */
    readonly tag: string
    readonly partitioner: 'forward' | 'hash' | 'rebalance' | 'broadcast'
    /** Chained: called synchronously, instance i to instance i; otherwise an exchange. */
    readonly chained: boolean
  }[]
}
