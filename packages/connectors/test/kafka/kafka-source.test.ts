import {
  defineSink,
  defineSource,
  Job,
  ManualClock,
  MemoryStateBackend,
  StreamGraph,
  type SourceBatch,
  type SourceReader,
} from '@weir/core'
import { CollectSink } from '@weir/core/testing'
import { kafkaSource, type KafkaRecord, type KafkaSourceOptions } from '../../src/index.js'
import {
  captureLog,
  createTopic,
  GROUP,
  numbered,
  plain,
  produce,
  startJob,
  unique,
  waitFor,
  within,
} from './helpers.js'
import { useKafka } from './mock-cluster.js'

const kafka = useKafka()
const test = kafka.test

function source(topic: string, options: Partial<KafkaSourceOptions> = {}) {
  return kafkaSource({
    brokers: kafka.brokers(),
    subscribe: [topic],
    log: captureLog().log,
    ...GROUP,
    ...options,
  })
}

function graphOf(
  options: KafkaSourceOptions | ReturnType<typeof kafkaSource>,
  out: CollectSink<KafkaRecord>,
  parallelism = 1,
) {
  const graph = new StreamGraph()
  const src = 'createReader' in options ? options : kafkaSource(options)
  graph.from(defineSource('kafka', src), { parallelism }).to(defineSink('out', out), { parallelism })
  return graph
}

/** Polls a reader until it has `count` records (or says `end`), within a time limit. */
async function readAll(
  reader: SourceReader<KafkaRecord>,
  count: number,
  ms = 15_000,
): Promise<KafkaRecord[]> {
  const records: KafkaRecord[] = []
  const deadline = Date.now() + ms
  while (records.length < count) {
    if (Date.now() > deadline) throw new Error(`read ${records.length} of ${count} records in ${ms} ms`)
    const batch: SourceBatch<KafkaRecord> | 'idle' | 'end' = await reader.poll()
    if (batch === 'end') break
    if (batch !== 'idle') records.push(...batch.values)
  }
  return records
}

const context = (restored: Map<string, unknown> = new Map(), availableNow = false) => ({
  sourceId: 'kafka',
  instance: 0,
  parallelism: 1,
  clock: new ManualClock(0),
  restored,
  availableNow,
})

test('reads every record from the earliest offset through a query, with key, value, timestamp and headers', async (t) => {
  const topic = unique('earliest')
  const messages = numbered('v', 40).map((m, i) => ({ ...m, headers: { trace: `t${i}`, both: ['a', 'b'] } }))
  await produce(kafka.brokers(), topic, messages)
  const out = new CollectSink<KafkaRecord>()
  const job = await startJob(
    t,
    graphOf(source(topic, { startingOffsets: 'earliest', includeHeaders: true }), out),
  )
  await waitFor(() => out.rows().length >= 40, 20_000, '40 rows')
  await within(job.stop(), 20_000, 'the job to stop')
  const byPartition = (r: KafkaRecord) => r.partition * 1000 + r.offset
  const rows = out
    .rows()
    .sort((a, b) => byPartition(a) - byPartition(b))
    .map(plain)
  const expected = messages
    .map((m, i) => ({
      topic,
      partition: i % 4,
      offset: Math.floor(i / 4),
      key: `k${i}`,
      value: `v-${i}`,
      timestamp: 1_700_000_000_000 + i * 1000,
      headers: [
        ['trace', `t${i}`],
        ['both', 'a'],
        ['both', 'b'],
      ],
    }))
    .sort((a, b) => a.partition * 1000 + a.offset - (b.partition * 1000 + b.offset))
  t.deepEqual(rows, expected)
})

