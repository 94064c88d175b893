#!/usr/bin/env node
// Word count on one thread and on two (`workers: 2`), in one run: `node packages/examples/dist/src/bench/workers.js
// [--records N]`. Both runs use parallelism 2. The 2-worker timing includes starting the worker thread,
// which runs this file again (see docs/workers.md). The last line of stdout is one JSON object.
import { isWeirWorker, Job, StreamGraph, type Sink } from '@weir/core'
import { count, explode, keyedAggregate, sink, source, type AggregateRow } from '@weir/operators'
import { parseArgs } from 'node:util'
import { isMain } from '../cli/is-main.js'
import { loadTexts, replay, type Tweet } from './corpus.js'
import { arraySource } from './weir.js'

export interface WorkersRun {
  readonly workers: number
  readonly records: number
  readonly ms: number
  readonly recordsPerSecond: number
  /** The word counts that instance 0 of the count (on the main thread in every placement) ended with. */
  readonly instance0: ReadonlyMap<string, number>
}

/** Runs word count (lines → JSON → words → keyBy(word) → count, update mode) over `lines` with `workers` threads. */
export async function workersWordCount(lines: readonly string[], options: { workers: number; batchSize?: number }): Promise<WorkersRun> {
  const instance0 = new Map<string, number>()
  const table: Sink<AggregateRow<number>> = {
    name: 'instance-0-table',
    createWriter: (context) => ({
      write: (rows: readonly AggregateRow<number>[]) => {
        if (context.instance !== 0) return
        for (const row of rows) instance0.set(row.key as string, row.value)
      },
      commit: () => undefined,
      close: () => undefined,
    }),
  }
  const graph = new StreamGraph({ parallelism: 2 })
  graph
    .from(source('tweets', arraySource(lines, options.batchSize ?? 1000), { decode: (line: string) => JSON.parse(line) as Tweet }))
    .via(explode('words', (tweet: Tweet) => tweet.tweet_text?.split(' ')))
    .keyBy((word) => word)
    .via(keyedAggregate('counts', { aggregator: count<string>(), outputMode: 'update' }))
    .to(sink('table', table, { capacity: 1_000_000 }))
  const start = performance.now()
  const job = await Job.start(graph, { trigger: { kind: 'processingTime', intervalMs: 1000 }, workers: options.workers })
  await job.done
  const ms = performance.now() - start
  return { workers: options.workers, records: lines.length, ms, recordsPerSecond: Math.round((lines.length / ms) * 1000), instance0 }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '400000' } } })
  const lines = replay(loadTexts(), { records: Number(values.records) })
  const one = await workersWordCount(lines, { workers: 1 })
  const two = await workersWordCount(lines, { workers: 2 })
  if (!isWeirWorker()) {
    const same = JSON.stringify([...one.instance0].sort()) === JSON.stringify([...two.instance0].sort())
    for (const run of [one, two]) {
      console.log(`word count, ${run.workers} thread(s): ${run.records} records in ${run.ms.toFixed(0)} ms, ${run.recordsPerSecond} records/s`)
    }
    const speedup = two.recordsPerSecond / one.recordsPerSecond
    console.log(`speedup ${speedup.toFixed(2)}x, results ${same ? 'equal' : 'DIFFER'}`)
    console.log(JSON.stringify({ records: lines.length, oneThread: one.recordsPerSecond, twoWorkers: two.recordsPerSecond, speedup: Number(speedup.toFixed(2)), same }))
    if (!same) process.exitCode = 1
  }
}
