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
