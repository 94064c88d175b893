import test from 'ava'

import type { OperatorSnapshot } from '../../src/graph/operator.js'
import { defineSource, type EventTimeOptions, type SourceSpec } from '../../src/graph/specs.js'
import type { SourceBatch, SourceReader } from '../../src/io/source.js'
import {
  barrier,
  data,
  IDLE,
  watermark,
  type Message,
  type StreamRecord,
} from '../../src/messages/messages.js'
import { Backpressure } from '../../src/runtime/backpressure.js'
import { SourceInstance } from '../../src/runtime/source-instance.js'
import { ManualClock } from '../../src/time/clock.js'

interface Event {
  readonly id: string
  readonly t: unknown
}

/** What a script step may do between two polls: move the clock, inject a barrier. */
interface StepContext {
  readonly clock: ManualClock
  readonly instance: SourceInstance
}

type Step = SourceBatch<Event> | 'idle' | 'end' | ((context: StepContext) => void)

/**
 * Runs a source instance over a reader that answers each poll with the next step of a script (running
 * the function steps before it on the way); once the script is done the instance is stopped.
 */
async function runScript(options: {
  steps: readonly Step[]
  splits: readonly string[]
  bounded?: boolean
  eventTime?: EventTimeOptions<Event>
  restored?: ReadonlyMap<string, unknown>
  /** The reader's `throttled()`: holds data back for a later epoch. */
  throttled?: () => boolean
}) {
  const clock = new ManualClock()
  const out: Message[] = []
  const snapshots: [number, OperatorSnapshot | undefined][] = []
  let finished = 0
  const steps = [...options.steps]
  const reader: SourceReader<Event> = {
    poll() {
      for (;;) {
        const step = steps.shift()
        if (step === undefined) {
          instance.stop()
          return Promise.resolve('idle')
        }
        if (typeof step !== 'function') return Promise.resolve(step)
        step({ clock, instance })
      }
    },
    splits: () => options.splits,
    close: () => Promise.resolve(),
    ...(options.throttled ? { throttled: options.throttled } : {}),
  }
  const spec = defineSource<Event>(
    'events',
    { name: 'script', bounded: options.bounded ?? false, createReader: () => reader },
    options.eventTime ?? { timestamp: (e) => e.t as number, watermark: { delay: 0 } },
  )
  const instance = new SourceInstance({
    spec: spec as SourceSpec,
    instance: 0,
    reader,
    downstream: { process: (m) => out.push(m) },
    hooks: {
      onBarrier: (_at, b, snapshot) => snapshots.push([b.epoch, snapshot]),
      onFinished: () => finished++,
    },
    backpressure: new Backpressure(),
    clock,
    restored: options.restored ?? new Map(),
  })
  await instance.run()
  return { out, snapshots, finished, counters: instance.counters.toJSON(), watermark: instance.watermark }
}

const ev = (id: string, t: unknown): Event => ({ id, t })
const batch = (split: string, position: unknown, ...events: Event[]): SourceBatch<Event> => ({
  split,
  values: events,
  position,
})
const rec = (e: Event, timestamp: number | null): StreamRecord<Event> => ({
  value: e,
  timestamp,
  key: undefined,
  window: undefined,
})
/** The data message a source emits for events whose timestamps all parsed. */
const emitted = (...events: Event[]) => data(events.map((e) => rec(e, e.t as number)))

test('emits the watermark of a split after each polled batch, never within one and never backwards', async (t) => {
  const { out, watermark: current } = await runScript({
    splits: ['p0'],
    eventTime: { timestamp: (e) => e.t as number, watermark: { delay: 10 } },
    steps: [
      batch('p0', 3, ev('a', 100), ev('b', 105), ev('c', 103)),
      batch('p0', 4, ev('d', 90)),
      batch('p0', 5, ev('e', 120)),
      batch('p0', 6, ev('f', 130), ev('g', 95)),
    ],
  })
  t.deepEqual(out, [
    emitted(ev('a', 100), ev('b', 105), ev('c', 103)),
    watermark(95),
    emitted(ev('d', 90)),
    emitted(ev('e', 120)),
    watermark(110),
    emitted(ev('f', 130), ev('g', 95)),
    watermark(120),
  ])
  t.is(current, 120)
})

