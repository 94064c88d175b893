import test from 'ava'
import {
  barrier,
  ConfigError,
  data,
  END,
  sessionWindows,
  slidingWindows,
  tumblingWindows,
  watermark,
  type Key,
  type Message,
  type WindowAssigner,
} from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'

import { avg, combine, count, sum, type Aggregator } from '../src/aggregators.js'
import { keyedAggregate, type OutputMode } from '../src/keyed-aggregate.js'
import {
  BruteForceCount,
  checkpointIndexes,
  globalOut,
  out,
  prng,
  randomSteps,
  rec,
  runRestored,
  runStraight,
  sortedLate,
  w,
  type Step,
} from './aggregate/runs.js'

const MINUTE = 60_000
const tumbling10 = tumblingWindows({ size: 10 })
const sliding10by5 = slidingWindows({ size: 10, slide: 5 })
const session10 = sessionWindows({ gap: 10 })

/** The batches of the late output since the last take (control messages are forwarded there too). */
function lateBatches<I>(h: OperatorHarness<I, unknown>): Message[] {
  return h.takeSideOutput('late').filter((m) => m.kind === 'data')
}

/** count() without merge: forces the per-window fallback on sliding windows. */
function unmergeableCount<V>(): Aggregator<V, number, number> {
  return { name: 'count', init: () => 0, add: (acc) => acc + 1, result: (acc) => acc }
}

// ---------------------------------------------------------------- lateness at exact boundaries

// [title, windows, allowedLateness, watermark before the record, record time, late?]
const lateness: [string, WindowAssigner, number, number, number, boolean][] = [
  ['tumbling: a record whose window ends at the watermark is late', tumbling10, 0, 10, 9, true],
  ['tumbling: a record whose window ends after the watermark is on time', tumbling10, 0, 9, 9, false],
  ['tumbling: a record at the watermark opens the next window', tumbling10, 0, 10, 10, false],
  ['tumbling: allowed lateness keeps a window open past its end', tumbling10, 5, 14, 9, false],
  ['tumbling: a record is late once end + allowedLateness == watermark', tumbling10, 5, 15, 9, true],
  ['tumbling: negative times follow the same rule', tumbling10, 0, -10, -11, true],
  ['tumbling: negative times, still open', tumbling10, 0, -11, -11, false],
  ['sliding: a record is on time while its last window is open', sliding10by5, 0, 14, 9, false],
  ['sliding: a record is late once its last window closes', sliding10by5, 0, 15, 9, true],
  ['sliding: allowed lateness counts from the last window end', sliding10by5, 3, 17, 9, false],
  ['sliding: late at last end + allowedLateness', sliding10by5, 3, 18, 9, true],
  ['session: a record whose proto-window ends at the watermark is late', session10, 0, 10, 0, true],
  ['session: a record whose proto-window ends after the watermark is on time', session10, 0, 9, 0, false],
  ['session: allowed lateness', session10, 2, 11, 0, false],
]

for (const [title, windows, allowedLateness, wm, t0, late] of lateness) {
  test(title, (t) => {
    const h = OperatorHarness.open(
      keyedAggregate('agg', {
        aggregator: count(),
        outputMode: 'append',
        windows,
        allowedLateness,
        lateOutput: true,
      }),
    )
    h.processWatermark(wm)
    t.deepEqual(h.takeOutput(), [watermark(wm)])
    const r = rec(windows, 'k', t0, 'v')
    h.processRecords([r])
    t.is(h.counters.get('numRowsDroppedByWatermark'), late ? 1 : 0)
    t.deepEqual(lateBatches(h), late ? [data([r])] : [])
    h.processBarrier(0)
    t.deepEqual(h.takeOutput(), [barrier(0)])
    // A bounded input ends with a +∞ watermark before its last barrier: every open window closes.
    h.processWatermark(Infinity).processBarrier(1)
    const open = windows.assign(t0).filter((x) => x.end + allowedLateness > wm)
    t.deepEqual(
      h.takeOutput(),
      late
        ? [watermark(Infinity), barrier(1)]
        : [watermark(Infinity), data(open.map((x) => out('k', x, 1))), barrier(1)],
    )
  })
}

