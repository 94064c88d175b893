import { defineSink, defineSource, slidingWindows, StreamGraph, type Sink, type Source } from '@weir/core'
import {
  kafkaSource,
  repartitionRows,
  repartitionSink,
  type KafkaConnectionOptions,
  type KafkaRecord,
  type KafkaSourceOptions,
  decodeRepartitioned,
  type RepartitionInput,
} from '@weir/connectors'
import { count, filter, keyedAggregate, windowAssign, type AggregateRow } from '@weir/operators'

/**
 * The tutorial's query 3 (`withWatermark('creation_time', '1 minute').groupBy(window(…, '5 minutes',
 * '1 minute')).count()`, update mode) split at its keyed exchange into two sub-topologies that scale
 * out over processes, as Kafka Streams splits a topology at `groupBy` (see docs/scale-out.md):
 *
 * 1. upstream: Kafka source (one consumer group over every process) → parse → one row per window the
 *    tweet is in, keyed by the window's start → repartition topic (partition = the key's key group);
 * 2. downstream: repartition source (watermark = minimum over the input partitions' in-band
 *    watermarks) → window slices → keyed count → the row of the key's own window → sink.
 */
export interface ScaleOutCountsOptions extends KafkaConnectionOptions {
  readonly queryId: string
  readonly inputTopic: string
  readonly windowMs: number
  readonly slideMs: number
  readonly watermarkMs: number
  /**
   * Read the input topic in one consumer group over every process (default), or every input partition
   * in this process without a group (one process alone, e.g. a benchmark that must not wait for a join).
   */
  readonly inputGroup?: boolean
  /** kafkajs's, for the input group (default round robin); on the mock cluster use `mockSafeAssigner()`. */
  readonly partitionAssigners?: KafkaSourceOptions['partitionAssigners']
}

interface TimedTweet {
  readonly p: number
  readonly o: number
  readonly t: number | null
}

/** Named from the query id and the operator id it feeds. */
export function repartitionTopicOf(queryId: string): string {
  return `${queryId}-aggregate-repartition`
}

export function upstreamGraph(options: ScaleOutCountsOptions): StreamGraph {
  const windows = slidingWindows({ size: options.windowMs, slide: options.slideMs })
  const connection = { brokers: options.brokers, log: options.log, logLevel: options.logLevel }
  const graph = new StreamGraph()
  graph
    .from(
      defineSource<KafkaRecord, TimedTweet>(
        'source',
        kafkaSource({
          ...connection,
          subscribe: [options.inputTopic],
          ...(options.inputGroup === false
            ? {}
            : {
                groupMode: true,
                groupId: `${options.queryId}-input`,
                partitionAssigners: options.partitionAssigners,
              }),
          startingOffsets: 'earliest',
          sessionTimeout: 6000,
          heartbeatInterval: 1000,
        }),
        { decode: (r) => ({ p: r.partition, o: r.offset, t: creationTime(r.value) }), timestamp: (r) => r.t },
      ),
    )
    .via(
      repartitionRows<TimedTweet>('aggregate-repartition', {
        writer: (r) => `${options.inputTopic}-${r.p}`,
        offset: (r) => r.o,
        delay: options.watermarkMs,
        // A tweet without a time is in no window (the source counts it: numRowsWithoutEventTime).
        fanOut: (_, t) =>
          t === null ? [] : windows.assign(t).map((w) => ({ key: String(w.start), value: null })),
      }),
    )
    .to(
      defineSink(
        'repartition',
        repartitionSink({ ...connection, topic: repartitionTopicOf(options.queryId) }),
      ),
    )
  return graph
}

/** A window's count as the sink gets it. */
export interface WindowCount {
  readonly start: number
  readonly end: number
  readonly count: number
}

export function downstreamGraph(
  options: ScaleOutCountsOptions,
  source: Source<RepartitionInput>,
  sink: Sink<WindowCount>,
): StreamGraph {
  const windows = slidingWindows({ size: options.windowMs, slide: options.slideMs })
  const graph = new StreamGraph()
  graph
    .from(
      defineSource('source', source, {
        decode: decodeRepartitioned,
        timestamp: (r) => r.t,
        watermark: { delay: 0 },
      }),
    )
    .via(windowAssign('window', windows))
    .keyBy((r) => r.key)
    .via(keyedAggregate('aggregate', { aggregator: count(), outputMode: 'update', windows }))
    // Key k holds the records of window [k, k + size) only: its other windows are partial, never output.
    .via(filter('own-window', (row: AggregateRow<number>) => row.window?.start === Number(row.key)))
    .to(
      defineSink('sink', {
        name: 'window-counts',
        createWriter: (context) => {
          const writer = sink.createWriter(context)
          return Promise.resolve(writer).then((w) => ({
            write: (rows: readonly AggregateRow<number>[], epoch: number) =>
              w.write(
                rows.map((r) => ({ start: r.window!.start, end: r.window!.end, count: r.value })),
                epoch,
              ),
            commit: (epoch: number) => w.commit(epoch),
            close: () => w.close(),
          }))
        },
      }),
    )
  return graph
}

function creationTime(value: Buffer | null): number | null {
  try {
    const t = Date.parse(
      (JSON.parse(value?.toString() ?? '') as { creation_time?: string }).creation_time ?? '',
    )
    return Number.isNaN(t) ? null : t
  } catch {
    return null
  }
}
