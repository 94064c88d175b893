import test from 'ava'

import type { Partitioner } from '../../src/graph/stream-graph.js'
import { instanceForKey } from '../../src/keys/key-groups.js'
import { barrier, data, END, IDLE, record, watermark, type Message } from '../../src/messages/messages.js'
import { exchangeWriter } from '../../src/runtime/exchange.js'

/** An exchange writer over `channels` collecting channels; `received[i]` is what channel i got. */
function exchange(partitioner: Partitioner, channels: number) {
  const received: Message[][] = Array.from({ length: channels }, () => [])
  const writer = exchangeWriter(
    partitioner,
    received.map((list) => ({ process: (m: Message) => list.push(m) })),
    128,
  )
  return { writer, received }
}

const nums = (...values: number[]) => data(values.map((v) => record(v, v * 10)))
const control: Message[] = [watermark(5), barrier(1), IDLE, END]

test('forward hands every message to its one channel as it is', (t) => {
  const { writer, received } = exchange({ kind: 'forward' }, 1)
  const messages = [nums(1, 2), ...control]
  for (const m of messages) writer.process(m)
  t.deepEqual(received, [messages])
  t.is(received[0][0], messages[0])
})

test('broadcast sends every batch and every control message to every channel', (t) => {
  const { writer, received } = exchange({ kind: 'broadcast' }, 3)
  const messages = [nums(1, 2), watermark(5), nums(3), barrier(1), IDLE, END]
  for (const m of messages) writer.process(m)
  t.deepEqual(received, [messages, messages, messages])
})

test('rebalance deals records round-robin, carrying on across batches', (t) => {
  const { writer, received } = exchange({ kind: 'rebalance' }, 3)
  writer.process(nums(1, 2, 3, 4))
  writer.process(watermark(7))
  writer.process(nums(5, 6))
  writer.process(nums(7))
  t.deepEqual(received, [
    [nums(1, 4), watermark(7), nums(7)],
    [nums(2), watermark(7), nums(5)],
    [nums(3), watermark(7), nums(6)],
  ])
})

test('rebalance sends control messages to every channel', (t) => {
  const { writer, received } = exchange({ kind: 'rebalance' }, 2)
  for (const m of control) writer.process(m)
  t.deepEqual(received, [control, control])
})

test('rebalance over one channel passes batches through whole', (t) => {
  const { writer, received } = exchange({ kind: 'rebalance' }, 1)
  const batch = nums(1, 2, 3)
  writer.process(batch)
  t.deepEqual(received, [[batch]])
  t.is(received[0][0], batch)
})

const byWord: Partitioner = { kind: 'hash', key: (v: { word: string }) => v.word }
const words = (...list: string[]) =>
  data(list.map((word, i) => ({ value: { word }, timestamp: i, window: { start: 0, end: 10 } })))
const keyed = (...list: [string, number][]) =>
  data(
    list.map(([word, timestamp]) => ({
      value: { word },
      timestamp,
      key: word,
      window: { start: 0, end: 10 },
    })),
  )

test('hash sets the key of each record and sends it to the instance that owns its key group', (t) => {
  const { writer, received } = exchange(byWord, 3)
  writer.process(words('cherry', 'banana', 'apple', 'date'))
  t.deepEqual(received, [[keyed(['cherry', 0], ['date', 3])], [keyed(['banana', 1])], [keyed(['apple', 2])]])
  for (const [i, messages] of received.entries()) {
    for (const m of messages) {
      if (m.kind !== 'data') continue
      for (const r of m.records) t.is(instanceForKey(r.key, 128, 3), i)
    }
  }
})

test('hash sends no empty batch to an instance that gets no record', (t) => {
  const { writer, received } = exchange(byWord, 3)
  writer.process(words('apple', 'fig', 'lemon'))
  t.deepEqual(received, [[], [], [keyed(['apple', 0], ['fig', 1], ['lemon', 2])]])
})

test('hash sends control messages to every channel, in order with the batches', (t) => {
  const { writer, received } = exchange(byWord, 2)
  writer.process(watermark(1))
  writer.process(words('kiwi'))
  writer.process(barrier(2))
  for (const m of control) writer.process(m)
  // kiwi is owned by instance 0 of 2 (key group < 64).
  t.is(instanceForKey('kiwi', 128, 2), 0)
  t.deepEqual(received, [
    [watermark(1), keyed(['kiwi', 0]), barrier(2), ...control],
    [watermark(1), barrier(2), ...control],
  ])
})

test('hash over one channel keys every record of the batch', (t) => {
  const { writer, received } = exchange(byWord, 1)
  writer.process(words('apple', 'fig'))
  t.deepEqual(received, [[keyed(['apple', 0], ['fig', 1])]])
})
