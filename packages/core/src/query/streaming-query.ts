import { randomUUID } from 'node:crypto'
import { WeirError } from '../errors.js'
import { describePlan } from '../graph/physical-plan.js'
import type { JobMetrics } from '../metrics/job-metrics.js'
import { formatPrometheus, metricFamilies, type MetricFamily } from '../metrics/prometheus.js'
import type { QueryExecution } from './execution.js'
import { buildProgress, type CounterSnapshot, type StreamingQueryProgress } from './progress.js'

/** What a query is doing now, as Spark's `query.status`. */
export interface StreamingQueryStatus {
  readonly message: string
  readonly isDataAvailable: boolean
  readonly isTriggerActive: boolean
}

/** A query's metrics: its job's snapshot, with who the query is and what it is doing. */
export interface QueryMetrics extends JobMetrics {
  readonly id: string
  readonly runId: string
  readonly name: string | null
  readonly status: StreamingQueryStatus
}

/** The error a query failed with (Spark's StreamingQueryException): `cause` is the original error. */
export class StreamingQueryException extends WeirError {
  readonly queryId: string
  readonly runId: string

  constructor(options: { queryId: string; runId: string; name: string | null; cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause)
    super(
      'query-failed',
      `query ${options.name ? `'${options.name}' ` : ''}[id = ${options.queryId}, runId = ${options.runId}] terminated with exception: ${reason}`,
      {
        cause: options.cause,
      },
    )
    this.queryId = options.queryId
    this.runId = options.runId
  }
}

export interface QueryDescription {
  readonly id: string
  readonly name: string | null
  readonly sourceDescriptions: Readonly<Record<string, string>>
  readonly sinkDescription: string
  /** How many progress reports `recentProgress` keeps (Spark's default: 100). */
  readonly progressRetention?: number
}

export interface QueryEvents {
  progress(query: StreamingQuery, progress: StreamingQueryProgress): void
  idle(query: StreamingQuery): void
  terminated(query: StreamingQuery): void
}

/**
 * A running streaming query: Spark's `StreamingQuery`. `id` stays the same across restarts from the
 * same checkpoint location; `runId` is new on every start.
 *
 * @example
 * ```ts
 * const query = await words.groupBy('word').count().writeStream({ sink: consoleSink(), outputMode: 'complete' }).start()
 * console.log(query.lastProgress?.numInputRows)
 * await query.stop()
 * ```
 */
export class StreamingQuery {
  readonly id: string
  readonly runId = randomUUID()
  readonly name: string | null
  private readonly progress: StreamingQueryProgress[] = []
  private previousCounters: CounterSnapshot = {}
  private previousTriggeredAt: number | undefined
  private failure: StreamingQueryException | null = null
  private active = true
  private idle = false
  private readonly terminated: Promise<void>

  constructor(
    private readonly job: QueryExecution,
    private readonly description: QueryDescription,
    private readonly events: QueryEvents,
  ) {
    this.id = description.id
    this.name = description.name
    const stateOperators = job.plan.nodes
      .filter((n) => n.spec.kind === 'transform' && n.spec.stateful)
      .map((n) => ({ id: n.id, name: n.spec.kind === 'transform' ? n.spec.name : n.id }))
    job.onEpoch((report) => {
      const counters = job.counters()
      const progress = buildProgress({
        id: this.id,
        runId: this.runId,
        name: this.name,
        report,
        previousTriggeredAt: this.previousTriggeredAt,
        counters,
        previousCounters: this.previousCounters,
        stateOperators,
        sourceDescriptions: description.sourceDescriptions,
        sinkDescription: description.sinkDescription,
        stateBytes: Object.fromEntries(
          Object.entries(report.stateBytes ?? {}).map(([node, bytes]) => [
            node,
            bytes.reduce((a, b) => a + b, 0),
          ]),
        ),
      })
      this.previousCounters = counters
      this.previousTriggeredAt = report.triggeredAt
      this.idle = false
      this.progress.push(progress)
      if (this.progress.length > (description.progressRetention ?? 100)) this.progress.shift()
      events.progress(this, progress)
    })
    job.onQuiet(() => {
      this.idle = true
      events.idle(this)
    })
    this.terminated = job.done.then(
      () => this.terminate(null),
      (error: unknown) =>
        this.terminate(
          new StreamingQueryException({ queryId: this.id, runId: this.runId, name: this.name, cause: error }),
        ),
    )
  }

