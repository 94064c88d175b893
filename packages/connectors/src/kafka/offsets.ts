import { ConfigError } from '@weir/core'
import { splitOf, type TopicPartition } from './partitions.js'

/** Spark's special offsets in a per-partition JSON: -2 is the earliest, -1 the latest. */
export const EARLIEST = -2
export const LATEST = -1

/**
 * Where reading starts or ends, in Spark's forms: `'earliest'`, `'latest'`, or per partition as JSON
 * text or an object, `{"topicA": {"0": 23, "1": -2}, "topicB": {"0": -1}}`.
 */
export type OffsetsOption = string | Readonly<Record<string, Readonly<Record<string, number>>>>

export type OffsetSpec =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  /** Per split id; partitions left out take `otherwise`. */
  | { readonly kind: 'partitions'; readonly offsets: ReadonlyMap<string, number>; readonly otherwise: number }

/** The log of one partition holds offsets `[low, high)`. */
export interface LogRange {
  readonly low: number
  readonly high: number
}

export function parseOffsets(
  connector: string,
  name: 'startingOffsets' | 'endingOffsets',
  value: OffsetsOption,
): OffsetSpec {
  if (value === 'latest') return { kind: 'latest' }
  if (value === 'earliest') {
    if (name === 'endingOffsets')
      throw new ConfigError(
        `${connector}: endingOffsets cannot be 'earliest': use 'latest' or offsets per partition`,
      )
    return { kind: 'earliest' }
  }
  let parsed: unknown = value
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value)
    } catch {
      parsed = undefined
    }
  }
  const example = `'earliest', 'latest' or per partition, e.g. {"tweets": {"0": 42, "1": -2}} (-2: earliest, -1: latest)`
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${connector}: ${name} ${JSON.stringify(value)} is not ${example}`)
  }
  const offsets = new Map<string, number>()
  for (const [topic, partitions] of Object.entries(parsed)) {
    if (partitions === null || typeof partitions !== 'object' || Array.isArray(partitions)) {
      throw new ConfigError(
        `${connector}: ${name} for topic '${topic}' must map partitions to offsets: ${example}`,
      )
    }
    for (const [partition, offset] of Object.entries(partitions as object)) {
      const bad = !/^\d+$/.test(partition) || !Number.isSafeInteger(offset) || (offset as number) < EARLIEST
      if (bad || (name === 'endingOffsets' && offset === EARLIEST)) {
        throw new ConfigError(
          `${connector}: ${name} ${topic}/${partition}: ${JSON.stringify(offset)} is not an offset >= 0 or -1 (latest)${name === 'startingOffsets' ? ' or -2 (earliest)' : ''}`,
        )
      }
      offsets.set(splitOf({ topic, partition: Number(partition) }), offset as number)
    }
  }
  // Spark starts a partition that the JSON leaves out (a new one) at the earliest; an end left out is the latest.
  return { kind: 'partitions', offsets, otherwise: name === 'startingOffsets' ? EARLIEST : LATEST }
}

/** The concrete offset a spec names for one partition, given its log range. */
export function resolveOffset(spec: OffsetSpec, tp: TopicPartition, range: LogRange): number {
  const offset =
    spec.kind === 'earliest'
      ? EARLIEST
      : spec.kind === 'latest'
        ? LATEST
        : (spec.offsets.get(splitOf(tp)) ?? spec.otherwise)
  return offset === EARLIEST ? range.low : offset === LATEST ? range.high : offset
}