for (const allowedLateness of [0, 5]) {
  test(`closes a window when the watermark reaches its end + allowedLateness (${allowedLateness})`, (t) => {
    const h = OperatorHarness.open(
      keyedAggregate('agg', {
        aggregator: count(),
        outputMode: 'append',
        windows: tumbling10,
        allowedLateness,
      }),
    )
    h.processRecords([rec(tumbling10, 'a', 5, 1)])
    h.processWatermark(9 + allowedLateness).processBarrier(0)
    t.deepEqual(h.takeOutput(), [watermark(9 + allowedLateness), barrier(0)])
    h.processWatermark(10 + allowedLateness).processBarrier(1)
    t.deepEqual(h.takeOutput(), [watermark(10 + allowedLateness), data([out('a', w(0, 10), 1)]), barrier(1)])
  })
}

// ---------------------------------------------------------------- output modes, exact rows per barrier

/** Tumbling windows of 10: three epochs, one late record (a@4 after watermark 10). */
function tumblingScript(): Step<number>[] {
  const r = (key: string, t: number) => rec(tumbling10, key, t, t)
  return [
    { records: [r('a', 1), r('b', 2), r('a', 12)] },
    { barrier: 0 },
    { records: [r('a', 3), r('b', 15)] },
    { watermark: 10 },
    { barrier: 1 },
    { records: [r('a', 4), r('b', 18)] },
    { watermark: 20 },
    { barrier: 2 },
    { end: true },
  ]
}

const modeCases: [OutputMode, ReturnType<typeof out>[][], number[], number][] = [
  [
    'append',
    [
      [],
      [out('a', w(0, 10), 2), out('b', w(0, 10), 1)],
      [out('a', w(10, 20), 1), out('b', w(10, 20), 2)],
      [],
    ],
    [3, 2, 0],
    1,
  ],
  [
    'update',
    [
      [out('a', w(0, 10), 1), out('b', w(0, 10), 1), out('a', w(10, 20), 1)],
      [out('a', w(0, 10), 2), out('b', w(10, 20), 1)],
      [out('b', w(10, 20), 2)],
      [],
    ],
    [3, 2, 0],
    1,
  ],
  [
    'complete',
    [
      [out('a', w(0, 10), 1), out('b', w(0, 10), 1), out('a', w(10, 20), 1)],
      [out('a', w(0, 10), 2), out('b', w(0, 10), 1), out('a', w(10, 20), 1), out('b', w(10, 20), 1)],
      [out('a', w(0, 10), 3), out('b', w(0, 10), 1), out('a', w(10, 20), 1), out('b', w(10, 20), 2)],
      [],
    ],
    [3, 4, 4],
    0,
  ],
]

for (const [outputMode, expected, totals, dropped] of modeCases) {
  test(`${outputMode} mode emits exactly its rows at each barrier, and nothing else`, (t) => {
    const h = OperatorHarness.open(
      keyedAggregate('agg', { aggregator: count(), outputMode, windows: tumbling10 }),
    )
    const script = tumblingScript()
    const batch = (rows: ReturnType<typeof out>[]) => (rows.length === 0 ? [] : [data(rows)])
    let barriers = 0
    let updated = 0
    for (const step of script) {
      if ('records' in step) {
        h.processRecords(step.records)
        t.deepEqual(h.takeOutput(), [])
      } else if ('watermark' in step) {
        h.processWatermark(step.watermark)
        t.deepEqual(h.takeOutput(), [watermark(step.watermark)])
      } else if ('barrier' in step) {
        h.processBarrier(step.barrier)
        t.deepEqual(
          h.takeOutput(),
          [...batch(expected[barriers]), barrier(step.barrier)],
          `barrier ${step.barrier}`,
        )
        updated += expected[barriers].length
        t.is(h.counters.get('numRowsTotal'), totals[barriers], `numRowsTotal at barrier ${step.barrier}`)
        t.is(h.counters.get('numRowsUpdated'), updated)
        barriers++
      } else {
        h.processEnd()
        t.deepEqual(h.takeOutput(), [...batch(expected[barriers]), END])
      }
    }
    t.is(h.counters.get('numRowsDroppedByWatermark'), dropped)
  })
}

