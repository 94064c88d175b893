import test from 'ava'
import { barrier, data, type StreamRecord } from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'
import { sortLimit } from '../src/index.js'

interface Row {
  word: string | null
  count: number
}
const rec = (word: string | null, count: number): StreamRecord<Row> => ({
  value: { word, count },
  timestamp: null,
  key: undefined,
  window: undefined,
})

test('sorts each epoch at its barrier and keeps the first rows', (t) => {
  const h = OperatorHarness.open(
    sortLimit('top', {
      orderBy: [{ by: (r: Row) => r.count, descending: true }, { by: (r: Row) => r.word }],
      limit: 3,
    }),
  )
  h.processRecords([rec('b', 1), rec('a', 5)]).processRecords([rec('c', 5), rec('d', 2)])
  t.deepEqual(h.takeOutput(), [])
  h.processBarrier(0)
  t.deepEqual(h.takeOutput(), [data([rec('a', 5), rec('c', 5), rec('d', 2)]), barrier(0)])
  h.processRecords([rec('z', 1)]).processBarrier(1)
  t.deepEqual(h.takeOutput(), [data([rec('z', 1)]), barrier(1)], 'nothing is kept across epochs')
})

test('puts nulls first ascending and last descending, and sorts by code point', (t) => {
  const byWord = (descending: boolean) =>
    OperatorHarness.open(sortLimit('s', { orderBy: [{ by: (r: Row) => r.word, descending }] }))
  const input = [rec('！', 1), rec(null, 1), rec('😀', 1), rec('a', 1)]
  const up = byWord(false).processRecords(input).processBarrier(0)
  t.deepEqual(
    up.takeValues().map((r) => r.word),
    [null, 'a', '！', '😀'],
  )
  const down = byWord(true).processRecords(input).processBarrier(0)
  t.deepEqual(
    down.takeValues().map((r) => r.word),
    ['😀', '！', 'a', null],
  )
})

test('sorts windows by start, then end', (t) => {
  const w = (start: number, end: number) => ({ window: { start: new Date(start), end: new Date(end) } })
  const h = OperatorHarness.open(sortLimit('s', { orderBy: [{ by: (r: ReturnType<typeof w>) => r.window }] }))
  h.processRecords(
    [w(60, 120), w(0, 120), w(0, 60)].map((value) => ({ value, timestamp: null })),
  ).processBarrier(0)
  t.deepEqual(h.takeValues(), [w(0, 60), w(0, 120), w(60, 120)])
})
