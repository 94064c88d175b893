import test, { type ExecutionContext } from 'ava'
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ConfigError,
  defineSink,
  defineSource,
  Job,
  ManualClock,
  MemoryStateBackend,
  StreamGraph,
  type SourceBatch,
  type SourceReader,
  type SourceReaderContext,
} from '@weir/core'

import { fileSource, MemorySink, type FileSourceOptions } from '../src/index.js'

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-file-source-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function writeFiles(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
}

function context(overrides: Partial<SourceReaderContext> = {}): SourceReaderContext {
  return {
    sourceId: 'lines',
    instance: 0,
    parallelism: 1,
    clock: new ManualClock(0),
    restored: new Map(),
    availableNow: false,
    ...overrides,
  }
}

async function reader(
  path: string,
  options: FileSourceOptions = {},
  overrides: Partial<SourceReaderContext> = {},
): Promise<SourceReader<string>> {
  return fileSource(path, options).createReader(context(overrides))
}

/** Polls until the reader ends, keeping every batch. */
async function drain(r: SourceReader<string>): Promise<SourceBatch<string>[]> {
  const batches: SourceBatch<string>[] = []
  for (;;) {
    const batch = await r.poll()
    if (batch === 'end') return batches
    if (batch === 'idle') throw new Error('the reader went idle instead of ending')
    batches.push(batch)
  }
}

