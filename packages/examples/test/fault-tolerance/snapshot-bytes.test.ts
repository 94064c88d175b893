import test from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import {
  decodeSnapshot,
  encodeSnapshot,
  LevelStateBackend,
  sessionWindows,
  slidingWindows,
  StreamingQueryManager,
  tumblingWindows,
  type Key,
  type StreamRecord,
  type TransformSpec,
  type WindowAssigner,
} from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'
import { fileSink, fileSource } from '@weir/connectors'
import { avg, combine, count, keyedAggregate, max, sum } from '@weir/operators'
import { tweets, watermarkedCounts } from '../../src/tutorial/queries.js'
import { writeTweets } from './tweet-input.js'

/** Encodes, decodes and encodes again: the bytes must be the same, and the value deep-equal. */
function roundTrips(t: import('ava').ExecutionContext, bytes: Uint8Array, what: string): void {
  const decoded = decodeSnapshot(bytes)
  const again = encodeSnapshot(decoded)
  t.true(
    Buffer.from(again).equals(Buffer.from(bytes)),
    `${what}: ${bytes.byteLength} bytes, ${again.byteLength} after decode/encode`,
  )
  t.deepEqual(decodeSnapshot(again), decoded, what)
}

// Keys of every kind a record may be keyed by, some of them awkward for a binary codec.
const KEYS: Key[] = [
  'spark',
  '',
  'ünïcödé 🐦',
  7,
  -3,
  1.5,
  2 ** 53,
  -0.25,
  true,
  false,
  null,
  2n ** 70n,
  -(2n ** 64n),
]

function records(assigner: WindowAssigner | undefined, from: number, n: number): StreamRecord<number>[] {
  return Array.from({ length: n }, (_, i) => {
    const timestamp = from + ((i * 7919) % 600_000)
    return {
      value: (i % 13) - 4.5,
      timestamp,
      key: KEYS[i % KEYS.length],
      window: assigner === undefined || assigner.kind === 'session' ? undefined : assigner.sliceOf(timestamp),
    }
  })
}

const cases: [string, TransformSpec<number, unknown>, WindowAssigner | undefined][] = [
  [
    'sliding count, append',
    keyedAggregate('a', {
      aggregator: count(),
      outputMode: 'append',
      windows: slidingWindows({ size: 300_000, slide: 60_000 }),
    }),
    slidingWindows({ size: 300_000, slide: 60_000 }),
  ],
  [
    'sliding avg without slices, update',
    keyedAggregate('a', {
      aggregator: { ...avg((x: number) => x), merge: undefined },
      outputMode: 'update',
      windows: slidingWindows({ size: 300_000, slide: 60_000 }),
    }),
    slidingWindows({ size: 300_000, slide: 60_000 }),
  ],
  [
    'tumbling sum and max, update',
    keyedAggregate('a', {
      aggregator: combine({ total: sum((x: number) => x), top: max((x: number) => x) }),
      outputMode: 'update',
      windows: tumblingWindows({ size: 60_000 }),
    }),
    tumblingWindows({ size: 60_000 }),
  ],
  [
    'sessions, append',
    keyedAggregate('a', {
      aggregator: count(),
      outputMode: 'append',
      windows: sessionWindows({ gap: 30_000 }),
    }),
    sessionWindows({ gap: 30_000 }),
  ],
  [
    'global avg, complete',
    keyedAggregate('a', { aggregator: avg((x: number) => x), outputMode: 'complete' }),
    undefined,
  ],
]

test('the snapshot of a keyed aggregate taken mid-stream round-trips byte for byte', (t) => {
  for (const [what, spec, assigner] of cases) {
    const h = OperatorHarness.open(spec, { maxParallelism: 16 })
    // Before any watermark (-∞ in the snapshot), then with windows closed and purged, open ones kept.
    h.processRecords(records(assigner, 1_000_000, 500)).processBarrier(0, { checkpoint: true })
    roundTrips(t, h.snapshotBytes(), `${what}, before any watermark`)
    h.processWatermark(1_300_000)
      .processRecords(records(assigner, 1_250_000, 700))
      .processBarrier(1, { checkpoint: true })
    const bytes = h.snapshotBytes()
    roundTrips(t, bytes, `${what}, mid-stream`)
    // What the state backend stores: each key group on its own.
    for (const [group, state] of decodeSnapshot<{ keyGroups: Map<number, unknown> }>(bytes).keyGroups) {
      roundTrips(t, encodeSnapshot(state), `${what}, key group ${group}`)
    }
    // A restore from the decoded bytes snapshots the same bytes again.
    const restored = OperatorHarness.restore(spec, bytes, { maxParallelism: 16, epoch: 1 })
    restored.processBarrier(2, { checkpoint: true })
    t.true(
      Buffer.from(restored.snapshotBytes()).equals(Buffer.from(bytes)),
      `${what}: restored and snapshotted again`,
    )
  }
})

test('every entry of a query checkpoint in LevelDB round-trips byte for byte', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'weir-snapshot-bytes-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  await writeTweets(join(root, 'in'), {
    seed: 7,
    files: 6,
    tweetsPerFile: 400,
    fileSpanMs: 90_000,
    outOfOrder: 0.1,
    late: 0.05,
    malformed: 2,
  })
  const query = await watermarkedCounts(tweets(fileSource(join(root, 'in'), { maxFilesPerTrigger: 1 })))
    .writeStream({
      sink: fileSink(join(root, 'out')),
      trigger: { availableNow: true },
      checkpointLocation: join(root, 'checkpoint'),
      parallelism: 2,
      manager: new StreamingQueryManager(),
    })
    .start()
  await query.awaitTermination()
  const backend = await LevelStateBackend.open(join(root, 'checkpoint', 'state'))
  t.teardown(() => backend.close())
  const epochs = await backend.committedEpochs()
  t.true(epochs.length > 0)
  for (const epoch of epochs) {
    // The epoch's checksum is a CRC-32 over its keys and stored values in key order: computed again over
    // the values decoded and encoded again, it is the same only if every value is the same, byte for byte.
    const meta = (await backend.metadata(epoch))!
    const kinds = new Set<string>()
    let checksum = 0
    for await (const { key, bytes, value } of backend.entries(epoch)) {
      const again = encodeSnapshot(value)
      t.is(again.byteLength, bytes, key)
      t.deepEqual(decodeSnapshot(again), value, key)
      if (key === 'meta' || key === 'committed') continue
      checksum = crc32(again, crc32(`${String(epoch).padStart(12, '0')}/${key}`, checksum))
      kinds.add(key.split('/').slice(0, 2).join('/'))
    }
    t.is(checksum, meta.checksum, `epoch ${epoch}`)
    roundTrips(t, encodeSnapshot(meta), `epoch ${epoch} metadata`)
    // Source positions, the aggregate's key groups and its union state (the watermark).
    t.deepEqual([...kinds].sort(), ['aggregate/k', 'aggregate/u', 'source/s'])
  }
})
