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
