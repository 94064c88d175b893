import test from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  Counters,
  keyGroupOf,
  keyGroupRange,
  ManualClock,
  record,
  type Checkpoint,
  type SourceBatch,
  type SourceReaderContext,
} from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'
import {
  decodeRepartitioned,
  partitionCheckpoints,
  partitionOfKey,
  readPartitionCheckpoint,
  repartitionRows,
  repartitionSource,
  type RepartitionFeed,
  type RepartitionInput,
  type RepartitionPosition,
} from '../../src/index.js'
import { decodeRecord, encodeRecord } from '../../src/kafka/repartition/repartition-record.js'

test('a repartition record carries its messages in order, ±Infinity watermarks included', (t) => {
  const messages = [
    { k: 'd', w: 'tweets-0', s: 129, t: 1_000, key: 'a', v: { n: 1 } },
    { k: 'w', w: 'tweets-3', wm: -Infinity },
    { k: 'w', w: 'tweets-3', wm: Infinity },
    { k: 'w', w: 'tweets-1', wm: 42 },
  ] as const
  t.deepEqual(decodeRecord(encodeRecord(messages)), messages)
  // One message alone, not in an array, is a record of one.
  t.deepEqual(decodeRecord('{"k":"w","w":"x","wm":5}'), [{ k: 'w', w: 'x', wm: 5 }])
})

test('what is no repartition message is refused with its reason, the good messages beside it kept', (t) => {
  t.deepEqual(decodeRecord('{oops'), ['not JSON'])
  t.deepEqual(decodeRecord('3'), ['not a repartition message'])
  const reasons = decodeRecord(
    JSON.stringify([
      { k: 'd', s: 1, t: 1, key: 'a' },
      { k: 'd', w: 'x', s: 1.5, t: 1, key: 'a' },
      { k: 'd', w: 'x', s: 1, t: 'soon', key: 'a' },
      { k: 'd', w: 'x', s: 1, t: 1 },
      { k: 'w', w: 'x', wm: 'high' },
      { k: 'z', w: 'x' },
      { k: 'w', w: 'x', wm: 7 },
    ]),
  )
  t.deepEqual(reasons, [
    'no writer (w)',
    'sequence number 1.5 is not a whole number',
    'event time "soon" is not a number',
    'no key',
    'watermark "high" is not a number',
    `kind "z" is neither 'd' (data) nor 'w' (watermark)`,
    { k: 'w', w: 'x', wm: 7 },
  ])
})

test('a key always lands in the partition that holds its key group', (t) => {
  for (const key of ['a', 'b', '1764000000000', 'ünïcode']) {
    const p = partitionOfKey(key, 128, 4)
    const range = keyGroupRange(p, 4, 128)
    const group = keyGroupOf(key, 128)
    t.true(group >= range.start && group < range.end, key)
  }
})

