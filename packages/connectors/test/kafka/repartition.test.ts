import test from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pack } from 'msgpackr'
import {
  Counters,
  DEAD_LETTER,
  decodeSnapshot,
  defineSink,
  defineSource,
  encodeSnapshot,
  Job,
  keyGroupOf,
  keyGroupRange,
  ManualClock,
  record,
  StreamGraph,
  type Checkpoint,
  type DeadLetter,
  type Key,
  type SourceBatch,
  type SourceReaderContext,
} from '@weir/core'
import { CollectSink, OperatorHarness } from '@weir/core/testing'
import {
  decodeRepartitioned,
  isReleased,
  partitionCheckpoints,
  partitionOfKey,
  readPartitionCheckpoint,
  releasePartition,
  repartitionRows,
  repartitionSource,
  type RepartitionData,
  type RepartitionFeed,
  type RepartitionInput,
  type RepartitionMessage,
  type RepartitionPosition,
  type RepartitionRow,
} from '../../src/index.js'
import { decodeRecord, encodeRecord, toMessage } from '../../src/kafka/repartition/repartition-record.js'

const data = (w: string, s: number, i: number, key: Key, v: unknown = null): RepartitionMessage => ({
  k: 'd',
  w,
  s,
  i,
  t: 1000 + s,
  key,
  v,
})
const mark = (w: string, wm: number): RepartitionMessage => ({ k: 'w', w, wm })

test('a repartition record carries its messages in order, and rows keep their types', (t) => {
  const at = new Date(Date.UTC(2026, 10, 24, 10, 0, 0, 250))
  const messages: RepartitionMessage[] = [
    data('tweets-0', 2 ** 40, 299, 1764000000000, {
      at,
      max: Infinity,
      min: -Infinity,
      nothing: null,
      missing: undefined,
      big: 2n ** 70n,
      nested: { tags: ['a', { at, n: -0.5 }] },
    }),
    data('tweets-0', 7, 0, null, 'v'),
    data('tweets-0', 7, 1, 'ünïcode'),
    data('tweets-0', 7, 2, true),
    data('tweets-0', 7, 3, 5n),
    data('tweets-0', 7, 4, undefined),
    data('tweets-0', 7, 5, -1.5),
    // A row without an event time crosses too.
    { k: 'd', w: 'tweets-0', s: 8, i: 0, t: null, key: 'k', v: 1 },
    mark('tweets-3', -Infinity),
    mark('tweets-3', Infinity),
    mark('tweets-1', 42),
  ]
  const bytes = encodeRecord(messages)
  t.true(Buffer.isBuffer(bytes))
  const decoded = decodeRecord(bytes)
  t.deepEqual(decoded, messages)
  const first = decoded[0] as { v: { at: unknown; nested: { tags: [string, { at: unknown }] } } }
  t.true(first.v.at instanceof Date)
  t.true(first.v.nested.tags[1].at instanceof Date)
  // One message alone, not in an array, is a record of one.
  t.deepEqual(decodeRecord(pack({ k: 'w', w: 'x', wm: 5 })), [{ k: 'w', w: 'x', wm: 5 }])
})

