import test from 'ava'

import { slidingWindows, tumblingWindows } from '@weir/core'
import {
  loopWindowCount,
  loopWordCount,
  rxjsWindowCount,
  rxjsWordCount,
  type WindowQuery,
} from '../src/bench/baselines.js'
import { loadTexts, replay } from '../src/bench/corpus.js'
import { arraySource, weirWindowCount, weirWordCount, type WeirRunOptions } from '../src/bench/weir.js'
import { dataFrameWordCount } from '../src/bench/workers.js'

// Correctness only: the bench's contenders must compute the same result, or its figures mean nothing.
const lines = replay(loadTexts(), { records: 20_000 })
/** Entries sorted by key: equal maps, whatever order they were filled in. */
function sorted<K extends string | number, V>(map: ReadonlyMap<K, V>): [K, V][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

const run: WeirRunOptions = { trigger: { kind: 'processingTime', intervalMs: 20 }, batchSize: 1000 }

test('makes the same lines from the same seed, with event times in order but for a few', (t) => {
  t.deepEqual(replay(loadTexts(), { records: 100 }), lines.slice(0, 100))
  const times = lines.map((l) => Date.parse((JSON.parse(l) as { creation_time: string }).creation_time))
  const behind = times.filter((time, i) => i > 0 && time < times[i - 1]).length
  t.true(behind > 0 && behind < lines.length * 0.05)
})

test('counts the same words in the loop, the RxJS pipeline and weir', async (t) => {
  const loop = loopWordCount(lines)
  t.true(loop.size > 1000)
  t.deepEqual(sorted(await rxjsWordCount(lines)), sorted(loop))
  t.deepEqual(sorted(await weirWordCount(arraySource(lines, run.batchSize), run)), sorted(loop))
})

for (const [name, windows] of [
  ['sliding 5 minutes every minute', slidingWindows({ size: 300_000, slide: 60_000 })],
  ['tumbling 5 minutes', tumblingWindows({ size: 300_000 })],
] as const) {
  test(`counts the same ${name} windows, and drops the same late rows, in all three`, async (t) => {
    const query: WindowQuery = {
      size: windows.size,
      slide: windows.slide,
      delay: 60_000,
      batchSize: run.batchSize,
    }
    const loop = loopWindowCount(lines, query)
    t.true(loop.dropped > 0)
    const expected = { counts: sorted(loop.counts), dropped: loop.dropped }
    const rxjs = await rxjsWindowCount(lines, query)
    t.deepEqual({ counts: sorted(rxjs.counts), dropped: rxjs.dropped }, expected)
    const weir = await weirWindowCount(arraySource(lines, run.batchSize), { windows, delay: 60_000, ...run })
    t.deepEqual({ counts: sorted(weir.counts), dropped: weir.dropped }, expected)
  })
}

test("the workers bench's DataFrame word count counts what the loop counts, in two phases and in one", async (t) => {
  const loop = loopWordCount(lines)
  for (const aggPhaseStrategy of ['auto', 'one-phase'] as const) {
    const run = await dataFrameWordCount(lines, { workers: 1, aggPhaseStrategy })
    t.true(run.instance0.size > 1000, aggPhaseStrategy)
    for (const [word, n] of run.instance0)
      t.is(loop.get(word), n, `${aggPhaseStrategy}: the loop's count of ${JSON.stringify(word)}`)
  }
})