/** A feed of hand-written records for partition 0 and 1, taken once each. */
function feedOf(records: Record<number, readonly (object | string | null)[]>): RepartitionFeed {
  const left = new Map(
    Object.entries(records).map(([p, list]) => [
      Number(p),
      list.map((r, offset) => ({
        offset,
        value: r === null ? null : Buffer.from(typeof r === 'string' ? r : encodeRecord([r as never])),
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

const data = (w: string, s: number, key: string) => ({ k: 'd', w, s, t: 1000 + s, key, v: s })
const mark = (w: string, wm: number) => ({ k: 'w', w, wm })

test('the source drops replays by writer sequence, holds the watermark at the slowest writer, and rejects what is not a message', async (t) => {
  const source = repartitionSource({
    topic: 'q-agg-repartition',
    partitions: [0],
    writers: ['in-0', 'in-1'],
    feed: feedOf({
      0: [
        data('in-0', 1, 'a'),
        mark('in-0', 500),
        data('in-0', 2, 'b'),
        data('in-0', 1, 'a'), // a replay: in-0 re-read its input after a rebalance
        'garbage',
        null,
        data('in-1', 7, 'c'),
        mark('in-1', 300),
      ],
    }),
  })
  const reader = await source.createReader(context())
  const batch = (await reader.poll()) as SourceBatch<RepartitionInput>
  t.deepEqual(
    batch.values.map((v) => ('rejected' in v ? v.rejected : v.key)),
    ['a', 'b', 'not JSON (offset 4)', 'no value (a tombstone) (offset 5)', 'c'],
  )
  t.deepEqual(batch.timestamps, [1001, 1002, null, null, 1007])
  t.is(batch.watermark, 300)
  t.deepEqual(batch.position as RepartitionPosition, {
    offset: 8,
    writers: { 'in-0': { wm: 500, seq: 2 }, 'in-1': { wm: 300, seq: 7 } },
  })

  // A writer not heard of yet holds the partition's watermark at -∞.
  const fresh = await repartitionSource({
    topic: 'q-agg-repartition',
    partitions: [0],
    writers: ['in-0', 'in-1'],
    feed: feedOf({ 0: [mark('in-0', 500)] }),
  }).createReader(context())
  t.is(((await fresh.poll()) as SourceBatch<RepartitionInput>).watermark, -Infinity)
})

test('a restored source goes on with the same dedup decisions and from the same offset', async (t) => {
  const restored = new Map([
    [
      'q-agg-repartition-0',
      { offset: 2, writers: { 'in-0': { wm: 500, seq: 2 } } } satisfies RepartitionPosition,
    ],
  ])
  const reader = await repartitionSource({
    topic: 'q-agg-repartition',
    partitions: [0],
    writers: ['in-0'],
    feed: feedOf({
      0: [data('in-0', 1, 'a'), data('in-0', 2, 'b'), data('in-0', 2, 'b'), data('in-0', 3, 'c')],
    }),
  }).createReader(context(restored))
  const batch = (await reader.poll()) as SourceBatch<RepartitionInput>
  t.deepEqual(
    batch.values.map((v) => ('rejected' in v ? v.rejected : v.key)),
    ['c'],
  )
  t.is(batch.watermark, 500)
})

test('decodeRepartitioned sends a rejected record to the dead letters with its reason', (t) => {
  const dead: [unknown, string][] = []
  const ctx = {
    counters: new Counters(),
    deadLetter: (raw: unknown, reason: string) => dead.push([raw, reason]),
  }
  t.is(decodeRepartitioned({ rejected: 'not JSON (offset 4)', raw: 'garbage' }, ctx), undefined)
  t.deepEqual(dead, [['garbage', 'not a repartition message: not JSON (offset 4)']])
  const row = { key: 'a', t: 1, value: 2 }
  t.is(decodeRepartitioned(row, ctx), row)
})

test('repartitionRows numbers rows by input offset, sends each touched writer a watermark, and counts rows without a time', (t) => {
  const h = OperatorHarness.open(
    repartitionRows<{ p: number; o: number }>('rows', {
      writer: (r) => `in-${r.p}`,
      offset: (r) => r.o,
      delay: 100,
      fanOut: (r, time) => [
        { key: `k${time}`, value: r.o },
        { key: `j${time}`, value: r.o },
      ],
    }),
  )
  h.processRecords([record({ p: 0, o: 5 }, 1000), record({ p: 1, o: 9 }, 2000), record({ p: 0, o: 6 }, null)])
  const rows = h.takeValues()
  t.deepEqual(rows, [
    { kind: 'data', writer: 'in-0', seq: 5 * 64, t: 1000, key: 'k1000', value: 5 },
    { kind: 'data', writer: 'in-0', seq: 5 * 64 + 1, t: 1000, key: 'j1000', value: 5 },
    { kind: 'data', writer: 'in-1', seq: 9 * 64, t: 2000, key: 'k2000', value: 9 },
    { kind: 'data', writer: 'in-1', seq: 9 * 64 + 1, t: 2000, key: 'j2000', value: 9 },
    { kind: 'watermark', writer: 'in-0', watermark: 900 },
    { kind: 'watermark', writer: 'in-1', watermark: 1900 },
  ])
  t.is(h.counters.toJSON().numRowsWithoutEventTime, 1)
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
    data('in-0', 1, 'a') as never,
    { k: 'q', w: 'in-0' } as never,
    data('in-0', 2, 'b') as never,
    mark('in-0', 900) as never,
  ])
  const reader = await repartitionSource({
    topic: 'q-agg-repartition',
    partitions: [0],
    writers: ['in-0'],
    feed: feedOf({ 0: [packed] }),
  }).createReader(context())
  const batch = (await reader.poll()) as SourceBatch<RepartitionInput>
  t.deepEqual(
    batch.values.map((v) => ('rejected' in v ? v.rejected : v.key)),
    ['a', `kind "q" is neither 'd' (data) nor 'w' (watermark) (offset 0, message 1)`, 'b'],
  )
  t.is(batch.watermark, 900)
  t.deepEqual(batch.timestamps, [1001, null, 1002])
})
