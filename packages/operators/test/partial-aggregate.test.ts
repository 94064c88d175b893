import test from 'ava'
import {
  barrier,
  ConfigError,
  data,
  END,
  IDLE,
  sessionWindows,
  slidingWindows,
  tumblingWindows,
  watermark,
  type Key,
  type StreamRecord,
  type WindowAssigner,
} from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'

import { avg, combine, count, max, min, sum, type Aggregator } from '../src/aggregators.js'
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
    ['a', 2, 2],
    ['b', 1, 1],
    ['c', 1, 1],
  ])
  partial.processRecords(keyed(['a'], () => undefined))
  partial.processBarrier(0, { checkpoint: true })
  t.deepEqual(partial.takeValues(), [['a', 1, 1]])
  partial.processRecords(keyed(['b', 'b'], () => undefined))
  partial.processEnd()
  t.deepEqual(partial.takeValues(), [['b', 2, 2]])
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
  fromOne.processRecords(keyed([['a', 1, 1] as Partial<number>], ([k]) => k)).processBarrier(4)
  const fromTwo = OperatorHarness.restore(
    keyedAggregate('agg', { aggregator: count<Sale>(), outputMode: 'update' }),
    snapshots.two,
  )
  fromTwo.processRecords(more).processBarrier(4)
  t.deepEqual(fromOne.takeValues(), fromTwo.takeValues())
})

test('partials need a mergeable aggregator, and neither session windows nor lateOutput', (t) => {
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
  const sessions = sessionWindows({ gap: 1000 })
  t.throws(() => partialAggregate('p', { key: (v: string) => v, aggregator: count(), windows: sessions }), {
    instanceOf: ConfigError,
    message: /session windows cannot be aggregated in two phases/,
  })
  t.throws(
    () =>
      keyedAggregate('agg', {
        aggregator: count(),
        outputMode: 'append',
        windows: sessions,
        input: 'partials',
      }),
    { instanceOf: ConfigError, message: /does not go with session windows/ },
  )
  t.throws(
    () =>
      keyedAggregate('agg', {
        aggregator: count(),
        outputMode: 'append',
        windows: tumblingWindows({ size: 1000 }),
        lateOutput: true,
        input: 'partials',
      }),
    { instanceOf: ConfigError, message: /lateOutput needs the late records themselves/ },
  )
  t.throws(
    () => keyedAggregate('agg', { aggregator: count(), outputMode: 'update', input: 'sums' as 'values' }),
    {
      instanceOf: ConfigError,
      message: /is not one of/,
    },
  )
})

// With windows: records carry their slice, watermarks and Idle come between batches, some records are late.

interface Reading {
  readonly sensor: string
  readonly time: number
  readonly celsius: number | null
}

type Event =
  | { readonly kind: 'data'; readonly readings: readonly Reading[] }
  | { readonly kind: 'watermark'; readonly time: number }
  | { readonly kind: 'idle' }
  | { readonly kind: 'barrier' }

/**
 * A seeded input: batches of readings a few seconds apart, 1 in 10 up to 40 s behind, each batch followed
 * (mostly) by the watermark `max - 5 s`, now and then by Idle, and a barrier every few batches.
 */
function timedEvents(seed: number, batches: number): Event[] {
  const random = prng(seed)
  const sensors = ['a', 'b', 'c', 'd', 'e']
  const events: Event[] = []
  let now = 1_000_000
  let max = -Infinity
  for (let b = 0; b < batches; b++) {
    const readings: Reading[] = []
    for (let i = Math.floor(random() * 25); i > 0; i--) {
      now += Math.floor(random() * 400)
      const time = random() < 0.1 ? now - Math.floor(random() * 40_000) : now
      max = Math.max(max, time)
      readings.push({
        sensor: sensors[Math.floor(random() * random() * sensors.length)],
        time,
        celsius: random() < 0.1 ? null : Math.round(random() * 30),
      })
    }
    events.push({ kind: 'data', readings })
    if (random() < 0.8 && max > -Infinity) events.push({ kind: 'watermark', time: max - 5000 })
    if (random() < 0.1) events.push({ kind: 'idle' })
    if (random() < 0.3) events.push({ kind: 'barrier' })
  }
  events.push({ kind: 'barrier' })
  return events
}

/**
 * The rows of each barrier, the late counts and the last snapshot of a windowed keyed aggregate fed the
 * readings directly, and of the two phases, each message of the partial aggregate passed on in order.
 */
