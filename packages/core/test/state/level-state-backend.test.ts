import test from 'ava'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { LevelStateBackend, type Checkpoint } from '../../src/index.js'

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-level-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function checkpoint(epoch: number, count: number): Checkpoint {
  return {
    epoch,
    maxParallelism: 128,
    watermark: 1_000 * epoch,
    nodes: {
      source: {
        name: 'source',
        parallelism: 2,
        instances: [{ union: new Map([['p0', 10 * epoch]]) }, { union: new Map([['p1', 7]]) }],
      },
      words: { name: 'explode', parallelism: 2, instances: [undefined, undefined] },
      counts: {
        name: 'keyed-aggregate',
        parallelism: 2,
        instances: [
          {
            keyGroups: new Map<number, unknown>([[3, { the: count, a: [1, null] }]]),
            union: { watermark: -Infinity },
          },
          { keyGroups: new Map<number, unknown>([[100, { x: 1.5 }]]), union: { watermark: 5 } },
        ],
      },
    },
  }
}

test('round-trips a committed epoch: key groups, split positions and union state', async (t) => {
  const dir = await tempDir(t)
  const backend = await LevelStateBackend.open(dir, { queryId: 'q-1' })
  await backend.commit(checkpoint(4, 42))
  const read = await backend.latest()
  t.deepEqual(read, {
    epoch: 4,
    maxParallelism: 128,
    watermark: 4000,
    nodes: {
      source: {
        name: 'source',
        parallelism: 2,
        instances: [
          {
            union: new Map<string, unknown>([
              ['p0', 40],
              ['p1', 7],
            ]),
          },
          undefined,
        ],
      },
      words: { name: 'explode', parallelism: 2, instances: [undefined, undefined] },
      counts: {
        name: 'keyed-aggregate',
        parallelism: 2,
        instances: [
          {
            union: { watermark: -Infinity },
            keyGroups: new Map<number, unknown>([
              [100, { x: 1.5 }],
              [3, { the: 42, a: [1, null] }],
            ]),
          },
          { union: { watermark: 5 } },
        ],
      },
    },
  })
  const meta = await backend.metadata(4)
  t.like(meta, { formatVersion: 1, epoch: 4, queryId: 'q-1', entries: 6, watermark: 4000 })
  await backend.close()
})

test('keeps the newest epochs and prunes older ones', async (t) => {
  const dir = await tempDir(t)
  const backend = await LevelStateBackend.open(dir, { retain: 2 })
  for (const epoch of [0, 1, 2, 3]) await backend.commit(checkpoint(epoch, epoch))
  t.deepEqual(await backend.committedEpochs(), [2, 3])
  t.is((await backend.latest())?.epoch, 3)
  await backend.close()
})

test('removes an epoch written without its commit marker when it opens', async (t) => {
  const dir = await tempDir(t)
  const backend = await LevelStateBackend.open(dir)
  await backend.commit(checkpoint(0, 1))
  await backend.close()
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  await raw.put('000000000001/counts/k/3', new Uint8Array([1, 2, 3]))
  await raw.close()
  const reopened = await LevelStateBackend.open(dir)
  const keys: string[] = []
  for await (const entry of reopened.entries(1)) keys.push(entry.key)
  t.deepEqual(keys, [])
  t.is((await reopened.latest())?.epoch, 0)
  await reopened.close()
})

test('skips a corrupt newest epoch for the previous good one and reports it', async (t) => {
  const dir = await tempDir(t)
  const backend = await LevelStateBackend.open(dir)
  await backend.commit(checkpoint(0, 1))
  await backend.commit(checkpoint(1, 2))
  await backend.close()
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  await raw.put('000000000001/counts/k/3', new Uint8Array([0xc0]))
  await raw.close()
  const reopened = await LevelStateBackend.open(dir)
  const latest = await reopened.latest()
  t.is(latest?.epoch, 0)
  t.is(reopened.problems.length, 1)
  t.regex(reopened.problems[0].reason, /epoch 1 is corrupt/)
  await reopened.close()
})

test('writes an epoch skipped as corrupt again from scratch, leaving none of its old entries', async (t) => {
  const dir = await tempDir(t)
  const backend = await LevelStateBackend.open(dir)
  await backend.commit(checkpoint(0, 1))
  await backend.commit(checkpoint(1, 2))
  await backend.close()
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  await raw.put('000000000001/counts/k/3', new Uint8Array([0xc0]))
  await raw.close()
  const reopened = await LevelStateBackend.open(dir)
  t.is((await reopened.latest())?.epoch, 0)
  // The run restored from epoch 0 writes epoch 1 again, now without key group 100.
  const again = checkpoint(1, 5)
  const counts = again.nodes.counts
  await reopened.commit({
    ...again,
    nodes: {
      ...again.nodes,
      counts: { ...counts, instances: [counts.instances[0], { union: { watermark: 5 } }] },
    },
  })
  const latest = await reopened.latest()
  t.deepEqual(reopened.problems, [])
  t.is(latest?.epoch, 1)
  t.deepEqual([...(latest?.nodes.counts?.instances[0]?.keyGroups?.keys() ?? [])], [3])
  await reopened.close()
})

test('reads a checkpoint of the first format version from a fixture', async (t) => {
  const dir = await tempDir(t)
  const fixture = fileURLToPath(new URL('../../../test/fixtures/checkpoint-v1.json', import.meta.url))
  const entries = JSON.parse(await readFile(fixture, 'utf8')) as Record<string, string>
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  await raw.batch(
    Object.entries(entries).map(([key, hex]) => ({
      type: 'put' as const,
      key,
      value: Buffer.from(hex, 'hex'),
    })),
  )
  await raw.close()
  const backend = await LevelStateBackend.open(dir)
  const expected = checkpoint(7, 3)
  t.deepEqual(await backend.latest(), {
    ...expected,
    nodes: {
      source: {
        name: 'source',
        parallelism: 2,
        instances: [
          {
            union: new Map<string, unknown>([
              ['p0', 70],
              ['p1', 7],
            ]),
          },
          undefined,
        ],
      },
      words: expected.nodes.words,
      counts: {
        name: 'keyed-aggregate',
        parallelism: 2,
        instances: [
          {
            union: { watermark: -Infinity },
            keyGroups: new Map<number, unknown>([
              [100, { x: 1.5 }],
              [3, { the: 3, a: [1, null] }],
            ]),
          },
          { union: { watermark: 5 } },
        ],
      },
    },
  })
  await backend.close()
})
