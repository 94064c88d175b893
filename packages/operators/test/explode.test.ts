import test from 'ava'
import { data, type DataMessage, type StreamRecord } from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'
import { explode } from '../src/index.js'

const rec = <T>(value: T, timestamp: number | null, key?: string): StreamRecord<T> => ({
  value,
  timestamp,
  key,
  window: undefined,
})

test('splits like Spark: empty tokens kept, every row with its input time and key', (t) => {
  const h = OperatorHarness.open(explode('words', (s: string | null) => s?.split(' ')))
  h.processRecords([rec('a  b ', 1000, 'k'), rec(null, 2000), rec('', 3000)])
  t.deepEqual(h.takeOutput(), [
    data([rec('a', 1000, 'k'), rec('', 1000, 'k'), rec('b', 1000, 'k'), rec('', 1000, 'k'), rec('', 3000)]),
  ])
})

test('takes any iterable', (t) => {
  const h = OperatorHarness.open(
    explode('range', function* (n: number) {
      for (let i = 0; i < n; i++) yield i
    }),
  )
  h.processRecords([rec(3, 1)])
  t.deepEqual(h.takeOutput(), [data([rec(0, 1), rec(1, 1), rec(2, 1)])])
})

test('emits a large input in several batches, in order', (t) => {
  const h = OperatorHarness.open(explode('twice', (n: number) => [n, n]))
  const input = Array.from({ length: 200 }, (_, i) => rec(i, i))
  h.processRecords(input)
  const output = h.takeOutput() as DataMessage<number>[]
  t.true(output.length > 1)
  t.deepEqual(
    output.flatMap((m) => m.records.map((r) => r.value)),
    input.flatMap((r) => [r.value, r.value]),
  )
})