test('update mode emits a window changed and then closed in one epoch with its value when it closed', (t) => {
  const h = OperatorHarness.open(
    keyedAggregate('agg', { aggregator: count(), outputMode: 'update', windows: sliding10by5 }),
  )
  h.processRecords([rec(sliding10by5, 'a', 7, 1)]).processBarrier(0)
  t.deepEqual(h.takeOutput(), [data([out('a', w(0, 10), 1), out('a', w(5, 15), 1)]), barrier(0)])
  // a@8 changes [0, 10) and [5, 15); watermark 10 closes [0, 10); a@9 lands in the same slice [5, 10) but
  // may change only [5, 15); b@6 likewise.
  h.processRecords([rec(sliding10by5, 'a', 8, 2)])
  h.processWatermark(10)
  h.processRecords([rec(sliding10by5, 'a', 9, 3), rec(sliding10by5, 'b', 6, 4)])
  h.processBarrier(1)
  t.deepEqual(h.takeOutput(), [
    watermark(10),
    data([out('a', w(0, 10), 2), out('a', w(5, 15), 3), out('b', w(5, 15), 1)]),
    barrier(1),
  ])
  h.processWatermark(15).processBarrier(2)
  t.deepEqual(h.takeOutput(), [watermark(15), barrier(2)])
  t.is(h.counters.get('numRowsTotal'), 0)
})

test('append mode freezes a closed sliding window before later records reach its slices', (t) => {
  const h = OperatorHarness.open(
    keyedAggregate('agg', { aggregator: count(), outputMode: 'append', windows: sliding10by5 }),
  )
  h.processRecords([rec(sliding10by5, 'a', 7, 1), rec(sliding10by5, 'a', 3, 2)])
  h.processWatermark(10)
  h.processRecords([rec(sliding10by5, 'a', 9, 3)])
  h.processWatermark(15)
  h.processBarrier(0)
  t.deepEqual(h.takeOutput(), [
    watermark(10),
    watermark(15),
    data([out('a', w(-5, 5), 1), out('a', w(0, 10), 2), out('a', w(5, 15), 2)]),
    barrier(0),
  ])
  t.is(h.counters.get('numRowsTotal'), 0)
})

test('orders the rows of a barrier by window start, window end, then key: by type name, then by value', (t) => {
  const keys: Key[] = ['b', 10, 'a', 9, 'B', true, 2]
  const h = OperatorHarness.open(
    keyedAggregate('agg', { aggregator: count(), outputMode: 'complete', windows: sliding10by5 }),
  )
  h.processRecords(keys.map((key, i) => rec(sliding10by5, key, i % 2 === 0 ? 12 : 7, 1)))
  h.processBarrier(0)
  const sorted = (window: ReturnType<typeof w>, ks: Key[]) => ks.map((k) => out(k, window, 1))
  t.deepEqual(h.takeOutput(), [
    data([
      ...sorted(w(0, 10), [true, 9, 10]),
      ...sorted(w(5, 15), [true, 2, 9, 10, 'B', 'a', 'b']),
      ...sorted(w(10, 20), [2, 'B', 'a', 'b']),
    ]),
    barrier(0),
  ])
})

// ---------------------------------------------------------------- brute force on random streams

const bruteForceCases: [OutputMode, 'merge' | 'no merge', number][] = []
for (const mode of ['append', 'update', 'complete'] as const) {
  for (const variant of ['merge', 'no merge'] as const)
    for (const allowedLateness of [0, 2 * MINUTE]) bruteForceCases.push([mode, variant, allowedLateness])
}

