import test from 'ava'
import { data, slidingWindows, tumblingWindows, watermark, type StreamRecord } from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'
import { NO_EVENT_TIME, windowAssign } from '../src/index.js'

const rec = (timestamp: number | null): StreamRecord<string> => ({
  value: 'v',
  timestamp,
  key: undefined,
  window: undefined,
})
const slice = (timestamp: number, start: number, end: number): StreamRecord<string> => ({
  value: 'v',
  timestamp,
  key: undefined,
  window: { start, end },
})

test('tags each record with the slice of its time: the window, for tumbling windows', (t) => {
  const h = OperatorHarness.open(windowAssign('w', tumblingWindows({ size: 10 })))
  h.processRecords([rec(0), rec(9), rec(10), rec(-1)]).processWatermark(5)
  t.deepEqual(h.takeOutput(), [
    data([slice(0, 0, 10), slice(9, 0, 10), slice(10, 10, 20), slice(-1, -10, 0)]),
    watermark(5),
  ])
})

test('tags a sliding window record with its slice of gcd(size, slide)', (t) => {
  const h = OperatorHarness.open(windowAssign('w', slidingWindows({ size: 300_000, slide: 60_000 })))
  h.processRecords([rec(61_000), rec(59_999)])
  t.deepEqual(h.takeOutput(), [data([slice(61_000, 60_000, 120_000), slice(59_999, 0, 60_000)])])
})

test('counts a record without event time, and routes it to its side output when asked', (t) => {
  const counted = OperatorHarness.open(windowAssign('w', tumblingWindows({ size: 10 })))
  counted.processRecords([rec(null), rec(3)])
  t.deepEqual(counted.takeOutput(), [data([slice(3, 0, 10)])])
  t.is(counted.counters.get('numRowsWithoutWindow'), 1)

  const routed = OperatorHarness.open(
    windowAssign('w', tumblingWindows({ size: 10 }), { noTimeOutput: true }),
  )
  routed.processRecords([rec(null)])
  t.deepEqual(routed.takeOutput(), [])
  t.deepEqual(routed.takeSideOutput(NO_EVENT_TIME), [data([rec(null)])])
})