test("startingOffsets 'latest' reads only what comes after the query started, 'earliest' everything", async (t) => {
  const topic = unique('latest')
  await produce(kafka.brokers(), topic, numbered('before', 8))
  const latest = new CollectSink<KafkaRecord>()
  const earliest = new CollectSink<KafkaRecord>()
  await startJob(t, graphOf(source(topic, { startingOffsets: 'latest' }), latest))
  await startJob(t, graphOf(source(topic, { startingOffsets: 'earliest' }), earliest))
  await produce(kafka.brokers(), topic, numbered('after', 8))
  await waitFor(
    () => latest.rows().length >= 8 && earliest.rows().length >= 16,
    20_000,
    'the records after the start',
  )
  await new Promise((r) => setTimeout(r, 300))
  const values = (sink: CollectSink<KafkaRecord>) =>
    sink
      .rows()
      .map((r) => r.value!.toString())
      .sort()
  t.deepEqual(
    values(latest),
    numbered('after', 8)
      .map((m) => String(m.value))
      .sort(),
  )
  t.deepEqual(
    values(earliest),
    [...numbered('before', 8), ...numbered('after', 8)].map((m) => String(m.value)).sort(),
  )
})

test('availableNow reads up to the end offsets seen at start, then ends without a +∞ watermark', async (t) => {
  const topic = unique('available-now')
  await produce(kafka.brokers(), topic, numbered('v', 20))
  const out = new CollectSink<KafkaRecord>()
  const graph = new StreamGraph()
  graph
    .from(defineSource('kafka', source(topic, { startingOffsets: 'earliest' }), { watermark: { delay: 0 } }))
    .to(defineSink('out', out))
  const job = await Job.start(graph, { trigger: { kind: 'availableNow' } })
  await produce(kafka.brokers(), topic, numbered('late', 4))
  await within(job.done, 20_000, 'the availableNow run to finish')
  t.is(job.state, 'finished')
  t.deepEqual(
    out
      .rows()
      .map((r) => r.value!.toString())
      .sort(),
    numbered('v', 20)
      .map((m) => String(m.value))
      .sort(),
  )
  t.true(job.watermark < Infinity, 'an unbounded source never closes every window')
})

test('endingOffsets makes a bounded read that stops at the given offsets', async (t) => {
  const topic = unique('ending')
  await produce(kafka.brokers(), topic, numbered('v', 20))
  const out = new CollectSink<KafkaRecord>()
  const src = source(topic, { startingOffsets: 'earliest', endingOffsets: { [topic]: { 0: 2, 1: 5, 2: 0 } } })
  t.true(src.bounded)
  const job = await Job.start(graphOf(src, out), { trigger: { kind: 'processingTime', intervalMs: 100 } })
  await within(job.done, 20_000, 'the bounded read to finish')
  const got = out
    .rows()
    .map((r) => `${r.partition}@${r.offset}`)
    .sort()
  // partition 3 is left out of the JSON: it ends at the latest offset (5 records).
  t.deepEqual(
    got,
    ['0@0', '0@1', '3@0', '3@1', '3@2', '3@3', '3@4', '1@0', '1@1', '1@2', '1@3', '1@4'].sort(),
  )
})

test('a restored query resumes exactly where its last committed epoch ended', async (t) => {
  const topic = unique('restore')
  await produce(kafka.brokers(), topic, numbered('a', 20))
  const backend = new MemoryStateBackend()
  const first = new CollectSink<KafkaRecord>()
  const src = source(topic, { startingOffsets: 'earliest' })
  const run1 = await Job.start(graphOf(src, first, 2), {
    trigger: { kind: 'availableNow' },
    stateBackend: backend,
  })
  await within(run1.done, 20_000, 'the first run')
  await produce(kafka.brokers(), topic, numbered('b', 12, 20))
  const second = new CollectSink<KafkaRecord>()
  const run2 = await Job.start(graphOf(src, second, 2), {
    trigger: { kind: 'availableNow' },
    stateBackend: backend,
  })
  await within(run2.done, 20_000, 'the second run')
  t.deepEqual(
    first
      .rows()
      .map((r) => r.value!.toString())
      .sort(),
    numbered('a', 20)
      .map((m) => String(m.value))
      .sort(),
  )
  t.deepEqual(
    second
      .rows()
      .map((r) => r.value!.toString())
      .sort(),
    numbered('b', 12, 20)
      .map((m) => String(m.value))
      .sort(),
  )
})