test('what is no repartition message is refused with its reason, the good messages beside it kept', (t) => {
  t.deepEqual(decodeRecord(Buffer.from('garbage')), [
    'not msgpack (Data read, but end of buffer not reached 103)',
  ])
  t.deepEqual(decodeRecord(Buffer.alloc(0)), ['not msgpack (Unexpected end of MessagePack data)'])
  t.deepEqual(decodeRecord(Buffer.from('[{"k":"w","w":"x","wm":5}]')), [
    'not msgpack (Data read, but end of buffer not reached 91; JSON text, from a version 1 writer?)',
  ])
  t.deepEqual(decodeRecord(pack(3)), ['not a repartition message'])
  const reasons = decodeRecord(
    pack([
      { k: 'd', s: 1, i: 0, t: 1, key: 'a' },
      { k: 'd', w: 'x', s: 1.5, i: 0, t: 1, key: 'a' },
      { k: 'd', w: 'x', s: -1, i: 0, t: 1, key: 'a' },
      { k: 'd', w: 'x', s: 1, t: 1, key: 'a' },
      { k: 'd', w: 'x', s: 1, i: -2, t: 1, key: 'a' },
      { k: 'd', w: 'x', s: 1, i: 0, t: 'soon', key: 'a' },
      { k: 'd', w: 'x', s: 1, i: 0, t: 1 },
      { k: 'd', w: 'x', s: 1, i: 0, t: 1, key: { a: 1 } },
      { k: 'd', w: 'x', s: 1, i: 0, t: 1, key: new Date(0) },
      { k: 'w', w: 'x', wm: 'high' },
      { k: 'w', w: 'x', wm: NaN },
      { k: 'z', w: 'x' },
      { k: 'w', w: 'x', wm: 7 },
      { k: 'd', w: 'x', s: 1, i: 0, t: 1, key: null, v: 1 },
    ]),
  )
  t.deepEqual(reasons, [
    'no writer (w)',
    'input offset (s) 1.5 is not a whole number >= 0',
    'input offset (s) -1 is not a whole number >= 0',
    'index (i) undefined is not a whole number >= 0',
    'index (i) -2 is not a whole number >= 0',
    'event time "soon" is neither a number nor null',
    'no key',
    'key {"a":1} is not a string, number, boolean, bigint, null or undefined',
    'key Date 1970-01-01T00:00:00.000Z is not a string, number, boolean, bigint, null or undefined',
    'watermark "high" is not a number',
    'watermark null is not a number',
    `kind "z" is neither 'd' (data) nor 'w' (watermark)`,
    { k: 'w', w: 'x', wm: 7 },
    { k: 'd', w: 'x', s: 1, i: 0, t: 1, key: null, v: 1 },
  ])
})

test('a key of any type always lands in the partition that holds its key group', (t) => {
  const keys: Key[] = [
    'a',
    'b',
    '1764000000000',
    1764000000000,
    0,
    -1.5,
    true,
    false,
    null,
    undefined,
    5n,
    'ünïcode',
  ]
  for (const key of keys) {
    const p = partitionOfKey(key, 128, 4)
    const range = keyGroupRange(p, 4, 128)
    const group = keyGroupOf(key, 128)
    t.true(group >= range.start && group < range.end, String(key))
  }
})

/** A feed that hands each partition its records (a message is a record of one), once, from offset 0. */
function feedOf(records: Record<number, readonly (RepartitionMessage | Buffer | null)[]>): RepartitionFeed {
  const left = new Map(
    Object.entries(records).map(([p, list]) => [
      Number(p),
      list.map((r, offset) => ({
        offset,
        value: r === null || Buffer.isBuffer(r) ? r : encodeRecord([r]),
      })),
    ]),
  )
  return {
    take: (p) => {
      const list = left.get(p) ?? []
      left.delete(p)
      return list
    },
    wait: () => Promise.resolve(),
  }
}

function context(restored: ReadonlyMap<string, unknown> = new Map()): SourceReaderContext {
  return {
    sourceId: 'source',
    instance: 0,
    parallelism: 1,
    clock: new ManualClock(0),
    restored,
    availableNow: false,
  }
}

/** One poll of a reader of partition 0 of `q-agg-repartition`. */
async function readOnce(
  writers: readonly string[],
  records: readonly (RepartitionMessage | Buffer | null)[],
  restored?: RepartitionPosition,
): Promise<SourceBatch<RepartitionInput>> {
  const reader = await repartitionSource({
    topic: 'q-agg-repartition',
    partitions: [0],
    writers,
    feed: feedOf({ 0: records }),
  }).createReader(context(new Map(restored ? [['q-agg-repartition-0', restored]] : [])))
  return (await reader.poll()) as SourceBatch<RepartitionInput>
}

const keysOf = (batch: SourceBatch<RepartitionInput>) =>
  batch.values.map((v) => ('rejected' in v ? v.rejected : v.key))

