import test from 'ava'
import { decodeSnapshot, encodeSnapshot, sessionWindows, type Key } from '@weir/core'

import { count } from '../../src/aggregators.js'
import { SessionTable } from '../../src/aggregate/session-table.js'
import { ADDED, compareRows, LATE, type OutputMode } from '../../src/aggregate/table.js'
import { rec } from './runs.js'

const gap10 = sessionWindows({ gap: 10 })

function table(
  outputMode: OutputMode,
  watermark = -Infinity,
  allowedLateness = 0,
): SessionTable<number, number, number> {
  return new SessionTable({ aggregator: count(), outputMode, windows: gap10, allowedLateness, watermark })
}

function rows(x: SessionTable<number, number, number>): [Key, number, number, number][] {
  return x
    .flush()
    .sort(compareRows)
    .map((r) => [r.key, r.window!.start, r.window!.end, r.value])
}

// [title, record times of key 'a' in arrival order, sessions as [start, end, count]]
const merging: [string, number[], [number, number, number][]][] = [
  ['one record is one session of gap length', [5], [[5, 15, 1]]],
  ['overlapping records share a session', [0, 9], [[0, 19, 2]]],
  ['touching proto-windows merge, as in Spark and Flink', [0, 10], [[0, 20, 2]]],
  [
    'a gap longer than the gap splits sessions',
    [0, 11],
    [
      [0, 10, 1],
      [11, 21, 1],
    ],
  ],
  ['a record before a session extends it backwards', [20, 12], [[12, 30, 2]]],
  ['a record between two sessions bridges them', [0, 20, 10], [[0, 30, 3]]],
  [
    'a record that touches neither neighbour stays apart',
    [0, 30, 15],
    [
      [0, 10, 1],
      [15, 25, 1],
      [30, 40, 1],
    ],
  ],
  ['a record inside a session only counts', [0, 8, 3], [[0, 18, 3]]],
  ['bridges chain sessions together', [0, 20, 40, 10, 30], [[0, 50, 5]]],
]

for (const [title, times, sessions] of merging) {
  test(title, (t) => {
    const x = table('complete')
    for (const time of times) x.add(rec(gap10, 'a', time, 0))
    t.deepEqual(
      rows(x),
      sessions.map(([start, end, n]) => ['a', start, end, n] as [Key, number, number, number]),
    )
    t.is(x.size, sessions.length)
  })
}

test('a record is late only when it joins no open session and its proto-window is closed', (t) => {
  const x = table('append', 20)
  t.is(x.add(rec(gap10, 'a', 10, 0)), LATE) // [10, 20) is closed, and there is no session to join
  t.is(x.size, 0)
  t.is(x.add(rec(gap10, 'a', 15, 0)), ADDED) // [15, 25) open
  t.is(x.add(rec(gap10, 'a', 9, 0)), ADDED) // [9, 19) is closed but overlaps the open [15, 25)
  t.is(x.add(rec(gap10, 'b', 9, 0)), LATE)
  x.advance(25)
  t.deepEqual(rows(x), [['a', 9, 25, 2]])
})

test('closes sessions by end + allowedLateness and keeps the rest', (t) => {
  const x = table('append', -Infinity, 5)
  for (const [key, time] of [
    ['a', 0],
    ['b', 3],
    ['a', 30],
  ] as const)
    x.add(rec(gap10, key, time, 0))
  x.advance(14)
  t.deepEqual(rows(x), [])
  x.advance(15)
  t.deepEqual(rows(x), [['a', 0, 10, 1]])
  t.is(x.size, 2)
  x.advance(45)
  t.deepEqual(rows(x), [
    ['b', 3, 13, 1],
    ['a', 30, 40, 1],
  ])
  t.is(x.size, 0)
})

test('a snapshot restored through the codec goes on as the original', (t) => {
  const original = table('append')
  for (const [key, time] of [
    ['a', 0],
    ['b', 3],
    ['a', 30],
    ['c', 12],
  ] as const)
    original.add(rec(gap10, key, time, 0))
  const restored = table('append')
  for (const state of decodeSnapshot<Map<number, unknown>>(encodeSnapshot(original.snapshot(4))).values())
    restored.load(state)
  t.is(restored.size, original.size)
  for (const x of [original, restored]) {
    x.add(rec(gap10, 'a', 15, 0)) // bridges a's sessions
    x.advance(50)
  }
  t.deepEqual(rows(restored), rows(original))
  t.deepEqual(rows(original), [], 'flushed')
})
