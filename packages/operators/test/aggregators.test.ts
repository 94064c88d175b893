import test from 'ava'
import { ConfigError, decodeSnapshot, encodeSnapshot } from '@weir/core'

import { avg, combine, count, max, min, sum, type Aggregator } from '../src/aggregators.js'

/** Folds values with add, as a table does, freezing every accumulator to catch mutation. */
function fold<V, A, R>(aggregator: Aggregator<V, A, R>, values: readonly V[]): A {
  let acc = deepFreeze(aggregator.init())
  for (const value of values) acc = deepFreeze(aggregator.add(acc, value))
  return acc
}

function resultOf<V, A, R>(aggregator: Aggregator<V, A, R>, values: readonly V[]): R {
  return aggregator.result(fold(aggregator, values))
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

interface Order {
  amount: number | null | undefined
  item?: string | null
}

/** Any aggregator over orders, for tables of cases. */
type AnyAggregator = Aggregator<Order, unknown, unknown>

const orders = (...amounts: (number | null | undefined)[]): Order[] => amounts.map((amount) => ({ amount }))
const amount = (o: Order) => o.amount

const cases: [string, AnyAggregator, Order[], unknown][] = [
  ['count counts every value, nulls included', count(), orders(1, null, 3), 3],
  ['count of nothing is 0', count(), [], 0],
  ['sum adds numbers', sum(amount), orders(2, 5, -1.5), 5.5],
  ['sum ignores null, undefined and NaN', sum(amount), orders(2, null, undefined, NaN, 5), 7],
  ['sum of only nulls is null, as in Spark', sum(amount), orders(null, undefined), null],
  ['sum of nothing is null', sum(amount), [], null],
  ['min is the least number', min(amount), orders(3, -2, 7), -2],
  ['min ignores null, undefined and NaN', min(amount), orders(null, 4, NaN, undefined, 6), 4],
  ['min of nothing is null', min(amount), [], null],
  ['max is the greatest number', max(amount), orders(3, -2, 7), 7],
  ['max ignores null, undefined and NaN', max(amount), orders(NaN, 4, null, 6, undefined), 6],
  ['max of nothing is null', max(amount), orders(null), null],
  ['avg is the mean', avg(amount), orders(20, 22, 27), 23],
  ['avg ignores null, undefined and NaN', avg(amount), orders(20, null, NaN, 22, undefined), 21],
  ['avg of nothing is null', avg(amount), orders(null, NaN), null],
]

for (const [title, aggregator, values, expected] of cases) {
  test(title, (t) => {
    t.deepEqual(resultOf(aggregator, values), expected)
  })
}

test('min and max compare strings by code unit', (t) => {
  const items = [{ item: 'pear' }, { item: 'Apple' }, { item: null }, { item: 'apple' }]
  t.is(
    resultOf(
      min((o: { item: string | null }) => o.item),
      items,
    ),
    'Apple',
  )
  t.is(
    resultOf(
      max((o: { item: string | null }) => o.item),
      items,
    ),
    'pear',
  )
})

test('merge of two halves equals the fold of the whole, for every built-in aggregator', (t) => {
  const values = orders(4, null, -3, 10, NaN, 2.5, undefined, 7)
  const built: AnyAggregator[] = [
    count(),
    sum(amount),
    min(amount),
    max(amount),
    avg(amount),
    combine({ n: count(), total: sum(amount), low: min(amount), high: max(amount), mean: avg(amount) }),
  ]
  for (const aggregator of built) {
    const whole = aggregator.result(fold(aggregator, values))
    for (let cut = 0; cut <= values.length; cut++) {
      const merged = aggregator.merge!(
        fold(aggregator, values.slice(0, cut)),
        fold(aggregator, values.slice(cut)),
      )
      t.deepEqual(aggregator.result(merged), whole, `${aggregator.name} cut at ${cut}`)
    }
  }
})

test('merge with an empty accumulator changes nothing', (t) => {
  const values = orders(4, 9)
  const built: AnyAggregator[] = [sum(amount), min(amount), max(amount), avg(amount)]
  for (const aggregator of built) {
    const acc = fold(aggregator, values)
    t.deepEqual(aggregator.merge!(acc, aggregator.init()), acc, aggregator.name)
    t.deepEqual(aggregator.merge!(aggregator.init(), acc), acc, aggregator.name)
  }
})

test('combine produces an object of results, one per name, in the order given', (t) => {
  const stats = combine({
    orders: count<Order>(),
    revenue: sum(amount),
    biggest: max(amount),
    mean: avg(amount),
  })
  const result = resultOf(stats, orders(2, null, 5))
  t.deepEqual(result, { orders: 3, revenue: 7, biggest: 5, mean: 3.5 })
  t.deepEqual(Object.keys(result), ['orders', 'revenue', 'biggest', 'mean'])
  t.is(stats.name, 'combine(orders, revenue, biggest, mean)')
})

test('combine can merge only when every part can', (t) => {
  const firstSeen: Aggregator<Order, number | null, number | null> = {
    name: 'first',
    init: () => null,
    add: (acc, o) => acc ?? o.amount ?? null,
    result: (acc) => acc,
  }
  t.is(typeof combine({ n: count<Order>(), s: sum(amount) }).merge, 'function')
  t.false('merge' in combine({ n: count<Order>(), first: firstSeen }))
  t.deepEqual(resultOf(combine({ n: count<Order>(), first: firstSeen }), orders(null, 3, 4)), {
    n: 3,
    first: 3,
  })
})

test('accumulators survive the snapshot codec unchanged', (t) => {
  const stats = combine({
    n: count<Order>(),
    total: sum(amount),
    low: min(amount),
    high: max(amount),
    mean: avg(amount),
  })
  for (const values of [[], orders(null), orders(3, -1, 8)]) {
    const acc = fold(stats, values)
    const back = decodeSnapshot<typeof acc>(encodeSnapshot(acc))
    t.deepEqual(back, acc)
    t.deepEqual(stats.result(stats.add(back, { amount: 1 })), stats.result(stats.add(acc, { amount: 1 })))
  }
})

test('names the built-in aggregators as Spark names its columns', (t) => {
  t.deepEqual(
    [count(), sum(amount), min(amount), max(amount), avg(amount)].map((a) => a.name),
    ['count', 'sum', 'min', 'max', 'avg'],
  )
})

test('rejects a missing extractor or an empty combine with a message that says what to write', (t) => {
  const missing = t.throws(() => sum(undefined as unknown as (o: Order) => number), {
    instanceOf: ConfigError,
  })
  t.is(
    missing.message,
    'sum needs a function that picks the number from a value: write e.g. sum((order) => order.amount)',
  )
  t.throws(() => combine({}), {
    instanceOf: ConfigError,
    message:
      'combine needs at least one aggregator: write e.g. combine({ n: count(), total: sum((v) => v.amount) })',
  })
  t.throws(() => combine({ n: 42 as unknown as Aggregator<Order, number, number> }), {
    instanceOf: ConfigError,
    message: /^combine: 'n' is not an aggregator/,
  })
})
