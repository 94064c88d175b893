import { ManualClock, type SourceBatch } from '@weir/core'
import { useKafka } from './mock-cluster.js'
import { captureLog, kcatReadValues, unique } from './helpers.js'
import {
  partitionOfKey,
  repartitionSink,
  repartitionSource,
  type RepartitionInput,
  type RepartitionRow,
} from '../../src/index.js'
import { decodeRecord, type RepartitionMessage } from '../../src/kafka/repartition/repartition-record.js'

const kafka = useKafka()
const test = kafka.test

test('writes a partition its messages in order, in records and sends a broker takes, and watermarks after the data', async (t) => {
  const topic = unique('repartition')
  const sink = repartitionSink({ brokers: kafka.brokers(), log: captureLog().log, topic })
  const writer = await sink.createWriter({
    sinkId: 'repartition',
    instance: 0,
    parallelism: 1,
    firstEpoch: 0,
  })
  // 3,000 rows of about 600 bytes, 5 per input record: 1.8 MB in one write, more than a broker takes
  // in one batch. Keys of several types; values with a Date.
  const big = 'x'.repeat(600)
  const keyOf = (i: number) => (i % 3 === 0 ? i % 40 : i % 3 === 1 ? `k${i % 40}` : null)
  const rows: RepartitionRow[] = []
  for (let i = 0; i < 3000; i++) {
    const value = { big, at: new Date(1000 + i) }
    rows.push({
      kind: 'data',
      writer: 'in-0',
      offset: Math.floor(i / 5),
      index: i % 5,
      t: 1000 + i,
      key: keyOf(i),
      value,
    })
  }
  rows.push({ kind: 'watermark', writer: 'in-0', watermark: 2500 })
  await writer.write(rows, 0)
  await writer.close()

  const records = await kcatReadValues(kafka.brokers(), topic)
  const places = new Map<number, [number, number][]>()
  const last = new Map<number, string>()
  for (const { partition: p, value } of records) {
    t.true(value.length <= 128 * 1024, `a record of ${value.length} bytes`)
    for (const m of decodeRecord(value) as RepartitionMessage[]) {
      if (m.k === 'd') {
        t.is(partitionOfKey(m.key, 128, 4), p)
        t.deepEqual(m.v, { big, at: new Date(m.t!) })
        places.set(p, [...(places.get(p) ?? []), [m.s, m.i]])
      }
      last.set(p, m.k)
    }
  }
  t.is([...places.values()].flat().length, 3000)
  for (const [p, list] of places)
    t.deepEqual(
      list,
      [...list].sort((a, b) => a[0] - b[0] || a[1] - b[1]),
      `partition ${p} in order`,
    )
  // Every partition ends with the writer's watermark, after its data.
  t.deepEqual([...last.values()], ['w', 'w', 'w', 'w'])

  // The source reads every row back once, with its key and its Date.
  const left = new Map(
    [0, 1, 2, 3].map((p) => [
      p,
      records.filter((r) => r.partition === p).map((r, offset) => ({ offset, value: r.value })),
    ]),
  )
  const reader = await repartitionSource({
    topic,
    partitions: [0, 1, 2, 3],
    writers: ['in-0'],
    feed: {
      take: (p) => {
        const list = left.get(p) ?? []
        left.delete(p)
        return list
      },
      wait: () => Promise.resolve(),
    },
  }).createReader({
    sourceId: 'source',
    instance: 0,
    parallelism: 1,
    clock: new ManualClock(0),
    restored: new Map(),
    availableNow: false,
  })
  const read: RepartitionInput[] = []
  for (let p = 0; p < 4; p++) {
    const batch = (await reader.poll()) as SourceBatch<RepartitionInput>
    read.push(...batch.values)
    t.is(batch.watermark, 2500)
  }
  const byTime = (a: RepartitionInput, b: RepartitionInput) => ('t' in a && 't' in b ? a.t! - b.t! : 0)
  t.deepEqual(
    read.sort(byTime),
    rows.flatMap((r) => (r.kind === 'data' ? [{ key: r.key, t: r.t, value: r.value }] : [])),
  )
})
