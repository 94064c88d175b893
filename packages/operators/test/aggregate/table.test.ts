import test from 'ava'
import { ConfigError, type Key } from '@weir/core'

import { compareKeys, compareRows, entriesOf, KeyGroupWriter, row } from '../../src/aggregate/table.js'

test('orders keys by type name, then numbers numerically and strings by code unit', (t) => {
  const keys: Key[] = ['b', 10, null, 'B', 2, true, 'a', -1, false, 2n, 'ä', 1.5]
  t.deepEqual([...keys].sort(compareKeys), [2n, false, true, null, -1, 1.5, 2, 10, 'B', 'a', 'b', 'ä'])
})

test('orders rows by window start, then window end, then key', (t) => {
  const rows = [
    row('a', { start: 5, end: 15 }, 0),
    row('b', { start: 0, end: 10 }, 0),
    row('a', { start: 0, end: 20 }, 0),
    row(1, { start: 0, end: 10 }, 0),
    row('a', { start: 0, end: 10 }, 0),
  ]
  t.deepEqual(
    rows.sort(compareRows).map((r) => [r.window!.start, r.window!.end, r.key]),
    [
      [0, 10, 1],
      [0, 10, 'a'],
      [0, 10, 'b'],
      [0, 20, 'a'],
      [5, 15, 'a'],
    ],
  )
})

test('writes entries per key group and reads them back only for the same kind of table', (t) => {
  const writer = new KeyGroupWriter<[Key, number]>('slices', 4)
  writer.push('a', ['a', 1])
  writer.push('a', ['a', 2])
  writer.push(7, [7, 3])
  const groups = writer.finish()
  const all = [...groups.values()].flatMap((state) => entriesOf<[Key, number]>(state, 'slices'))
  t.deepEqual(
    all.sort((x, y) => x[1] - y[1]),
    [
      ['a', 1],
      ['a', 2],
      [7, 3],
    ],
  )
  const state = [...groups.values()][0]
  t.throws(() => entriesOf(state, 'sessions'), {
    instanceOf: ConfigError,
    message:
      "the checkpoint holds state of a 'slices' aggregate but the query now runs a 'sessions' one (the windows or the aggregator changed): keep them, or start the query with a new checkpoint location",
  })
  t.throws(() => entriesOf({ nope: true }, 'slices'), { instanceOf: ConfigError, message: /cannot read/ })
})
