import { defineOperator, type StreamRecord, type TransformSpec } from '@weir/core'

/**
 * One sort key: a value taken from the row, ascending unless `descending`. Dates sort by time, and a
 * window (`{ start, end }`) by its start then end, as Spark sorts a window struct.
 */
export interface SortKey<T> {
  readonly by: (row: T) => unknown
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
export function sortLimit<T>(
  id: string,
  options: { orderBy: readonly SortKey<T>[]; limit?: number },
): TransformSpec<T, T> {
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
      const order = compareValues(key.by(a), key.by(b))
      if (order !== 0) return key.descending ? -order : order
    }
    return 0
  }
}

/** Nulls first; strings by code point; Dates by time; windows (`{ start, end }`) by start, then end; the rest by `<`. */
function compareValues(x: unknown, y: unknown): number {
  if (x === y) return 0
  if (x == null) return y == null ? 0 : -1
  if (y == null) return 1
  if (typeof x === 'string' && typeof y === 'string') return compareStrings(x, y)
  if (x instanceof Date && y instanceof Date) return x.getTime() - y.getTime()
  if (isWindow(x) && isWindow(y)) return compareValues(x.start, y.start) || compareValues(x.end, y.end)
  return (x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : 0
}

/**
 * Spark's string order: by UTF-8 bytes, which is code point order. `<` compares UTF-16 code units, which
 * puts a character above U+FFFF (a surrogate pair, D800–DFFF) before U+E000–U+FFFF: '😀' < '！'.
 */
function compareStrings(x: string, y: string): number {
  const n = Math.min(x.length, y.length)
  for (let i = 0; i < n; i++) {
    const a = x.charCodeAt(i)
    const b = y.charCodeAt(i)
    if (a !== b) return codePointRank(a) - codePointRank(b)
  }
  return x.length - y.length
}

/** A code unit's place in code point order: surrogates move past U+E000–U+FFFF. */
function codePointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit
}

function isWindow(value: unknown): value is { start: unknown; end: unknown } {
  return typeof value === 'object' && value !== null && 'start' in value && 'end' in value
}
