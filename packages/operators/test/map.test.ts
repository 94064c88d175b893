import test from 'ava'
import { barrier, data, DEAD_LETTER, END, OperatorError, watermark, type StreamRecord } from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'
import { map } from '../src/index.js'

const rec = <T>(value: T, timestamp: number | null = 5, key?: string): StreamRecord<T> => ({
  value,
  timestamp,
  key,
  window: undefined,
})

test('transforms values and keeps timestamps, keys and windows', (t) => {
  const h = OperatorHarness.open(map('double', (n: number) => n * 2))
  h.processRecords([rec(1, 10, 'a'), rec(2, null)])
  t.deepEqual(h.takeOutput(), [data([rec(2, 10, 'a'), rec(4, null)])])
})

test('forwards watermarks, barriers and End, and emits nothing for an empty batch', (t) => {
  const h = OperatorHarness.open(map('double', (n: number) => n * 2))
  h.processRecords([]).processWatermark(7).processBarrier(0).processEnd()
  t.deepEqual(h.takeOutput(), [watermark(7), barrier(0), END])
})

test('fails with an error that names the operator, the epoch and the record', (t) => {
  const h = OperatorHarness.open(
    map('parse', (s: string) => {
      if (s === 'bad') throw new Error('no good')
      return s
    }),
  )
  h.processBarrier(0)
  const error = t.throws(() => h.processRecords([rec('ok'), rec('bad')]), { instanceOf: OperatorError })
  t.is(error?.message, `operator 'parse' failed in epoch 1 on record "bad": no good`)
})

test('routes a record its function fails on to the dead-letter output, and goes on', (t) => {
  const h = OperatorHarness.open(
    map(
      'parse',
      (s: string) => {
        if (s === 'bad') throw new Error('no good')
        return s.toUpperCase()
      },
      { onError: 'dead-letter' },
    ),
  )
  h.processRecords([rec('a'), rec('bad'), rec('b')])
  t.deepEqual(h.takeOutput(), [data([rec('A'), rec('B')])])
  t.deepEqual(h.takeSideOutput(DEAD_LETTER), [
    data([rec({ operatorId: 'parse', epoch: 0, error: 'no good', value: 'bad' })]),
  ])
  t.is(h.counters.get('numDeadLetters'), 1)
})
