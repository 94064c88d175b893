import test from 'ava'
import { StreamingQueryManager } from '@weir/core'
import { CollectSink, listSource } from '@weir/core/testing'
import { desc, readStream, window } from '../../src/index.js'

interface Tweet {
  creation_time: Date | null
  tweet_text: string | null
}

const t0 = Date.UTC(2026, 10, 24, 10, 0, 0)
const tweets: Tweet[] = [
  { creation_time: new Date(t0 + 10_000), tweet_text: 'a b a' },
  { creation_time: new Date(t0 + 70_000), tweet_text: 'b  c ' },
  { creation_time: null, tweet_text: null },
]

test('counts words of a bounded input in complete mode, sorted', async (t) => {
  const out = new CollectSink<{ word: string; count: number }>()
  const query = await readStream(listSource(tweets))
    .explode('word', (row) => row.tweet_text?.split(' '))
    .groupBy('word')
    .count()
    .orderBy(desc('count'), 'word')
    .writeStream({
      sink: out,
      outputMode: 'complete',
      manager: new StreamingQueryManager(),
      trigger: { availableNow: true },
    })
    .start()
  await query.awaitTermination()
  t.deepEqual(out.rows(), [
    { word: '', count: 2 },
    { word: 'a', count: 2 },
    { word: 'b', count: 2 },
    { word: 'c', count: 1 },
  ])
  t.is(query.lastProgress?.numInputRows, 3)
})

test('counts tweets per sliding window with a watermark in update mode', async (t) => {
  const out = new CollectSink<Record<string, unknown>>()
  const query = await readStream(listSource(tweets))
    .withWatermark('creation_time', '1 minute')
    .groupBy(window('creation_time', '5 minutes', '1 minute'))
    .count()
    .writeStream({
      sink: out,
      outputMode: 'update',
      manager: new StreamingQueryManager(),
      trigger: { availableNow: true },
    })
    .start()
  await query.awaitTermination()
  const rows = out.rows().map((r) => {
    const w = r.window as { start: Date; end: Date }
    return `${w.start.toISOString().slice(11, 16)}-${w.end.toISOString().slice(11, 16)}=${String(r.count)}`
  })
  t.deepEqual(rows, [
    '09:56-10:01=1',
    '09:57-10:02=2',
    '09:58-10:03=2',
    '09:59-10:04=2',
    '10:00-10:05=2',
    '10:01-10:06=1',
  ])
})

test('explode keeps every other column of the row, one named __proto__ included', async (t) => {
  const out = new CollectSink<Record<string, unknown>>()
  const query = await readStream(listSource(['{"__proto__": {"x": 1}, "text": "a b"}', '{"text": "c"}']))
    .map((line) => JSON.parse(line) as { text: string })
    .explode('word', (row) => row.text.split(' '))
    .writeStream({
      sink: out,
      outputMode: 'append',
      manager: new StreamingQueryManager(),
      trigger: { availableNow: true },
    })
    .start()
  await query.awaitTermination()
  const rows = out.rows()
  t.deepEqual(
    rows.map((row) => [Object.keys(row), row.word, Object.getPrototypeOf(row) === Object.prototype]),
    [
      [['__proto__', 'text', 'word'], 'a', true],
      [['__proto__', 'text', 'word'], 'b', true],
      [['text', 'word'], 'c', true],
    ],
  )
  t.deepEqual(Object.getOwnPropertyDescriptor(rows[0], '__proto__')?.value, { x: 1 })
})