for (const [outputMode, variant, allowedLateness] of bruteForceCases) {
  test(`sliding 5 minutes every 1 minute, ${outputMode}, ${variant}, lateness ${allowedLateness}: equals a brute-force count, and survives restores`, (t) => {
    const windows = slidingWindows({ size: 5 * MINUTE, slide: MINUTE })
    const aggregator = variant === 'merge' ? count() : unmergeableCount()
    const spec = keyedAggregate('agg', { aggregator, outputMode, windows, allowedLateness, lateOutput: true })
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const steps = randomSteps(seed, {
        assigner: windows,
        unit: MINUTE,
        keys: ['a', 'b', 'c', 1, 2],
        steps: 70,
      })
      const model = new BruteForceCount(5 * MINUTE, MINUTE, allowedLateness, outputMode).run(steps)
      const straight = runStraight(t, spec, steps)
      t.deepEqual(straight.emissions, model.emissions, `seed ${seed}`)
      t.deepEqual(straight.late, model.late, `seed ${seed}: late records`)
      t.is(straight.counters.numRowsDroppedByWatermark ?? 0, model.late.length)
      t.is(straight.counters.numRowsWithoutEventTime ?? 0, model.noEventTime)
      t.is(straight.counters.numRowsUpdated ?? 0, model.emissions.flat().length)

      const random = prng(seed * 7919)
      const cuts = checkpointIndexes(steps)
      for (const [before, after] of [
        [1, 1],
        [1, 2],
        [2, 1],
        [2, 3],
      ] as const) {
        const cut = cuts[Math.floor(random() * cuts.length)]
        const restored = runRestored(t, spec, steps, { cut, before, after })
        t.deepEqual(
          restored.emissions,
          straight.emissions,
          `seed ${seed}, ${before} → ${after} at step ${cut}`,
        )
        t.deepEqual(sortedLate(restored.late), sortedLate(straight.late))
        t.deepEqual(restored.counters, straight.counters)
      }
    }
  })
}

// ---------------------------------------------------------------- sessions

test('merges session windows that overlap or touch, across batches and epochs', (t) => {
  const r = (key: string, t0: number) => rec(session10, key, t0, t0)
  const h = OperatorHarness.open(
    keyedAggregate('agg', {
      aggregator: combine({ n: count(), sum: sum((x: number) => x) }),
      outputMode: 'complete',
      windows: session10,
    }),
  )
  h.processRecords([r('a', 0), r('a', 5), r('a', 30), r('b', 1)])
  h.processBarrier(0)
  t.deepEqual(h.takeOutput(), [
    data([
      out('a', w(0, 15), { n: 2, sum: 5 }),
      out('b', w(1, 11), { n: 1, sum: 1 }),
      out('a', w(30, 40), { n: 1, sum: 30 }),
    ]),
    barrier(0),
  ])
  h.processRecords([r('a', 20)]) // touches [30, 40): [20, 40)
  h.processRecords([r('a', 16)]) // overlaps [20, 40): [16, 40)
  h.processBarrier(1)
  t.deepEqual(h.takeOutput(), [
    data([
      out('a', w(0, 15), { n: 2, sum: 5 }),
      out('b', w(1, 11), { n: 1, sum: 1 }),
      out('a', w(16, 40), { n: 3, sum: 66 }),
    ]),
    barrier(1),
  ])
  t.is(h.counters.get('numRowsTotal'), 3)
  h.processRecords([r('a', 14)]) // bridges [0, 15) and [16, 40)
  h.processBarrier(2)
  t.deepEqual(h.takeOutput(), [
    data([out('a', w(0, 40), { n: 6, sum: 85 }), out('b', w(1, 11), { n: 1, sum: 1 })]),
    barrier(2),
  ])
  t.is(h.counters.get('numRowsTotal'), 2)
})