test('a reader seeks to the positions in context.restored', async (t) => {
  const topic = unique('seek')
  await produce(kafka.brokers(), topic, numbered('v', 40))
  const reader = await source(topic, { startingOffsets: 'earliest' }).createReader(
    context(
      new Map<string, unknown>([
        [`${topic}-0`, 7],
        [`${topic}-2`, 10],
      ]),
      true,
    ),
  )
  try {
    const records = await readAll(reader, 40)
    const offsets = (p: number) => records.filter((r) => r.partition === p).map((r) => r.offset)
    t.deepEqual(offsets(0), [7, 8, 9])
    t.deepEqual(offsets(1), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    t.deepEqual(offsets(2), [])
    t.is(records.length, 3 + 10 + 0 + 10)
    t.is(await reader.poll(), 'end')
  } finally {
    await reader.close()
  }
})

test('a poison record (1 MiB, neither JSON nor UTF-8) flows through raw and later records follow', async (t) => {
  const topic = unique('poison')
  const poison = Buffer.alloc(1024 * 1024, 0xff)
  await produce(kafka.brokers(), topic, [
    { partition: 0, value: 'before' },
    { partition: 0, value: poison },
    { partition: 0, value: 'after-1' },
  ])
  await produce(kafka.brokers(), topic, [{ partition: 0, value: 'after-2' }])
  const reader = await source(topic, {
    startingOffsets: 'earliest',
    maxBytesPerPartition: 64 * 1024,
  }).createReader(context(new Map(), true))
  try {
    const records = await readAll(reader, 4)
    t.deepEqual(
      records.map((r) => r.offset),
      [0, 1, 2, 3],
    )
    t.is(records[1].value!.length, 1024 * 1024)
    t.true(records[1].value!.equals(poison))
    t.deepEqual(
      [records[0], records[2], records[3]].map((r) => r.value!.toString()),
      ['before', 'after-1', 'after-2'],
    )
  } finally {
    await reader.close()
  }
})

test('a restored position beyond the log end fails with a clear error (failOnDataLoss)', async (t) => {
  const topic = unique('loss')
  await produce(kafka.brokers(), topic, numbered('v', 8))
  const reader = await source(topic).createReader(context(new Map<string, unknown>([[`${topic}-1`, 500]])))
  try {
    const error = await t.throwsAsync(reader.poll())
    t.is((error as { code?: string }).code, 'data-loss')
    t.regex(
      error.message,
      new RegExp(`partition ${topic}-1 should resume at offset 500, but its log holds offsets 0 to 2`),
    )
    t.regex(error.message, /failOnDataLoss: false/)
  } finally {
    await reader.close()
  }
})

test('with failOnDataLoss false a lost position warns and starts that partition at the earliest offset', async (t) => {
  const topic = unique('loss-ok')
  await produce(kafka.brokers(), topic, numbered('v', 8))
  const { log, lines } = captureLog()
  const reader = await source(topic, { failOnDataLoss: false, log }).createReader(
    context(
      new Map<string, unknown>([
        [`${topic}-1`, 500],
        [`${topic}-0`, 2],
        [`${topic}-2`, 2],
        [`${topic}-3`, 2],
      ]),
      true,
    ),
  )
  try {
    const records = await readAll(reader, 2)
    t.deepEqual(records.map((r) => `${r.partition}@${r.offset}`).sort(), ['1@0', '1@1'])
    t.true(
      lines.some(
        (l) =>
          l.level === 'warn' &&
          /partition .*-1 should resume at offset 500.*reading it from offset 0 \(1 partition\(s\) reset so far\)/.test(
            l.message,
          ),
      ),
    )
  } finally {
    await reader.close()
  }
})

test('lists the partitions it owns before any record, so idle ones can time out', async (t) => {
  const topic = unique('splits')
  await createTopic(kafka.brokers(), topic)
  const src = source(topic)
  const readers = await Promise.all(
    [0, 1].map(async (instance) => await src.createReader({ ...context(), instance, parallelism: 2 })),
  )
  try {
    t.deepEqual(
      readers.map((r) => r.splits()),
      [
        [`${topic}-0`, `${topic}-2`],
        [`${topic}-1`, `${topic}-3`],
      ],
    )
  } finally {
    await Promise.all(readers.map((r) => r.close()))
  }
})
