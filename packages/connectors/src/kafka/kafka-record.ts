import type { KafkaMessageLike } from './client.js'

/** One header of a Kafka record; a key may repeat. */
export interface KafkaHeader {
  readonly key: string
  readonly value: Buffer | null
}

/**
 * A record as the Kafka source emits it, raw, as Spark's Kafka source does: decoding the key and the
 * value (a JSON parser, `toString()`) is the query's business, so a record that is not JSON or not
 * UTF-8 reaches the query's parse step instead of stopping the partition.
 *
 * @example
 * ```ts
 * readStream(kafkaSource({ brokers, subscribe: ['tweets'] }))
 *   .decode('parse', (r) => tweets.decode(r.value ?? ''))
 * ```
 */
export interface KafkaRecord {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** The record's timestamp (CreateTime, or LogAppendTime if the topic says so), ms since the epoch. */
  readonly timestamp: number
  /** In the order they were written; present only with `includeHeaders: true`. */
  readonly headers?: readonly KafkaHeader[]
}

export function toKafkaRecord(
  topic: string,
  partition: number,
  message: KafkaMessageLike,
  includeHeaders: boolean,
): KafkaRecord {
  const record = {
    key: message.key,
    value: message.value,
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
  }
  if (!includeHeaders) return record
  const headers: KafkaHeader[] = []
  for (const [key, value] of Object.entries(message.headers ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) {
      headers.push({
        key,
        value: one === undefined || one === null ? null : Buffer.isBuffer(one) ? one : Buffer.from(one),
      })
    }
  }
  return { ...record, headers }
}

/** What a record weighs in the hand-off: its key, value and headers. */
export function sizeOf(record: KafkaRecord): number {
  let size = (record.key?.length ?? 0) + (record.value?.length ?? 0) + 64
  for (const header of record.headers ?? []) size += header.key.length + (header.value?.length ?? 0)
  return size
}