test('emits a session in append mode once the watermark passes its end', (t) => {
  const h = OperatorHarness.open(
    keyedAggregate('agg', {
      aggregator: count(),
      outputMode: 'append',
      windows: session10,
      lateOutput: true,
    }),
  )
  h.processRecords([rec(session10, 'a', 0, 1), rec(session10, 'a', 8, 2), rec(session10, 'b', 3, 3)])
  h.processWatermark(12).processBarrier(0)
  t.deepEqual(h.takeOutput(), [watermark(12), barrier(0)])
  // The proto-window [1, 11) of a@1, c@1 and b@1 is closed. a@1 joins the open session [0, 18) and b@1
  // the open [3, 13): not late. c@1 would be a session of its own, already closed: late.
  const c = rec(session10, 'c', 1, 5)
  h.processRecords([rec(session10, 'a', 1, 4), c, rec(session10, 'b', 1, 6)])
  t.deepEqual(lateBatches(h), [data([c])])
  t.is(h.counters.get('numRowsDroppedByWatermark'), 1)
  h.processWatermark(13).processBarrier(1)
  t.deepEqual(h.takeOutput(), [watermark(13), data([out('b', w(1, 13), 2)]), barrier(1)])
  h.processWatermark(18).processBarrier(2)
  t.deepEqual(h.takeOutput(), [watermark(18), data([out('a', w(0, 18), 3)]), barrier(2)])
  t.is(h.counters.get('numRowsTotal'), 0)
  // A record overlapping the emitted session starts a new one.
  h.processRecords([rec(session10, 'a', 17, 7)])
    .processWatermark(Infinity)
    .processBarrier(3)
  t.deepEqual(h.takeOutput(), [watermark(Infinity), data([out('a', w(17, 27), 1)]), barrier(3)])
})

test('session windows survive a restore in append and complete mode, at another parallelism', (t) => {
  for (const outputMode of ['append', 'complete'] as const) {
    const spec = keyedAggregate('agg', {
      aggregator: avg((x: { n: number }) => x.n),
      outputMode,
      windows: session10,
      lateOutput: true,
    })
    for (const seed of [11, 12, 13]) {
      const steps = randomSteps(seed, {
        assigner: session10,
        unit: 10,
        keys: ['a', 'b', 'c', 'd'],
        steps: 60,
      })
      const straight = runStraight(t, spec, steps)
      t.true(straight.emissions.flat().length > 0)
      const cuts = checkpointIndexes(steps)
      const random = prng(seed)
      for (const [before, after] of [
        [1, 1],
        [1, 2],
        [2, 1],
      ] as const) {
        const cut = cuts[Math.floor(random() * cuts.length)]
        const restored = runRestored(t, spec, steps, { cut, before, after })
        t.deepEqual(
          restored.emissions,
          straight.emissions,
          `${outputMode}, seed ${seed}, ${before} → ${after}`,
        )
        t.deepEqual(sortedLate(restored.late), sortedLate(straight.late))
        t.deepEqual(restored.counters, straight.counters)
      }
    }
  }
})

// ---------------------------------------------------------------- the per-window fallback

test('falls back to one state row per window for a sliding window without merge', (t) => {
  const concat: Aggregator<string, string, string> = {
    name: 'concat',
    init: () => '',
    add: (acc, s) => acc + s,
    result: (acc) => acc,
  }
  const h = OperatorHarness.open(
    keyedAggregate('agg', { aggregator: concat, outputMode: 'append', windows: sliding10by5 }),
  )
  h.processRecords([
    rec(sliding10by5, 'a', 7, 'x'),
    rec(sliding10by5, 'a', 2, 'y'),
    rec(sliding10by5, 'a', 12, 'z'),
  ])
  h.processBarrier(0)
  t.deepEqual(h.takeOutput(), [barrier(0)])
  t.is(h.counters.get('numRowsTotal'), 4) // [-5, 5), [0, 10), [5, 15), [10, 20)
  h.processWatermark(10)
  h.processRecords([rec(sliding10by5, 'a', 8, 'w')]) // [0, 10) is closed: only [5, 15)
  h.processWatermark(15).processBarrier(1)
  t.deepEqual(h.takeOutput(), [
    watermark(10),
    watermark(15),
    data([out('a', w(-5, 5), 'y'), out('a', w(0, 10), 'xy'), out('a', w(5, 15), 'xzw')]),
    barrier(1),
  ])
  t.is(h.counters.get('numRowsTotal'), 1)
})

