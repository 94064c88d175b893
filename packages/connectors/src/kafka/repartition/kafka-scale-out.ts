import { join } from 'node:path'
import {
  buildPhysicalPlan,
  ConfigError,
  defineOperator,
  defineSink,
  defineSource,
  FILTERED,
  Job,
  StreamGraph,
  type DataStream,
  type DecodeContext,
  type TransformSpec,
  type QueryExecution,
  type ScaleOut,
  type ScaleOutContext,
  type SplitQuery,
  type StreamRecord,
} from '@weir/core'
import type { PartitionAssigner } from 'kafkajs'
import { CONNECTION_OPTIONS, openConnection, type KafkaConnectionOptions } from '../connection.js'
import type { KafkaRecord } from '../kafka-record.js'
import { kafkaSource, type KafkaSource } from '../kafka-source.js'
import { repartitionRows } from './repartition-rows.js'
import { repartitionSink } from './repartition-sink.js'
import { decodeRepartitioned, repartitionSource, type RepartitionInput } from './repartition-source.js'
import { RepartitionTasks } from './repartition-tasks.js'
import { ScaledOutExecution } from './scaled-out-execution.js'

export interface KafkaScaleOutOptions extends KafkaConnectionOptions {
  /** Of both consumer groups (input and repartition), ms; kafkajs's default otherwise. */
  readonly sessionTimeout?: number
  readonly heartbeatInterval?: number
  /** kafkajs's, for both groups (default round robin); on the mock cluster use `mockSafeAssigner()`. */
  readonly partitionAssigners?: PartitionAssigner[]
}

/**
 * Runs a DataFrame query over every process that runs the same program, as the members of a Kafka
 * Streams application share a topology (docs/scale-out.md):
 *
 * - the query's Kafka source joins consumer group `<queryId>-input`: Kafka spreads the input
 *   partitions over the processes;
 * - at `groupBy` the rows go through repartition topic `<queryId>-<operatorId>-repartition`, to the
 *   partition of their key's key group, with each input partition's watermark as in-band control
 *   records;
 * - group `<queryId>-repartition` spreads that topic's partitions, and each process runs the
 *   aggregation and the sink for the partitions it has, keeping their state in files under
 *   `<checkpointLocation>/repartition` (a directory every process sees), so a partition that moves
 *   takes its state along.
 *
 * Connection options default to the source's; the repartition topic must exist, or the brokers must
 * create topics on first use (its partition count bounds the processes the aggregation can use).
 *
 * @example
 * ```ts
 * await tweets.groupBy(window('creation_time', '5 minutes', '1 minute')).count()
 *   .writeStream({ sink, outputMode: 'update', checkpointLocation: '/shared/counts', scaleOut: kafkaScaleOut() })
 *   .start() // in each of as many processes as you like
 * ```
 */
export function kafkaScaleOut(options: KafkaScaleOutOptions = {}): ScaleOut {
  return {
    name: 'kafka',
    start: (query, context) => startScaledOut(query, context, options),
  }
}

