import test from 'ava'
import {
  decodeSnapshot,
  encodeSnapshot,
  keyGroupOf,
  slidingWindows,
  tumblingWindows,
  type Key,
  type WindowAssigner,
} from '@weir/core'

import { count, sum, type Aggregator } from '../../src/aggregators.js'
import { SlicedTable } from '../../src/aggregate/sliced-table.js'
import { ADDED, compareRows, LATE, NO_EVENT_TIME, type OutputMode } from '../../src/aggregate/table.js'
import { rec } from './runs.js'

const sliding = slidingWindows({ size: 10, slide: 2 })

function table<A, R>(
  aggregator: Aggregator<number, A, R>,
  outputMode: OutputMode,
  windows: WindowAssigner = sliding,
  watermark = -Infinity,
): SlicedTable<number, A, R> {
  return new SlicedTable({ aggregator, outputMode, windows, allowedLateness: 0, watermark })
}

function unmergeable<A, R>(aggregator: Aggregator<number, A, R>): Aggregator<number, A, R> {
  return {
    name: aggregator.name,
    init: () => aggregator.init(),
    add: (acc, value) => aggregator.add(acc, value),
    result: (acc) => aggregator.result(acc),
  }
}

/** Flushed rows as [start, end, key, value], sorted. */
function rows(t: SlicedTable<number, unknown, unknown>): [number, number, Key, unknown][] {
  return t
    .flush()
    .sort(compareRows)
    .map((r) => [r.window!.start, r.window!.end, r.key, r.value])
}

test('keeps one accumulator per slice and key, however many windows overlap it', (t) => {
  const sliced = table(count(), 'complete')
  const perWindow = table(unmergeable(count()), 'complete')
  for (const x of [sliced, perWindow]) {
    for (const [key, time] of [
      ['a', 3],
      ['a', 3],
      ['a', 2],
      ['b', 2],
      ['a', 7],
    ] as const)
      x.add(rec(sliding, key, time, 0))
  }
  t.is(sliced.size, 3) // slices [2, 4) × {a, b}, [6, 8) × {a}
  t.is(perWindow.size, 5 + 5 + 2) // a: windows of 2 and 6, b: 5 windows
  const expected = rows(perWindow)
  t.deepEqual(rows(sliced), expected)
  t.deepEqual(expected.slice(0, 3), [
    [-6, 4, 'a', 3],
    [-6, 4, 'b', 1],
    [-4, 6, 'a', 3],
  ])
})

test('says which records are late and which have no event time', (t) => {
  const x = table(count(), 'append', sliding, 10)
  t.is(x.add(rec(sliding, 'a', 1, 0)), LATE) // last window [0, 10)
  t.is(x.add(rec(sliding, 'a', 2, 0)), ADDED) // last window [2, 12)
  t.is(x.add(rec(sliding, 'a', null, 0)), NO_EVENT_TIME)
  t.is(x.size, 1)
})

test('freezes each closing window once and purges slices whose windows all closed', (t) => {
  const x = table(
    sum((v: number) => v),
    'append',
  )
  x.add(rec(sliding, 'a', 1, 1))
  x.add(rec(sliding, 'a', 9, 10))
  x.advance(4) // closes [-8, 2) and [-6, 4)
  t.deepEqual(rows(x), [
    [-8, 2, 'a', 1],
    [-6, 4, 'a', 1],
  ])
  x.advance(3)
  t.deepEqual(rows(x), [], 'a watermark that does not rise changes nothing')
  x.add(rec(sliding, 'a', 1, 100)) // slice [0, 2) still open for [0, 10)
  x.advance(10)
  t.deepEqual(rows(x), [
    [-4, 6, 'a', 101],
    [-2, 8, 'a', 101],
    [0, 10, 'a', 111],
  ])
  t.is(x.size, 1) // only slice [8, 10) remains
  x.advance(Infinity) // the 4 windows of [8, 10) still open
  t.is(rows(x).length, 4)
  t.is(x.size, 0)
})

test('a tumbling window is its own slice and needs no merge', (t) => {
  const tumbling = tumblingWindows({ size: 10 })
  const x = table(unmergeable(count()), 'update', tumbling)
  for (const time of [1, 5, 12]) x.add(rec(tumbling, 'a', time, 0))
  t.is(x.size, 2)
  t.deepEqual(rows(x), [
    [0, 10, 'a', 2],
    [10, 20, 'a', 1],
  ])
  t.deepEqual(rows(x), [], 'update: nothing changed since the last flush')
})

test('a snapshot restored through the codec, at any key-group split, goes on as the original', (t) => {
  for (const mode of ['append', 'update', 'complete'] as const) {
    const original = table(count(), mode)
    const keys: Key[] = ['a', 'b', 3, 'd']
    keys.forEach((key, i) => original.add(rec(sliding, key, i * 3, 0)))
    original.advance(6)
    original.flush()
    const groups = original.snapshot(8)
    for (const [group, state] of groups) {
      for (const [, , key] of (state as [string, [number, number, Key, number][]])[1])
        t.is(keyGroupOf(key, 8), group)
    }
    const restored = table(count(), mode, sliding, original.watermark)
    for (const state of decodeSnapshot<Map<number, unknown>>(encodeSnapshot(groups)).values())
      restored.load(state)
    t.is(restored.size, original.size)
    for (const x of [original, restored]) {
      x.add(rec(sliding, 'a', 7, 0))
      x.add(rec(sliding, 'e', 9, 0))
      x.advance(12)
    }
    t.deepEqual(rows(restored), rows(original), mode)
  }
})

test('a snapshot is fresh: later changes to the table do not reach it', (t) => {
  const x = table(count(), 'update')
  x.add(rec(sliding, 'a', 1, 0))
  const snapshot = x.snapshot(128)
  const copy = decodeSnapshot(encodeSnapshot(snapshot))
  x.add(rec(sliding, 'a', 1, 0))
  x.add(rec(sliding, 'b', 1, 0))
  x.advance(20)
  t.deepEqual(snapshot, copy)
})