function bothWaysWindowed<A, R>(
  aggregator: Aggregator<Reading, A, R>,
  outputMode: OutputMode,
  windows: WindowAssigner,
  events: readonly Event[],
) {
  const one = OperatorHarness.open(keyedAggregate('agg', { aggregator, outputMode, windows }))
  const partial = OperatorHarness.open(
    partialAggregate('partial', { key: (r: Reading) => r.sensor, aggregator, windows }),
  )
  const final = OperatorHarness.open(
    keyedAggregate('agg', {
      aggregator: aggregator as unknown as Aggregator<Partial<A>, A, R>,
      outputMode,
      windows,
      input: 'partials',
    }),
  )
  const slice = (r: Reading, key: Key): StreamRecord<Reading> => ({
    value: r,
    timestamp: r.time,
    key,
    window: windows.sliceOf(r.time),
  })
  const rows: { one: unknown[][]; two: unknown[][] } = { one: [], two: [] }
  let epoch = 0
  for (const event of events) {
    switch (event.kind) {
      case 'data':
        one.processRecords(event.readings.map((r) => slice(r, r.sensor)))
        partial.processRecords(event.readings.map((r) => slice(r, undefined)))
        break
      case 'watermark':
        one.processWatermark(event.time)
        partial.processWatermark(event.time)
        break
      case 'idle':
        one.processIdle()
        partial.processIdle()
        break
      case 'barrier':
        one.processBarrier(epoch, { checkpoint: true })
        partial.processBarrier(epoch, { checkpoint: true })
        break
    }
    for (const message of partial.takeOutput()) {
      if (message.kind === 'data')
        final.processRecords(message.records.map((r) => ({ ...r, key: r.value[0] })))
      else final.process(message)
    }
    if (event.kind === 'barrier') {
      rows.one.push(one.takeValues())
      rows.two.push(final.takeValues())
      epoch++
    }
  }
  return {
    rows,
    late: {
      one: one.counters.get('numRowsDroppedByWatermark'),
      two: final.counters.get('numRowsDroppedByWatermark'),
    },
    snapshots: { one: one.snapshotBytes(), two: final.snapshotBytes() },
    partials: partial.counters.get('numPartialsEmitted'),
  }
}

for (const windows of [slidingWindows({ size: 10_000, slide: 2_000 }), tumblingWindows({ size: 5_000 })]) {
  for (const outputMode of ['append', 'update', 'complete'] as const) {
    test(`${windows.describe()}, ${outputMode}: the two phases give the same rows at every barrier, the same late count and the same snapshot`, (t) => {
      for (const [name, aggregator] of [
        ['count', count<Reading>()],
        ['sum', sum((r: Reading) => r.celsius)],
        ['avg', avg((r: Reading) => r.celsius)],
        [
          'combine',
          combine({
            n: count<Reading>(),
            low: min((r: Reading) => r.celsius),
            high: max((r: Reading) => r.celsius),
          }),
        ],
      ] as const) {
        for (const seed of [1, 2, 3, 4]) {
          const events = timedEvents(seed, 40)
          const run = bothWaysWindowed(
            aggregator as Aggregator<Reading, unknown, unknown>,
            outputMode,
            windows,
            events,
          )
          const readings = events.reduce((n, e) => n + (e.kind === 'data' ? e.readings.length : 0), 0)
          t.deepEqual(run.rows.two, run.rows.one, `${name}, seed ${seed}`)
          t.is(run.late.two, run.late.one, `${name}, seed ${seed}`)
          t.deepEqual(run.snapshots.two, run.snapshots.one, `${name}, seed ${seed}`)
          t.true(
            run.partials < readings,
            `${name}, seed ${seed}: ${run.partials} partials for ${readings} readings`,
          )
          if (outputMode !== 'complete') t.true(run.late.one > 0, `${name}, seed ${seed}: nothing late`)
        }
      }
    })
  }
}

test('with windows, the partial aggregate keeps slices apart and flushes before every watermark, Idle, barrier and End', (t) => {
  const windows = tumblingWindows({ size: 1000 })
  const partial = OperatorHarness.open(
    partialAggregate('p', { key: (w: string) => w, aggregator: count<string>(), windows }),
  )
  const at = (value: string, time: number): StreamRecord<string> => ({
    value,
    timestamp: time,
    key: undefined,
    window: windows.sliceOf(time),
  })
  partial.processRecords([at('a', 100), at('a', 1500), at('a', 300), at('b', 1200)])
  t.deepEqual(partial.takeOutput(), [])
  partial.processWatermark(900)
  t.deepEqual(partial.takeOutput(), [
    data([
      { value: ['a', 2, 2], timestamp: 300, key: undefined, window: { start: 0, end: 1000 } },
      { value: ['a', 1, 1], timestamp: 1500, key: undefined, window: { start: 1000, end: 2000 } },
      { value: ['b', 1, 1], timestamp: 1200, key: undefined, window: { start: 1000, end: 2000 } },
    ]),
    watermark(900),
  ])
  for (const [send, message] of [
    [() => partial.processIdle(), IDLE],
    [() => partial.processBarrier(0), barrier(0)],
    [() => partial.processEnd(), END],
  ] as const) {
    partial.processRecords([at('c', 2100)])
    send()
    t.deepEqual(partial.takeOutput(), [
      data([{ value: ['c', 1, 1], timestamp: 2100, key: undefined, window: { start: 2000, end: 3000 } }]),
      message,
    ])
  }
})

test('without windows, the partial aggregate holds its keys across watermarks and Idle, until the barrier', (t) => {
  const partial = OperatorHarness.open(
    partialAggregate('p', { key: (w: string) => w, aggregator: count<string>() }),
  )
  partial
    .processRecords(keyed(['a', 'b', 'a'], () => undefined))
    .processWatermark(10)
    .processIdle()
  t.deepEqual(partial.takeOutput(), [watermark(10), IDLE])
  partial.processBarrier(0)
  t.deepEqual(partial.takeValues(), [
    ['a', 2, 2],
    ['b', 1, 1],
  ])
})
