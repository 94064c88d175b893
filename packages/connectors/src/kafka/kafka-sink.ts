import {
  ConfigError,
  messageOf,
  preview,
  WeirError,
  type Sink,
  type SinkWriter,
  type SinkWriterContext,
} from '@weir/core'
import { CompressionTypes, type IHeaders, type Message } from 'kafkajs'
import { checkOptionNames, checkWholeNumber } from '../internal/options.js'
import type { KafkaProducer } from './client.js'
import {
  CONNECTION_OPTIONS,
  openConnection,
  type KafkaConnection,
  type KafkaConnectionOptions,
} from './connection.js'

/** Header of every record the sink writes: the streaming query's id (`SinkWriterContext.queryId`). */
export const QUERY_ID_HEADER = 'weir-query-id'
/** Header of every record the sink writes: the epoch it belongs to. With the query id, consumers can drop a replayed epoch. */
export const EPOCH_HEADER = 'weir-epoch'

export interface KafkaSinkOptions<T> extends KafkaConnectionOptions {
  readonly topic: string
  /** The record's key (partitions by it): default none. */
  readonly key?: (row: T) => string | Buffer | null
  /** The record's value: default the row as JSON. */
  readonly value?: (row: T) => string | Buffer
  /** Headers from the row, beside `weir-query-id` and `weir-epoch`. */
  readonly headers?: (row: T) => Readonly<Record<string, string | Buffer | readonly (string | Buffer)[]>>
  /** An explicit partition from the row: default by key (murmur2, as Java clients), or spread when there is none. */
  readonly partition?: (row: T) => number
  /** Acknowledgements: `'all'`/-1 (default), 1 (the leader), 0 (none). */
  readonly acks?: 'all' | -1 | 0 | 1
  /** Default `'none'`. */
  readonly compression?: 'none' | 'gzip'
  /** How often the producer retries a failed send. Default 5. */
  readonly retries?: number
  /** Rows per send. Default 500. */
  readonly batchRows?: number
  /** Sends under way per writer before `write` waits. Default 4. */
  readonly maxInFlight?: number
  /** ms the broker may take to gather the acks. Default 30 s. */
  readonly timeout?: number
}

const SINK_OPTIONS = [
  ...CONNECTION_OPTIONS,
  'topic',
  'key',
  'value',
  'headers',
  'partition',
  'acks',
  'compression',
  'retries',
  'batchRows',
  'maxInFlight',
  'timeout',
]

/**
 * Writes rows to a Kafka topic: key, value, headers and partition from the row, sent in batches of
 * `batchRows` with up to `maxInFlight` sends under way; `commit(epoch)` waits until every send of the
 * epoch is acknowledged. Every record carries `weir-query-id` and `weir-epoch` headers, so a consumer
 * can drop the records of an epoch written twice (a restore replays the epochs after the last
 * checkpoint: at-least-once, as Spark's Kafka sink). A send that fails after the producer's retries
 * fails the query, with an error naming the topic: never a silent loss.
 *
 * Not done: a transactional mode (Kafka transactions committed with the epoch); kafkajs has them, but
 * the mock cluster the tests run on cannot prove them.
 *
 * @example
 * ```ts
 * counts.writeStream({ sink: kafkaSink({ brokers: ['localhost:9092'], topic: 'counts', key: (r) => r.word }), outputMode: 'update' }).start()
 * ```
 */
export function kafkaSink<T>(options: KafkaSinkOptions<T>): Sink<T> & { readonly description: string } {
  const connector = 'kafkaSink'
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(
      `${connector} takes options, e.g. kafkaSink({ brokers: ['localhost:9092'], topic: 'out' })`,
    )
  }
  checkOptionNames(connector, options, SINK_OPTIONS)
  if (typeof options.topic !== 'string' || !/^[A-Za-z0-9._-]+$/.test(options.topic)) {
    throw new ConfigError(
      `${connector}: topic ${JSON.stringify(options.topic)} must be a topic name (letters, digits, '.', '_', '-'), e.g. 'counts'`,
    )
  }
  for (const name of ['key', 'value', 'headers', 'partition'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new ConfigError(
        `${connector}: ${name} must be a function of the row, e.g. ${name}: (row) => row.word`,
      )
    }
  }
  const acks = options.acks === 'all' || options.acks === undefined ? -1 : options.acks
  if (![-1, 0, 1].includes(acks))
    throw new ConfigError(`${connector}: acks ${JSON.stringify(options.acks)} must be 'all', -1, 0 or 1`)
  const compression = options.compression ?? 'none'
  if (compression !== 'none' && compression !== 'gzip') {
    throw new ConfigError(`${connector}: compression ${JSON.stringify(compression)} must be 'none' or 'gzip'`)
  }
  const retries = options.retries ?? 5
  checkWholeNumber(connector, 'retries', retries, 0, 5)
  const batchRows = options.batchRows ?? 500
  checkWholeNumber(connector, 'batchRows', batchRows, 1, 500)
  const maxInFlight = options.maxInFlight ?? 4
  checkWholeNumber(connector, 'maxInFlight', maxInFlight, 1, 4)
  const timeout = options.timeout ?? 30_000
  checkWholeNumber(connector, 'timeout', timeout, 1, 30000)
  const connection = openConnection(connector, options)
  const settings: WriterSettings<T> = {
    ...options,
    connection,
    acks,
    compression,
    retries,
    batchRows,
    maxInFlight,
    timeout,
  }
  return {
    name: 'kafka',
    description: `KafkaSink[${options.topic}]`,
    createWriter: (context: SinkWriterContext) => KafkaSinkWriter.create(settings, context),
  }
}

