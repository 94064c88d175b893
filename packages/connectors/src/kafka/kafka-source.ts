import { randomUUID } from 'node:crypto'
import { ConfigError, type Source, type SourceReader, type SourceReaderContext } from '@weir/core'
import type { PartitionAssigner, RetryOptions } from 'kafkajs'
import { checkOptionNames, checkPositive, checkWholeNumber } from '../internal/options.js'
import {
  CONNECTION_OPTIONS,
  openConnection,
  type KafkaConnection,
  type KafkaConnectionOptions,
} from './connection.js'
import type { KafkaRecord } from './kafka-record.js'
import { parseOffsets, type OffsetSpec, type OffsetsOption } from './offsets.js'
import { KafkaSourceReader } from './source-reader.js'

/** Options of `kafkaSource`: Spark's names where Spark has one, kafkajs's for the consumer. */
export interface KafkaSourceOptions extends KafkaConnectionOptions {
  /** Topics to read (Spark's `subscribe`). Exactly one of `subscribe`, `subscribePattern`, `assign`. */
  readonly subscribe?: string | readonly string[]
  /** Topics whose names match (Spark's `subscribePattern`); topics created later are found (`partitionDiscoveryIntervalMs`). */
  readonly subscribePattern?: string | RegExp
  /** Given partitions only, as JSON text or an object: `{"tweets": [0, 1]}` (Spark's `assign`). */
  readonly assign?: string | Readonly<Record<string, readonly number[]>>
  /** Where a query without a checkpoint starts: `'latest'` (default, as Spark's streaming reads), `'earliest'`, or per partition. */
  readonly startingOffsets?: OffsetsOption
  /** Makes the source bounded: it reads up to these offsets (`'latest'`: the ends seen at start), then ends. */
  readonly endingOffsets?: OffsetsOption
  /** At most this many offsets per epoch over all partitions (shared out by partition count). */
  readonly maxOffsetsPerTrigger?: number
  /** A restored position the log no longer holds fails the query (default); false: warn, start that partition at the earliest. */
  readonly failOnDataLoss?: boolean
  /** Keep each record's headers (`record.headers`). Default false. */
  readonly includeHeaders?: boolean
  /**
   * Let Kafka assign partitions: every instance of every process joins consumer group `groupId`, as
   * Kafka Streams does, to scale out across processes. Partitions start where the group committed
   * (weir commits after each epoch): at-least-once across a rebalance. Default false: weir places
   * partitions over the instances itself and resumes from its own checkpoint, exactly once.
   */
  readonly groupMode?: boolean
  /** The consumer group: required with `groupMode`; otherwise instance i uses `${groupId}-${i}` (for monitoring). */
  readonly groupId?: string
  /** Without `groupId`, groups are named `${groupIdPrefix}-${uuid}-${instance}`. Default `weir-kafka-source`. */
  readonly groupIdPrefix?: string
  /** Commit each committed epoch's offsets to the group (monitoring; in group mode, where members resume). Default true. */
  readonly commitOffsets?: boolean
  /** Consumer crashes in a row (kafkajs restarts it) before the query fails. Default 5. */
  readonly maxRestarts?: number
  /** Fetched records waiting for weir before the source pauses its partitions. Default 10,000. */
  readonly maxBufferedRecords?: number
  /** Bytes of fetched records waiting for weir before the source pauses its partitions. Default 16 MiB. */
  readonly maxBufferedBytes?: number
  /** How long a poll waits for records before it says `idle`. Default 100 ms. */
  readonly pollTimeoutMs?: number
  /** With `subscribePattern`, how often to look for new topics. Default 30 s. */
  readonly partitionDiscoveryIntervalMs?: number
  /** kafkajs consumer options, passed through. */
  readonly sessionTimeout?: number
  readonly rebalanceTimeout?: number
  readonly heartbeatInterval?: number
  /** Bytes per fetch response (default 8 MiB here) and per partition in it (default 1 MiB). */
  readonly maxBytes?: number
  readonly maxBytesPerPartition?: number
  readonly minBytes?: number
  /** How long the broker holds a fetch open for data. Default 500 ms here (kafkajs: 5 s). */
  readonly maxWaitTimeInMs?: number
  readonly readUncommitted?: boolean
  readonly metadataMaxAge?: number
  readonly rackId?: string
  /** Consumer retry of one request (the connection's `retry` otherwise); `restartOnFailure` is still asked once the budget allows. */
  readonly consumerRetry?: RetryOptions
  /** Group mode only: kafkajs partition assigners (default round robin). */
  readonly partitionAssigners?: PartitionAssigner[]
}

