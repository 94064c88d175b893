import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { main } from '../../src/cli/weir-tweets.js'
import { TWEET_FILES } from '../fixtures/generate-tweets.js'
import { fixturePath } from '../fixtures/paths.js'
import {
  batchesOfEpochs,
  epochRows,
  parseLine,
  windowedCountsReference,
  wordCountsReference,
  type WindowCount,
  type WindowedOptions,
} from '../tutorial/spark-reference.js'

// weir-tweets, called in process with captured output: `main(argv, io)` returns the exit code.

const MINUTE = 60_000
const batches = TWEET_FILES.map((name) =>
  readFileSync(fixturePath('tweets', name), 'utf8')
    .split('\n')
    .map(parseLine)
    .filter((tweet) => tweet !== undefined),
)
const rowsPerFile = batches.map((b) => b.length)

async function cli(args: string[], interrupted: Promise<void> = new Promise(() => {})) {
  let out = ''
  let err = ''
  const code = await main(args, { out: (text) => (out += text), err: (text) => (err += text), interrupted })
  return { code, out: () => out, err }
}

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-tweets-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Rows read per epoch, by query name, from the `--progress` lines. */
function rowsPerEpoch(err: string): Map<string, number[]> {
  const epochs = new Map<string, number[]>()
  for (const [, name, batch, rows] of err.matchAll(/^(\w+) batch (\d+): (\d+) rows in/gm)) {
    const list = epochs.get(name) ?? []
    if (Number(batch) !== list.length) throw new Error(`${name} batch ${batch} after ${list.length} batches`)
    epochs.set(name, [...list, Number(rows)])
  }
  return epochs
}

/** The JSON lines the file sink writes for the reference's rows, epoch by epoch, and the files they go in. */
function expectedOutput<R>(perEpoch: R[][], toJson: (row: R) => object) {
  return {
    files: perEpoch.flatMap((rows, epoch) =>
      rows.length > 0 ? [`part-${String(epoch).padStart(8, '0')}-0.jsonl`] : [],
    ),
    lines: perEpoch.flatMap((rows, epoch) =>
      rows.map((row) => JSON.stringify({ batch: epoch, ...toJson(row) })),
    ),
  }
}

async function writtenOutput(dir: string) {
  const files = (await readdir(dir)).sort()
  const lines: string[] = []
  for (const file of files)
    lines.push(...(await readFile(join(dir, file), 'utf8')).split('\n').filter((l) => l !== ''))
  return { files, lines }
}

const windowJson = (r: WindowCount) => ({
  window: { start: new Date(r.start).toISOString(), end: new Date(r.end).toISOString() },
  count: r.count,
})

function expectedWindows(epochs: number[], options: WindowedOptions) {
  const perBatch = windowedCountsReference(batches, options).map((b) => b.rows)
  const groups = batchesOfEpochs(epochs, rowsPerFile)
  return expectedOutput(
    epochRows(perBatch, groups, {
      mode: options.mode,
      key: (r) => r.start,
      order: (a, b) => a.start - b.start,
    }),
    windowJson,
  )
}

test('reads a directory with availableNow, writes exactly the expected JSON lines for each query, and exits 0', async (t) => {
  const dir = await tempDir(t)
  const { code, err } = await cli([
    '--source',
    `file:${fixturePath('tweets')}`,
    '--max-files-per-trigger',
    '1',
    '--trigger',
    'availableNow',
    '--sink',
    `jsonl:${dir}`,
    '--progress',
  ])
  t.is(code, 0, err)
  const epochs = rowsPerEpoch(err)
  t.deepEqual([...epochs.keys()].sort(), ['watermarked_counts', 'windowed_counts', 'word_counts'])

  const words = batchesOfEpochs(epochs.get('word_counts')!, rowsPerFile)
  const wordTables = epochRows(wordCountsReference(batches), words, {
    mode: 'complete',
    key: (r) => r.word,
    order: () => 0,
  })
  const wordsWritten = await writtenOutput(join(dir, 'word_counts'))
  t.deepEqual(
    wordsWritten,
    expectedOutput(wordTables, (r) => r),
  )
  t.true(
    wordsWritten.lines.includes(
      `{"batch":${epochs.get('word_counts')!.length - 1},"word":"the","count":424}`,
    ),
  )

  const windowed = await writtenOutput(join(dir, 'windowed_counts'))
  t.deepEqual(
    windowed,
    expectedWindows(epochs.get('windowed_counts')!, { size: 5 * MINUTE, slide: MINUTE, mode: 'complete' }),
  )
  t.regex(
    windowed.lines[0],
    /^\{"batch":0,"window":\{"start":"2026-11-24T\d\d:\d\d:00\.000Z","end":"2026-11-24T\d\d:\d\d:00\.000Z"\},"count":\d+\}$/,
  )

  t.deepEqual(
    await writtenOutput(join(dir, 'watermarked_counts')),
    expectedWindows(epochs.get('watermarked_counts')!, {
      size: 5 * MINUTE,
      slide: MINUTE,
      delay: MINUTE,
      mode: 'update',
    }),
  )
})

for (const [query, mode, name, options] of [
  [
    'watermarked',
    'append',
    'watermarked_counts',
    { size: 5 * MINUTE, slide: MINUTE, delay: MINUTE, mode: 'append' },
  ],
  ['windowed', 'update', 'windowed_counts', { size: 10 * MINUTE, slide: 2 * MINUTE, mode: 'update' }],
] as const) {
  test(`writes query ${query} in ${mode} mode with --output-mode ${mode}`, async (t) => {
    const dir = await tempDir(t)
    const { code, err } = await cli([
      '--source',
      `file:${fixturePath('tweets')}`,
      '--max-files-per-trigger',
      '1',
      '--trigger',
      'availableNow',
      '--sink',
      `jsonl:${dir}`,
      '--query',
      query,
      '--output-mode',
      mode,
      '--window',
      `${options.size / MINUTE} minutes`,
      '--slide',
      `${options.slide / MINUTE} minutes`,
      '--progress',
    ])
    t.is(code, 0, err)
    const epochs = rowsPerEpoch(err).get(name)!
    t.deepEqual(await writtenOutput(join(dir, name)), expectedWindows(epochs, options))
  })
}