test('the source drops replays by (input offset, index) per writer, holds the watermark at the slowest writer, and rejects what is not a message', async (t) => {
  const batch = await readOnce(
    ['in-0', 'in-1'],
    [
      data('in-0', 1, 0, 'a'),
      data('in-0', 1, 1, 'b'),
      mark('in-0', 500),
      data('in-0', 1, 1, 'b'), // replays: in-0 re-read its input after a rebalance
      data('in-0', 1, 0, 'a'),
      data('in-0', 0, 7, 'z'), // an earlier input record, however many rows it had
      data('in-0', 2, 0, 'c'), // the next input record's first row
      Buffer.from('garbage'),
      null,
      data('in-1', 7, 3, 'd'),
      mark('in-1', 300),
    ],
  )
  t.deepEqual(keysOf(batch), [
    'a',
    'b',
    'c',
    'not msgpack (Data read, but end of buffer not reached 103) (offset 7)',
    'no value (a tombstone) (offset 8)',
    'd',
  ])
  t.deepEqual(batch.timestamps, [1001, 1001, 1002, null, null, 1007])
  t.is(batch.watermark, 300)
  t.deepEqual(batch.position as RepartitionPosition, {
    offset: 11,
    writers: {
      'in-0': { watermark: 500, offset: 2, index: 0 },
      'in-1': { watermark: 300, offset: 7, index: 3 },
    },
  })

  // A writer not heard of yet holds the partition's watermark at -∞.
  t.is((await readOnce(['in-0', 'in-1'], [mark('in-0', 500)])).watermark, -Infinity)
})

test('a row that fans out to 300 keys crosses the topic whole, and its replay is dropped', async (t) => {
  const at = new Date(Date.UTC(2026, 10, 24, 10))
  const h = OperatorHarness.open(
    repartitionRows<{ p: number; o: number }>('rows', {
      writer: (r) => `in-${r.p}`,
      offset: (r) => r.o,
      delay: 100,
      fanOut: (r, time) => Array.from({ length: 300 }, (_, j) => ({ key: j, value: { at, time, o: r.o } })),
    }),
  )
  h.processRecords([record({ p: 0, o: 41 }, 1000)])
  const rows = h.takeValues()
  t.is(rows.length, 301)
  t.deepEqual(rows[299], {
    kind: 'data',
    writer: 'in-0',
    offset: 41,
    index: 299,
    t: 1000,
    key: 299,
    value: { at, time: 1000, o: 41 },
  })
  const written = encodeRecord(rows.map(toMessage))
  // The upstream task wrote it, crashed before its epoch committed, and wrote it again.
  const batch = await readOnce(['in-0'], [written, written])
  t.deepEqual(
    batch.values,
    Array.from({ length: 300 }, (_, j) => ({ key: j, t: 1000, value: { at, time: 1000, o: 41 } })),
  )
  t.true(((batch.values[0] as RepartitionData).value as { at: unknown }).at instanceof Date)
  t.is(batch.watermark, 900)
})

test('a restored source takes and drops what one that never stopped would, from the same offset', async (t) => {
  const records = [
    data('in-0', 10, 0, 'a'),
    data('in-0', 10, 1, 'b'),
    mark('in-0', 400),
    data('in-1', 3, 0, 'c'),
    // A restore from here on.
    data('in-0', 10, 1, 'b'), // replay: same place
    data('in-0', 10, 2, 'x'), // same input record, a later row
    data('in-1', 2, 5, 'y'), // replay: an earlier input record
    data('in-1', 4, 0, 'd'),
    data('in-0', 10, 2, 'x'), // replay
    mark('in-1', 450),
  ]
  const writers = ['in-0', 'in-1']
  const whole = await readOnce(writers, records)
  t.deepEqual(keysOf(whole), ['a', 'b', 'c', 'x', 'd'])

  const first = await readOnce(writers, records.slice(0, 4))
  t.is(first.watermark, -Infinity)
  // Through the checkpoint codec, as a checkpoint stores it (in-1's watermark is still -∞).
  const position = decodeSnapshot<RepartitionPosition>(encodeSnapshot(first.position))
  t.deepEqual(position.writers['in-1'], { watermark: -Infinity, offset: 3, index: 0 })
  // The consumer seeks to the position's offset; the reader itself also skips what lies before it.
  const rest = await readOnce(writers, records, position)
  t.deepEqual([...keysOf(first), ...keysOf(rest)], keysOf(whole))
  t.deepEqual([...first.timestamps!, ...rest.timestamps!], whole.timestamps)
  t.is(rest.watermark, whole.watermark)
  t.is(rest.watermark, 400)
  t.deepEqual(rest.position, whole.position)
})

