import { instanceForKeyGroup, keyGroupOf } from '@weir/core'

/**
 * What goes through a repartition topic, as the value of each Kafka record (JSON):
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

/** JSON has no ±Infinity: a watermark travels as a number or as the text `-Infinity`/`Infinity`. */
export function encodeMessage(message: RepartitionMessage): string {
  return JSON.stringify(message, (_, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  )
}

export function decodeMessage(text: string): RepartitionMessage | undefined {
  try {
    const m = JSON.parse(text) as { k?: unknown; wm?: unknown }
    if (m.k === 'w') return { ...(m as RepartitionMessage & { k: 'w' }), wm: Number(m.wm) }
    if (m.k === 'd') return m as RepartitionMessage
  } catch {
    // Not ours: dropped by the reader, which counts it.
  }
  return undefined
}
