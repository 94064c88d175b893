import {
  DEFAULT_MAX_PARALLELISM,
  messageOf,
  WeirError,
  type Sink,
  type SinkWriter,
  type SinkWriterContext,
} from '@weir/core'
import type { Message } from 'kafkajs'
import { openConnection, type KafkaConnection, type KafkaConnectionOptions } from '../connection.js'
import type { KafkaProducer } from '../client.js'
import {
  encodeRecord,
  partitionOfKey,
  toMessage,
  type RepartitionMessage,
  type RepartitionRow,
} from './repartition-record.js'

export interface RepartitionSinkOptions extends KafkaConnectionOptions {
  readonly topic: string
  /** Key groups of the downstream keyed operator (default 128): they are spread over the topic's partitions. */
  readonly maxParallelism?: number
}

/** Messages per Kafka record at most, so that a record stays far below a broker's size limit. */
const MESSAGES_PER_RECORD = 500
/** Bytes of a Kafka record (its encoded value) at most. */
const RECORD_BYTES = 128 * 1024
/** Bytes of one send at most (a broker refuses a batch over 1 MB by default). */
const SEND_BYTES = 256 * 1024

/**
 * Writes `repartitionRows` output to a repartition topic: a data row to the partition of its key
 * group (`partitionOfKey`), a watermark row to every partition; what a write has for a partition goes
 * as one Kafka record (an array of messages, up to 500; see `encodeRecord`). Sends go one at a time, so each
 * writer's records reach each partition in order (the reader's duplicate check relies on it; the
 * mock cluster has no idempotent producer). `write` resolves once Kafka acknowledged, so an epoch's
 * barrier comes after its rows are in the topic and the input offsets are committed only then.
 *
 * @example
 * ```ts
 * rows.to(defineSink('repartition', repartitionSink({ brokers, topic: 'q1-aggregate-repartition' })))
 * ```
 */
export function repartitionSink(
  options: RepartitionSinkOptions,
): Sink<RepartitionRow> & { readonly description: string } {
  const connection = openConnection('repartitionSink', options)
  return {
    name: 'kafka-repartition',
    description: `RepartitionSink[${options.topic}]`,
    createWriter: (context) => RepartitionWriter.create(connection, options, context),
  }
}

class RepartitionWriter implements SinkWriter<RepartitionRow> {
  private constructor(
    private readonly producer: KafkaProducer,
    private readonly topic: string,
    private readonly partitions: number,
    private readonly maxParallelism: number,
    private readonly label: string,
  ) {}

  static async create(
    connection: KafkaConnection,
    options: RepartitionSinkOptions,
    context: SinkWriterContext,
  ): Promise<RepartitionWriter> {
    const label = `repartition sink '${context.sinkId}' #${context.instance} (topic '${options.topic}')`
    const admin = connection.client.admin()
    const producer = connection.client.producer({
      allowAutoTopicCreation: true,
      idempotent: false,
      maxInFlightRequests: 1,
    })
    try {
      await admin.connect()
      // Naming the topic creates it where brokers auto-create topics (the mock cannot createTopics).
      const { topics } = await admin.fetchTopicMetadata({ topics: [options.topic] })
      const partitions = topics[0]?.partitions.length ?? 0
      if (partitions === 0) throw new Error(`topic '${options.topic}' has no partitions`)
      await producer.connect()
      return new RepartitionWriter(
        producer,
        options.topic,
        partitions,
        options.maxParallelism ?? DEFAULT_MAX_PARALLELISM,
        label,
      )
    } catch (cause) {
      throw new WeirError('sink-failed', `${label}: could not start: ${messageOf(cause)}`, {
        cause,
        retriable: true,
      })
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }

  async write(rows: readonly RepartitionRow[]): Promise<void> {
    const byPartition = new Map<number, RepartitionMessage[]>()
    const add = (partition: number, message: RepartitionMessage) => {
      const list = byPartition.get(partition)
      if (list) list.push(message)
      else byPartition.set(partition, [message])
    }
    // Only a writer's last watermark of the call matters, and it must follow that writer's data.
    const last = new Map<string, number>()
    for (const row of rows)
      if (row.kind === 'watermark')
        last.set(row.writer, Math.max(last.get(row.writer) ?? -Infinity, row.watermark))
    for (const row of rows)
      if (row.kind === 'data')
        add(partitionOfKey(row.key, this.maxParallelism, this.partitions), toMessage(row))
    for (const [writer, watermark] of last) {
      const message = toMessage({ kind: 'watermark', writer, watermark })
      for (let p = 0; p < this.partitions; p++) add(p, message)
    }
    // Sends of at most SEND_BYTES, one after the other: a broker refuses a batch over 1 MB by default.
    let messages: Message[] = []
    let bytes = 0
    for (const [partition, list] of byPartition) {
      for (let i = 0; i < list.length;) {
        // A record of up to 500 messages, fewer when they are large.
        let size = Math.min(MESSAGES_PER_RECORD, list.length - i)
        let value = encodeRecord(list.slice(i, i + size))
        while (value.length > RECORD_BYTES && size > 1) {
          size = Math.ceil(size / 2)
          value = encodeRecord(list.slice(i, i + size))
        }
        i += size
        if (bytes + value.length > SEND_BYTES && messages.length > 0) {
          await this.send(messages)
          messages = []
          bytes = 0
        }
        messages.push({ partition, value })
        bytes += value.length
      }
    }
    if (messages.length > 0) await this.send(messages)
  }

  private async send(messages: Message[]): Promise<void> {
    try {
      await this.producer.send({ topic: this.topic, messages, acks: -1 })
    } catch (cause) {
      throw new WeirError(
        'sink-failed',
        `${this.label}: could not write ${messages.length} record(s): ${messageOf(cause)}`,
        { cause, retriable: true },
      )
    }
  }

  commit(): void {}

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined)
  }
}