// ---------------------------------------------------------------- purge, late output, records without time

test('purges slices once every window containing them is closed', (t) => {
  const h = OperatorHarness.open(
    keyedAggregate('agg', { aggregator: count(), outputMode: 'update', windows: sliding10by5 }),
  )
  h.processRecords([
    rec(sliding10by5, 'a', 1, 0),
    rec(sliding10by5, 'a', 6, 0),
    rec(sliding10by5, 'a', 11, 0),
    rec(sliding10by5, 'b', 11, 0),
  ])
  h.processBarrier(0)
  t.is(h.counters.get('numRowsTotal'), 4) // slices [0, 5), [5, 10), [10, 15)×{a, b}
  h.takeOutput()
  for (const [wm, rows] of [
    [9, 4],
    [10, 3],
    [14, 3],
    [15, 2],
    [20, 0],
  ] as const) {
    h.processWatermark(wm).processBarrier(wm)
    t.is(h.counters.get('numRowsTotal'), rows, `watermark ${wm}`)
  }
})

test('complete mode keeps all state and takes late records, as Spark does', (t) => {
  const h = OperatorHarness.open(
    keyedAggregate('agg', {
      aggregator: count(),
      outputMode: 'complete',
      windows: tumbling10,
      lateOutput: true,
    }),
  )
  h.processRecords([rec(tumbling10, 'a', 1, 0)]).processWatermark(100)
  h.processRecords([rec(tumbling10, 'a', 2, 0)]).processBarrier(0)
  t.deepEqual(h.takeOutput(), [watermark(100), data([out('a', w(0, 10), 2)]), barrier(0)])
  t.deepEqual(h.takeSideOutput('late'), [watermark(100), barrier(0)])
  t.is(h.counters.get('numRowsTotal'), 1)
  t.is(h.counters.get('numRowsDroppedByWatermark'), 0)
})

test('routes late records to the late output, counted once per batch', (t) => {
  const h = OperatorHarness.open(
    keyedAggregate('agg', {
      aggregator: count(),
      outputMode: 'append',
      windows: tumbling10,
      lateOutput: true,
    }),
  )
  h.processWatermark(20)
  const late = [rec(tumbling10, 'a', 3, 1), rec(tumbling10, 'b', 19, 2)]
  h.processRecords([late[0], rec(tumbling10, 'a', 20, 3), late[1]])
  t.deepEqual(h.takeSideOutput('late'), [watermark(20), data(late)])
  t.is(h.counters.get('numRowsDroppedByWatermark'), 2)
  const quiet = OperatorHarness.open(
    keyedAggregate('agg', { aggregator: count(), outputMode: 'append', windows: tumbling10 }),
  )
  quiet.processWatermark(20).processRecords(late)
  t.is(quiet.counters.get('numRowsDroppedByWatermark'), 2)
  t.deepEqual(quiet.spec.sideOutputs, [])
})

test('counts records without event time and emits nothing for them', (t) => {
  const h = OperatorHarness.open(
    keyedAggregate('agg', {
      aggregator: count(),
      outputMode: 'complete',
      windows: tumbling10,
      lateOutput: true,
    }),
  )
  h.processRecords([rec(tumbling10, 'a', null, 1), rec(tumbling10, 'a', 4, 2), rec(tumbling10, 'b', null, 3)])
  h.processBarrier(0)
  t.deepEqual(h.takeOutput(), [data([out('a', w(0, 10), 1)]), barrier(0)])
  t.deepEqual(h.takeSideOutput('late'), [barrier(0)])
  t.is(h.counters.get('numRowsWithoutEventTime'), 2)
  t.is(h.counters.get('numRowsDroppedByWatermark'), 0)
})