test('emits no watermark without a watermark option', async (t) => {
  const { out } = await runScript({
    splits: ['p0'],
    eventTime: { timestamp: (e) => e.t as number },
    steps: [batch('p0', 1, ev('a', 100)), 'idle', batch('p0', 2, ev('b', 200))],
  })
  t.deepEqual(out, [emitted(ev('a', 100)), emitted(ev('b', 200))])
})

test('emits the minimum over its splits, a split not yet read holding it at -∞', async (t) => {
  const { out } = await runScript({
    splits: ['p0', 'p1'],
    steps: [
      batch('p0', 1, ev('a', 100)),
      batch('p1', 1, ev('b', 50)),
      batch('p0', 2, ev('c', 200)),
      batch('p1', 2, ev('d', 150)),
      batch('p1', 3, ev('e', 300)),
    ],
  })
  t.deepEqual(out, [
    emitted(ev('a', 100)),
    emitted(ev('b', 50)),
    watermark(50),
    emitted(ev('c', 200)),
    emitted(ev('d', 150)),
    watermark(150),
    emitted(ev('e', 300)),
    watermark(200),
  ])
})

test('leaves a split out of the minimum once it had no data for idleTimeout, and sends Idle when all are idle', async (t) => {
  const { out } = await runScript({
    splits: ['p0', 'p1'],
    eventTime: { timestamp: (e) => e.t as number, watermark: { delay: 0, idleTimeout: 1_000 } },
    steps: [
      batch('p0', 1, ev('a', 100)),
      ({ clock }) => clock.advance(999),
      batch('p0', 2, ev('b', 200)),
      ({ clock }) => clock.advance(1),
      // p1 has been quiet for 1 s: it stops holding the watermark back.
      batch('p0', 3, ev('c', 300)),
      ({ clock }) => clock.advance(999),
      'idle',
      ({ clock }) => clock.advance(1),
      // p0 has now been quiet for 1 s as well.
      'idle',
      'idle',
      // p1 speaks again, behind the watermark already sent: it holds the minimum from now on.
      batch('p1', 1, ev('d', 50)),
      batch('p0', 4, ev('e', 400)),
      batch('p1', 2, ev('f', 350)),
    ],
  })
  t.deepEqual(out, [
    emitted(ev('a', 100)),
    emitted(ev('b', 200)),
    emitted(ev('c', 300)),
    watermark(300),
    IDLE,
    emitted(ev('d', 50)),
    emitted(ev('e', 400)),
    emitted(ev('f', 350)),
    watermark(350),
  ])
})

test('does not take a reader that holds data back for a later epoch for idle, however long it waits', async (t) => {
  const script = (throttled: boolean) =>
    runScript({
      splits: ['p0', 'p1'],
      eventTime: { timestamp: (e) => e.t as number, watermark: { delay: 0, idleTimeout: 1_000 } },
      throttled: () => throttled,
      steps: [
        batch('p0', 1, ev('a', 100)),
        batch('p1', 1, ev('b', 50)),
        ({ clock }) => clock.advance(5_000),
        'idle',
        'idle',
      ],
    })
  // Its share of the epoch read (maxFilesPerTrigger, maxOffsetsPerTrigger), it waits for a commit, not
  // for data: its splits keep holding the watermark.
  t.deepEqual((await script(true)).out, [emitted(ev('a', 100)), emitted(ev('b', 50)), watermark(50)])
  // Not holding anything back, both splits have been quiet for idleTimeout: the instance is idle.
  t.deepEqual((await script(false)).out, [emitted(ev('a', 100)), emitted(ev('b', 50)), watermark(50), IDLE])
})

test('moves the watermark of a bounded source to +∞ when it ends', async (t) => {
  const {
    out,
    finished,
    watermark: current,
  } = await runScript({
    splits: ['p0'],
    bounded: true,
    steps: [batch('p0', 1, ev('a', 100)), { ...batch('p0', 2, ev('b', 200)), splitEnded: true }, 'end'],
  })
  t.deepEqual(out, [emitted(ev('a', 100)), watermark(100), emitted(ev('b', 200)), watermark(Infinity)])
  t.is(finished, 1)
  t.is(current, Infinity)
})

