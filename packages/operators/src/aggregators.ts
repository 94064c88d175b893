import { ConfigError } from '@weir/core'

/**
 * How a keyed aggregate folds values into one result per key (and window): Spark's `count()`, `sum(x)`,
 * `.agg(...)`, or your own. An aggregator is pure data handling, and its accumulator is plain data, since
 * it goes into snapshots as it is:
 *
 * - `init()` returns an empty accumulator (never `undefined`);
 * - `add(acc, value)` returns a **new** accumulator and never mutates `acc` (snapshots share accumulators
 *   with live state instead of copying them);
 * - `merge(a, b)`, when present, combines two accumulators of disjoint inputs (`a` the earlier). With it,
 *   sliding windows keep one accumulator per slice instead of one per window, and session windows can merge;
 * - accumulators must be msgpack-encodable: numbers, strings, booleans, null, plain objects and arrays.
 *
 * @example
 * ```ts
 * // the longest word per key
 * const longest: Aggregator<string, string | null, string | null> = {
 *   name: 'longest',
 *   init: () => null,
 *   add: (acc, word) => (acc === null || word.length > acc.length ? word : acc),
 *   merge: (a, b) => (a === null || (b !== null && b.length > a.length) ? b : a),
 *   result: (acc) => acc,
 * }
 * ```
 */
export interface Aggregator<V, A, R> {
  /** Names the result, e.g. a column of the console sink: `count`, `sum`. */
  readonly name: string
  init(): A
  add(acc: A, value: V): A
  merge?(a: A, b: A): A
  result(acc: A): R
}

/** What an aggregator's field extractor may return: null, undefined and NaN are ignored. */
export type Maybe<T> = T | null | undefined

/**
 * Counts values, nulls included (Spark's `count()` on a group, i.e. `count(*)`).
 *
 * @example
 * ```ts
 * keyedAggregate('word-counts', { aggregator: count(), outputMode: 'complete' })
 * ```
 */
export function count<V = unknown>(): Aggregator<V, number, number> {
  return { name: 'count', init: zero, add: increment, merge: plus, result: same }
}

/**
 * Sums `fn(value)`, ignoring null, undefined and NaN as Spark ignores nulls; the sum of no number at all
 * is `null`, as in Spark.
 *
 * @example
 * ```ts
 * sum((order: Order) => order.amount)   // 3 orders of 2, null and 5 → 7
 * ```
 */
export function sum<V>(fn: (value: V) => Maybe<number>): Aggregator<V, number | null, number | null> {
  checkFunction(fn, 'sum')
  return {
    name: 'sum',
    init: nothing,
    add: (acc, value) => {
      const x = fn(value)
      if (x == null || Number.isNaN(x)) return acc
      return acc === null ? x : acc + x
    },
    merge: (a, b) => (a === null ? b : b === null ? a : a + b),
    result: same,
  }
}

/**
 * The least `fn(value)`, numbers or strings (strings by code unit), ignoring null, undefined and NaN;
 * `null` when there is none.
 *
 * @example
 * ```ts
 * min((reading: Reading) => reading.celsius)
 * ```
 */
export function min<V, T extends number | string = number>(
  fn: (value: V) => Maybe<T>,
): Aggregator<V, T | null, T | null> {
  checkFunction(fn, 'min')
  return {
    name: 'min',
    init: nothing,
    add: (acc, value) => {
      const x = fn(value)
      if (x == null || x !== x) return acc
      return acc === null || x < acc ? x : acc
    },
    merge: (a, b) => (a === null ? b : b === null ? a : b < a ? b : a),
    result: same,
  }
}

/**
 * The greatest `fn(value)`, numbers or strings (strings by code unit), ignoring null, undefined and NaN;
 * `null` when there is none.
 *
 * @example
 * ```ts
 * max((reading: Reading) => reading.celsius)
 * ```
 */
export function max<V, T extends number | string = number>(
  fn: (value: V) => Maybe<T>,
): Aggregator<V, T | null, T | null> {
  checkFunction(fn, 'max')
  return {
    name: 'max',
    init: nothing,
    add: (acc, value) => {
      const x = fn(value)
      if (x == null || x !== x) return acc
      return acc === null || x > acc ? x : acc
    },
    merge: (a, b) => (a === null ? b : b === null ? a : b > a ? b : a),
    result: same,
  }
}

/** The accumulator of `avg`: a running sum and how many numbers it holds. */
export interface AvgAccumulator {
  readonly sum: number
  readonly count: number
}