test('puts a record with a time but no window in the slice of its time', (t) => {
  const h = OperatorHarness.open(
    keyedAggregate('agg', { aggregator: count(), outputMode: 'complete', windows: sliding10by5 }),
  )
  h.processRecords([{ value: 1, timestamp: 7, key: 'a' }, rec(sliding10by5, 'a', 8, 2)])
  h.processBarrier(0)
  t.deepEqual(h.takeOutput(), [data([out('a', w(0, 10), 2), out('a', w(5, 15), 2)]), barrier(0)])
})

// ---------------------------------------------------------------- End

test('End emits nothing and keeps open windows: the last barrier came before it', (t) => {
  // A bounded source sends a +Infinity watermark before the last barrier, which closes every window;
  // an unbounded one read with availableNow must keep its open windows for the next run.
  for (const outputMode of ['append', 'update', 'complete'] as const) {
    const h = OperatorHarness.open(
      keyedAggregate('agg', { aggregator: count(), outputMode, windows: tumbling10 }),
    )
    h.processRecords([rec(tumbling10, 'a', 1, 0)])
      .processBarrier(0)
      .takeOutput()
    h.processEnd()
    t.deepEqual(h.takeOutput(), [END], outputMode)
    t.is(h.counters.get('numRowsTotal'), 1, outputMode)
  }
})

// ---------------------------------------------------------------- global aggregation

test('aggregates without windows per key, keyless records as one null key, in update and complete mode', (t) => {
  const g = (key: Key, value: number) => ({ value, timestamp: null, key })
  const amount = sum((x: number) => x)
  const update = OperatorHarness.open(keyedAggregate('agg', { aggregator: amount, outputMode: 'update' }))
  const complete = OperatorHarness.open(keyedAggregate('agg', { aggregator: amount, outputMode: 'complete' }))
  for (const h of [update, complete]) {
    h.processRecords([g('x', 1), g(undefined, 2), g(null, 3), { value: 4, timestamp: 5 }]).processBarrier(0)
    h.processRecords([g('y', 5)])
      .processWatermark(1_000)
      .processBarrier(1)
  }
  t.deepEqual(update.takeOutput(), [
    data([globalOut(null, 9), globalOut('x', 1)]),
    barrier(0),
    watermark(1_000),
    data([globalOut('y', 5)]),
    barrier(1),
  ])
  t.deepEqual(complete.takeOutput(), [
    data([globalOut(null, 9), globalOut('x', 1)]),
    barrier(0),
    watermark(1_000),
    data([globalOut(null, 9), globalOut('x', 1), globalOut('y', 5)]),
    barrier(1),
  ])
  t.is(complete.counters.get('numRowsTotal'), 3)
})

test('a global aggregation survives a restore in update and complete mode, at another parallelism', (t) => {
  for (const outputMode of ['update', 'complete'] as const) {
    const spec = keyedAggregate('agg', {
      aggregator: combine({ n: count(), total: sum((v: { n: number }) => v.n) }),
      outputMode,
    })
    for (const seed of [21, 22]) {
      const steps = randomSteps(seed, {
        assigner: tumbling10,
        unit: 10,
        keys: ['a', 'b', 'c', 7, 8],
        steps: 50,
      })
      const straight = runStraight(t, spec, steps)
      const cuts = checkpointIndexes(steps)
      for (const [before, after] of [
        [1, 1],
        [1, 3],
        [3, 2],
      ] as const) {
        const cut = cuts[(seed + before + after) % cuts.length]
        t.deepEqual(
          runRestored(t, spec, steps, { cut, before, after }).emissions,
          straight.emissions,
          `${outputMode}, seed ${seed}, ${before} → ${after}`,
        )
      }
    }
  }
})