test('a position checkpointed by version 1 ({ wm, seq = offset * 64 + index }) resumes at the same place', async (t) => {
  const v1 = { offset: 0, writers: { 'in-0': { wm: 500, seq: 2 * 64 + 1 }, 'in-1': { wm: 20, seq: -1 } } }
  const batch = await readOnce(
    ['in-0', 'in-1'],
    [data('in-0', 2, 1, 'a'), data('in-0', 2, 2, 'b'), data('in-0', 3, 0, 'c'), data('in-1', 0, 0, 'd')],
    v1 as unknown as RepartitionPosition,
  )
  t.deepEqual(keysOf(batch), ['b', 'c', 'd'])
  t.is(batch.watermark, 20)
  t.deepEqual((batch.position as RepartitionPosition).writers, {
    'in-0': { watermark: 500, offset: 3, index: 0 },
    'in-1': { watermark: 20, offset: 0, index: 0 },
  })
})

test('decodeRepartitioned sends a rejected record to the dead letters with its reason', (t) => {
  const dead: [unknown, string][] = []
  const ctx = {
    counters: new Counters(),
    deadLetter: (raw: unknown, reason: string) => dead.push([raw, reason]),
  }
  t.is(decodeRepartitioned({ rejected: 'not msgpack (…) (offset 4)', raw: 'Z2FyYmFnZQ==' }, ctx), undefined)
  t.deepEqual(dead, [['Z2FyYmFnZQ==', 'not a repartition message: not msgpack (…) (offset 4)']])
  const row = { key: 'a', t: 1, value: 2 }
  t.is(decodeRepartitioned(row, ctx), row)
})

test('garbage on the topic is a counted dead letter with its reason and bytes, and the query goes on', async (t) => {
  const out = new CollectSink<RepartitionData>()
  const letters = new CollectSink<DeadLetter>()
  const source = repartitionSource({
    topic: 'q-agg-repartition',
    partitions: [0],
    writers: ['in-0'],
    feed: feedOf({
      0: [
        data('in-0', 0, 0, 'a', new Date(5)),
        Buffer.from('garbage'),
        null,
        data('in-0', 1, 0, 2),
        mark('in-0', 9),
      ],
    }),
  })
  const graph = new StreamGraph()
  const rows = graph.from(
    defineSource('source', source, { decode: decodeRepartitioned, deadLetters: true, timestamp: (r) => r.t }),
  )
  rows.to(defineSink('out', out))
  rows.sideOutput<DeadLetter>(DEAD_LETTER).to(defineSink('letters', letters))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  t.teardown(() => job.stop())
  await job.processAllAvailable()
  t.is(job.state, 'running')
  t.deepEqual(out.rows(), [
    { key: 'a', t: 1000, value: new Date(5) },
    { key: 2, t: 1001, value: null },
  ])
  t.deepEqual(
    letters.rows().map((l) => [l.value, l.error]),
    [
      [
        Buffer.from('garbage').toString('base64'),
        'not a repartition message: not msgpack (Data read, but end of buffer not reached 103) (offset 1)',
      ],
      ['', 'not a repartition message: no value (a tombstone) (offset 2)'],
    ],
  )
  t.like(job.counters()['source#0'], { numDeadLetters: 2, recordsOut: 2 })
})

test('repartitionRows numbers rows by input offset and index, sends each touched writer a watermark, and passes rows without a time on, counted', (t) => {
  const h = OperatorHarness.open(
    repartitionRows<{ p: number; o: number }>('rows', {
      writer: (r) => `in-${r.p}`,
      offset: (r) => r.o,
      delay: 100,
      fanOut: (r, time) => [
        { key: time, value: r.o },
        { key: `j${time}`, value: r.o },
      ],
    }),
  )
  // A row without a time crosses with t null (an aggregate without windows takes it; a window
  // assigner counts it as in no window), and moves no watermark: in-0's stays at 1000 - 100.
  h.processRecords([record({ p: 0, o: 5 }, 1000), record({ p: 1, o: 9 }, 2000), record({ p: 0, o: 6 }, null)])
  const rows = h.takeValues()
  t.deepEqual(rows, [
    { kind: 'data', writer: 'in-0', offset: 5, index: 0, t: 1000, key: 1000, value: 5 },
    { kind: 'data', writer: 'in-0', offset: 5, index: 1, t: 1000, key: 'j1000', value: 5 },
    { kind: 'data', writer: 'in-1', offset: 9, index: 0, t: 2000, key: 2000, value: 9 },
    { kind: 'data', writer: 'in-1', offset: 9, index: 1, t: 2000, key: 'j2000', value: 9 },
    { kind: 'data', writer: 'in-0', offset: 6, index: 0, t: null, key: null, value: 6 },
    { kind: 'data', writer: 'in-0', offset: 6, index: 1, t: null, key: 'jnull', value: 6 },
    { kind: 'watermark', writer: 'in-0', watermark: 900 },
    { kind: 'watermark', writer: 'in-1', watermark: 1900 },
  ] satisfies RepartitionRow[])
  t.is(h.counters.toJSON().numRowsWithoutEventTime, 1)
})

