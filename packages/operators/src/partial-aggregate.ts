import {
  ConfigError,
  defineOperator,
  type Key,
  type Output,
  type StreamRecord,
  type TransformSpec,
  type Window,
  type WindowAssigner,
} from '@weir/core'
import type { Aggregator } from './aggregators.js'

/**
 * A partial aggregate as it travels to the final one: a key, the accumulator of some of its values, and
 * how many records went into it (so that a late partial counts as that many dropped rows).
 */
export type Partial<A> = readonly [key: Key, acc: A, rows: number]

export interface PartialAggregateOptions<V, A> {
  /** The key the final aggregate groups by: the same function as the `keyBy` it replaces. */
  readonly key: (value: V) => Key
  /** The aggregator of the final aggregate; it must have `merge`. */
  readonly aggregator: Aggregator<V, A, unknown>
  /**
   * The windows of the final aggregate, tumbling or sliding, whose slices `windowAssign` set on the
   * records upstream: accumulators are then kept per slice and key, and flushed at every watermark and
   * Idle too. Session windows cannot be aggregated in two phases.
   */
  readonly windows?: WindowAssigner
  /** Flush early once this many accumulators are held (bounds memory between flushes). Default 100,000. */
  readonly maxKeys?: number
}

interface Held<A> {
  acc: A
  rows: number
  /** The latest event time of the records folded in, or null when none had one. */
  time: number | null
}

/** The accumulators of one slice (or, without windows, of all records): `start` NaN for no slice. */
interface Unit<A> {
  readonly start: number
  readonly window: Window | undefined
  readonly held: Map<Key, Held<A>>
}

/**
 * The map side of a two-phase aggregation (Spark's partial `HashAggregate` before the exchange, Flink's
 * local-global aggregation): folds the records of each key (and slice, with windows) into one
 * accumulator, and emits one `[key, acc, rows]` per key later. Put it before `keyBy(([key]) => key)` and
 * a `keyedAggregate` with `input: 'partials'` (and the same `windows`), which merges the accumulators
 * instead of adding values: far fewer records cross the exchange (a batch of words has far fewer distinct
 * words), and the result rows are the same.
 *
 * - **State**: none across a barrier. It flushes at every barrier and at End (and once `maxKeys` are
 *   held), before the barrier goes on, so it adds nothing to snapshots, and a checkpoint taken with or
 *   without it restores either way.
 * - **Watermarks**: with `windows` it also flushes before every watermark and Idle, so the final
 *   aggregate sees each record before the same watermark as without it, and decides lateness per partial
 *   as it would per record (a late partial counts as `rows` dropped rows). Without windows nothing is
 *   ever late, so it holds its keys across watermarks until the barrier.
 * - **Timestamps**: a partial carries the latest event time of its records; with windows, the slice.
 *
 * @example
 * ```ts
 * words
 *   .via(partialAggregate('partial-counts', { key: (word: string) => word, aggregator: count() }))
 *   .keyBy(([word]) => word)
 *   .via(keyedAggregate('counts', { aggregator: count(), outputMode: 'update', input: 'partials' }))
 * ```
 */
export function partialAggregate<V, A>(
  id: string,
  options: PartialAggregateOptions<V, A>,
): TransformSpec<V, Partial<A>> {
  const { key, aggregator, windows } = options
  const maxKeys = options.maxKeys ?? 100_000
  if (typeof key !== 'function')
    throw new ConfigError(`partial aggregate '${id}': key is not a function: write e.g. key: (word) => word`)
  if (typeof aggregator?.merge !== 'function') {
    throw new ConfigError(
      `partial aggregate '${id}': aggregator '${String(aggregator?.name)}' has no merge(a, b), so partial accumulators cannot be combined: ` +
        `use count(), sum, min, max, avg or combine of those, or aggregate in one phase`,
    )
  }
  if (windows?.kind === 'session') {
    throw new ConfigError(
      `partial aggregate '${id}': session windows cannot be aggregated in two phases (a session is known only once its records meet): ` +
        `aggregate them in one phase`,
    )
  }
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
    throw new ConfigError(
      `partial aggregate '${id}': maxKeys ${maxKeys} must be a whole number >= 1, e.g. 100000`,
    )
  return defineOperator<V, Partial<A>>({
    id,
    name: 'partial-aggregate',
    freshRecords: true,
    build(ctx) {
      const units = new Map<number, Unit<A>>()
      let last: Unit<A> | undefined
      let size = 0

      function unitOf(record: StreamRecord<V>): Unit<A> {
        if (windows === undefined && last !== undefined) return last
        const t = record.timestamp
        const window =
          windows === undefined ? undefined : (record.window ?? (t === null ? undefined : windows.sliceOf(t)))
        const start = window === undefined ? NaN : window.start
        // Consecutive records mostly share a slice.
        if (last !== undefined && Object.is(last.start, start)) return last
        let unit = units.get(start)
        if (unit === undefined) units.set(start, (unit = { start, window, held: new Map() }))
        return (last = unit)
      }

      function flush(out: Output<Partial<A>>): void {
        if (size === 0) return
        const records = new Array<StreamRecord<Partial<A>>>(size)
        let i = 0
        for (const unit of units.values()) {
          for (const [k, { acc, rows, time }] of unit.held)
            records[i++] = { value: [k, acc, rows], timestamp: time, key: undefined, window: unit.window }
        }
        units.clear()
        last = undefined
        size = 0
        ctx.counters.add('numPartialsEmitted', records.length)
        out.emit(records)
      }

      return {
        onData(records, out) {
          for (let i = 0; i < records.length; i++) {
            const record = records[i]
            const value = record.value
            let k = key(value)
            if (k === undefined) k = null
            const held = unitOf(record).held
            const sofar = held.get(k)
            const t = record.timestamp
            if (sofar === undefined) {
              held.set(k, { acc: aggregator.add(aggregator.init(), value), rows: 1, time: t })
              size++
            } else {
              sofar.acc = aggregator.add(sofar.acc, value)
              sofar.rows++
              if (t !== null && (sofar.time === null || t > sofar.time)) sofar.time = t
            }
          }
          if (size >= maxKeys) flush(out)
        },
        onWatermark(_time, out) {
          if (windows !== undefined) flush(out)
        },
        onIdle(out) {
          if (windows !== undefined) flush(out)
        },
        onBarrier(_barrier, out) {
          flush(out)
        },
        onEnd(out) {
          flush(out)
        },
      }
    },
  })
}