// ---------------------------------------------------------------- snapshots

test('a snapshot is fresh: state changed after the barrier does not reach it', (t) => {
  const h = OperatorHarness.open(
    keyedAggregate('agg', { aggregator: avg((x: number) => x), outputMode: 'update', windows: sliding10by5 }),
  )
  h.processRecords([rec(sliding10by5, 'a', 7, 1), rec(sliding10by5, 'b', 1, 2)]).processBarrier(0)
  const before = h.snapshotBytes()
  h.processRecords([rec(sliding10by5, 'a', 8, 3), rec(sliding10by5, 'c', 9, 4)]).processWatermark(10)
  t.deepEqual(h.snapshotBytes(), before)
})

test('refuses a checkpoint taken with other windows', (t) => {
  const h = OperatorHarness.open(
    keyedAggregate('agg', { aggregator: count(), outputMode: 'update', windows: tumbling10 }),
  )
  h.processRecords([rec(tumbling10, 'a', 1, 0)]).processBarrier(0)
  const error = t.throws(() =>
    OperatorHarness.restore(
      keyedAggregate('agg', { aggregator: count(), outputMode: 'update', windows: sliding10by5 }),
      h.snapshotBytes(),
    ),
  )
  t.regex(
    error.message,
    /checkpoint was taken with windows tumbling 10 milliseconds but the query now has sliding 10 milliseconds every 5 milliseconds: keep the windows, or start the query with a new checkpoint location/,
  )
})

// ---------------------------------------------------------------- configuration

test('rejects configurations that cannot work, saying what to write instead', (t) => {
  const cases: [string, () => unknown, string][] = [
    [
      'append without windows',
      () => keyedAggregate('agg', { aggregator: count(), outputMode: 'append' }),
      "keyed aggregate 'agg': append output mode needs windows and a watermark on a keyed aggregation: use update or complete, or group by a window",
    ],
    [
      'sessions without merge',
      () =>
        keyedAggregate('agg', { aggregator: unmergeableCount(), outputMode: 'append', windows: session10 }),
      "keyed aggregate 'agg': session windows need a mergeable aggregator (one with merge), since sessions merge as records join them: use count(), sum, min, max, avg or combine of those, or give 'count' a merge(a, b)",
    ],
    [
      'sessions in update mode',
      () => keyedAggregate('agg', { aggregator: count(), outputMode: 'update', windows: session10 }),
      "keyed aggregate 'agg': update output mode is not supported with session windows, as in Spark (a merged session cannot retract the rows of its parts): use append (a row per session once it closes) or complete",
    ],
    [
      'an unknown output mode',
      () => keyedAggregate('agg', { aggregator: count(), outputMode: 'updates' as OutputMode }),
      `keyed aggregate 'agg': output mode "updates" is not one of 'append', 'update', 'complete'`,
    ],
    [
      'an unknown option',
      () => keyedAggregate('agg', { aggregator: count(), outputMode: 'update', watermark: 5 } as never),
      "keyed aggregate 'agg': unknown option 'watermark': use aggregator, outputMode, windows, allowedLateness, lateOutput, input",
    ],
    [
      'a negative allowed lateness',
      () =>
        keyedAggregate('agg', {
          aggregator: count(),
          outputMode: 'append',
          windows: tumbling10,
          allowedLateness: -1,
        }),
      "keyed aggregate 'agg': allowedLateness -1 is not a whole number of ms >= 0: write e.g. 0 or 60000",
    ],
    [
      'late output without windows',
      () => keyedAggregate('agg', { aggregator: count(), outputMode: 'update', lateOutput: true }),
      "keyed aggregate 'agg': lateOutput needs windows (without them no record is ever late): remove lateOutput or group by a window",
    ],
  ]
  for (const [what, make, message] of cases) t.throws(make, { instanceOf: ConfigError, message }, what)
})
