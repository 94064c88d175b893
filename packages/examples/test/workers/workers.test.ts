import { execFile } from 'node:child_process'
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