test('moves the watermark of a bounded source to +∞ when it ends, even without a watermark option', async (t) => {
  const { out } = await runScript({
    splits: ['p0'],
    bounded: true,
    eventTime: {},
    steps: [batch('p0', 1, ev('a', 100)), 'end'],
  })
  t.deepEqual(out, [data([rec(ev('a', 100), null)]), watermark(Infinity)])
})

test('goes idle instead of moving the watermark to +∞ when an unbounded source ends (availableNow)', async (t) => {
  const { out, finished } = await runScript({
    splits: ['p0'],
    steps: [batch('p0', 1, ev('a', 100)), 'end'],
  })
  t.deepEqual(out, [emitted(ev('a', 100)), watermark(100), IDLE])
  t.is(finished, 1)
})

test('gives a record whose time cannot be extracted a null timestamp, and counts it', async (t) => {
  const { out, counters } = await runScript({
    splits: ['p0'],
    eventTime: {
      timestamp: (e) => {
        if (e.t === 'throw') throw new Error('no time')
        return e.t as number
      },
      watermark: { delay: 0 },
    },
    steps: [
      batch(
        'p0',
        5,
        ev('a', 100),
        ev('b', 'throw'),
        ev('c', NaN),
        ev('d', null),
        ev('e', Infinity),
        ev('f', 90),
      ),
    ],
  })
  t.deepEqual(out, [
    data([
      rec(ev('a', 100), 100),
      rec(ev('b', 'throw'), null),
      rec(ev('c', NaN), null),
      rec(ev('d', null), null),
      rec(ev('e', Infinity), null),
      rec(ev('f', 90), 90),
    ]),
    watermark(100),
  ])
  t.is(counters.numRowsWithoutEventTime, 4)
  t.is(counters.recordsOut, 6)
})

test('takes event times from the batch when no extractor is given', async (t) => {
  const { out, counters } = await runScript({
    splits: ['p0'],
    eventTime: { watermark: { delay: 5 } },
    steps: [{ ...batch('p0', 2, ev('a', 0), ev('b', 0), ev('c', 0)), timestamps: [40, null, NaN] }],
  })
  t.deepEqual(out, [data([rec(ev('a', 0), 40), rec(ev('b', 0), null), rec(ev('c', 0), null)]), watermark(35)])
  t.is(counters.numRowsWithoutEventTime, 2)
})

test('passes a barrier on between two batches, its snapshot holding the position of every split', async (t) => {
  const { out, snapshots } = await runScript({
    splits: ['p0', 'p1'],
    eventTime: {},
    steps: [
      batch('p0', 1, ev('a', 1)),
      batch('p1', 10, ev('b', 1)),
      ({ instance }) => instance.injectBarrier(barrier(0)),
      batch('p0', 2, ev('c', 1)),
      ({ instance }) => instance.injectBarrier(barrier(1, { checkpoint: false })),
      ({ instance }) => instance.injectBarrier(barrier(2)),
    ],
  })
  const row = (id: string) => data([rec(ev(id, 1), null)])
  t.deepEqual(out, [row('a'), row('b'), barrier(0), row('c'), barrier(1, { checkpoint: false }), barrier(2)])
  t.deepEqual(snapshots, [
    [
      0,
      {
        union: new Map<string, unknown>([
          ['p0', 1],
          ['p1', 10],
        ]),
      },
    ],
    [1, undefined],
    [
      2,
      {
        union: new Map<string, unknown>([
          ['p0', 2],
          ['p1', 10],
        ]),
      },
    ],
  ])
})

test('snapshots the restored positions of the splits it owns, and only those', async (t) => {
  const { snapshots } = await runScript({
    splits: ['p0', 'p1'],
    eventTime: {},
    // p2 was read by another instance before the restore, and still is.
    restored: new Map<string, unknown>([
      ['p0', 7],
      ['p1', 3],
      ['p2', 9],
    ]),
    steps: [batch('p0', 8, ev('a', 1)), ({ instance }) => instance.injectBarrier(barrier(5))],
  })
  t.deepEqual(snapshots, [
    [
      5,
      {
        union: new Map<string, unknown>([
          ['p0', 8],
          ['p1', 3],
        ]),
      },
    ],
  ])
})
