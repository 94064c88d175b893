import test from 'ava'
import { decodeSnapshot, encodeSnapshot, type Key } from '@weir/core'

import { sum } from '../../src/aggregators.js'
import { GlobalTable } from '../../src/aggregate/global-table.js'
import { ADDED, compareRows, type OutputMode } from '../../src/aggregate/table.js'

function table(outputMode: OutputMode): GlobalTable<number, number | null, number | null> {
  return new GlobalTable({
    aggregator: sum((v: number) => v),
    outputMode,
    allowedLateness: 0,
    watermark: -Infinity,
  })
}

function add(x: GlobalTable<number, number | null, number | null>, key: Key, value: number): void {
  if (x.add({ value, timestamp: null, key }) !== ADDED) throw new Error('not added')
}

function rows(x: GlobalTable<number, number | null, number | null>): [Key, unknown][] {
  return x
    .flush()
    .sort(compareRows)
    .map((r) => [r.key, r.value])
}

test('update flushes the keys changed since the last flush; complete flushes every key', (t) => {
  const update = table('update')
  const complete = table('complete')
  for (const x of [update, complete]) {
    add(x, 'a', 1)
    add(x, undefined, 2)
    add(x, null, 3)
  }
  t.deepEqual(rows(update), [
    [null, 5],
    ['a', 1],
  ])
  t.deepEqual(rows(complete), [
    [null, 5],
    ['a', 1],
  ])
  for (const x of [update, complete]) add(x, 'b', 4)
  t.deepEqual(rows(update), [['b', 4]])
  t.deepEqual(rows(complete), [
    [null, 5],
    ['a', 1],
    ['b', 4],
  ])
  t.is(complete.size, 3)
})

test('nothing closes: the watermark changes no state', (t) => {
  const x = table('complete')
  add(x, 'a', 1)
  x.advance(Infinity)
  t.deepEqual(rows(x), [['a', 1]])
})

test('a snapshot restored through the codec goes on as the original', (t) => {
  const original = table('complete')
  for (const [key, value] of [
    ['a', 1],
    [2, 2],
    [null, 3],
  ] as const)
    add(original, key, value)
  const restored = table('complete')
  const groups = decodeSnapshot<Map<number, unknown>>(encodeSnapshot(original.snapshot(16)))
  for (const state of groups.values()) restored.load(state)
  for (const x of [original, restored]) add(x, 'a', 10)
  t.deepEqual(rows(restored), rows(original))
})