const SOURCE_OPTIONS = [
  ...CONNECTION_OPTIONS,
  'subscribe',
  'subscribePattern',
  'assign',
  'startingOffsets',
  'endingOffsets',
  'maxOffsetsPerTrigger',
  'failOnDataLoss',
  'includeHeaders',
  'groupMode',
  'groupId',
  'groupIdPrefix',
  'commitOffsets',
  'maxRestarts',
  'maxBufferedRecords',
  'maxBufferedBytes',
  'pollTimeoutMs',
  'partitionDiscoveryIntervalMs',
  'sessionTimeout',
  'rebalanceTimeout',
  'heartbeatInterval',
  'maxBytes',
  'maxBytesPerPartition',
  'minBytes',
  'maxWaitTimeInMs',
  'readUncommitted',
  'metadataMaxAge',
  'rackId',
  'consumerRetry',
  'partitionAssigners',
]

/** What the source reads: named topics, a pattern, or given partitions. */
export type Subscription =
  | { readonly kind: 'subscribe'; readonly topics: readonly string[] }
  | { readonly kind: 'pattern'; readonly pattern: RegExp }
  | { readonly kind: 'assign'; readonly partitions: ReadonlyMap<string, readonly number[]> }

/** The source's options, checked, with defaults filled in. */
export interface KafkaSourceSettings {
  readonly connection: KafkaConnection
  readonly subscription: Subscription
  readonly starting: OffsetSpec
  readonly ending: OffsetSpec | undefined
  readonly maxOffsetsPerTrigger: number | undefined
  readonly failOnDataLoss: boolean
  readonly includeHeaders: boolean
  readonly groupMode: boolean
  readonly groupId: string
  readonly commitOffsets: boolean
  readonly maxRestarts: number
  readonly maxBufferedRecords: number
  readonly maxBufferedBytes: number
  readonly pollTimeoutMs: number
  readonly partitionDiscoveryIntervalMs: number
  readonly consumer: Readonly<Record<string, unknown>>
  readonly consumerRetry: RetryOptions | undefined
  readonly partitionAssigners: PartitionAssigner[] | undefined
  /** `subscribe=[a, b]` and the like, for messages. */
  readonly what: string
}

/** A Kafka source: what it reads, and the options it was made with (a `ScaleOut` remakes it in a group). */
export interface KafkaSource extends Source<KafkaRecord> {
  readonly description: string
  readonly options: Readonly<KafkaSourceOptions>
}

/**
 * Reads Kafka topics as Spark's Kafka source does: each partition is a split (`topic-partition`) with
 * its own watermark, positions (the next offset of each partition) go into weir's checkpoint, and a
 * restored query resumes exactly where its last committed epoch ended. Records are raw (`KafkaRecord`).
 *
 * Partitions are placed by weir: instance i of p reads the partitions whose index in the sorted
 * (topic, partition) list is i mod p, through its own consumer group `${groupId}-${i}` and an assigner
 * that gives it exactly those (kafkajs has no manual assign). With `groupMode: true` Kafka assigns
 * partitions over every instance of every process in one group instead. Backpressure pauses the
 * partitions; a consumer that keeps crashing (brokers away) fails the query after `maxRestarts`.
 * With the `availableNow` trigger the source reads up to the end offsets seen at start, then stops.
 *
 * @example
 * ```ts
 * const tweets = readStream(kafkaSource({ brokers: ['localhost:9092'], subscribe: ['tweets'], startingOffsets: 'earliest' }))
 *   .decode('parse', (r) => parser.decode(r.value ?? ''))
 * ```
 */