/**
 * The mean of `fn(value)`, ignoring null, undefined and NaN; `null` when there is no number (Spark's `avg`).
 *
 * @example
 * ```ts
 * avg((reading: Reading) => reading.celsius)   // 20, null, 22 → 21
 * ```
 */
export function avg<V>(fn: (value: V) => Maybe<number>): Aggregator<V, AvgAccumulator, number | null> {
  checkFunction(fn, 'avg')
  return {
    name: 'avg',
    init: () => ({ sum: 0, count: 0 }),
    add: (acc, value) => {
      const x = fn(value)
      if (x == null || Number.isNaN(x)) return acc
      return { sum: acc.sum + x, count: acc.count + 1 }
    },
    merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
    result: (acc) => (acc.count === 0 ? null : acc.sum / acc.count),
  }
}

type AnyAggregator<V> = Aggregator<V, any, any> // eslint-disable-line @typescript-eslint/no-explicit-any
type AccumulatorOf<G> = G extends Aggregator<any, infer A, any> ? A : never // eslint-disable-line @typescript-eslint/no-explicit-any
type ResultOf<G> = G extends Aggregator<any, any, infer R> ? R : never // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Several aggregations at once, each under its name (Spark's `.agg(count("*"), sum("amount"))`): the
 * result is an object of results, the accumulator an object of accumulators. It can `merge` when every
 * part can.
 *
 * @example
 * ```ts
 * combine({ orders: count(), revenue: sum((o: Order) => o.amount), biggest: max((o: Order) => o.amount) })
 * // result per key: { orders: 3, revenue: 7, biggest: 5 }
 * ```
 */
export function combine<V, S extends Record<string, AnyAggregator<V>>>(
  parts: S,
): Aggregator<V, { [K in keyof S]: AccumulatorOf<S[K]> }, { [K in keyof S]: ResultOf<S[K]> }> {
  type Acc = { [K in keyof S]: AccumulatorOf<S[K]> }
  type Result = { [K in keyof S]: ResultOf<S[K]> }
  const names = Object.keys(parts ?? {})
  if (names.length === 0) {
    throw new ConfigError(
      `combine needs at least one aggregator: write e.g. combine({ n: count(), total: sum((v) => v.amount) })`,
    )
  }
  const aggregators = names.map((name) => {
    const part = parts[name]
    if (
      typeof part?.add !== 'function' ||
      typeof part.init !== 'function' ||
      typeof part.result !== 'function'
    ) {
      throw new ConfigError(
        `combine: '${name}' is not an aggregator: use count(), sum(fn), min(fn), max(fn), avg(fn) or an object with init, add and result`,
      )
    }
    return part
  })
  const n = names.length
  // Every accumulator and result object is built with the same keys in the same order: one hidden class.
  const build = (valueAt: (i: number) => unknown): Record<string, unknown> => {
    const out: Record<string, unknown> = {}
    for (let i = 0; i < n; i++) out[names[i]] = valueAt(i)
    return out
  }
  const combined: Aggregator<V, Acc, Result> = {
    name: `combine(${names.join(', ')})`,
    init: () => build((i) => aggregators[i].init()) as Acc,
    add: (acc, value) => {
      const a = acc as Record<string, unknown>
      const out: Record<string, unknown> = {}
      for (let i = 0; i < n; i++) out[names[i]] = aggregators[i].add(a[names[i]], value)
      return out as Acc
    },
    result: (acc) => {
      const a = acc as Record<string, unknown>
      return build((i) => aggregators[i].result(a[names[i]])) as Result
    },
  }
  if (!aggregators.every((a) => typeof a.merge === 'function')) return combined
  return {
    ...combined,
    merge: (x, y) => {
      const a = x as Record<string, unknown>
      const b = y as Record<string, unknown>
      return build((i) => aggregators[i].merge!(a[names[i]], b[names[i]])) as Acc
    },
  }
}

function checkFunction(fn: unknown, what: string): void {
  if (typeof fn !== 'function') {
    throw new ConfigError(
      `${what} needs a function that picks the number from a value: write e.g. ${what}((order) => order.amount)`,
    )
  }
}

function zero(): number {
  return 0
}

function nothing(): null {
  return null
}

function increment(acc: number): number {
  return acc + 1
}

function plus(a: number, b: number): number {
  return a + b
}

function same<T>(x: T): T {
  return x
}
