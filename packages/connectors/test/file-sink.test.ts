import test, { type ExecutionContext } from 'ava'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, defineSink, defineSource, Job, StreamGraph, type SinkWriter } from '@weir/core'
import { listSource } from '@weir/core/testing'

import { fileSink, fileSource, type FileSinkOptions } from '../src/index.js'

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-file-sink-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function writer<T>(dir: string, options: FileSinkOptions = {}, instance = 0): Promise<SinkWriter<T>> {
  return fileSink<T>(dir, options).createWriter({ sinkId: 'out', instance, parallelism: 1, firstEpoch: 0 })
}

const read = (dir: string, name: string) => readFile(join(dir, name), 'utf8')

test('writes each committed epoch as one file, in place only at commit', async (t) => {
  const dir = join(await tempDir(t), 'out')
  const w = await writer<{ word: string; count: number }>(dir)
  await w.write([{ word: 'the', count: 42 }], 3)
  await w.write([{ word: 'a', count: 1 }], 3)
  t.deepEqual(await readdir(dir), ['.part-00000003-0.jsonl.tmp'])
  await w.commit(3)
  t.deepEqual(await readdir(dir), ['part-00000003-0.jsonl'])
  t.is(
    await read(dir, 'part-00000003-0.jsonl'),
    '{"batch":3,"word":"the","count":42}\n{"batch":3,"word":"a","count":1}\n',
  )
})

test('writes dates as ISO strings, other rows under value, and no file for an empty epoch', async (t) => {
  const dir = await tempDir(t)
  const w = await writer<unknown>(dir)
  await w.write([{ window: { start: new Date(Date.UTC(2026, 10, 24, 10)) } }, 'text', [1, 2n]], 0)
  await w.commit(0)
  await w.commit(1)
  t.deepEqual(await readdir(dir), ['part-00000000-0.jsonl'])
  t.is(
    await read(dir, 'part-00000000-0.jsonl'),
    '{"batch":0,"window":{"start":"2026-11-24T10:00:00.000Z"}}\n{"batch":0,"value":"text"}\n{"batch":0,"value":[1,"2"]}\n',
  )
})

test('names the epoch field as asked, or leaves rows as they are', async (t) => {
  const dir = await tempDir(t)
  const named = await writer<{ n: number }>(join(dir, 'named'), { batchField: 'epoch' })
  await named.write([{ n: 1 }], 7)
  await named.commit(7)
  t.is(await read(join(dir, 'named'), 'part-00000007-0.jsonl'), '{"epoch":7,"n":1}\n')
  const plain = await writer<{ n: number }>(join(dir, 'plain'), { batchField: false })
  await plain.write([{ n: 1 }], 7)
  await plain.commit(7)
  t.is(await read(join(dir, 'plain'), 'part-00000007-0.jsonl'), '{"n":1}\n')
})

test('skips an epoch whose file is already there, so a replay writes nothing twice', async (t) => {
  const dir = await tempDir(t)
  const first = await writer<{ n: number }>(dir)
  await first.write([{ n: 1 }], 0)
  await first.commit(0)
  await first.write([{ n: 2 }], 1) // the run fails before epoch 1 commits
  const again = await writer<{ n: number }>(dir)
  t.deepEqual(await readdir(dir), ['part-00000000-0.jsonl'])
  await again.write([{ n: 1 }], 0)
  await again.commit(0)
  await again.write([{ n: 2 }], 1)
  await again.commit(1)
  t.deepEqual((await readdir(dir)).sort(), ['part-00000000-0.jsonl', 'part-00000001-0.jsonl'])
  t.is(await read(dir, 'part-00000000-0.jsonl'), '{"batch":0,"n":1}\n')
  t.is(await read(dir, 'part-00000001-0.jsonl'), '{"batch":1,"n":2}\n')
})

test('leaves no temporary file behind when closed mid-epoch', async (t) => {
  const dir = await tempDir(t)
  const w = await writer<number>(dir)
  await w.write([1], 0)
  await w.close()
  t.deepEqual(await readdir(dir), [])
})

test('keeps each instance in its own file', async (t) => {
  const dir = await tempDir(t)
  const sink = fileSink<number>(dir, { batchField: false })
  const w0 = await sink.createWriter({ sinkId: 'out', instance: 0, parallelism: 2, firstEpoch: 0 })
  const w1 = await sink.createWriter({ sinkId: 'out', instance: 1, parallelism: 2, firstEpoch: 0 })
  await w0.write([1], 0)
  await w1.write([2], 0)
  await w0.commit(0)
  await w1.commit(0)
  t.deepEqual((await readdir(dir)).sort(), ['part-00000000-0.jsonl', 'part-00000000-1.jsonl'])
})

