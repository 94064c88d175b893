import { useKafka } from './mock-cluster.js'
import { captureLog, kcatRead, unique } from './helpers.js'
import { partitionOfKey, repartitionSink, type RepartitionRow } from '../../src/index.js'

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
  // 3,000 rows of about 600 bytes: 1.8 MB in one write, more than a broker takes in one batch.
  const big = 'x'.repeat(600)
  const rows: RepartitionRow[] = []
  for (let i = 0; i < 3000; i++)
    rows.push({ kind: 'data', writer: 'in-0', seq: i, t: 1000 + i, key: `k${i % 40}`, value: big })
  rows.push({ kind: 'watermark', writer: 'in-0', watermark: 2500 })
  await writer.write(rows, 0)
  await writer.close()

  const lines = (await kcatRead(kafka.brokers(), topic, '%p\\t%s\\n')).trim().split('\n')
  const seqs = new Map<number, number[]>()
  const last = new Map<number, string>()
  for (const line of lines) {
    const [p, value] = [Number(line.slice(0, line.indexOf('\t'))), line.slice(line.indexOf('\t') + 1)]
    t.true(value.length <= 128 * 1024, `a record of ${value.length} bytes`)
    for (const m of JSON.parse(value) as { k: string; s?: number; key?: string }[]) {
      if (m.k === 'd') {
        t.is(partitionOfKey(m.key!, 128, 4), p)
        seqs.set(p, [...(seqs.get(p) ?? []), m.s!])
      }
      last.set(p, m.k)
    }
  }
  const all = [...seqs.values()].flat()
  t.is(all.length, 3000)
  for (const [p, list] of seqs)
    t.deepEqual(
      list,
      [...list].sort((a, b) => a - b),
      `partition ${p} in order`,
    )
  // Every partition ends with the writer's watermark, after its data.
  t.deepEqual([...last.values()], ['w', 'w', 'w', 'w'])
})
