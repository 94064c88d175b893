import {
  describePlan,
  graphView,
  type EpochReport,
  type Job,
  type JobMetrics,
  type PhysicalPlan,
  type QueryExecution,
  type SourceEpochReport,
} from '@weir/core'
import type { RepartitionTasks } from './repartition-tasks.js'

/** The downstream half: the tasks that run it, and its plan (the same for every assignment). */
export interface DownstreamHalf {
  readonly tasks: RepartitionTasks
  readonly plan: PhysicalPlan
}

/**
 * One process's part of a query scaled out over processes, shown to its `StreamingQuery` as one
 * execution: the upstream job (input → repartition topic, or → sink for a query without exchange) and
 * the repartition tasks (a downstream job per assignment).
 *
 * - **Progress** comes per downstream epoch (where state and output are): `numInputRows`, event times
 *   and input offsets are the upstream's since the last one, and the exchange's source follows them.
 * - **Counters** are both halves'. A new assignment starts a new downstream job whose counters start
 *   from zero (its state is restored: `numRowsTotal` is right again at once).
 * - **Stopping** stops the upstream first (its last epoch writes to the topic), then the downstream.
 */
export class ScaledOutExecution implements QueryExecution {
  readonly plan: PhysicalPlan
  readonly done: Promise<void>
  private readonly pending: EpochReport[] = []

  constructor(
    private readonly upstream: Job,
    private readonly downstream: DownstreamHalf | undefined,
  ) {
    this.plan = downstream
      ? {
          maxParallelism: upstream.plan.maxParallelism,
          nodes: [...upstream.plan.nodes, ...downstream.plan.nodes],
          exclusiveEdges: new Set(),
        }
      : upstream.plan
    if (downstream) {
      upstream.onEpoch((report) => {
        this.pending.push(report)
        if (this.pending.length > 1000) this.pending.shift()
      })
    }
    this.done = downstream
      ? Promise.all([upstream.done, downstream.tasks.done]).then(() => undefined)
      : upstream.done
    // Either half failing ends the other.
    this.done.catch(() => void this.stop().catch(() => undefined))
  }

  get backpressured(): boolean {
    return this.upstream.backpressured || (this.downstream?.tasks.current?.backpressured ?? false)
  }

  onEpoch(listener: (report: EpochReport) => void): () => void {
    if (!this.downstream) return this.upstream.onEpoch(listener)
    return this.downstream.tasks.onEpoch((report) => listener(this.withInput(report)))
  }

  onQuiet(listener: () => void): () => void {
    return this.upstream.onQuiet(listener)
  }

  counters(): Record<string, Record<string, number>> {
    return { ...this.upstream.counters(), ...(this.downstream?.tasks.counters() ?? {}) }
  }

  metrics(): JobMetrics {
    const up = this.upstream.metrics()
    const down = this.downstream?.tasks.current?.metrics()
    if (!this.downstream) return up
    const graph = down?.graph ?? graphView(this.downstream.plan)
    return {
      ...up,
      watermark: down?.watermark ?? -Infinity,
      backpressured: this.backpressured,
      instances: [...up.instances, ...(down?.instances ?? [])],
      splits: [...up.splits, ...(down?.splits ?? [])],
      epochs: down?.epochs ?? up.epochs,
      graph: {
        nodes: [...up.graph.nodes, ...graph.nodes],
        edges: [
          ...up.graph.edges,
          // The hop: the repartition topic between the halves.
          ...up.graph.nodes
            .filter((n) => n.kind === 'sink' && n.id === 'repartition')
            .flatMap((n) =>
              graph.nodes
                .filter((m) => m.kind === 'source')
                .map((m) => ({
                  from: n.id,
                  to: m.id,
                  tag: 'main',
                  partitioner: 'hash' as const,
                  chained: false,
                })),
            ),
          ...graph.edges,
        ],
      },
    }
  }

  explain(): string {
    const up = describePlan(this.upstream.plan)
    if (!this.downstream) return up
    return `${up}\n-- repartition topic (hash by key group) --\n${describePlan(this.downstream.plan)}`
  }

  async processAllAvailable(): Promise<void> {
    await this.upstream.processAllAvailable()
    await this.downstream?.tasks.processAllAvailable()
  }

  async stop(): Promise<void> {
    await this.upstream.stop().catch(() => undefined)
    await this.downstream?.tasks.stop()
  }

  /** A downstream epoch's report with the input the upstream read since the previous one. */
  private withInput(report: EpochReport): EpochReport {
    const inputs = this.pending.splice(0)
    const bySource = new Map<string, SourceEpochReport[]>()
    for (const r of inputs)
      for (const s of r.sources) {
        const key = `${s.nodeId}#${s.instance}`
        bySource.set(key, [...(bySource.get(key) ?? []), s])
      }
    const sources = [...bySource.values()].map((reports): SourceEpochReport => {
      const first = reports[0]
      const last = reports.at(-1)!
      const times = reports.map((s) => s.info.eventTime).filter((t) => t !== undefined)
      return {
        nodeId: first.nodeId,
        instance: first.instance,
        info: {
          ...last.info,
          numInputRows: reports.reduce((n, s) => n + s.info.numInputRows, 0),
          startPositions: first.info.startPositions,
          eventTime:
            times.length === 0
              ? undefined
              : {
                  min: Math.min(...times.map((t) => t.min)),
                  max: Math.max(...times.map((t) => t.max)),
                  sum: times.reduce((n, t) => n + t.sum, 0),
                  count: times.reduce((n, t) => n + t.count, 0),
                },
        },
      }
    })
    return {
      ...report,
      numInputRows: inputs.reduce((n, r) => n + r.numInputRows, 0),
      sources: [
        ...sources,
        ...report.sources.map((s) => ({ ...s, info: { ...s.info, eventTime: undefined } })),
      ],
    }
  }
}