export function kafkaSource(options: KafkaSourceOptions): KafkaSource {
  const settings = checkSourceOptions(options)
  const source = {
    name: 'kafka',
    description: `KafkaSource[${settings.what}]`,
    bounded: settings.ending !== undefined,
    createReader: (context: SourceReaderContext): Promise<SourceReader<KafkaRecord>> =>
      KafkaSourceReader.create(settings, context),
  }
  // Not enumerable: the options may hold credentials, and a source printed whole must not show them.
  return Object.defineProperty(source, 'options', { value: Object.freeze({ ...options }) }) as KafkaSource
}

function checkSourceOptions(options: KafkaSourceOptions): KafkaSourceSettings {
  const connector = 'kafkaSource'
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(
      `${connector} takes options, e.g. kafkaSource({ brokers: ['localhost:9092'], subscribe: ['tweets'] })`,
    )
  }
  checkOptionNames(connector, options, SOURCE_OPTIONS)
  const subscription = subscriptionOf(connector, options)
  const groupMode = options.groupMode ?? false
  if (groupMode && (typeof options.groupId !== 'string' || options.groupId === '')) {
    throw new ConfigError(
      `${connector}: groupMode joins one consumer group over every process: name it, e.g. groupId: 'tweet-counts'`,
    )
  }
  if (groupMode && subscription.kind === 'assign') {
    throw new ConfigError(
      `${connector}: with groupMode Kafka assigns the partitions: use subscribe or subscribePattern instead of assign`,
    )
  }
  if (!groupMode && options.partitionAssigners !== undefined) {
    throw new ConfigError(
      `${connector}: partitionAssigners apply to groupMode only; without it weir places partitions itself`,
    )
  }
  const starting = parseOffsets(connector, 'startingOffsets', options.startingOffsets ?? 'latest')
  if (groupMode && starting.kind === 'partitions') {
    throw new ConfigError(
      `${connector}: with groupMode partitions start where the group committed: startingOffsets can only be 'earliest' or 'latest'`,
    )
  }
  const ending =
    options.endingOffsets === undefined
      ? undefined
      : parseOffsets(connector, 'endingOffsets', options.endingOffsets)
  const whole = (name: keyof KafkaSourceOptions, fallback: number, min: number, example: number): number => {
    const value = (options[name] as number | undefined) ?? fallback
    checkWholeNumber(connector, name, value, min, example)
    return value
  }
  if (options.maxOffsetsPerTrigger !== undefined)
    checkWholeNumber(connector, 'maxOffsetsPerTrigger', options.maxOffsetsPerTrigger, 1, 10000)
  for (const name of [
    'failOnDataLoss',
    'includeHeaders',
    'groupMode',
    'commitOffsets',
    'readUncommitted',
  ] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new ConfigError(
        `${connector}: ${name} must be true or false, not ${JSON.stringify(options[name])}`,
      )
    }
  }
  const consumer: Record<string, unknown> = {
    maxBytes: whole('maxBytes', 8 * 1024 * 1024, 1, 8388608),
    maxBytesPerPartition: whole('maxBytesPerPartition', 1024 * 1024, 1, 1048576),
    maxWaitTimeInMs: whole('maxWaitTimeInMs', 500, 0, 500),
  }
  for (const name of [
    'sessionTimeout',
    'rebalanceTimeout',
    'heartbeatInterval',
    'minBytes',
    'metadataMaxAge',
  ] as const) {
    if (options[name] !== undefined) consumer[name] = whole(name, 0, 0, 6000)
  }
  if (options.readUncommitted !== undefined) consumer.readUncommitted = options.readUncommitted
  if (options.rackId !== undefined) consumer.rackId = options.rackId
  const groupId = options.groupId ?? `${options.groupIdPrefix ?? 'weir-kafka-source'}-${randomUUID()}`
  if (options.pollTimeoutMs !== undefined)
    checkPositive(connector, 'pollTimeoutMs', options.pollTimeoutMs, 100)
  return {
    connection: openConnection(connector, options),
    subscription,
    starting,
    ending,
    maxOffsetsPerTrigger: options.maxOffsetsPerTrigger,
    failOnDataLoss: options.failOnDataLoss ?? true,
    includeHeaders: options.includeHeaders ?? false,
    groupMode,
    groupId,
    commitOffsets: options.commitOffsets ?? true,
    maxRestarts: whole('maxRestarts', 5, 0, 5),
    maxBufferedRecords: whole('maxBufferedRecords', 10_000, 1, 10000),
    maxBufferedBytes: whole('maxBufferedBytes', 16 * 1024 * 1024, 1, 16777216),
    pollTimeoutMs: options.pollTimeoutMs ?? 100,
    partitionDiscoveryIntervalMs: whole('partitionDiscoveryIntervalMs', 30_000, 1, 30000),
    consumer,
    consumerRetry: options.consumerRetry,
    partitionAssigners: options.partitionAssigners,
    what: describeSubscription(subscription),
  }
}

