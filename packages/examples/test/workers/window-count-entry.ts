// The program the workers test runs in a child process: the watermarked sliding-window count over the
// bundled tweet corpus (replayed with event times, some out of order, some late), keyed so that its
// aggregate has instances on every thread. Usage: node window-count-entry.js WORKERS. Prints the rows,
// sorted, as one JSON line. With WORKERS >= 2 this file also runs in each worker thread, and joins the job.
import { isWeirWorker, Job, slidingWindows, StreamGraph, type Sink } from '@weir/core'
import { count, keyedAggregate, sink, source, windowAssign, type AggregateRow } from '@weir/operators'
import { loadTexts, replay, type Tweet } from '../../src/bench/corpus.js'
import { arraySource } from '../../src/bench/weir.js'

const workers = Number(process.argv[2] ?? '1')
const rows: string[] = []
const collect: Sink<AggregateRow<number>> = {
  name: 'collect',
  createWriter: () => ({
    write: (batch: readonly AggregateRow<number>[]) => {
      for (const row of batch) rows.push(JSON.stringify([row.key, row.window, row.value]))
    },
    commit: () => undefined,
    close: () => undefined,
  }),
}
const windows = slidingWindows({ size: 5 * 60_000, slide: 60_000 })
const graph = new StreamGraph()
graph
  .from(
    source('tweets', arraySource(replay(loadTexts(), { records: 30_000 }), 500), {
      decode: (line: string) => JSON.parse(line) as Tweet,
      timestamp: (tweet: Tweet) => Date.parse(tweet.creation_time),
      watermark: { delay: 60_000 },
    }),
  )
  .via(windowAssign('windows', windows))
  .keyBy((tweet: Tweet) => (tweet.tweet_text ?? '').length % 8)
  .via(keyedAggregate('counts', { aggregator: count<Tweet>(), outputMode: 'append', windows }), {
    parallelism: 4,
  })
  .rebalance()
  .to(sink('rows', collect), { parallelism: 1 })
const job = await Job.start(graph, { trigger: { kind: 'processingTime', intervalMs: 50 }, workers })
await job.done
if (!isWeirWorker()) process.stdout.write(JSON.stringify(rows.sort()) + '\n')