  get isActive(): boolean {
    return this.active
  }

  get exception(): StreamingQueryException | null {
    return this.failure
  }

  get lastProgress(): StreamingQueryProgress | null {
    return this.progress.at(-1) ?? null
  }

  get recentProgress(): readonly StreamingQueryProgress[] {
    return [...this.progress]
  }

  get status(): StreamingQueryStatus {
    if (!this.active) return { message: 'Stopped', isDataAvailable: false, isTriggerActive: false }
    if (this.job.backpressured)
      return { message: 'Waiting for the sink (backpressure)', isDataAvailable: true, isTriggerActive: true }
    if (this.idle)
      return { message: 'Waiting for data to arrive', isDataAvailable: false, isTriggerActive: false }
    return { message: 'Processing new data', isDataAvailable: true, isTriggerActive: true }
  }

  /**
   * The query's metrics in Prometheus' text format: per instance (labels `query`, `operator`,
   * `instance`) records in and out, batches, busy time, watermark and its lag behind wall time, queue
   * fill, state rows and bytes, late and bad rows; per source split its position and lag; per query
   * the watermark and the last epoch's duration and snapshot time. `@weir/dashboard` serves the same
   * metrics of every query on `/metrics`.
   *
   * @example
   * ```ts
   * console.log(query.metrics()) // weir_records_in_total{query="counts",operator="counts",instance="0"} 1200 …
   * ```
   */
  metrics(): string {
    return formatPrometheus(this.metricFamilies())
  }

  /** The metrics as Prometheus metric families, before they are written as text. */
  metricFamilies(): MetricFamily[] {
    return metricFamilies({ query: this.name ?? this.id, id: this.id, runId: this.runId }, this.job.metrics())
  }

  /** The metrics as data: every instance, split and recent epoch, and the physical graph (what the dashboard draws). */
  metricsSnapshot(): QueryMetrics {
    return { ...this.job.metrics(), id: this.id, runId: this.runId, name: this.name, status: this.status }
  }

  /** The physical plan: every node with its parallelism and how it is fed. */
  explain(): string {
    return this.job.explain?.() ?? describePlan(this.job.plan)
  }

  /**
   * Waits until all data available now has been read, processed and committed (Spark's
   * `processAllAvailable`), ending an epoch for it. Useful in tests, with `trigger: { manual: true }`.
   */
  async processAllAvailable(): Promise<void> {
    try {
      await this.job.processAllAvailable()
    } catch {
      await this.terminated
      if (this.failure) throw this.failure
    }
  }

  /** Stops gracefully: resolves when the sinks have committed what was read and closed. */
  async stop(): Promise<void> {
    await this.job.stop().catch(() => undefined)
    await this.terminated
  }

  /**
   * Waits until the query ends: resolves `true` when it did, `false` when `timeoutMs` passed first.
   * Rejects with the query's exception when it failed.
   */
  async awaitTermination(timeoutMs?: number): Promise<boolean> {
    if (timeoutMs === undefined) {
      await this.terminated
    } else {
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>(
        (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
      )
      const result = await Promise.race([this.terminated, timedOut])
      clearTimeout(timer)
      if (result === 'timeout') return false
    }
    if (this.failure) throw this.failure
    return true
  }

  private terminate(failure: StreamingQueryException | null): void {
    this.failure = failure
    this.active = false
    this.events.terminated(this)
  }
}
