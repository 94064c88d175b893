import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import test from 'ava'
import { hashKey } from '@weir/core'

const entry = fileURLToPath(new URL('./window-count-entry.js', import.meta.url))
const run = promisify(execFile)

async function windowCounts(workers: number): Promise<string[]> {
  const { stdout } = await run(process.execPath, [entry, String(workers)], { timeout: 40_000 })
  return JSON.parse(stdout) as string[]
}

test('the watermarked sliding-window count gives the same rows on one thread and on two and three', async (t) => {
  const [one, two, three] = await Promise.all([windowCounts(1), windowCounts(2), windowCounts(3)])
  t.true(one.length > 50, `only ${one.length} rows`)
  t.deepEqual(two, one)
  t.deepEqual(three, one)
})

interface SeenMetrics {
  readonly instances: [nodeId: string, instance: number, recordsIn: number, recordsOut: number][]
  readonly counters: string[]
  readonly splits: number
}

async function wordCountRun(
  workers: number,
  phases: number,
): Promise<{ counts: [string, number][]; metrics: SeenMetrics }> {
  const entry = fileURLToPath(new URL('./word-count-entry.js', import.meta.url))
  const { stdout } = await run(process.execPath, [entry, String(workers), String(phases)], {
    timeout: 40_000,
  })
  const [counts, metrics] = stdout.trim().split('\n')
  return { counts: JSON.parse(counts) as [string, number][], metrics: JSON.parse(metrics) as SeenMetrics }
}

async function wordCounts(workers: number, phases: number): Promise<[string, number][]> {
  return (await wordCountRun(workers, phases)).counts
}

test('word count in two phases (partial aggregates across the exchange) gives the same counts as in one, on one thread and on two and three', async (t) => {
  const [one, twoPhases, twoPhasesOn2, twoPhasesOn3] = await Promise.all([
    wordCounts(1, 1),
    wordCounts(1, 2),
    wordCounts(2, 2),
    wordCounts(3, 2),
  ])
  t.true(one.length > 1000, `only ${one.length} words`)
  t.deepEqual(twoPhases, one)
  t.deepEqual(twoPhasesOn2, one)
  t.deepEqual(twoPhasesOn3, one)
})

test("the main thread's metrics and counters show every instance, those the worker threads ran included", async (t) => {
  const [one, three] = await Promise.all([wordCountRun(1, 2), wordCountRun(3, 2)])
  // The same instances on one thread and on three; the same records in and out where epochs do not
  // decide them (the source and explode; an aggregate emits per epoch).
  const places = (m: SeenMetrics) => m.instances.map(([node, i]) => `${node}#${i}`)
  t.deepEqual(places(three.metrics), places(one.metrics))
  const rowWise = (m: SeenMetrics) => m.instances.filter(([node]) => node === 'tweets' || node === 'words')
  t.deepEqual(rowWise(three.metrics), rowWise(one.metrics))
  t.deepEqual(three.metrics.counters, one.metrics.counters)
  const sources = three.metrics.instances.filter(([node]) => node === 'tweets')
  t.deepEqual(
    sources.map(([, i]) => i),
    [0, 1, 2],
  )
  t.is(
    sources.reduce((n, [, , , out]) => n + out, 0),
    20_000,
    'every tweet read, whichever thread read it',
  )
  t.true(three.metrics.counters.includes('tweets#2'))
  t.is(three.metrics.splits, one.metrics.splits)
})

test('processAllAvailable reads every file held back by maxFilesPerTrigger, also on a worker thread', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-throttled-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // Files are dealt to the two instances by a hash of their name: one for instance 0 (main thread), nine
  // for instance 1 (the worker's, with two threads), so only the worker's reader still holds files back.
  const names: string[] = []
  for (let f = 0, ones = 0, zeros = 0; names.length < 10; f++) {
    const name = `f${f}.jsonl`
    const owner = hashKey(name) % 2
    if (owner === 0 && zeros++ < 1) names.push(name)
    if (owner === 1 && ones++ < 9) names.push(name)
  }
  for (const name of names)
    await writeFile(
      join(dir, name),
      Array.from({ length: 3 }, (_, i) => `{"f":"${name}","i":${i}}\n`).join(''),
    )
  const entry = fileURLToPath(new URL('./throttled-entry.js', import.meta.url))
  for (const workers of [1, 2]) {
    const { stdout } = await run(process.execPath, [entry, dir, String(workers)], { timeout: 40_000 })
    const { rows, epochs } = JSON.parse(stdout) as { rows: number; epochs: number }
    t.is(rows, 30, `workers: ${workers}`)
    // Instance 1 reads one file an epoch: nine epochs held data.
    t.true(epochs >= 9, `workers: ${workers}, ${epochs} epochs`)
  }
})

interface DataFrameRun {
  readonly plan: string
  readonly epochs: unknown[][]
  readonly late: number
}

async function dataFrameQueries(workers: number, strategy: string): Promise<Record<string, DataFrameRun>> {
  const entry = fileURLToPath(new URL('./dataframe-entry.js', import.meta.url))
  const dir = await mkdtemp(join(tmpdir(), 'weir-dataframe-workers-'))
  const { stdout } = await run(process.execPath, [entry, String(workers), strategy, dir], {
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  await rm(dir, { recursive: true, force: true })
  return JSON.parse(stdout) as Record<string, DataFrameRun>
}

test("the tutorial's DataFrame queries at parallelism 2 give every epoch's rows of one phase on one thread in two phases on two threads", async (t) => {
  const [reference, twoThreads, oneThread] = await Promise.all([
    dataFrameQueries(1, 'one-phase'),
    dataFrameQueries(2, 'auto'),
    dataFrameQueries(1, 'auto'),
  ])
  t.deepEqual(Object.keys(reference), [
    'word counts, complete',
    'windowed counts, update',
    'watermarked counts, append',
    'watermarked counts, update',
  ])
  for (const [query, expected] of Object.entries(reference)) {
    t.notRegex(expected.plan, /partial-aggregate/, query)
    t.regex(twoThreads[query].plan, /^partial \(partial-aggregate\) \[2\]/m, query)
    t.true(
      expected.epochs.every((rows) => rows.length > 0),
      `${query}: an epoch without rows`,
    )
    t.deepEqual(twoThreads[query].epochs, expected.epochs, query)
    t.deepEqual(oneThread[query].epochs, expected.epochs, query)
    t.is(oneThread[query].late, expected.late, query)
  }
  t.true(reference['watermarked counts, append'].late > 0, 'nothing late')
})