test('repartitionRows without a delay writes no watermark (the query has none)', (t) => {
  const h = OperatorHarness.open(
    repartitionRows<{ o: number }>('rows', {
      writer: () => 'in-0',
      offset: (r) => r.o,
      delay: undefined,
      fanOut: (r) => [{ key: 'k', value: r.o }],
    }),
  )
  h.processRecords([record({ o: 1 }, 1000), record({ o: 2 }, 5000)])
  t.deepEqual(
    h.takeValues().map((r) => r.kind),
    ['data', 'data'],
  )
})

test('repartitionRows refuses an offset that is no whole number and a key that is no key, saying how to fix', (t) => {
  const rows = (offset: unknown, key: unknown) =>
    OperatorHarness.open(
      repartitionRows<null>('rows', {
        writer: () => 'in-0',
        offset: () => offset as number,
        delay: 0,
        fanOut: () => [{ key: key as Key, value: null }],
      }),
    ).processRecords([record(null, 1000)])
  t.throws(() => rows('12', 'a'), {
    message: `repartitionRows 'rows': offset 12 of writer 'in-0' is not a whole number >= 0: return the input record's offset as a number, e.g. Number(message.offset)`,
  })
  t.throws(() => rows(12, new Date(0)), {
    message:
      /^repartitionRows 'rows': a key must be a string, number, boolean, bigint, null or undefined, not a Date/,
  })
})

test('partition checkpoints keep each partition its key groups and split, and merge the owned ones back', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-partition-ckpt-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const topic = 'q-agg-repartition'
  let owned = new Set([0, 1])
  const options = { dir, topic, partitions: 2, owned: () => owned }
  // Key groups 0..63 are partition 0's, 64..127 partition 1's (maxParallelism 128).
  const checkpoint: Checkpoint = {
    epoch: 4,
    maxParallelism: 128,
    watermark: 1000,
    nodes: {
      source: {
        name: 'source',
        parallelism: 1,
        instances: [
          {
            union: new Map([
              [`${topic}-0`, { offset: 10 }],
              [`${topic}-1`, { offset: 20 }],
            ]),
          },
        ],
      },
      aggregate: {
        name: 'aggregate',
        parallelism: 1,
        instances: [
          {
            keyGroups: new Map([
              [3, 'a'],
              [100, 'b'],
            ]),
            union: { watermark: 1000 },
          },
        ],
      },
    },
  }
  const backend = partitionCheckpoints(options, undefined)
  t.is(await backend.latest(), undefined)
  await backend.commit(checkpoint)

  owned = new Set([1])
  const one = readPartitionCheckpoint(options)!
  t.is(one.epoch, 4)
  t.deepEqual(one.nodes.aggregate.instances[0]!.keyGroups, new Map([[100, 'b']]))
  t.deepEqual(one.nodes.source.instances[0]!.union, new Map([[`${topic}-1`, { offset: 20 }]]))

  // A partition never checkpointed starts afresh: the merged watermark must not hold it to 1000.
  owned = new Set([1, 2])
  const partly = readPartitionCheckpoint({ ...options, partitions: 3 })!
  t.is(partly.watermark, -Infinity)
  t.deepEqual(partly.nodes.aggregate.instances[0]!.union, { watermark: -Infinity })

  owned = new Set([0, 1])
  const both = readPartitionCheckpoint(options)!
  t.is(both.nodes.aggregate.parallelism, 2)
  t.deepEqual(
    both.nodes.aggregate.instances.map((s) => s!.keyGroups),
    [new Map([[3, 'a']]), new Map([[100, 'b']])],
  )
  t.is(both.watermark, 1000)
})

