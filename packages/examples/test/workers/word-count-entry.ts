// The program the workers test runs in a child process for two-phase aggregation: word count over the
// bundled corpus with `partialAggregate` before the hash exchange and a keyed aggregate merging partials
// after it (or, with PHASES 1, every word sent across). Usage: node word-count-entry.js WORKERS PHASES.
// Prints the final count of every word, sorted, as one JSON line, then the job's instances as its
// metrics() and counters() report them. With WORKERS >= 2 this file also runs in
// each worker thread, and joins the job.
import { isWeirWorker, Job, StreamGraph, type Sink } from '@weir/core'
import { explode, sink, source, type AggregateRow } from '@weir/operators'
import { loadTexts, replay, type Tweet } from '../../src/bench/corpus.js'
import { countWords, sharedLines } from '../../src/bench/workers.js'

const workers = Number(process.argv[2] ?? '1')
const phases = Number(process.argv[3] ?? '2')
const table = new Map<string, number>()
const collect: Sink<AggregateRow<number>> = {
  name: 'collect',
  createWriter: () => ({
    write: (batch: readonly AggregateRow<number>[]) => {
      for (const row of batch) table.set(row.key as string, row.value)
    },
    commit: () => undefined,
    close: () => undefined,
  }),
}
const graph = new StreamGraph({ parallelism: 3 })
const words = graph
  .from(
    source('tweets', sharedLines(replay(loadTexts(), { records: 20_000 }), 500), {
      decode: (line: string) => JSON.parse(line) as Tweet,
    }),
  )
  .via(explode('words', (tweet: Tweet) => tweet.tweet_text?.split(' ')))
const counts = countWords(words, { twoPhase: phases === 2, maxKeys: 2000 })
counts.rebalance().to(sink('rows', collect), { parallelism: 1 })
const job = await Job.start(graph, { trigger: { kind: 'processingTime', intervalMs: 50 }, workers })
await job.done
if (!isWeirWorker()) {
  process.stdout.write(JSON.stringify([...table].sort()) + '\n')
  // The job's metrics as the main thread sees them: every instance, whichever thread ran it.
  const metrics = job.metrics()
  process.stdout.write(
    JSON.stringify({
      instances: metrics.instances.map((i) => [i.nodeId, i.instance, i.recordsIn, i.recordsOut]),
      counters: Object.keys(job.counters()).sort(),
      splits: metrics.splits.length,
    }) + '\n',
  )
}
