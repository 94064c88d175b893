import type { StreamGraph } from '../graph/stream-graph.js'
import type { DecodeContext } from '../graph/specs.js'
import type { Sink } from '../io/sink.js'
import type { Source } from '../io/source.js'
import type { Key } from '../keys/key-groups.js'
import type { Clock } from '../time/clock.js'
import type { Trigger } from '../runtime/trigger.js'
import type { QueryExecution } from './execution.js'

/**
 * A query cut at its keyed exchange into two sub-topologies, as Kafka Streams cuts a topology
 * at `groupBy`, for a `ScaleOut` to run over processes:
 *
 * - **upstream**, where the input is read: the source, the per-row steps (`decode`: parse, withColumn,
 *   filter, run per source partition as in one process), then `rowsOf` (explode, map, filter after
 *   them) and the exchange key `keyOf` of each row (the grouping key, as the in-process hash exchange
 *   takes it);
 * - **downstream**, behind the exchange: `downstream(source)` builds window assignment, the keyed
 *   aggregate and the sink around the source that reads the exchanged rows. Its source's values are the
 *   rows, and its batches carry their event times (`SourceBatch.timestamps`) and watermarks.
 *
 * A query without `groupBy` has no exchange (`exchange` undefined): the upstream writes to the sink.
 */
export interface SplitQuery {
  /** What the query reads. */
  readonly source: Source<unknown>
  readonly sourceDescription: string
  readonly sinkDescription: string
  /** The leading per-row steps, run on each raw record in the source (undefined, or `FILTERED`: no row). */
  readonly decode: ((raw: unknown, context: DecodeContext) => unknown) | undefined
  /** A row's event time (the watermark's or the window's column); undefined: the source's own (a Kafka timestamp). */
  readonly timestamp: ((row: unknown) => number | null) | undefined
  /** `withWatermark`'s delay in ms; undefined: the query has no watermark, and none crosses the exchange. */
  readonly watermarkDelayMs: number | undefined
  /**
   * `idleTimeout` in ms: an input partition (an upstream writer) not heard of for this long stops
   * holding the exchange's watermark back, as an idle source partition does in one process.
   */
  readonly idleTimeoutMs: number | undefined
  /** Where rows that fail to decode go (`deadLetterSink`), if anywhere. */
  readonly deadLetterSink: Sink<unknown> | undefined
  readonly maxParallelism: number
  /** Without `groupBy`: the sink, fed by the upstream. */
  readonly sink: Sink<unknown>
  /**
   * The rows one decoded row becomes before the exchange (or the sink): explode, map and filter after
   * the leading per-row steps. Throws as those operators would fail.
   */
  readonly rowsOf: (row: unknown) => readonly unknown[]
  readonly exchange:
    | {
        /** The node the exchange feeds (the aggregate): names the repartition topic with the query id. */
        readonly operatorId: string
        /**
         * The exchange keys of a row with event time `timestamp`: rows of one key meet in one place. One
         * key (the grouping key), or one per window the row is in (the grouping key and the window's
         * start, as Spark expands a row to its windows before a windowed aggregation's exchange) so
         * that one group's windows spread over processes.
         */
        readonly route: (row: unknown, timestamp: number | null) => readonly Key[]
        /**
         * The sub-topology behind the exchange, reading `ExchangeRow`s (its `decode` makes them from
         * what `exchangeSource` reads) whose batches carry their event times and watermarks.
         */
        readonly downstream: (
          exchangeSource: Source<unknown>,
          decode: (raw: unknown, context: DecodeContext) => ExchangeRow | undefined,
        ) => StreamGraph
      }
    | undefined
}

/** What a `ScaleOut` gets to run its process's part of a query. */
export interface ScaleOutContext {
  /** The query's id, kept in its checkpoint location (the same in every process). */
  readonly queryId: string
  readonly queryName: string | undefined
  /** A directory every process of the query sees: the query's id, and the state of its partitions. */
  readonly checkpointLocation: string
  readonly trigger: Trigger
  readonly clock: Clock | undefined
}

/**
 * How a query runs over several processes: set `writeStream({ scaleOut })` and start the same program
 * in as many processes as you like; they share the work as the members of a Kafka Streams application
 * do. `kafkaScaleOut` (connectors) is one: a consumer group on the input topic and a repartition topic
 * as the exchange. See docs/scale-out.md.
 */
export interface ScaleOut {
  readonly name: string
  /** Starts this process's part of `query`; the execution ends when stopped or failed. */
  start(query: SplitQuery, context: ScaleOutContext): Promise<QueryExecution>
}

/** A row as it crosses an exchange: the key it was routed by, and the row. */
export interface ExchangeRow {
  readonly key: Key
  readonly value: unknown
}