test('prints its usage and exits 0 with --help', async (t) => {
  for (const flag of ['--help', '-h']) {
    const { code, out, err } = await cli([flag])
    t.is(code, 0)
    t.true(
      out().startsWith(
        'weir-tweets: the Spark Structured Streaming tweet tutorial, in weir\n\nusage: weir-tweets [options]\n',
      ),
    )
    t.true(out().includes('--query wordcount|windowed|watermarked|all'))
    t.is(err, '')
  }
})

for (const [args, message] of [
  [['--frobnicate'], /^weir-tweets: Unknown option '--frobnicate'[^]*usage: weir-tweets \[options\]/],
  [
    ['--window', '5 minutos'],
    /^weir-tweets: window duration '5 minutos' is not a duration: write e\.g\. '5 minutes', '10 seconds'/,
  ],
  [
    ['--slide', '10 minutes'],
    /^weir-tweets: window slide \(10 minutes\) is longer than its size \(5 minutes\): use a slide <= size/,
  ],
  [
    ['--query', 'nope'],
    /^weir-tweets: --query nope is not a query: write wordcount, windowed, watermarked or all\n$/,
  ],
  [
    ['--query', 'wordcount', '--output-mode', 'append'],
    /^weir-tweets: Append output mode not supported when there are streaming aggregations[^]*or use outputMode update or complete\n$/,
  ],
  [
    ['--output-mode', 'sideways'],
    /^weir-tweets: outputMode "sideways" is not one of 'append', 'update', 'complete'\n$/,
  ],
  [
    ['--trigger', 'sometimes'],
    /^weir-tweets: --trigger sometimes is not a trigger: write an interval \('5 seconds'\), availableNow or continuous\n$/,
  ],
  [
    ['--duration', 'forever'],
    /^weir-tweets: --duration 'forever' is not a duration: write e\.g\. '5 minutes'/,
  ],
  [
    ['--sink', 'parquet:out'],
    /^weir-tweets: --sink parquet:out is not a sink: write console or jsonl:PATH\n$/,
  ],
  [
    ['--source', 'file:/no/such/dir'],
    /^weir-tweets: fileSource: no file or directory at \/no\/such\/dir: write the path of a \.jsonl file or a directory of them\n$/,
  ],
  [['--scale-out'], /^weir-tweets: --scale-out shares a Kafka topic among processes: add --source kafka\n$/],
  [
    ['--scale-out', '--source', 'kafka', '--brokers', '127.0.0.1:1'],
    /^weir-tweets: --scale-out needs --checkpoint DIR on a directory every process sees/,
  ],
  [
    [
      '--scale-out',
      '--source',
      'kafka',
      '--brokers',
      '127.0.0.1:1',
      '--checkpoint',
      '/tmp/x',
      '--workers',
      '2',
    ],
    /^weir-tweets: --scale-out runs one of each instance per process: start more processes instead/,
  ],
] as const) {
  test(`exits 2 and says what to write for ${args.join(' ')}`, async (t) => {
    const { code, out, err } = await cli([...args])
    t.regex(err, message)
    t.is(code, 2)
    t.is(out(), '')
  })
}

test('stops the queries it started when a later one cannot start', async (t) => {
  // watermarked starts in append mode; wordcount cannot: nothing may keep running after main returns.
  const { code, out, err } = await cli([
    '--query',
    'watermarked,wordcount',
    '--output-mode',
    'append',
    '--trigger',
    '50 ms',
  ])
  t.is(code, 2)
  t.regex(err, /Append output mode not supported/)
  const printed = out()
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.is(out(), printed)
})

test('runs the embedded source for --duration, printing Spark-style batches, and exits 0', async (t) => {
  const started = Date.now()
  const { code, out, err } = await cli([
    '--source',
    'embedded',
    '--duration',
    '2 seconds',
    '--trigger',
    '1 second',
    '--num-rows',
    '3',
  ])
  t.is(code, 0, err)
  t.true(Date.now() - started < 4000)
  for (const name of ['word_counts', 'windowed_counts', 'watermarked_counts']) {
    const batches = [
      ...out().matchAll(
        new RegExp(
          `^${name}\\n-{43}\\nBatch: (\\d+)\\n-{43}\\n\\+-+\\+-----\\+\\n\\|\\s*(\\w+)\\|count\\|\\n`,
          'gm',
        ),
      ),
    ]
    t.deepEqual(
      batches.map((m) => Number(m[1])),
      batches.map((_, i) => i),
    )
    t.true(batches.length >= 2, `${name}: ${batches.length} batches`)
    t.is(batches[0][2], name === 'word_counts' ? 'word' : 'window')
  }
  t.regex(out(), /\|\{2026-\d\d-\d\d \d\d:\d\d...\|\s+\d+\|\n/)
  t.regex(out(), /only showing top 3 rows\n/)
})

test('stops cleanly with exit 0 when interrupted', async (t) => {
  let interrupt!: () => void
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve))
  const running = cli(['--source', 'embedded', '--query', 'watermarked', '--trigger', '100 ms'], interrupted)
  setTimeout(interrupt, 300)
  const { code, out, err } = await running
  t.is(code, 0, err)
  t.regex(out(), /^-{43}\nBatch: 0\n/)
})