test('the source reads every message of a packed record, rejecting a bad one by its place', async (t) => {
  const packed = encodeRecord([
    data('in-0', 1, 0, 'a'),
    { k: 'q', w: 'in-0' } as never,
    data('in-0', 2, 0, 'b'),
    mark('in-0', 900),
  ])
  const batch = await readOnce(['in-0'], [packed])
  t.deepEqual(keysOf(batch), [
    'a',
    `kind "q" is neither 'd' (data) nor 'w' (watermark) (offset 0, message 1)`,
    'b',
  ])
  t.is(batch.watermark, 900)
  t.deepEqual(batch.timestamps, [1001, null, 1002])
  t.is((batch.values[1] as { raw: string }).raw, packed.toString('base64'))
})

test('with idleTimeoutMs a writer not heard of for that long stops holding the watermark back, until it is heard again', async (t) => {
  const clock = new ManualClock(0)
  const queue: RepartitionMessage[] = []
  let offset = 0
  const feed: RepartitionFeed = {
    take: () => queue.splice(0).map((m) => ({ offset: offset++, value: encodeRecord([m]) })),
    wait: () => Promise.resolve(),
  }
  const reader = await repartitionSource({
    topic: 'q-agg-repartition',
    partitions: [0],
    writers: ['in-0', 'in-1'],
    feed,
    idleTimeoutMs: 1000,
  }).createReader({ ...context(), clock })
  const poll = async () => {
    const batch = await reader.poll()
    return batch === 'idle' || batch === 'end' ? batch : batch.watermark
  }
  queue.push(data('in-0', 1, 0, 'a'), mark('in-0', 400))
  t.is(await poll(), -Infinity, 'in-1 has not been heard of, but not for long')
  t.is(await poll(), 'idle')
  clock.advance(600)
  queue.push(mark('in-0', 500))
  t.is(await poll(), -Infinity)
  clock.advance(399)
  t.is(await poll(), 'idle')
  clock.advance(1)
  // in-1 is idle now (1 s since the reader started), in-0 is not (heard 400 ms ago): nothing came,
  // yet the partition's watermark moves to in-0's, in a batch of no rows.
  t.is(await poll(), 500)
  t.is(await poll(), 'idle')
  // Heard again, in-1 holds the watermark back again, though never below what was given.
  queue.push(mark('in-1', 300), mark('in-0', 800))
  t.is(await poll(), 500)
  queue.push(mark('in-1', 700))
  t.is(await poll(), 700)
  // Both idle: the watermark stays where it was.
  clock.advance(5000)
  t.is(await poll(), 'idle')
})

test('without idleTimeoutMs a quiet writer holds the watermark back however long', async (t) => {
  const clock = new ManualClock(0)
  const queue: RepartitionMessage[] = [mark('in-0', 500)]
  const reader = await repartitionSource({
    topic: 'q-agg-repartition',
    partitions: [0],
    writers: ['in-0', 'in-1'],
    feed: {
      take: () => queue.splice(0).map((m, i) => ({ offset: i, value: encodeRecord([m]) })),
      wait: () => Promise.resolve(),
    },
  }).createReader({ ...context(), clock })
  t.is(((await reader.poll()) as SourceBatch<RepartitionInput>).watermark, -Infinity)
  clock.advance(3_600_000)
  t.is(await reader.poll(), 'idle')
})

test('a partition is free to take when it has no file, its file is the taker’s own, or its last writer released it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-partition-release-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const topic = 'q-agg-repartition'
  const as = (owner: string) => ({ dir, topic, partitions: 2, owned: () => new Set([0]), owner })
  const checkpoint: Checkpoint = { epoch: 1, maxParallelism: 128, watermark: 0, nodes: {} }
  t.true(isReleased(as('b'), 0), 'no file yet')
  await partitionCheckpoints(as('a'), undefined).commit(checkpoint)
  t.true(isReleased(as('a'), 0), 'its own file')
  t.false(isReleased(as('b'), 0), 'written by a, not released')
  releasePartition(as('b'), 0)
  t.false(isReleased(as('b'), 0), 'a release by another than the last writer means nothing')
  releasePartition(as('a'), 0)
  t.true(isReleased(as('b'), 0), 'released by its last writer')
  // b takes it and writes: a's old release no longer frees it for c.
  await partitionCheckpoints(as('b'), undefined).commit(checkpoint)
  t.false(isReleased(as('c'), 0))
})