function subscriptionOf(connector: string, options: KafkaSourceOptions): Subscription {
  const given = (['subscribe', 'subscribePattern', 'assign'] as const).filter(
    (name) => options[name] !== undefined,
  )
  if (given.length !== 1) {
    throw new ConfigError(
      `${connector}: give exactly one of subscribe, subscribePattern or assign (${given.length === 0 ? 'none was given' : `got ${given.join(' and ')}`}), e.g. subscribe: ['tweets']`,
    )
  }
  if (options.subscribe !== undefined) {
    const topics =
      typeof options.subscribe === 'string'
        ? options.subscribe.split(',').map((t) => t.trim())
        : [...options.subscribe]
    if (topics.length === 0 || topics.some((t) => typeof t !== 'string' || !/^[A-Za-z0-9._-]+$/.test(t))) {
      throw new ConfigError(
        `${connector}: subscribe ${JSON.stringify(options.subscribe)} must name topics (letters, digits, '.', '_', '-'), e.g. ['tweets']`,
      )
    }
    return { kind: 'subscribe', topics: [...new Set(topics)] }
  }
  if (options.subscribePattern !== undefined) {
    const pattern = options.subscribePattern
    if (pattern instanceof RegExp) return { kind: 'pattern', pattern }
    try {
      return { kind: 'pattern', pattern: new RegExp(`^(?:${pattern})$`) }
    } catch (cause) {
      throw new ConfigError(
        `${connector}: subscribePattern ${JSON.stringify(pattern)} is not a regular expression, e.g. 'tweets-.*'`,
        { cause },
      )
    }
  }
  let parsed: unknown = options.assign
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed)
    } catch {
      parsed = undefined
    }
  }
  const partitions = new Map<string, number[]>()
  for (const [topic, list] of Object.entries(parsed !== null && typeof parsed === 'object' ? parsed : {})) {
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.some((p) => !Number.isSafeInteger(p) || (p as number) < 0)
    ) {
      throw new ConfigError(
        `${connector}: assign for topic '${topic}' must list partition numbers, e.g. {"${topic}": [0, 1]}`,
      )
    }
    partitions.set(topic, [...new Set(list as number[])])
  }
  if (partitions.size === 0) {
    throw new ConfigError(
      `${connector}: assign ${JSON.stringify(options.assign)} must map topics to partitions, e.g. {"tweets": [0, 1]}`,
    )
  }
  return { kind: 'assign', partitions }
}

function describeSubscription(subscription: Subscription): string {
  switch (subscription.kind) {
    case 'subscribe':
      return `Subscribe[${subscription.topics.join(',')}]`
    case 'pattern':
      return `SubscribePattern[${subscription.pattern.source}]`
    case 'assign':
      return `Assign[${[...subscription.partitions].map(([t, ps]) => ps.map((p) => `${t}-${p}`).join(',')).join(',')}]`
  }
}
