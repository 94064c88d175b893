import test from 'ava'
import { ConfigError, tumblingWindows, type Key, type StreamRecord } from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'

import { avg, combine, count, sum, type Aggregator } from '../src/aggregators.js'
import { keyedAggregate, type OutputMode } from '../src/keyed-aggregate.js'
import { partialAggregate, type Partial } from '../src/partial-aggregate.js'
import { prng } from './aggregate/runs.js'

interface Sale {
  readonly shop: string
  readonly amount: number | null
}

/** Epochs of batches of sales over a few shops, seeded. */
function epochs(seed: number, n: number): Sale[][][] {
  const random = prng(seed)
  const shops = ['a', 'b', 'c', 'd', 'e', 'f', 'g']
  return Array.from({ length: n }, () =>
    Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
      Array.from({ length: Math.floor(random() * 30) }, () => ({
        shop: shops[Math.floor(random() * random() * shops.length)],
        amount: random() < 0.1 ? null : Math.round(random() * 100),
      })),
    ),
  )
}

const keyOf = (sale: Sale): Key => sale.shop
const keyed = <V>(values: readonly V[], key: (v: V) => Key): StreamRecord<V>[] =>
  values.map((value) => ({ value, timestamp: null, key: key(value), window: undefined }))

/**
 * The rows of each barrier, and the snapshot after the last, of a keyed aggregate fed values directly,
 * and of the two phases (partial aggregate → keyBy → keyed aggregate with input 'partials').
 */
function bothWays<A, R>(
  aggregator: Aggregator<Sale, A, R>,
  outputMode: OutputMode,
  input: Sale[][][],
  maxKeys?: number,
) {
  const one = OperatorHarness.open(keyedAggregate('agg', { aggregator, outputMode }))
  const partial = OperatorHarness.open(
    partialAggregate('partial', { key: keyOf, aggregator, ...(maxKeys === undefined ? {} : { maxKeys }) }),
  )
  const final = OperatorHarness.open(
    keyedAggregate('agg', {
      aggregator: aggregator as unknown as Aggregator<Partial<A>, A, R>,
      outputMode,
      input: 'partials',
    }),
  )
  const rows: { one: unknown[][]; two: unknown[][] } = { one: [], two: [] }
  const forward = () => {
    const records = partial.takeOutput().flatMap((m) => (m.kind === 'data' ? m.records : []))
    if (records.length > 0)
      final.processRecords(
        keyed(
          records.map((r) => r.value),
          ([k]) => k,
        ),
      )
  }
  input.forEach((batches, epoch) => {
    for (const batch of batches) {
      one.processRecords(keyed(batch, keyOf))
      partial.processRecords(keyed(batch, () => undefined))
      forward()
    }
    one.processBarrier(epoch, { checkpoint: true })
    partial.processBarrier(epoch, { checkpoint: true })
    forward()
    final.processBarrier(epoch, { checkpoint: true })
    rows.one.push(one.takeValues())
    rows.two.push(final.takeValues())
  })
  return { rows, snapshots: { one: one.snapshotBytes(), two: final.snapshotBytes() }, partial }
}

for (const outputMode of ['update', 'complete'] as const) {
  for (const [name, aggregator] of [
    ['count', count<Sale>()],
    ['sum', sum((s: Sale) => s.amount)],
    ['avg', avg((s: Sale) => s.amount)],
    ['combine', combine({ n: count<Sale>(), total: sum((s: Sale) => s.amount) })],
  ] as const) {
    test(`${name}, ${outputMode}: the two phases give the same rows at every barrier, and the same snapshot`, (t) => {
      for (const seed of [1, 2, 3]) {
        const { rows, snapshots } = bothWays(
          aggregator as Aggregator<Sale, unknown, unknown>,
          outputMode,
          epochs(seed, 6),
        )
        t.deepEqual(rows.two, rows.one)
        t.deepEqual(snapshots.two, snapshots.one)
      }
    })
  }
}

test('the partial aggregate holds its keys until the barrier, or until maxKeys are held, and is empty at every barrier', (t) => {
  const partial = OperatorHarness.open(
    partialAggregate('p', { key: (w: string) => w, aggregator: count<string>(), maxKeys: 3 }),
  )
  partial.processRecords(keyed(['a', 'b', 'a'], () => undefined))
  t.deepEqual(partial.takeValues(), [])
  partial.processRecords(keyed(['c'], () => undefined))
  t.deepEqual(partial.takeValues(), [
    ['a', 2],
    ['b', 1],
    ['c', 1],
  ])
  partial.processRecords(keyed(['a'], () => undefined))
  partial.processBarrier(0, { checkpoint: true })
  t.deepEqual(partial.takeValues(), [['a', 1]])
  partial.processRecords(keyed(['b', 'b'], () => undefined))
  partial.processEnd()
  t.deepEqual(partial.takeValues(), [['b', 2]])
})

test('a small maxKeys gives the same rows too', (t) => {
  const { rows } = bothWays(count<Sale>(), 'update', epochs(7, 5), 2)
  const reference = bothWays(count<Sale>(), 'update', epochs(7, 5))
  t.deepEqual(rows.two, reference.rows.one)
})

test('state taken with values restores into the two phases, and the other way', (t) => {
  const input = epochs(11, 4)
  const { snapshots } = bothWays(count<Sale>(), 'update', input)
  const more = keyed([{ shop: 'a', amount: 1 }], keyOf)
  const fromOne = OperatorHarness.restore(
    keyedAggregate('agg', { aggregator: count<Partial<number>>(), outputMode: 'update', input: 'partials' }),
    snapshots.one,
  )
  fromOne.processRecords(keyed([['a', 1] as Partial<number>], ([k]) => k)).processBarrier(4)
  const fromTwo = OperatorHarness.restore(
    keyedAggregate('agg', { aggregator: count<Sale>(), outputMode: 'update' }),
    snapshots.two,
  )
  fromTwo.processRecords(more).processBarrier(4)
  t.deepEqual(fromOne.takeValues(), fromTwo.takeValues())
})

test('partials need a mergeable aggregator and no windows', (t) => {
  const noMerge: Aggregator<string, string, string> = {
    name: 'first',
    init: () => '',
    add: (a, v) => a || v,
    result: (a) => a,
  }
  t.throws(() => partialAggregate('p', { key: (v: string) => v, aggregator: noMerge }), {
    instanceOf: ConfigError,
    message: /no merge/,
  })
  t.throws(() => keyedAggregate('agg', { aggregator: noMerge, outputMode: 'update', input: 'partials' }), {
    instanceOf: ConfigError,
    message: /mergeable/,
  })
  t.throws(
    () =>
      keyedAggregate('agg', {
        aggregator: count(),
        outputMode: 'append',
        windows: tumblingWindows({ size: 1000 }),
        input: 'partials',
      }),
    { instanceOf: ConfigError, message: /without windows/ },
  )
  t.throws(
    () => keyedAggregate('agg', { aggregator: count(), outputMode: 'update', input: 'sums' as 'values' }),
    {
      instanceOf: ConfigError,
      message: /is not one of/,
    },
  )
})
