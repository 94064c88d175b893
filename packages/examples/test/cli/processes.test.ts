import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { TWEET_FILES } from '../fixtures/generate-tweets.js'
import { fixturePath, repoRoot } from '../fixtures/paths.js'
import { parseLine, wordCountsReference } from '../tutorial/spark-reference.js'

// The compiled programs, as a user runs them: `node packages/examples/dist/src/...` from the repository.

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

function run(
  script: string,
  args: string[],
  onStdout?: (stdout: string, child: ChildProcess) => void,
): Promise<Exit> {
  const child = spawn(process.execPath, [join('packages', 'examples', 'dist', 'src', script), ...args], {
    cwd: repoRoot,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    onStdout?.(stdout, child)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} did not exit within 20 s\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, 20_000)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

test('the weir-tweets bin reads the fixture with availableNow, writes the word counts, and exits 0', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-tweets-bin-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const exit = await run(join('cli', 'weir-tweets.js'), [
    '--source',
    `file:${fixturePath('tweets')}`,
    '--trigger',
    'availableNow',
    '--query',
    'wordcount',
    '--sink',
    `jsonl:${dir}`,
  ])
  t.deepEqual([exit.code, exit.signal, exit.stderr], [0, null, ''])
  const files = (await readdir(join(dir, 'word_counts'))).sort()
  t.true(files.length >= 1)
  const last = files.at(-1)!
  const epoch = Number(/^part-(\d{8})-0\.jsonl$/.exec(last)![1])
  const batches = TWEET_FILES.map((name) =>
    readFileSync(fixturePath('tweets', name), 'utf8')
      .split('\n')
      .map(parseLine)
      .filter((tweet) => tweet !== undefined),
  )
  // Complete mode: whatever the epochs, the last one holds the whole table.
  t.deepEqual(
    (await readFile(join(dir, 'word_counts', last), 'utf8')).split('\n').filter((l) => l !== ''),
    wordCountsReference(batches)
      .at(-1)!
      .map((r) => JSON.stringify({ batch: epoch, ...r })),
  )
})

test('Ctrl-C stops the demo cleanly with exit 0 within a few seconds', async (t) => {
  let interruptedAt = 0
  const exit = await run('demo.js', [], (stdout, child) => {
    if (interruptedAt === 0 && stdout.includes('Batch: 0')) {
      interruptedAt = Date.now()
      child.kill('SIGINT')
    }
  })
  t.true(interruptedAt > 0, exit.stdout)
  t.true(Date.now() - interruptedAt < 5000)
  t.deepEqual([exit.code, exit.signal], [0, null], exit.stderr)
  t.true(exit.stdout.startsWith('weir demo: the Spark Structured Streaming tweet tutorial, in TypeScript.'))
  t.regex(exit.stdout, /^word_counts\n-{43}\nBatch: 0\n/m)
})