/** Lets pending I/O and microtasks run once: no timer, no sleep. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await turn()
}

const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `{"${prefix}":${i}}`)

test('reads a file to its end, skipping blank lines, then ends', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, { 'x.jsonl': '{"a":1}\n\n  \n{"b":2}\r\n{"c":3}' })
  const source = fileSource(join(dir, 'x.jsonl'))
  t.true(source.bounded)
  const r = await source.createReader(context())
  t.deepEqual(r.splits(), ['files-0'])
  t.deepEqual(await drain(r), [
    {
      split: 'files-0',
      values: ['{"a":1}', '{"b":2}', '{"c":3}'],
      position: { file: 'x.jsonl', line: 5 },
      splitEnded: true,
    },
  ])
  await r.close()
})

test('hands lines over as they are, bad JSON included', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, { 'x.jsonl': '{"a":\nnot json\n' })
  t.deepEqual(
    (await drain(await reader(join(dir, 'x.jsonl')))).flatMap((b) => b.values),
    ['{"a":', 'not json'],
  )
})

test('reads the .jsonl files of a directory in name order, one file per batch at most', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, {
    'b.jsonl': '{"b":0}\n',
    'a.jsonl': '{"a":0}\n{"a":1}\n',
    'c.txt': 'not read\n',
    '.hidden.jsonl': 'not read\n',
    '_temporary.jsonl': 'not read\n',
  })
  const source = fileSource(dir, { bounded: true })
  t.true(source.bounded)
  t.false(fileSource(dir).bounded)
  t.deepEqual(await drain(await source.createReader(context())), [
    { split: 'files-0-of-1', values: ['{"a":0}', '{"a":1}'], position: { file: 'a.jsonl', line: 2 } },
    { split: 'files-0-of-1', values: ['{"b":0}'], position: { file: 'b.jsonl', line: 1 }, splitEnded: true },
  ])
})

test('cuts batches at batchSize lines', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, { 'a.jsonl': lines('a', 5).join('\n') })
  const batches = await drain(await reader(join(dir, 'a.jsonl'), { batchSize: 2 }))
  t.deepEqual(
    batches.map((b) => [b.values.length, b.position]),
    [
      [2, { file: 'a.jsonl', line: 2 }],
      [2, { file: 'a.jsonl', line: 4 }],
      [1, { file: 'a.jsonl', line: 5 }],
    ],
  )
})

test('makes each file exactly one batch with maxFilesPerTrigger 1, and n files with n', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, {
    '1.jsonl': lines('a', 3).join('\n'),
    '2.jsonl': '',
    '3.jsonl': lines('c', 2).join('\n') + '\n',
  })
  const one = await drain(await reader(dir, { maxFilesPerTrigger: 1, batchSize: 1, bounded: true }))
  t.deepEqual(
    one.map((b) => [b.values, b.position]),
    [
      [lines('a', 3), { file: '1.jsonl', line: 3 }],
      [[], { file: '2.jsonl', line: 0 }],
      [lines('c', 2), { file: '3.jsonl', line: 2 }],
    ],
  )
  const two = await drain(await reader(dir, { maxFilesPerTrigger: 2, bounded: true }))
  t.deepEqual(
    two.map((b) => [b.values, b.position]),
    [
      [lines('a', 3), { file: '2.jsonl', line: 0 }],
      [lines('c', 2), { file: '3.jsonl', line: 2 }],
    ],
  )
})

test('resumes exactly at a restored file and line, neither repeating nor skipping a line', async (t) => {
  const dir = await tempDir(t)
  const a = lines('a', 5)
  const b = lines('b', 3)
  await writeFiles(dir, {
    'a.jsonl': `${a[0]}\n${a[1]}\n\n${a[2]}\n${a[3]}\n${a[4]}\n`,
    'b.jsonl': b.join('\n'),
  })
  const all = [...a, ...b]
  const uninterrupted = await drain(await reader(dir, { batchSize: 2, bounded: true }))
  t.deepEqual(
    uninterrupted.flatMap((batch) => batch.values),
    all,
  )
  // Restore after every batch of the uninterrupted run, and at the very start.
  for (let i = 0; i < uninterrupted.length; i++) {
    const restored = new Map([['files-0-of-1', uninterrupted[i].position]])
    const rest = await drain(await reader(dir, { batchSize: 2, bounded: true }, { restored }))
    const before = uninterrupted.slice(0, i + 1).flatMap((batch) => batch.values)
    t.deepEqual(
      [...before, ...rest.flatMap((batch) => batch.values)],
      all,
      `restored at ${JSON.stringify(restored.get('files-0-of-1'))}`,
    )
  }
  const fromBlank = await drain(
    await reader(
      dir,
      { bounded: true },
      { restored: new Map([['files-0-of-1', { file: 'a.jsonl', line: 2 }]]) },
    ),
  )
  t.deepEqual(
    fromBlank.flatMap((batch) => batch.values),
    all.slice(2),
  )
})

test('resumes a single file at its restored line', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, { 'x.jsonl': lines('x', 4).join('\n') })
  const rest = await drain(
    await reader(
      join(dir, 'x.jsonl'),
      {},
      { restored: new Map([['files-0', { file: 'x.jsonl', line: 3 }]]) },
    ),
  )
  t.deepEqual(rest, [
    { split: 'files-0', values: ['{"x":3}'], position: { file: 'x.jsonl', line: 4 }, splitEnded: true },
  ])
})

test('picks up a new file whose name sorts after the last one read, polling on the clock', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, { '1.jsonl': '{"n":1}\n', '2.jsonl': '{"n":2}\n' })
  const clock = new ManualClock(0)
  const r = await reader(dir, { pollIntervalMs: 100 }, { clock })
  t.deepEqual(await r.poll(), {
    split: 'files-0-of-1',
    values: ['{"n":1}'],
    position: { file: '1.jsonl', line: 1 },
  })
  t.deepEqual(await r.poll(), {
    split: 'files-0-of-1',
    values: ['{"n":2}'],
    position: { file: '2.jsonl', line: 1 },
  })
  await writeFiles(dir, { '0.jsonl': '{"n":0}\n', '3.jsonl': '{"n":3}\n' })
  const waiting = r.poll()
  await until(() => clock.pendingTimers === 1)
  clock.advance(100)
  t.is(await waiting, 'idle')
  t.deepEqual(await r.poll(), {
    split: 'files-0-of-1',
    values: ['{"n":3}'],
    position: { file: '3.jsonl', line: 1 },
  })
  await r.close()
})

test('wakes a reader that waits for new files when it is closed', async (t) => {
  const dir = await tempDir(t)
  const clock = new ManualClock(0)
  const r = await reader(dir, { pollIntervalMs: 60_000 }, { clock })
  const waiting = r.poll()
  await until(() => clock.pendingTimers === 1)
  await r.close()
  t.is(await waiting, 'idle')
  t.is(clock.pendingTimers, 0)
})

test('reads only the files present at start with availableNow, then ends', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, { '1.jsonl': '{"n":1}\n' })
  const r = await reader(dir, {}, { availableNow: true })
  await writeFiles(dir, { '2.jsonl': '{"n":2}\n' })
  t.deepEqual(await drain(r), [
    { split: 'files-0-of-1', values: ['{"n":1}'], position: { file: '1.jsonl', line: 1 }, splitEnded: true },
  ])
})

test('tails a file that is not bounded, holding a last line back until its newline comes', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'log.jsonl')
  await writeFiles(dir, { 'log.jsonl': '{"n":1}\n{"n":' })
  const clock = new ManualClock(0)
  const source = fileSource(path, { bounded: false, pollIntervalMs: 10 })
  t.false(source.bounded)
  const r = await source.createReader(context({ clock }))
  t.deepEqual(await r.poll(), {
    split: 'files-0',
    values: ['{"n":1}'],
    position: { file: 'log.jsonl', line: 1 },
  })
  const waiting = r.poll()
  await until(() => clock.pendingTimers === 1)
  clock.advance(10)
  t.is(await waiting, 'idle')
  await appendFile(path, '2}\n')
  t.deepEqual(await r.poll(), {
    split: 'files-0',
    values: ['{"n":2}'],
    position: { file: 'log.jsonl', line: 2 },
  })
  await r.close()
})

test('decodes bytes that are not UTF-8 as replacement characters, also across chunks', async (t) => {
  const dir = await tempDir(t)
  const long = 'x'.repeat(64 * 1024 - 1)
  const bytes = Buffer.concat([
    Buffer.from([0x61, 0xff, 0x62, 0x0a]),
    Buffer.from(`${long}é\n`),
    Buffer.from([0xc3]),
  ])
  await writeFile(join(dir, 'bad.jsonl'), bytes)
  const values = (await drain(await reader(join(dir, 'bad.jsonl')))).flatMap((b) => b.values)
  t.deepEqual(values, ['a\uFFFDb', `${long}é`, '\uFFFD'])
})

test('streams a file larger than its read buffer line by line', async (t) => {
  const dir = await tempDir(t)
  const many = lines('n', 25_000)
  await writeFiles(dir, { 'big.jsonl': many.join('\n') + '\n' })
  const batches = await drain(await reader(join(dir, 'big.jsonl')))
  t.deepEqual(
    batches.map((b) => b.values.length),
    Array.from({ length: 25 }, () => 1000),
  )
  t.deepEqual(
    batches.flatMap((b) => b.values),
    many,
  )
})

test('deals the files of a directory to instances by index, one split each', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(
    dir,
    Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((n) => [`${n}.jsonl`, `{"f":"${n}"}\n`])),
  )
  const first = await reader(dir, { bounded: true }, { instance: 0, parallelism: 2 })
  const second = await reader(dir, { bounded: true }, { instance: 1, parallelism: 2 })
  t.deepEqual(first.splits(), ['files-0-of-2'])
  t.deepEqual(second.splits(), ['files-1-of-2'])
  t.deepEqual(
    (await drain(first)).flatMap((b) => b.values),
    ['{"f":"a"}', '{"f":"c"}', '{"f":"e"}'],
  )
  t.deepEqual(
    (await drain(second)).flatMap((b) => b.values),
    ['{"f":"b"}', '{"f":"d"}'],
  )
})

test('reads a single file on instance 0 only', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, { 'x.jsonl': '{}\n' })
  const other = await reader(join(dir, 'x.jsonl'), {}, { instance: 1, parallelism: 2 })
  t.deepEqual(other.splits(), [])
  t.is(await other.poll(), 'end')
})

test('fails at createReader when nothing is at the path, saying what to write', async (t) => {
  const dir = await tempDir(t)
  const missing = join(dir, 'nope.jsonl')
  const source = fileSource(missing)
  await t.throwsAsync(async () => source.createReader(context()), {
    instanceOf: ConfigError,
    message: `fileSource: no file or directory at ${missing}: write the path of a .jsonl file or a directory of them`,
  })
})

test('refuses a directory checkpoint written at another parallelism', async (t) => {
  const dir = await tempDir(t)
  await t.throwsAsync(
    async () => reader(dir, {}, { restored: new Map([['files-1-of-2', { file: 'a.jsonl', line: 1 }]]) }),
    {
      instanceOf: ConfigError,
      message:
        "fileSource 'lines': the checkpoint read this directory with parallelism 2, this run has 1: restore it with parallelism 2 (files are dealt to instances by index)",
    },
  )
})

test('refuses options it does not know or cannot honour', (t) => {
  t.throws(() => fileSource('x', { maxFilesPerTrigger: 0 }), {
    instanceOf: ConfigError,
    message: 'fileSource: maxFilesPerTrigger 0 must be a whole number >= 1, e.g. 1',
  })
  t.throws(() => fileSource('x', { pollInterval: 5 } as never), {
    instanceOf: ConfigError,
    message: /unknown option 'pollInterval'/,
  })
})

interface Tweet {
  readonly n: number
  readonly t: string
}

test('feeds a query that runs a directory to its end', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, {
    '1.jsonl': '{"n":1,"t":"2026-11-24T10:00:00Z"}\n{"n":2,"t":"2026-11-24T10:00:05Z"}\n',
    '2.jsonl': '{"n":3,"t":"2026-11-24T10:00:03Z"}\n',
  })
  const sink = new MemorySink<string>({ outputMode: 'append' })
  const graph = new StreamGraph()
  graph
    .from(
      defineSource('tweets', fileSource(dir, { bounded: true, maxFilesPerTrigger: 1 }), {
        timestamp: (line) => Date.parse((JSON.parse(line) as Tweet).t),
        watermark: { delay: 1000 },
      }),
    )
    .to(defineSink('out', sink))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.done
  t.is(job.state, 'finished')
  t.deepEqual(
    sink.rows().map((line) => (JSON.parse(line) as Tweet).n),
    [1, 2, 3],
  )
  t.is(job.watermark, Infinity)
  t.deepEqual(
    sink.epochs.map((e) => e.epoch),
    [0],
  )
})

test('goes on after a restart from the line the last committed epoch reached', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, { '1.jsonl': '{"n":1}\n{"n":2}\n' })
  const backend = new MemoryStateBackend()
  const sink = new MemorySink<string>({ outputMode: 'append' })
  const graph = () => {
    const g = new StreamGraph()
    g.from(defineSource('lines', fileSource(dir, { pollIntervalMs: 5 }))).to(defineSink('out', sink))
    return g
  }
  const first = await Job.start(graph(), { trigger: { kind: 'manual' }, stateBackend: backend })
  await until(() => first.counters()['lines#0']?.recordsOut === 2)
  await first.stop()
  t.deepEqual(sink.rows(), ['{"n":1}', '{"n":2}'])

  await writeFiles(dir, { '2.jsonl': '{"n":3}\n' })
  const second = await Job.start(graph(), { trigger: { kind: 'availableNow' }, stateBackend: backend })
  await second.done
  t.deepEqual(sink.rows(), ['{"n":1}', '{"n":2}', '{"n":3}'])
  t.deepEqual(
    sink.epochs.map((e) => e.epoch),
    [0, 1],
  )
})
