import { instanceForKeyGroup, keyGroupOf } from '@weir/core'

/**
 * What goes through a repartition topic, as the messages of each Kafka record (see `encodeRecord`):
 *
 * - a data record of writer `w` (an upstream task: one input partition), number `s` in that writer's
 *   deterministic sequence (so a replayed record can be recognised and dropped), event time `t`, key `k`
 *   and the row `v`; it is written to the one partition of its key group;
 * - a control record: writer `w`'s watermark `wm`, written to every partition (Kafka Streams-like).
 */
export type RepartitionMessage =
  | {
      readonly k: 'd'
      readonly w: string
      readonly s: number
      readonly t: number
      readonly key: string
      readonly v: unknown
    }
  | { readonly k: 'w'; readonly w: string; readonly wm: number }

/** A row the repartition sink writes: data for one partition, or a writer's watermark for every partition. */
export type RepartitionRow =
  | {
      readonly kind: 'data'
      readonly writer: string
      readonly seq: number
      readonly t: number
      readonly key: string
      readonly value: unknown
    }
  | { readonly kind: 'watermark'; readonly writer: string; readonly watermark: number }

/**
 * The repartition-topic partition of a key: its key group mapped onto the partitions as key groups map
 * onto instances (contiguous ranges), so a key group always lands in one partition and a partition's
 * key groups are `keyGroupRange(partition, partitions, maxParallelism)`.
 *
 * @example
 * ```ts
 * partitionOfKey('1764000000000', 128, 4)  // 0..3, the same in every process
 * ```
 */
export function partitionOfKey(key: string, maxParallelism: number, partitions: number): number {
  return instanceForKeyGroup(keyGroupOf(key, maxParallelism), maxParallelism, partitions)
}

/**
 * The value of one Kafka record of a repartition topic: a JSON array of messages, in order (one record
 * carries everything a write has for its partition: a send of a few large records costs a fraction of
 * one record per row). JSON has no ±Infinity: a watermark travels as a number or as the text
 * `-Infinity`/`Infinity`.
 */
export function encodeRecord(messages: readonly RepartitionMessage[]): string {
  return JSON.stringify(messages, (_, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  )
}

/**
 * The messages of a repartition record's text, each one or the reason it is not one (the reader
 * dead-letters those); a record that is not JSON at all is one reason. A single message, not in an
 * array, is read as an array of one.
 */
export function decodeRecord(text: string): (RepartitionMessage | string)[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return ['not JSON']
  }
  return (Array.isArray(parsed) ? (parsed as unknown[]) : [parsed]).map(checkMessage)
}

/** The message `value` is, or why it is not one. */
function checkMessage(value: unknown): RepartitionMessage | string {
  if (value === null || typeof value !== 'object') return 'not a repartition message'
  const m = value as { k?: unknown; w?: unknown; wm?: unknown; s?: unknown; t?: unknown; key?: unknown }
  if (typeof m.w !== 'string') return 'no writer (w)'
  if (m.k === 'w') {
    const wm = Number(m.wm)
    if (Number.isNaN(wm)) return `watermark ${JSON.stringify(m.wm)} is not a number`
    return { k: 'w', w: m.w, wm }
  }
  if (m.k === 'd') {
    if (!Number.isSafeInteger(m.s)) return `sequence number ${JSON.stringify(m.s)} is not a whole number`
    if (typeof m.t !== 'number' || !Number.isFinite(m.t))
      return `event time ${JSON.stringify(m.t)} is not a number`
    if (typeof m.key !== 'string') return 'no key'
    return m as RepartitionMessage
  }
  return `kind ${JSON.stringify(m.k)} is neither 'd' (data) nor 'w' (watermark)`
}
