import { assertNever, instanceForKeyGroup, keyGroupOf, messageOf, type Key } from '@weir/core'
import { Packr } from 'msgpackr'

/**
 * What goes through a repartition topic, as the messages of each Kafka record (see `encodeRecord`):
 *
 * - a data message of writer `w` (an upstream task: one input partition), at place (`s`, `i`) in that
 *   writer's deterministic sequence: `s` the offset of the input record it came from, `i` its index
 *   among that record's outputs (so a replayed one can be recognised and dropped), with event time
 *   `t`, key `key` and the row `v`; it is written to the one partition of its key group;
 * - a control message: writer `w`'s watermark `wm`, written to every partition (Kafka Streams-like).
 */
export type RepartitionMessage =
  | {
      readonly k: 'd'
      readonly w: string
      readonly s: number
      readonly i: number
      readonly t: number | null
      readonly key: Key
      readonly v: unknown
    }
  | { readonly k: 'w'; readonly w: string; readonly wm: number }

/**
 * A row the repartition sink writes: data for one partition, or a writer's watermark for every
 * partition. `offset` is the offset of the input record the row came from and `index` its place among
 * that record's rows: the pair orders a writer's rows, the same on a replay.
 */
export type RepartitionRow =
  | {
      readonly kind: 'data'
      readonly writer: string
      readonly offset: number
      readonly index: number
      readonly t: number | null
      readonly key: Key
      readonly value: unknown
    }
  | { readonly kind: 'watermark'; readonly writer: string; readonly watermark: number }

/** The message that carries a row. */
export function toMessage(row: RepartitionRow): RepartitionMessage {
  switch (row.kind) {
    case 'data':
      return { k: 'd', w: row.writer, s: row.offset, i: row.index, t: row.t, key: row.key, v: row.value }
    case 'watermark':
      return { k: 'w', w: row.writer, wm: row.watermark }
    default:
      return assertNever(row)
  }
}

/**
 * The repartition-topic partition of a key: its key group mapped onto the partitions as key groups map
 * onto instances (contiguous ranges), so a key group always lands in one partition and a partition's
 * key groups are `keyGroupRange(partition, partitions, maxParallelism)`.
 *
 * @example
 * ```ts
 * partitionOfKey(1764000000000, 128, 4)  // 0..3, the same in every process
 * ```
 */
export function partitionOfKey(key: Key, maxParallelism: number, partitions: number): number {
  return instanceForKeyGroup(keyGroupOf(key, maxParallelism), maxParallelism, partitions)
}

// Plain MessagePack (no record structures): any msgpack reader can read a record, objects are maps.
// msgpackr's extensions only carry what MessagePack has no type for: undefined, and with moreTypes
// Sets, typed arrays and bigints beyond 64 bits (which `pack` would refuse).
const packr = new Packr({ useRecords: false, moreTypes: true })

/**
 * The value of one Kafka record of a repartition topic: its messages, in order, as one MessagePack
 * array (one record carries everything a write has for its partition: a send of a few large records
 * costs a fraction of one record per row). Rows keep their types across the hop: Dates (msgpack
 * timestamps), ±Infinity, NaN, bigints, undefined and nested objects and arrays come out as they went
 * in; a `Map` comes out as an object.
 *
 * @example
 * ```ts
 * const value = encodeRecord([{ k: 'd', w: 'tweets-0', s: 41, i: 2, t: 1764000000000, key: 1764000000000, v: { at: new Date() } }])
 * decodeRecord(value)  // the same message, `at` still a Date
 * ```
 */
export function encodeRecord(messages: readonly RepartitionMessage[]): Buffer {
  return packr.pack(messages)
}

/**
 * The messages of a repartition record, each one or the reason it is not one (the reader dead-letters
 * those); bytes that do not unpack are one reason. A single message, not in an array, is read as an
 * array of one.
 */
export function decodeRecord(bytes: Uint8Array): (RepartitionMessage | string)[] {
  let unpacked: unknown
  try {
    unpacked = packr.unpack(bytes)
  } catch (error) {
    // Version 1 of the topic was JSON text: say so, rather than only that it is not msgpack.
    const json = bytes[0] === 0x5b || bytes[0] === 0x7b ? '; JSON text, from a version 1 writer?' : ''
    return [`not msgpack (${messageOf(error)}${json})`]
  }
  return (Array.isArray(unpacked) ? (unpacked as unknown[]) : [unpacked]).map(checkMessage)
}

/** The message `value` is, or why it is not one. */
function checkMessage(value: unknown): RepartitionMessage | string {
  if (value === null || typeof value !== 'object') return 'not a repartition message'
  const m = value as {
    k?: unknown
    w?: unknown
    wm?: unknown
    s?: unknown
    i?: unknown
    t?: unknown
    key?: unknown
  }
  if (typeof m.w !== 'string') return 'no writer (w)'
  if (m.k === 'w') {
    if (typeof m.wm !== 'number' || Number.isNaN(m.wm)) return `watermark ${show(m.wm)} is not a number`
    return { k: 'w', w: m.w, wm: m.wm }
  }
  if (m.k === 'd') {
    if (!isPlace(m.s)) return `input offset (s) ${show(m.s)} is not a whole number >= 0`
    if (!isPlace(m.i)) return `index (i) ${show(m.i)} is not a whole number >= 0`
    if (m.t !== null && (typeof m.t !== 'number' || !Number.isFinite(m.t)))
      return `event time ${show(m.t)} is neither a number nor null`
    // An undefined key is a key (keyBy may return one), but a message without any is not whole.
    if (!('key' in m)) return 'no key'
    if (!isKey(m.key)) return `key ${show(m.key)} is not a string, number, boolean, bigint, null or undefined`
    return m as RepartitionMessage
  }
  return `kind ${show(m.k)} is neither 'd' (data) nor 'w' (watermark)`
}

const isPlace = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0

function isKey(key: unknown): key is Key {
  const type = typeof key
  return type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint' || key == null
}

/** A value in a reason: as JSON, but a Date, a bigint or undefined as what it is. */
function show(value: unknown): string {
  if (value instanceof Date) return `Date ${value.toJSON()}`
  if (typeof value === 'bigint') return `${value}n`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return typeof value
  }
}