async function startScaledOut(
  query: SplitQuery,
  context: ScaleOutContext,
  options: KafkaScaleOutOptions,
): Promise<QueryExecution> {
  const input = query.source as Partial<KafkaSource>
  if (input.name !== 'kafka' || typeof input.options !== 'object') {
    throw new ConfigError(
      `scaleOut: kafkaScaleOut spreads a Kafka topic's partitions over processes, but the query reads ` +
        `'${query.source.name}': read with kafkaSource({ subscribe: [...] })`,
    )
  }
  const sourceOptions = input.options
  if (sourceOptions.subscribe === undefined) {
    throw new ConfigError(
      `scaleOut: name the input topics with subscribe (not subscribePattern or assign): the exchange's ` +
        `watermark waits for every input partition, so they must be known when the query starts`,
    )
  }
  const connection: KafkaConnectionOptions = {
    ...Object.fromEntries(CONNECTION_OPTIONS.map((name) => [name, sourceOptions[name]])),
    ...options,
  }
  const group = {
    ...(options.sessionTimeout === undefined ? {} : { sessionTimeout: options.sessionTimeout }),
    ...(options.heartbeatInterval === undefined ? {} : { heartbeatInterval: options.heartbeatInterval }),
  }
  const topics = inputTopics(sourceOptions.subscribe)
  const source = kafkaSource({
    ...sourceOptions,
    ...group,
    groupMode: true,
    groupId: `${context.queryId}-input`,
    partitionAssigners: options.partitionAssigners ?? sourceOptions.partitionAssigners,
  })
  const jobOptions = {
    trigger: context.trigger,
    queryId: context.queryId,
    ...(context.clock ? { clock: context.clock } : {}),
  }
  const exchange = query.exchange
  if (exchange === undefined) {
    const graph = upstreamGraph(query, source)
    graph.origins.via(rowsOperator(query.rowsOf)).to(defineSink('sink', query.sink))
    return new ScaledOutExecution(await Job.start(graph.graph, jobOptions), undefined)
  }
  const writers = await partitionsOf(connection, topics)
  const topic = `${context.queryId}-${exchange.operatorId}-repartition`
  const decode = (raw: unknown, decodeContext: DecodeContext) =>
    decodeRepartitioned(raw as RepartitionInput, decodeContext)
  const tasks = await RepartitionTasks.start({
    ...connection,
    ...group,
    topic,
    groupId: `${context.queryId}-repartition`,
    writers,
    idleTimeoutMs: query.idleTimeoutMs,
    checkpointDir: join(context.checkpointLocation, 'repartition'),
    graph: (exchangeSource) => exchange.downstream(exchangeSource, decode),
    job: jobOptions,
    ...(options.partitionAssigners ? { partitionAssigners: options.partitionAssigners } : {}),
  })
  try {
    // Rows written before anyone reads the topic only wait there (or meet its retention).
    await tasks.joined
    const graph = upstreamGraph(query, source)
    const { rowsOf } = query
    const { route } = exchange
    graph.origins
      .via(
        repartitionRows<Origin>('exchange-rows', {
          writer: (origin) => `${origin.topic}-${origin.partition}`,
          offset: (origin) => origin.offset,
          delay: query.watermarkDelayMs,
          fanOut: (origin, t) =>
            rowsOf(origin.row).flatMap((row) => route(row, t).map((key) => ({ key, value: row }))),
        }),
      )
      .to(
        defineSink(
          'repartition',
          repartitionSink({ ...connection, topic, maxParallelism: query.maxParallelism }),
        ),
      )
    const upstream = await Job.start(graph.graph, jobOptions)
    return new ScaledOutExecution(upstream, {
      tasks,
      plan: buildPhysicalPlan(
        exchange.downstream(repartitionSource({ topic, partitions: [], writers, feed: NO_FEED }), decode),
      ),
    })
  } catch (error) {
    await tasks.stop().catch(() => undefined)
    throw error
  }
}

/** A decoded input record and where it came from. */
interface Origin {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly row: unknown
}

/** The upstream half's source: the query's source in the input group, its per-row steps in the decode. */
function upstreamGraph(
  query: SplitQuery,
  source: KafkaSource,
): { readonly graph: StreamGraph; readonly origins: DataStream<Origin> } {
  const graph = new StreamGraph({ parallelism: 1, maxParallelism: query.maxParallelism })
  const { decode, timestamp } = query
  const origins = graph.from(
    defineSource<KafkaRecord, Origin>('source', source, {
      decode: (record, context) => {
        const row = decode ? decode(record, context) : record
        if (row === undefined || row === FILTERED) return row
        return { topic: record.topic, partition: record.partition, offset: Number(record.offset), row }
      },
      timestamp: timestamp === undefined ? undefined : (origin) => timestamp(origin.row),
      deadLetters: query.deadLetterSink !== undefined,
    }),
  )
  if (query.deadLetterSink)
    origins.sideOutput('dead-letter').to(defineSink('dead-letters', query.deadLetterSink))
  return { graph, origins }
}

/** The rows each decoded record becomes (a query without an exchange), with the record's event time. */
function rowsOperator(rowsOf: SplitQuery['rowsOf']): TransformSpec<Origin, unknown> {
  return defineOperator<Origin, unknown>({
    id: 'rows',
    name: 'rows',
    freshRecords: true,
    build: () => ({
      onData(records, out) {
        const result: StreamRecord<unknown>[] = []
        for (const r of records)
          for (const row of rowsOf(r.value.row))
            result.push({ value: row, timestamp: r.timestamp, key: r.key, window: r.window })
        out.emit(result)
      },
    }),
  })
}

/** `topic-partition` of every partition of the input topics: the exchange's writers. */
async function partitionsOf(
  connection: KafkaConnectionOptions,
  topics: readonly string[],
): Promise<string[]> {
  const admin = openConnection('kafkaScaleOut', connection).client.admin()
  await admin.connect()
  try {
    const { topics: found } = await admin.fetchTopicMetadata({ topics: [...topics] })
    return found.flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partitionId}`))
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

function inputTopics(subscribe: string | readonly string[]): string[] {
  const topics = typeof subscribe === 'string' ? subscribe.split(',').map((t) => t.trim()) : [...subscribe]
  return [...new Set(topics)]
}

/** The feed of a source that is only planned, never read (for the downstream half's plan). */
const NO_FEED = { take: () => [], wait: () => Promise.resolve() }
