import test, { type ExecutionContext } from 'ava'
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ConfigError,
  defineSink,
  defineSource,
  hashKey,
  Job,
  ManualClock,
  MemoryStateBackend,
  StreamGraph,
  type SourceBatch,
  type SourceReader,
  type SourceReaderContext,
} from '@weir/core'

import { fileSource, MemorySink, type DirectoryPosition, type FileSourceOptions } from '../src/index.js'

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

/** Polls until the reader ends, keeping every batch; each batch is an epoch, committed at once. */
async function drain(r: SourceReader<string>): Promise<SourceBatch<string>[]> {
  const batches: SourceBatch<string>[] = []
  for (;;) {
    const batch = await r.poll()
    if (batch === 'end') return batches
    if (batch === 'idle') throw new Error('the reader went idle instead of ending')
    batches.push(batch)
    await r.commit?.(new Map([[batch.split, batch.position]]), batches.length - 1)
  }
}

/** Lets pending I/O and microtasks run once: no timer, no sleep. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await turn()
}

const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `{"${prefix}":${i}}`)

/** The position of the only reader of a directory that started from nothing. */
function at(
  ownThrough: string | null,
  reading: { file: string; line: number } | null = null,
): DirectoryPosition {
  return { reader: 0, readers: 1, doneThrough: null, doneAlso: [], partlyRead: [], ownThrough, reading }
}

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
    { split: 'files-0', values: ['{"a":0}', '{"a":1}'], position: at('a.jsonl') },
    { split: 'files-0', values: ['{"b":0}'], position: at('b.jsonl'), splitEnded: true },
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
      [lines('a', 3), at('1.jsonl')],
      [[], at('2.jsonl')],
      [lines('c', 2), at('3.jsonl')],
    ],
  )
  const two = await drain(await reader(dir, { maxFilesPerTrigger: 2, bounded: true }))
  t.deepEqual(
    two.map((b) => [b.values, b.position]),
    [
      [lines('a', 3), at('2.jsonl')],
      [lines('c', 2), at('3.jsonl')],
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
    const restored = new Map([['files-0', uninterrupted[i].position]])
    const rest = await drain(await reader(dir, { batchSize: 2, bounded: true }, { restored }))
    const before = uninterrupted.slice(0, i + 1).flatMap((batch) => batch.values)
    t.deepEqual(
      [...before, ...rest.flatMap((batch) => batch.values)],
      all,
      `restored at ${JSON.stringify(restored.get('files-0'))}`,
    )
  }
  t.deepEqual(
    uninterrupted.map((batch) => batch.position),
    [
      at(null, { file: 'a.jsonl', line: 2 }),
      at(null, { file: 'a.jsonl', line: 5 }),
      at('a.jsonl'),
      at('a.jsonl', { file: 'b.jsonl', line: 2 }),
      at('b.jsonl'),
    ],
  )
  const fromBlank = await drain(
    await reader(
      dir,
      { bounded: true },
      { restored: new Map([['files-0', at(null, { file: 'a.jsonl', line: 2 })]]) },
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
  t.deepEqual(await r.poll(), { split: 'files-0', values: ['{"n":1}'], position: at('1.jsonl') })
  t.deepEqual(await r.poll(), { split: 'files-0', values: ['{"n":2}'], position: at('2.jsonl') })
  await writeFiles(dir, { '0.jsonl': '{"n":0}\n', '3.jsonl': '{"n":3}\n' })
  const waiting = r.poll()
  await until(() => clock.pendingTimers === 1)
  clock.advance(100)
  t.is(await waiting, 'idle')
  t.deepEqual(await r.poll(), { split: 'files-0', values: ['{"n":3}'], position: at('3.jsonl') })
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
    { split: 'files-0', values: ['{"n":1}'], position: at('1.jsonl'), splitEnded: true },
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

test('deals the files of a directory to instances by a hash of their name, one split each', async (t) => {
  const dir = await tempDir(t)
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => `${n}.jsonl`)
  await writeFiles(dir, Object.fromEntries(names.map((n) => [n, `"${n}"\n`])))
  for (const parallelism of [1, 2, 3]) {
    for (let instance = 0; instance < parallelism; instance++) {
      const r = await reader(dir, { bounded: true }, { instance, parallelism })
      t.deepEqual(r.splits(), [`files-${instance}`])
      t.deepEqual(
        (await drain(r)).flatMap((b) => b.values),
        names.filter((n) => hashKey(n) % parallelism === instance).map((n) => `"${n}"`),
      )
    }
  }
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

test('refuses a checkpoint whose split or position a directory reader does not write', async (t) => {
  const dir = await tempDir(t)
  await t.throwsAsync(async () => reader(dir, {}, { restored: new Map([['files-1-of-2', at('a.jsonl')]]) }), {
    instanceOf: ConfigError,
    message:
      "fileSource 'lines': the checkpoint holds split 'files-1-of-2', which a directory source does not write (it was written by another source, or by an older weir): use a new checkpoint location",
  })
  await t.throwsAsync(
    async () => reader(dir, {}, { restored: new Map([['files-0', { file: 'a.jsonl', line: 1 }]]) }),
    {
      instanceOf: ConfigError,
      message:
        /holds \{"file":"a.jsonl","line":1\} for split 'files-0', not the position of a directory reader/,
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

test('feeds a query that runs a directory to its end, one file an epoch with maxFilesPerTrigger 1', async (t) => {
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
  const job = await Job.start(graph, { trigger: { kind: 'availableNow' } })
  await job.done
  t.is(job.state, 'finished')
  t.is(job.watermark, Infinity)
  t.deepEqual(
    sink.epochs.map((e) => [e.epoch, e.rows.map((line) => (JSON.parse(line) as Tweet).n)]),
    [
      [0, [1, 2]],
      [1, [3]],
    ],
  )
})

test('opens no more than maxFilesPerTrigger files an epoch, its share at each parallelism', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`${n}.jsonl`, `{"n":${n}}\n`])))
  const r = await reader(dir, { maxFilesPerTrigger: 2, bounded: true })
  const first = await r.poll()
  t.deepEqual(first !== 'idle' && first !== 'end' && [first.values, first.position], [
    ['{"n":1}', '{"n":2}'],
    at('2.jsonl'),
  ])
  // Two files are read and not committed: the reader says it has caught up, and says that it holds files
  // back; then it waits, whatever the clock says, until a commit.
  t.is(await r.poll(), 'idle')
  t.true(r.throttled!())
  let waited: SourceBatch<string> | string | undefined
  const held = r.poll().then((b) => (waited = b))
  await turn()
  await turn()
  t.is(waited, undefined)
  // An epoch that ended after the first file leaves one file of the budget in flight: one more opens.
  await r.commit!(new Map([['files-0', at('1.jsonl')]]), 0)
  await held
  t.deepEqual(typeof waited === 'object' && [waited.values, waited.position], [['{"n":3}'], at('3.jsonl')])
  await r.commit!(new Map([['files-0', at('3.jsonl')]]), 1)
  const third = await r.poll()
  t.deepEqual(third !== 'idle' && third !== 'end' && third.values, ['{"n":4}', '{"n":5}'])
  t.is(await r.poll(), 'end')
  await r.close()

  // Shared among instances: 3 files an epoch over 2 instances is 2 each (at least 1).
  const shared = await reader(dir, { maxFilesPerTrigger: 3, bounded: true }, { instance: 0, parallelism: 2 })
  const batch = await shared.poll()
  t.true(batch !== 'idle' && batch !== 'end' && batch.values.length <= 2)
  await shared.close()
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

/**
 * Runs readers of a directory as a job would, once per parallelism in `runs`: each reader of a run polls
 * as often as `polls` says (Infinity: to its end), then the run "checkpoints" the way a source instance
 * does (a split's position is that of its last batch, or the restored one while the reader still reports
 * the split) and the next run restores from it. Returns every value read, and the last checkpoint.
 */
async function readAcrossRestores(
  dir: string,
  options: FileSourceOptions,
  runs: readonly { parallelism: number; polls: (instance: number) => number }[],
): Promise<{ values: string[]; positions: ReadonlyMap<string, unknown> }> {
  let restored: ReadonlyMap<string, unknown> = new Map()
  const values: string[] = []
  for (const run of runs) {
    const checkpoint = new Map<string, unknown>()
    for (let instance = 0; instance < run.parallelism; instance++) {
      const r = await reader(
        dir,
        { ...options, bounded: true },
        { instance, parallelism: run.parallelism, restored },
      )
      const latest = new Map<string, unknown>()
      for (let i = 0; i < run.polls(instance); i++) {
        const batch = await r.poll()
        if (batch === 'end') break
        if (batch === 'idle') throw new Error('the reader went idle instead of ending')
        values.push(...batch.values)
        latest.set(batch.split, batch.position)
        await r.commit?.(new Map([[batch.split, batch.position]]), i)
      }
      for (const split of r.splits()) if (restored.has(split)) checkpoint.set(split, restored.get(split))
      for (const [split, position] of latest) checkpoint.set(split, position)
      await r.close()
    }
    restored = checkpoint
  }
  return { values, positions: restored }
}

async function numberedFiles(
  dir: string,
  files: number,
  linesPerFile: (i: number) => number,
): Promise<string[]> {
  const all: string[] = []
  const contents: Record<string, string> = {}
  for (let f = 0; f < files; f++) {
    const name = `f${String(f).padStart(3, '0')}`
    const own = lines(name, linesPerFile(f))
    all.push(...own)
    contents[`${name}.jsonl`] =
      own.map((l, i) => (i % 4 === 3 ? `${l}\n` : l)).join('\n') + (own.length ? '\n' : '')
  }
  await writeFiles(dir, contents)
  return all
}

test('restores a directory read at one parallelism into any other, every line exactly once', async (t) => {
  const dir = await tempDir(t)
  const all = await numberedFiles(dir, 23, (f) => (f * 7) % 11)
  const schedules: (readonly number[])[] = [
    [2, 3, 1, 2],
    [1, 4, 2, 1],
    [3, 1, 3],
    [4, 2, 5, 1],
  ]
  for (const parallelisms of schedules) {
    for (const options of [{ batchSize: 3 }, { maxFilesPerTrigger: 1 }, { maxFilesPerTrigger: 2 }] as const) {
      const runs = parallelisms.map((parallelism, n) => ({
        parallelism,
        // Uneven progress, a reader that never polls before its run's checkpoint, and a last run to the end.
        polls: (instance: number) =>
          n === parallelisms.length - 1
            ? Infinity
            : instance === 1 && n === 1
              ? 0
              : 1 + ((instance * 3 + n * 5) % 4),
      }))
      const { values } = await readAcrossRestores(dir, options, runs)
      t.deepEqual(
        values.slice().sort(),
        all.slice().sort(),
        `${parallelisms.join(' → ')} with ${JSON.stringify(options)}`,
      )
    }
  }
})

test('reports the splits of old readers it stands in for until its first batch says where it is', async (t) => {
  const dir = await tempDir(t)
  await numberedFiles(dir, 6, () => 2)
  const { positions } = await readAcrossRestores(dir, { maxFilesPerTrigger: 1 }, [
    { parallelism: 3, polls: () => 1 },
  ])
  t.deepEqual([...positions.keys()], ['files-0', 'files-1', 'files-2'])
  const first = await reader(dir, { bounded: true }, { instance: 0, parallelism: 2, restored: positions })
  const second = await reader(dir, { bounded: true }, { instance: 1, parallelism: 2, restored: positions })
  t.deepEqual(first.splits(), ['files-0', 'files-2'])
  t.deepEqual(second.splits(), ['files-1'])
  const said = await first.poll()
  t.like(said, { split: 'files-0', values: [] })
  t.deepEqual(first.splits(), ['files-0'])
  // What the three old readers had read (one file each), as a prefix of names and the read files above it.
  const read = [...positions.values()].map((p) => (p as DirectoryPosition).ownThrough!).sort()
  const { doneThrough, doneAlso } = (said as SourceBatch<string>).position as DirectoryPosition
  const names = Array.from({ length: 6 }, (_, f) => `f00${f}.jsonl`)
  t.deepEqual(
    names.filter((n) => (doneThrough !== null && n <= doneThrough) || doneAlso.includes(n)),
    read,
  )
  await first.close()
  await second.close()
})

test('keeps a directory position small however many files are read', async (t) => {
  const dir = await tempDir(t)
  await numberedFiles(dir, 60, () => 1)
  const { positions } = await readAcrossRestores(dir, { maxFilesPerTrigger: 1 }, [
    { parallelism: 1, polls: () => 59 },
  ])
  t.deepEqual(positions, new Map([['files-0', at('f058.jsonl')]]))
  // Two readers that progressed unevenly: a restore keeps the names read above the common prefix only.
  const after = await readAcrossRestores(dir, { maxFilesPerTrigger: 1 }, [
    { parallelism: 2, polls: (i) => (i === 0 ? 20 : 5) },
    { parallelism: 3, polls: () => 0 },
  ])
  for (const position of after.positions.values()) {
    const { doneThrough, doneAlso } = position as DirectoryPosition
    t.true(doneThrough === null || doneThrough < 'f030.jsonl')
    t.true(doneAlso.length <= 25, `${doneAlso.length} names above ${doneThrough}`)
  }
})

test('restores a query that reads a directory at another parallelism, each line once', async (t) => {
  const dir = await tempDir(t)
  const all = await numberedFiles(dir, 12, (f) => 1 + (f % 3))
  const backend = new MemoryStateBackend()
  const sink = new MemorySink<string>({ outputMode: 'append' })
  const graph = (parallelism: number) => {
    const g = new StreamGraph()
    g.from(defineSource('lines', fileSource(dir, { maxFilesPerTrigger: 1, bounded: true })), {
      parallelism,
    }).to(defineSink('out', sink), { parallelism })
    return g
  }
  const first = await Job.start(graph(2), { trigger: { kind: 'manual' }, stateBackend: backend })
  // An epoch reads at most one file per instance (maxFilesPerTrigger): epochs until 5 lines are read.
  while (
    (first.counters()['lines#0']?.recordsOut ?? 0) + (first.counters()['lines#1']?.recordsOut ?? 0) <
    5
  ) {
    const ended = new Promise<void>((resolve) => {
      const stop = first.onEpoch(() => {
        stop()
        resolve()
      })
    })
    first.triggerEpoch({ checkpoint: true })
    await ended
    // An epoch on the memory backend ends in microtasks: let the readers' file I/O in between.
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await first.stop()
  const read = sink.rows().length
  t.true(read >= 5 && read < all.length)
  const second = await Job.start(graph(3), { trigger: { kind: 'availableNow' }, stateBackend: backend })
  await second.done
  t.deepEqual(sink.rows().slice().sort(), all.slice().sort())
  const third = await Job.start(graph(1), { trigger: { kind: 'availableNow' }, stateBackend: backend })
  await third.done
  t.is(sink.rows().length, all.length)
})

test('processAllAvailable ends epochs until maxFilesPerTrigger holds nothing back, as Spark runs batches', async (t) => {
  const dir = await tempDir(t)
  await writeFiles(dir, Object.fromEntries([1, 2, 3, 4].map((n) => [`${n}.jsonl`, `{"n":${n}}\n`])))
  const sink = new MemorySink<string>({ outputMode: 'append' })
  const graph = new StreamGraph()
  graph.from(defineSource('lines', fileSource(dir, { maxFilesPerTrigger: 1 }))).to(defineSink('out', sink))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.processAllAvailable()
  t.deepEqual(
    sink.epochs.map((e) => [e.epoch, e.rows]),
    [1, 2, 3, 4].map((n, i) => [i, [`{"n":${n}}`]]),
  )
  // Nothing is held back now: one more call is one epoch, empty.
  await job.processAllAvailable()
  t.is(sink.rows().length, 4)
  await job.stop()
})
