import { defineOperator, type StreamRecord, type TransformSpec } from '@weir/core'

/** One sort key: a value taken from the row, ascending unless `descending`. */
export interface SortKey<T> {
  readonly by: (row: T) => string | number | boolean | null | undefined
  readonly descending?: boolean
}

/**
 * Sorts each epoch's rows and keeps the first `limit`: `orderBy`/`limit` on a complete-mode result,
 * which is the whole table every epoch. Rows wait until the epoch's barrier, are sorted (stable; nulls
 * first ascending, last descending, as Spark), cut, emitted, and then the barrier passes. Run it with
 * parallelism 1 behind a `rebalance()`; it keeps nothing across epochs, so it has no state to snapshot.
 *
 * @example
 * ```ts
 * counts.rebalance().via(sortLimit('top', { orderBy: [{ by: (r) => r.value, descending: true }], limit: 20 }), { parallelism: 1 })
 * ```
 */
export function sortLimit<T>(id: string, options: { orderBy: readonly SortKey<T>[]; limit?: number }): TransformSpec<T, T> {
  const limit = options.limit ?? Infinity
  const compare = comparator(options.orderBy)
  return defineOperator<T, T>({
    id,
    name: 'sort-limit',
    build: () => {
      let rows: StreamRecord<T>[] = []
      return {
        onData(records) {
          for (const r of records) rows.push(r)
        },
        onBarrier(_barrier, out) {
          const sorted = rows.sort((a, b) => compare(a.value, b.value))
          rows = []
          out.emit(sorted.length > limit ? sorted.slice(0, limit) : sorted)
        },
      }
    },
  })
}

function comparator<T>(keys: readonly SortKey<T>[]): (a: T, b: T) => number {
  return (a, b) => {
    for (const key of keys) {
      const x = key.by(a)
      const y = key.by(b)
      if (x === y) continue
      const order = x == null ? -1 : y == null ? 1 : x < y ? -1 : x > y ? 1 : 0
      if (order !== 0) return key.descending ? -order : order
    }
    return 0
  }
}
