import {
  ConfigError,
  parseDuration,
  streams as defaultStreams,
  type Clock,
  type ScaleOut,
  type Sink,
  type StateBackend,
  type StreamingQuery,
  type StreamingQueryManager,
  type Trigger,
} from '@weir/core'
import type { OutputMode } from '../aggregate/table.js'
import { planQuery, type AggPhaseStrategy } from './plan-query.js'
import { splitQuery } from './split-query.js'
import type { LogicalPlan } from './steps.js'

/** When epochs end, in Spark's words. */
export type TriggerOption =
  | { readonly processingTime: string | number }
  | { readonly availableNow: true }
  | { readonly once: true }
  | { readonly continuous: string | number }
  | { readonly manual: true }

export interface WriteStreamOptions<T> {
  readonly sink: Sink<T>
  /** Spark's default is `append`. */
  readonly outputMode?: OutputMode
  /** Default: an epoch as soon as the previous one is done and new data came. */
  readonly trigger?: TriggerOption
  readonly queryName?: string
  /** A directory that keeps the query's id (and, with a persistent state backend, its state). */
  readonly checkpointLocation?: string
  /** Checkpoint at most this often ('1 minute', ms) instead of at every epoch. */
  readonly checkpointInterval?: string | number
  readonly stateBackend?: StateBackend
  /** Instances of the source and the aggregation (default 1). */
  readonly parallelism?: number
  /** A source partition quiet this long stops holding the watermark back. Default: never. */
  readonly idleTimeout?: string | number
  /** Where records that fail to parse go, with the reason (beyond Spark). */
  readonly deadLetterSink?: Sink<unknown>
  readonly manager?: StreamingQueryManager
  readonly clock?: Clock
  /**
   * Threads to run the query on (default 1). With 2 or more, worker threads run the program again and
   * join the query when they reach this `start()`: see `isWeirWorker()` and docs/workers.md.
   */
  readonly workers?: number
  /**
   * Whether `groupBy` aggregates before the exchange too (default `'auto'`: when it has more than one
   * instance and the aggregator can merge). See `AggPhaseStrategy`.
   */
  readonly aggPhaseStrategy?: AggPhaseStrategy
  /**
   * Run the query over several processes, each running this same program (`kafkaScaleOut` from
   * connectors: a consumer group on the input topic, a repartition topic at the `groupBy`). Needs a
   * `checkpointLocation` every process sees. See `ScaleOut` and docs/scale-out.md.
   */
  readonly scaleOut?: ScaleOut
}

const OPTIONS = new Set([
  'sink',
  'outputMode',
  'trigger',
  'queryName',
  'checkpointLocation',
  'checkpointInterval',
  'stateBackend',
  'parallelism',
  'idleTimeout',
  'deadLetterSink',
  'manager',
  'clock',
  'workers',
  'aggPhaseStrategy',
  'scaleOut',
])

/** Spark's `DataStreamWriter`: `start()` checks everything, builds the graph and runs it. */
export class DataStreamWriter<T> {
  /** @internal */
  constructor(
    private readonly plan: LogicalPlan,
    private readonly options: WriteStreamOptions<T>,
  ) {}

  /** Starts the query. Rejects with a ConfigError, before anything runs, when the query is not valid. */
  async start(): Promise<StreamingQuery> {
    const options = this.options
    for (const name of Object.keys(options)) {
      if (!OPTIONS.has(name))
        throw new ConfigError(`writeStream: unknown option '${name}': use one of ${[...OPTIONS].join(', ')}`)
    }
    if (typeof options.sink?.createWriter !== 'function') {
      throw new ConfigError(
        `writeStream needs a sink, e.g. writeStream({ sink: consoleSink(), outputMode: 'complete' })`,
      )
    }
    if (options.scaleOut !== undefined) return this.startScaledOut(options.scaleOut)
    const parallelism = options.parallelism ?? 1
    const planned = planQuery(this.plan, {
      sink: options.sink,
      outputMode: options.outputMode ?? 'append',
      parallelism,
      idleTimeoutMs:
        options.idleTimeout === undefined ? undefined : parseDuration(options.idleTimeout, 'idleTimeout'),
      deadLetterSink: options.deadLetterSink,
      aggPhaseStrategy: options.aggPhaseStrategy,
    })
    return (options.manager ?? defaultStreams).start(planned.graph, {
      queryName: options.queryName,
      checkpointLocation: options.checkpointLocation,
      checkpointIntervalMs:
        options.checkpointInterval === undefined
          ? undefined
          : parseDuration(options.checkpointInterval, 'checkpointInterval'),
      stateBackend: options.stateBackend,
      trigger: toTrigger(options.trigger),
      clock: options.clock,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      sourceDescriptions: planned.sourceDescriptions,
      sinkDescription: planned.sinkDescription,
    })
  }

  private async startScaledOut(scaleOut: ScaleOut): Promise<StreamingQuery> {
    const options = this.options
    if (typeof scaleOut?.start !== 'function') {
      throw new ConfigError(
        `writeStream: scaleOut must be a ScaleOut, e.g. scaleOut: kafkaScaleOut({ brokers }) from @weir/connectors`,
      )
    }
    for (const name of [
      'parallelism',
      'workers',
      'stateBackend',
      'aggPhaseStrategy',
      'checkpointInterval',
    ] as const) {
      if (options[name] !== undefined) {
        throw new ConfigError(
          `writeStream: ${name} does not go with scaleOut, which runs one instance of each sub-topology per process ` +
            `and keeps their state in the checkpoint location: start more processes instead`,
        )
      }
    }
    const checkpointLocation = options.checkpointLocation
    if (checkpointLocation === undefined) {
      throw new ConfigError(
        `writeStream: scaleOut needs a checkpointLocation every process sees (a shared directory): ` +
          `the processes take the query's id and the state of the partitions they run from there`,
      )
    }
    const split = splitQuery(this.plan, {
      sink: options.sink,
      outputMode: options.outputMode ?? 'append',
      deadLetterSink: options.deadLetterSink,
      idleTimeoutMs:
        options.idleTimeout === undefined ? undefined : parseDuration(options.idleTimeout, 'idleTimeout'),
    })
    const trigger = toTrigger(options.trigger)
    return (options.manager ?? defaultStreams).startExecution(
      (queryId) =>
        scaleOut.start(split, {
          queryId,
          queryName: options.queryName,
          checkpointLocation,
          trigger,
          clock: options.clock,
        }),
      {
        queryName: options.queryName,
        checkpointLocation,
        sourceDescriptions: { source: split.sourceDescription },
        sinkDescription: split.sinkDescription,
      },
    )
  }
}

export function toTrigger(option: TriggerOption | undefined): Trigger {
  if (option === undefined) return { kind: 'processingTime', intervalMs: 0 }
  if ('processingTime' in option)
    return {
      kind: 'processingTime',
      intervalMs: parseDuration(option.processingTime, 'processingTime trigger'),
    }
  if ('availableNow' in option || 'once' in option) return { kind: 'availableNow' }
  if ('continuous' in option) return { kind: 'continuous' }
  if ('manual' in option) return { kind: 'manual' }
  throw new ConfigError(
    `trigger ${JSON.stringify(option)} is not a trigger: write { processingTime: '10 seconds' }, { availableNow: true } or { continuous: '1 second' }`,
  )
}