interface WriterSettings<T> extends Omit<KafkaSinkOptions<T>, 'acks'> {
  readonly connection: KafkaConnection
  readonly acks: number
  readonly compression: 'none' | 'gzip'
  readonly retries: number
  readonly batchRows: number
  readonly maxInFlight: number
  readonly timeout: number
}

class KafkaSinkWriter<T> implements SinkWriter<T> {
  private buffer: Message[] = []
  private readonly inFlight = new Set<Promise<void>>()
  private failure: WeirError | undefined
  private readonly label: string

  private constructor(
    private readonly settings: WriterSettings<T>,
    private readonly context: SinkWriterContext,
    private readonly producer: KafkaProducer,
  ) {
    this.label = `kafka sink '${context.sinkId}' #${context.instance} (topic '${settings.topic}' on ${settings.connection.brokers})`
  }

  static async create<T>(
    settings: WriterSettings<T>,
    context: SinkWriterContext,
  ): Promise<KafkaSinkWriter<T>> {
    const producer = settings.connection.client.producer({
      allowAutoTopicCreation: true,
      idempotent: false,
      retry: { retries: settings.retries },
    })
    const writer = new KafkaSinkWriter(settings, context, producer)
    try {
      await producer.connect()
    } catch (cause) {
      throw writer.failed('could not connect', cause)
    }
    return writer
  }

  async write(rows: readonly T[], epoch: number): Promise<void> {
    this.check()
    for (const row of rows) this.buffer.push(this.message(row, epoch))
    while (this.buffer.length >= this.settings.batchRows)
      await this.send(this.buffer.splice(0, this.settings.batchRows))
  }

  /**
   * Epoch `epoch` is whole: send what is buffered and wait for every send's acknowledgement, before the
   * epoch's checkpoint is taken, so a crash after the checkpoint cannot lose rows of the epoch.
   */
  async prepare(_epoch: number): Promise<void> {
    await this.flush()
  }

  /**
   * Nothing left to do: without transactions, records are visible once acknowledged (at prepare). A
   * crash between prepare and the checkpoint replays the epoch: at-least-once, with the `weir-epoch` and
   * `weir-query-id` headers for consumers that drop duplicates.
   */
  commit(_epoch: number): void {
    this.check()
  }

  async close(): Promise<void> {
    try {
      await this.flush()
    } finally {
      await this.producer.disconnect().catch(() => undefined)
    }
  }

  private async flush(): Promise<void> {
    if (this.buffer.length > 0) await this.send(this.buffer.splice(0))
    await Promise.all(this.inFlight)
    this.check()
  }

  /** Starts a send; waits first while `maxInFlight` sends are under way. */
  private async send(messages: Message[]): Promise<void> {
    while (this.inFlight.size >= this.settings.maxInFlight) await Promise.race(this.inFlight)
    this.check()
    const { topic, acks, timeout, compression } = this.settings
    const sending = this.producer
      .send({
        topic,
        messages,
        acks,
        timeout,
        compression: compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      })
      .then(
        () => undefined,
        (cause: unknown) => {
          this.die(this.failed(`could not write ${messages.length} record(s)`, cause))
        },
      )
      .finally(() => this.inFlight.delete(sending))
    this.inFlight.add(sending)
  }

  private message(row: T, epoch: number): Message {
    const { key, value, headers, partition } = this.settings
    try {
      const message: Message = { value: value ? value(row) : JSON.stringify(row) }
      if (key) message.key = key(row)
      if (partition) message.partition = partition(row)
      const all: IHeaders = headers ? { ...(headers(row) as IHeaders) } : {}
      if (this.context.queryId !== undefined) all[QUERY_ID_HEADER] = this.context.queryId
      all[EPOCH_HEADER] = String(epoch)
      message.headers = all
      return message
    } catch (cause) {
      throw this.die(
        new WeirError(
          'sink-failed',
          `${this.label}: the record's key, value, headers or partition function threw on row ${preview(row)}: ${messageOf(cause)}`,
          {
            cause,
          },
        ),
      )
    }
  }

  /**
   * The writer is done for: every later call fails the same way, and the producer lets its connections
   * go now, since a failed query does not close its writers.
   */
  private die(error: WeirError): WeirError {
    if (!this.failure) {
      this.failure = error
      void this.producer.disconnect().catch(() => undefined)
    }
    return this.failure
  }

  private check(): void {
    if (this.failure) throw this.failure
  }

  private failed(what: string, cause: unknown): WeirError {
    return new WeirError(
      'sink-failed',
      `${this.label}: ${what}: ${messageOf(cause)}. The epoch is not committed; the query stops here`,
      {
        cause,
        retriable: true,
      },
    )
  }
}