test('refuses a batch field that is not a name', (t) => {
  t.throws(() => fileSink('out', { batchField: '' }), {
    instanceOf: ConfigError,
    message: `fileSink: batchField "" must be a field name such as 'batch', or false`,
  })
})

test('copies a directory of JSON lines through a query', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'in.jsonl'), '{"n":1}\n{"n":2}\n')
  const graph = new StreamGraph()
  graph
    .from(defineSource('lines', fileSource(join(dir, 'in.jsonl'))))
    .to(defineSink('out', fileSink<string>(join(dir, 'out'))))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.done
  t.is(
    await read(join(dir, 'out'), 'part-00000000-0.jsonl'),
    '{"batch":0,"value":"{\\"n\\":1}"}\n{"batch":0,"value":"{\\"n\\":2}"}\n',
  )
  const numbers = new StreamGraph()
  numbers
    .from(defineSource('nums', listSource([{ n: 1 }])))
    .to(defineSink('out', fileSink(join(dir, 'nums'))))
  await (
    await Job.start(numbers, { trigger: { kind: 'manual' } })
  ).done
  t.is(await read(join(dir, 'nums'), 'part-00000000-0.jsonl'), '{"batch":0,"n":1}\n')
})

test('keeps epochs apart when the next epoch is written before the previous one commits', async (t) => {
  const dir = await tempDir(t)
  const w = await writer<{ n: number }>(dir)
  await w.write([{ n: 1 }], 0)
  await w.prepare!(0)
  await w.write([{ n: 2 }], 1)
  await w.commit(0)
  t.deepEqual((await readdir(dir)).sort(), ['.part-00000001-0.jsonl.tmp', 'part-00000000-0.jsonl'])
  await w.prepare!(1)
  await w.commit(1)
  t.is(await read(dir, 'part-00000001-0.jsonl'), '{"batch":1,"n":2}\n')
})

test('finishes a commit cut short by a crash and drops staged epochs the restart replays', async (t) => {
  const dir = await tempDir(t)
  const crashed = await writer<{ n: number }>(dir)
  await crashed.write([{ n: 1 }], 4)
  await crashed.prepare!(4)
  await crashed.write([{ n: 2 }], 5)
  await crashed.prepare!(5)
  // The process dies here: epoch 4's checkpoint was committed, epoch 5's was not.
  const restarted = await fileSink<{ n: number }>(dir).createWriter({
    sinkId: 'out',
    instance: 0,
    parallelism: 1,
    firstEpoch: 5,
  })
  t.deepEqual((await readdir(dir)).sort(), ['part-00000004-0.jsonl'])
  t.is(await read(dir, 'part-00000004-0.jsonl'), '{"batch":4,"n":1}\n')
  await restarted.write([{ n: 3 }], 5)
  await restarted.prepare!(5)
  await restarted.commit(5)
  t.is(await read(dir, 'part-00000005-0.jsonl'), '{"batch":5,"n":3}\n')
})

test('finishes the staged epochs of instances that a restart at a lower parallelism no longer has', async (t) => {
  const dir = await tempDir(t)
  const sink = fileSink<{ n: number }>(dir)
  const crashed = []
  for (const instance of [0, 1, 2]) {
    crashed.push(await sink.createWriter({ sinkId: 'out', instance, parallelism: 3, firstEpoch: 0 }))
  }
  for (const [instance, w] of crashed.entries()) {
    await w.write([{ n: instance }], 4)
    await w.prepare!(4)
    await w.write([{ n: 10 + instance }], 5)
    await w.prepare!(5)
  }
  // The process dies: epoch 4's checkpoint was committed, epoch 5's was not. The restart has 2 instances.
  for (const instance of [0, 1])
    await sink.createWriter({ sinkId: 'out', instance, parallelism: 2, firstEpoch: 5 })
  t.deepEqual((await readdir(dir)).sort(), [
    'part-00000004-0.jsonl',
    'part-00000004-1.jsonl',
    'part-00000004-2.jsonl',
  ])
  t.is(await read(dir, 'part-00000004-2.jsonl'), '{"batch":4,"n":2}\n')
})
