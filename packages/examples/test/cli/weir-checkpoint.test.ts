import test from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StreamingQueryManager } from '@weir/core'
import { QueueSource } from '@weir/core/testing'
import { MemorySink } from '@weir/connectors'
import { readStream } from '@weir/operators'
import { main } from '../../src/cli/weir-checkpoint.js'

async function run(argv: string[]): Promise<{ code: number; text: string }> {
  let text = ''
  const code = await main(argv, (s) => (text += s))
  return { code, text }
}

test('lists, shows and diffs the epochs of a real query checkpoint', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-checkpoint-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const input = new QueueSource<{ word: string }>(['p0'])
  const query = await readStream(input)
    .groupBy('word')
    .count()
    .writeStream({
      sink: new MemorySink<{ word: string; count: number }>({ outputMode: 'complete' }),
      outputMode: 'complete',
      checkpointLocation: dir,
      trigger: { manual: true },
      manager: new StreamingQueryManager(),
    })
    .start()
  input.push('p0', [{ word: 'a' }, { word: 'b' }])
  await query.processAllAvailable()
  input.push('p0', [{ word: 'a' }])
  await query.processAllAvailable()
  await query.stop()

  const ls = await run(['ls', dir])
  t.is(ls.code, 0)
  t.regex(ls.text, new RegExp(`checkpoint .*state \\(query ${query.id}\\), format 1`))
  t.regex(ls.text, /epoch\s+written at\s+entries\s+size\s+watermark/)
  t.regex(ls.text, /^\s+0\s/m)
  t.regex(ls.text, /^\s+1\s/m)

  const show = await run(['show', dir, '--epoch', '1'])
  t.is(show.code, 0)
  t.regex(show.text, /^epoch 1 of query /)
  t.regex(show.text, /source \(source\), parallelism 1/)
  t.regex(show.text, /split p0: position 3/)
  t.regex(show.text, /aggregate \(keyed-aggregate\), parallelism 1/)
  t.regex(show.text, /key groups with state/)

  const diff = await run(['diff', dir, '0', '1'])
  t.is(diff.code, 0)
  t.regex(diff.text, /^epoch 0 → 1/)
  t.regex(diff.text, /~ source\/s\/p0: 2 → 3/)
  t.regex(diff.text, /entr(y|ies) changed/)
})

test('says what to do with a wrong directory, epoch or command', async (t) => {
  const missing = await run(['ls', join(tmpdir(), 'no-such-weir-checkpoint')])
  t.is(missing.code, 2)
  t.regex(missing.text, /no checkpoint at .*: give a query's checkpointLocation/)
  const usage = await run([])
  t.is(usage.code, 2)
  t.regex(usage.text, /usage:/)
  t.is((await run(['--help'])).code, 0)
})
