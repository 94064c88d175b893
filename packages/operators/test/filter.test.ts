import test from 'ava'
import { barrier, data, watermark, type DataMessage, type StreamRecord } from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'
import { filter } from '../src/index.js'

const rec = (value: number): StreamRecord<number> => ({
  value,
  timestamp: value,
  key: undefined,
  window: undefined,
})

test('keeps the records that pass, the same objects, in order', (t) => {
  const h = OperatorHarness.open(filter('even', (n: number) => n % 2 === 0))
  const records = [rec(1), rec(2), rec(3), rec(4)]
  h.processRecords(records).processWatermark(4).processBarrier(0)
  const output = h.takeOutput()
  t.deepEqual(output, [data([rec(2), rec(4)]), watermark(4), barrier(0)])
  t.is((output[0] as DataMessage<number>).records[0], records[1])
})

test('emits no batch when nothing passes', (t) => {
  const h = OperatorHarness.open(filter('none', () => false))
  h.processRecords([rec(1)])
  t.deepEqual(h.takeOutput(), [])
})
