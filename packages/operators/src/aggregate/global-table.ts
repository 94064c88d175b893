import type { Key, StreamRecord } from '@weir/core'
import type { Aggregator } from '../aggregators.js'
import {
  ADDED,
  entriesOf,
  keyOf,
  KeyGroupWriter,
  row,
  type AddOutcome,
  type AggregateRow,
  type AggregateTable,
  type TableOptions,
} from './table.js'

type Entry<A> = [key: Key, acc: A]

/**
 * The state of an aggregation without windows: one accumulator per key (all keyless records share the
 * key `null`). Event time plays no part: nothing is late, nothing closes, and state is never purged,
 * as in Spark, so only `update` and `complete` output make sense.
 *
 * @example
 * ```ts
 * const table = new GlobalTable({ aggregator: count(), outputMode: 'update', allowedLateness: 0, watermark: -Infinity })
 * table.add({ value: 'x', timestamp: null, key: 'a', window: undefined })
 * table.flush()  // [{ key: 'a', window: undefined, value: 1 }]
 * ```
 */
export class GlobalTable<V, A, R> implements AggregateTable<V, R> {
  private readonly accs = new Map<Key, A>()
  /** Keys changed since the last flush; tracked in update mode only. */
  private readonly changed: Set<Key> | undefined
  private readonly aggregator: Aggregator<V, A, R>
  watermark: number

  constructor(options: TableOptions<V, A, R>) {
    this.aggregator = options.aggregator
    this.changed = options.outputMode === 'update' ? new Set() : undefined
    this.watermark = options.watermark
  }

  get size(): number {
    return this.accs.size
  }

  add(record: StreamRecord<V>): AddOutcome {
    const key = keyOf(record)
    const acc = this.accs.get(key)
    this.accs.set(key, this.aggregator.add(acc === undefined ? this.aggregator.init() : acc, record.value))
    this.changed?.add(key)
    return ADDED
  }

  advance(watermark: number): void {
    if (watermark > this.watermark) this.watermark = watermark
  }

  flush(): AggregateRow<R>[] {
    const rows: AggregateRow<R>[] = []
    const aggregator = this.aggregator
    if (this.changed === undefined) {
      for (const [key, acc] of this.accs) rows.push(row(key, undefined, aggregator.result(acc)))
    } else {
      for (const key of this.changed) rows.push(row(key, undefined, aggregator.result(this.accs.get(key)!)))
      this.changed.clear()
    }
    return rows
  }

  snapshot(maxParallelism: number): Map<number, unknown> {
    const writer = new KeyGroupWriter<Entry<A>>('global', maxParallelism)
    for (const [key, acc] of this.accs) writer.push(key, [key, acc])
    return writer.finish()
  }

  load(keyGroupState: unknown): void {
    for (const [key, acc] of entriesOf<Entry<A>>(keyGroupState, 'global')) this.accs.set(key, acc)
  }
}
