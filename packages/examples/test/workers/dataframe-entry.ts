// The program the workers test runs in a child process for the DataFrame planner: the tutorial's queries
// (src/tutorial/queries.ts) over replayed corpus tweets at parallelism 2, one after the other, stepped
// epoch by epoch. Usage: node dataframe-entry.js WORKERS AGG_PHASE_STRATEGY DIR. Every query writes its
// rows with a file sink under DIR (sink instances run on every thread); the program prints, as one JSON
// line, every epoch's rows of every query read back from there. With WORKERS >= 2 this file also runs in
// each worker thread, and its n-th query joins the n-th query of the main thread.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isWeirWorker, StreamingQueryManager, type Source, type SourceBatch } from '@weir/core'
import { fileSink } from '@weir/connectors'
import type { AggPhaseStrategy, DataFrame, OutputMode } from '@weir/operators'
import { loadTexts, replay } from '../../src/bench/corpus.js'
import {
  tweets,
  watermarkedCounts,
  windowedCounts,
  wordCounts,
  type Tweet,
} from '../../src/tutorial/queries.js'

const workers = Number(process.argv[2] ?? '1')
const aggPhaseStrategy = (process.argv[3] ?? 'auto') as AggPhaseStrategy
const dir = process.argv[4]
const EPOCHS = 8

/**
 * The epochs' lines for two source instances: epoch k's lines alternate between them, and both get the
 * epoch's latest tweet, so their watermarks move together and which tweets are late does not depend on
 * how the instances (and threads) interleave.
 */
function partsOfEpochs(): [string[], string[]][] {
  const lines = replay(loadTexts(), { records: 16_000, stepMs: 60 })
  const size = lines.length / EPOCHS
  return Array.from({ length: EPOCHS }, (_, k) => {
    const epoch = lines.slice(k * size, (k + 1) * size)
    const time = (line: string) => Date.parse((JSON.parse(line) as { creation_time: string }).creation_time)
    const latest = epoch.reduce((a, b) => (time(b) > time(a) ? b : a))
    const parts: [string[], string[]] = [[], []]
    epoch.forEach((line, i) => parts[i % 2].push(line))
    for (const part of parts) if (!part.includes(latest)) part.push(latest)
    return parts
  })
}

/**
 * Instance i reads its part of epoch k once epoch k − 1 is committed (the reader's `commit`), and nothing
 * in between: with the manual trigger and `processAllAvailable`, epoch k is batch k on every thread.
 */
function steppedParts(parts: readonly [string[], string[]][]): Source<string> {
  return {
    name: 'stepped-parts',
    bounded: false,
    createReader(context) {
      const split = String(context.instance)
      let next = 0
      let allowed = 1
      const ready = () => next < allowed && next < parts.length
      const serve = (): SourceBatch<string> => ({
        split,
        values: parts[next++][context.instance],
        position: next,
      })
      return {
        async poll() {
          if (ready()) return serve()
          await new Promise((resolve) => setTimeout(resolve, 5))
          return ready() ? serve() : 'idle'
        },
        commit(positions) {
          allowed = ((positions.get(split) as number | undefined) ?? 0) + 1
        },
        splits: () => [split],
        close: () => Promise.resolve(),
      }
    },
  }
}

const queries: [string, (input: DataFrame<Tweet>) => DataFrame<unknown>, OutputMode][] = [
  ['word counts', wordCounts, 'complete'],
  ['windowed counts', windowedCounts, 'update'],
  ['watermarked counts', watermarkedCounts, 'append'],
  ['watermarked counts', watermarkedCounts, 'update'],
]

/** The rows of one epoch, instance by instance, as the file sink committed them. */
function rowsOf(out: string, epoch: number): unknown[] {
  const rows: unknown[] = []
  for (let instance = 0; instance < 2; instance++) {
    let text = ''
    try {
      text = readFileSync(join(out, `part-${String(epoch).padStart(8, '0')}-${instance}.jsonl`), 'utf8')
    } catch {
      // An instance with no rows in an epoch writes no file.
    }
    for (const line of text.split('\n')) if (line !== '') rows.push(JSON.parse(line))
  }
  return rows
}

const parts = partsOfEpochs()
const results: Record<string, unknown> = {}
for (const [i, [name, query, outputMode]] of queries.entries()) {
  const out = join(dir, String(i))
  const running = await query(tweets(steppedParts(parts)))
    .writeStream({
      sink: fileSink(out, { batchField: false }),
      outputMode,
      parallelism: 2,
      workers,
      aggPhaseStrategy,
      trigger: { manual: true },
      manager: new StreamingQueryManager(),
    })
    .start()
  for (let k = 0; k < EPOCHS; k++) await running.processAllAvailable()
  await running.stop()
  results[`${name}, ${outputMode}`] = {
    plan: running.explain(),
    epochs: Array.from({ length: EPOCHS }, (_, k) => rowsOf(out, k)),
    // Counters are the main thread's only: compared on one thread.
    late: running.recentProgress.reduce(
      (n, p) => n + (p.stateOperators[0]?.numRowsDroppedByWatermark ?? 0),
      0,
    ),
  }
}
if (!isWeirWorker()) process.stdout.write(JSON.stringify(results) + '\n')
