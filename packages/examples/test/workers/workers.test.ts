import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import test from 'ava'

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

async function wordCounts(workers: number, phases: number): Promise<[string, number][]> {
  const entry = fileURLToPath(new URL('./word-count-entry.js', import.meta.url))
  const { stdout } = await run(process.execPath, [entry, String(workers), String(phases)], {
    timeout: 40_000,
  })
  return JSON.parse(stdout) as [string, number][]
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
