import { ConfigError, defineOperator, type Key, type StreamRecord, type TransformSpec } from '@weir/core'
import type { Aggregator } from './aggregators.js'

/** A partial aggregate as it travels to the final one: a key and the accumulator of some of its values. */
export type Partial<A> = readonly [key: Key, acc: A]

export interface PartialAggregateOptions<V, A> {
  /** The key the final aggregate groups by: the same function as the `keyBy` it replaces. */
  readonly key: (value: V) => Key
  /** The aggregator of the final aggregate; it must have `merge`. */
  readonly aggregator: Aggregator<V, A, unknown>
  /** Flush early once this many keys are held (bounds memory between barriers). Default 100,000. */
  readonly maxKeys?: number
}

/**
 * The map side of a two-phase aggregation without windows (Spark's partial `HashAggregate` before the
 * exchange, Flink's local-global aggregation): folds the records of each key into one accumulator between
 * two barriers, and at the barrier (or End, or once `maxKeys` keys are held) emits one `[key, acc]` per key.
 * Put it before `keyBy(([key]) => key)` and a `keyedAggregate` with `input: 'partials'`, which merges the
 * accumulators instead of adding values: far fewer records cross the exchange (a batch of words has far
 * fewer distinct words), and the result rows are the same.
 *
 * It is stateless at every barrier (it flushes first), so it adds nothing to snapshots. It holds records
 * across watermarks, which a keyed aggregate without windows ignores; with windows, lateness is decided per
 * record, so partial aggregation is refused there (see `keyedAggregate`'s `input`).
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
  const { key, aggregator } = options
  const maxKeys = options.maxKeys ?? 100_000
  if (typeof key !== 'function')
    throw new ConfigError(`partial aggregate '${id}': key is not a function: write e.g. key: (word) => word`)
  if (typeof aggregator?.merge !== 'function') {
    throw new ConfigError(
      `partial aggregate '${id}': aggregator '${String(aggregator?.name)}' has no merge(a, b), so partial accumulators cannot be combined: ` +
        `use count(), sum, min, max, avg or combine of those, or aggregate in one phase`,
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
      const accs = new Map<Key, A>()
      function flush(out: { emit(records: readonly StreamRecord<Partial<A>>[]): void }): void {
        if (accs.size === 0) return
        const records = new Array<StreamRecord<Partial<A>>>(accs.size)
        let i = 0
        for (const [k, acc] of accs)
          records[i++] = { value: [k, acc], timestamp: null, key: undefined, window: undefined }
        accs.clear()
        ctx.counters.add('numPartialsEmitted', records.length)
        out.emit(records)
      }
      return {
        onData(records, out) {
          for (let i = 0; i < records.length; i++) {
            const value = records[i].value
            let k = key(value)
            if (k === undefined) k = null
            const acc = accs.get(k)
            accs.set(k, aggregator.add(acc === undefined ? aggregator.init() : acc, value))
          }
          if (accs.size >= maxKeys) flush(out)
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
