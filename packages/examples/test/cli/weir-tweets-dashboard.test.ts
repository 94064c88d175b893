import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'

/** The terminal's erase-to-end-of-line, which ends every redrawn line. */
const ERASE = '\x1b[K'
import { main, type CliIo } from '../../src/cli/weir-tweets.js'
import { fixturePath } from '../fixtures/paths.js'

// weir-tweets --dashboard, and its progress bar for availableNow runs over files.

async function cli(args: string[], io: Partial<CliIo> = {}) {
  let out = ''
  let err = ''
  const code = await main(args, {
    out: (text) => (out += text),
    err: (text) => (err += text),
    interrupted: new Promise(() => {}),
    ...io,
  })
  return { code, out, err }
}

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-tweets-dashboard-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

test('serves a dashboard on 127.0.0.1 while its queries run, then closes it', async (t) => {
  const dir = await tempDir(t)
  let url: string | undefined
  let served: { status: number; text: string } | undefined
  const { code, err } = await cli(
    [
      '--source',
      'embedded',
      '--rate',
      '500',
      '--duration',
      '1500 ms',
      '--trigger',
      '200 ms',
      '--query',
      'windowed',
      '--sink',
      `jsonl:${dir}`,
      '--dashboard',
      '0',
    ],
    {
      err: (text) => {
        const found = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text)
        if (found) {
          url = found[1]
          // Once the query has started (the dashboard starts first).
          setTimeout(() => {
            fetch(`${url}metrics`)
              .then(async (r) => (served = { status: r.status, text: await r.text() }))
              .catch(() => undefined)
          }, 700)
        }
      },
    },
  )
  t.is(code, 0, err)
  t.truthy(url, 'it says where the dashboard is')
  t.is(served?.status, 200)
  t.true(served!.text.includes('weir_query_info{query="windowed_counts"'))
  await t.throwsAsync(fetch(`${url}metrics`), undefined, 'closed once the queries ended')
})

test('--dashboard without a port takes the next flag as a flag, and a bad port is refused', async (t) => {
  const { code, err } = await cli(['--dashboard', 'x', '--help'])
  t.is(code, 2, err)
  t.regex(err, /^weir-tweets: Unexpected argument 'x'/)
  const bad = await cli(['--source', 'embedded', '--dashboard', '70000'])
  t.is(bad.code, 2)
  t.regex(bad.err, /--dashboard 70000 is not a port/)
})

test('an availableNow run over files shows a progress bar on a terminal, ending with what it read', async (t) => {
  const dir = await tempDir(t)
  const { code, err } = await cli(
    [
      '--source',
      `file:${fixturePath('tweets')}`,
      '--trigger',
      'availableNow',
      '--max-files-per-trigger',
      '1',
      '--sink',
      `jsonl:${dir}`,
      '--query',
      'wordcount',
    ],
    { errTerminal: { columns: 100 } },
  )
  t.is(code, 0, err)
  t.regex(err, /\rreading 4 files \[[█░]+\] +\d+% {2}[\d,]+\/[\d,]+ rows/)
  t.true(err.endsWith(`${ERASE}\n`))
  t.regex(err.slice(0, -ERASE.length - 1), /\rreading 4 files: [\d,]+ rows in \d+\.\d s \([\d,]+ rows\/s\)$/)
})
