import type { PhysicalPlan } from '../graph/physical-plan.js'
import type { JobMetrics } from '../metrics/job-metrics.js'
import type { EpochReport } from '../runtime/coordinator.js'

/**
 * What a `StreamingQuery` runs. A `Job` is one; a query scaled out over processes runs one job per
 * sub-topology (its upstream half, and a downstream job per assignment of repartition partitions),
 * and shows them to its query as one execution.
 */
export interface QueryExecution {
  /** The nodes it runs (stateful ones become `stateOperators` in progress). */
  readonly plan: PhysicalPlan
  /** Resolves when it finished or was stopped; rejects with the error it failed with. */
  readonly done: Promise<void>
  /** Whether a bounded queue is full and the sources are held back now. */
  readonly backpressured: boolean
  /** Called for every committed epoch (the epoch whose rows reached the sinks). */
  onEpoch(listener: (report: EpochReport) => void): () => void
  /** Called when it has nothing to read. */
  onQuiet(listener: () => void): () => void
  /** Every counter of every instance, by `nodeId#instance`; never lower than an earlier call's. */
  counters(): Record<string, Record<string, number>>
  metrics(): JobMetrics
  processAllAvailable(): Promise<void>
  stop(): Promise<void>
  /** The physical plan as `query.explain()` prints it; by default the plan's own description. */
  explain?(): string
}
