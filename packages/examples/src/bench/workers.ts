#!/usr/bin/env node
// Word count on one thread and on two (`workers: 2`), in one run:
//   node packages/examples/dist/src/bench/workers.js [--records N] [--rounds N] [--batch N] [--phases 2|1]
//     [--graphs hand-built,dataframe]
// Two word counts, each on 1 thread and on 2: the hand-built graph (source → explode → count, `countWords`)
// and the same query as a user writes it with the DataFrame API (the tutorial's parse, explode,
// groupBy('word').count(), update mode), which the planner turns into a graph.
// --phases 2 (the default) aggregates in two phases (a partial aggregate before the exchange, see
// docs/workers.md: `partialAggregate` in the hand-built graph, the planner's `aggPhaseStrategy: 'auto'` in
// the DataFrame); --phases 1 sends every word across the exchange (`aggPhaseStrategy: 'one-phase'`).
// All contenders run at parallelism 2: each source instance reads its own half of the lines, and the
// count is keyed by word (instance i on thread i mod workers). Start-up (Job.start until every thread is
// ready: for workers: 2 that is the worker thread loading this program again and making its input) is
// timed apart from the steady-state run (from the moment the sources start, which is when Job.start
// resolves, to the last epoch committed and every sink closed). The runs alternate, 1, 2, 1, 2, ...,
// after one warm-up run of each; figures are medians. Each round first runs a control: the plain loop on 1
// thread and on 2 with no communication, i.e. what the machine gives two threads at that moment.
// The last line of stdout is one JSON object.
import {
  isWeirWorker,
  Job,
  StreamGraph,
  StreamingQueryManager,
  type DataStream,
  type Sink,
  type Source,
  type SourceBatch,
} from '@weir/core'
import {
  count,
  explode,
  keyedAggregate,
  partialAggregate,
  sink,
  source,
  type AggPhaseStrategy,
  type AggregateRow,
  type Partial,
} from '@weir/operators'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import { isMain } from '../cli/is-main.js'
import { tweets } from '../tutorial/queries.js'
import { loadTexts, replay, type Tweet } from './corpus.js'

export interface WorkersRun {
  readonly workers: number
  readonly records: number
  /** From `Job.start` until every thread has built its instances (the sources start then). */
  readonly startMs: number
  /** From the sources' start to `done` (the last epoch committed, the sinks closed). */
  readonly runMs: number
  /** `records / runMs`. */
  readonly recordsPerSecond: number
  /** CPU time of the whole process (every thread) during the run, user + system. */
  readonly cpuMs: number
  /**
   * CPU time of the main thread in the steady state (Linux: `/proc/thread-self/stat`; NaN elsewhere), in
   * ms. The two threads' shares are balanced (instance i on thread i), so on an idle machine the
   * steady-state speedup would be about the 1-thread figure over the 2-thread one: a measure that other
   * processes taking the cores disturb less than wall time.
   */
  readonly mainCpuMs: number
  /** The word counts that instance 0 of the count (on the main thread in every placement) ended with. */
  readonly instance0: ReadonlyMap<string, number>
}

/**
 * A bounded source over `lines` in which instance `i` of `p` reads its own contiguous share, one split
 * per instance, `batchSize` lines a poll, yielding to the event loop before each poll (as I/O would).
 */
export function sharedLines(lines: readonly string[], batchSize: number): Source<string> {
  return {
    name: 'bench-lines-shared',
    bounded: true,
    createReader(context) {
      const split = String(context.instance)
      const end = Math.floor(((context.instance + 1) * lines.length) / context.parallelism)
      let next =
        (context.restored.get(split) as number | undefined) ??
        Math.floor((context.instance * lines.length) / context.parallelism)
      return {
        async poll(): Promise<SourceBatch<string> | 'end'> {
          await new Promise<void>((resolve) => setImmediate(resolve))
          if (next >= end) return 'end'
          const values = lines.slice(next, Math.min(next + batchSize, end))
          next += values.length
          return { split, values, position: next, splitEnded: next >= end }
        },
        splits: () => [split],
        close: () => Promise.resolve(),
      }
    },
  }
}

/**
 * Counts words per key, in one phase (every word crosses the hash exchange) or two (each instance folds
 * its words per key first and only the partial counts cross, as Spark's partial aggregation).
 */
export function countWords(
  words: DataStream<string>,
  options: { twoPhase: boolean; maxKeys?: number },
): DataStream<AggregateRow<number>> {
  if (!options.twoPhase) {
    return words
      .keyBy((word) => word)
      .via(keyedAggregate('counts', { aggregator: count<string>(), outputMode: 'update' }))
  }
  return words
    .via(
      partialAggregate('partial-counts', {
        key: (word: string) => word,
        aggregator: count<string>(),
        ...(options.maxKeys === undefined ? {} : { maxKeys: options.maxKeys }),
      }),
    )
    .keyBy(([word]) => word)
    .via(
      keyedAggregate('counts', {
        aggregator: count<Partial<number>>(),
        outputMode: 'update',
        input: 'partials',
      }),
    )
}

/**
 * A sink that keeps the word counts its instance 0 wrote (on the main thread in every placement), from
 * rows read by `entry`.
 */
function instance0Table<R>(entry: (row: R) => [word: string, count: number]): {
  sink: Sink<R>
  instance0: Map<string, number>
} {
  const instance0 = new Map<string, number>()
  const sink: Sink<R> = {
    name: 'instance-0-table',
    createWriter: (context) => ({
      write: (rows: readonly R[]) => {
        if (context.instance !== 0) return
        for (const row of rows) instance0.set(...entry(row))
      },
      commit: () => undefined,
      close: () => undefined,
    }),
  }
  return { sink, instance0 }
}

/** Times a job from its start to its end: start-up, steady state, process and main-thread CPU. */
async function timed(
  lines: readonly string[],
  workers: number,
  instance0: ReadonlyMap<string, number>,
  start: () => Promise<{ done: Promise<unknown> }>,
): Promise<WorkersRun> {
  const cpu0 = process.cpuUsage()
  const started = performance.now()
  const running = await start()
  const ready = performance.now()
  const main0 = threadCpuMs()
  await running.done
  const end = performance.now()
  const mainCpuMs = threadCpuMs() - main0
  const cpu = process.cpuUsage(cpu0)
  const runMs = end - ready
  return {
    workers,
    records: lines.length,
    startMs: ready - started,
    runMs,
    recordsPerSecond: Math.round((lines.length / runMs) * 1000),
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainCpuMs,
    instance0,
  }
}

/** Runs word count (lines → JSON → words → keyBy(word) → count, update mode) over `lines` with `workers` threads. */
export async function workersWordCount(
  lines: readonly string[],
  options: { workers: number; batchSize?: number; twoPhase?: boolean },
): Promise<WorkersRun> {
  const { sink: table, instance0 } = instance0Table((row: AggregateRow<number>) => [
    row.key as string,
    row.value,
  ])
  const graph = new StreamGraph({ parallelism: 2 })
  const words = graph
    .from(
      source('tweets', sharedLines(lines, options.batchSize ?? 1000), {
        decode: (line: string) => JSON.parse(line) as Tweet,
      }),
    )
    .via(explode('words', (tweet: Tweet) => tweet.tweet_text?.split(' ')))
  const counts = countWords(words, { twoPhase: options.twoPhase ?? false })
  counts.to(sink('table', table, { capacity: 1_000_000 }))
  return timed(lines, options.workers, instance0, () =>
    Job.start(graph, { trigger: { kind: 'processingTime', intervalMs: 1000 }, workers: options.workers }),
  )
}

/**
 * The same word count as a user writes it with the DataFrame API, the tutorial's query 1 in update mode
 * (`readStream(...).parse(tweetSchema).explode('word', ...).groupBy('word').count()`), over `lines` at
 * parallelism 2 with `workers` threads: what the planner makes of it, partial aggregate included or not.
 */
export async function dataFrameWordCount(
  lines: readonly string[],
  options: { workers: number; batchSize?: number; aggPhaseStrategy?: AggPhaseStrategy },
): Promise<WorkersRun> {
  const { sink: table, instance0 } = instance0Table((row: { word: string; count: number }) => [
    row.word,
    row.count,
  ])
  return timed(lines, options.workers, instance0, async () => {
    const query = await tweets(sharedLines(lines, options.batchSize ?? 1000))
      .explode('word', (tweet) => tweet.tweet_text?.split(' '))
      .groupBy('word')
      .count()
      .writeStream({
        sink: table,
        outputMode: 'update',
        parallelism: 2,
        workers: options.workers,
        aggPhaseStrategy: options.aggPhaseStrategy ?? 'auto',
        trigger: { processingTime: 1000 },
        manager: new StreamingQueryManager(),
      })
      .start()
    return { done: query.awaitTermination() }
  })
}

/** CPU ms (user + system) this thread has used (Linux: `/proc/thread-self/stat`), or NaN where that is not there. */
function threadCpuMs(): number {
  try {
    // Fields 14 and 15 (utime, stime), in clock ticks of 10 ms, after the parenthesised name.
    const stat = readFileSync('/proc/thread-self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return NaN
  }
}

/** Word counts by a plain loop, to check the runs against. */
function loopCounts(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const line of lines) {
    for (const word of (JSON.parse(line) as Tweet).tweet_text?.split(' ') ?? [])
      counts.set(word, (counts.get(word) ?? 0) + 1)
  }
  return counts
}

/**
 * The machine's own speedup at the moment, as a control: the plain loop over all of `lines` on this
 * thread, then over each half on two threads at once (this one and a worker that made the same lines),
 * with no communication but the final counts' size. On an idle 2-core machine this is close to 2×; when
 * other processes take the cores it is what any two-thread program can get.
 */
async function loopSpeedup(records: number): Promise<{ oneMs: number; twoMs: number; speedup: number }> {
  const lines = replay(loadTexts(), { records })
  const half = lines.length >> 1
  loopCounts(lines.slice(0, 20_000))
  let t = performance.now()
  loopCounts(lines)
  const oneMs = performance.now() - t
  const corpus = new URL('./corpus.js', import.meta.url).href
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads')
     import(workerData.corpus).then(({ loadTexts, replay }) => {
       const lines = replay(loadTexts(), { records: workerData.records }).slice(workerData.half)
       const count = (ls) => { const m = new Map(); for (const l of ls) for (const w of JSON.parse(l).tweet_text?.split(' ') ?? []) m.set(w, (m.get(w) ?? 0) + 1); return m.size }
       count(lines.slice(0, 20000))
       parentPort.once('message', () => parentPort.postMessage(count(lines)))
       parentPort.postMessage('ready')
     })`,
    { eval: true, workerData: { corpus, records, half } },
  )
  await new Promise((resolve) => worker.once('message', resolve))
  t = performance.now()
  const done = new Promise((resolve) => worker.once('message', resolve))
  worker.postMessage('go')
  loopCounts(lines.slice(0, half))
  await done
  const twoMs = performance.now() - t
  await worker.terminate()
  return { oneMs, twoMs, speedup: oneMs / twoMs }
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const GRAPHS = {
  'hand-built': {
    title: 'word count, hand-built graph',
    run: (lines: readonly string[], workers: number, batchSize: number, twoPhase: boolean) =>
      workersWordCount(lines, { workers, batchSize, twoPhase }),
  },
  dataframe: {
    title: 'word count, DataFrame',
    run: (lines: readonly string[], workers: number, batchSize: number, twoPhase: boolean) =>
      dataFrameWordCount(lines, {
        workers,
        batchSize,
        aggPhaseStrategy: twoPhase ? 'auto' : 'one-phase',
      }),
  },
} as const
type GraphName = keyof typeof GRAPHS

interface Summary {
  readonly workers: number
  readonly startMs: number
  readonly runMs: number
  readonly recordsPerSecond: number
  readonly cpuMs: number
  readonly mainCpuMs: number
}

/** Prints one graph's medians, speedups and check, and returns its part of the closing JSON object. */
function report(
  graph: GraphName,
  runs: readonly WorkersRun[][],
  options: { rounds: number; control: number; expected: ReadonlyMap<string, number> },
) {
  const records = runs[0][0].records
  const reference = JSON.stringify([...runs[0][0].instance0].sort())
  let same = true
  for (const run of runs.flat()) {
    if (JSON.stringify([...run.instance0].sort()) !== reference) same = false
    for (const [word, n] of run.instance0) if (options.expected.get(word) !== n) same = false
  }
  const summary: Summary[] = runs.map((list) => ({
    workers: list[0].workers,
    startMs: median(list.map((r) => r.startMs)),
    runMs: median(list.map((r) => r.runMs)),
    recordsPerSecond: median(list.map((r) => r.recordsPerSecond)),
    cpuMs: median(list.map((r) => r.cpuMs)),
    mainCpuMs: median(list.map((r) => r.mainCpuMs)),
  }))
  console.log(`\n${GRAPHS[graph].title}:`)
  for (const s of summary) {
    console.log(
      `${s.workers} thread(s), ${records} records, median of ${options.rounds}: start-up ${s.startMs.toFixed(0)} ms, ` +
        `steady state ${s.runMs.toFixed(0)} ms = ${s.recordsPerSecond} records/s, process CPU ${s.cpuMs.toFixed(0)} ms, ` +
        `main thread ${s.mainCpuMs.toFixed(0)} ms CPU in the steady state`,
    )
  }
  const [one, two] = summary as [Summary, Summary]
  const speedup = two.recordsPerSecond / one.recordsPerSecond
  const withStart = (one.startMs + one.runMs) / (two.startMs + two.runMs)
  const cpuSpeedup = one.mainCpuMs / two.mainCpuMs
  console.log(
    `speedup ${speedup.toFixed(2)}x steady state (${withStart.toFixed(2)}x with start-up), results ${same ? 'equal' : 'DIFFER'}; ` +
      `${((speedup / options.control) * 100).toFixed(0)} % of the control's speedup`,
  )
  console.log(
    `main-thread CPU in the steady state: ${one.mainCpuMs.toFixed(0)} ms on 1 thread, ${two.mainCpuMs.toFixed(0)} ms on 2 ` +
      `(${cpuSpeedup.toFixed(2)}x: the speedup an idle machine would give, the threads being balanced)`,
  )
  return {
    same,
    json: {
      oneThread: one.recordsPerSecond,
      twoWorkers: two.recordsPerSecond,
      startUpMs: Math.round(two.startMs),
      speedup: Number(speedup.toFixed(2)),
      speedupWithStartUp: Number(withStart.toFixed(2)),
      cpuSpeedup: Number(cpuSpeedup.toFixed(2)),
      same,
    },
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      rounds: { type: 'string', default: '3' },
      batch: { type: 'string', default: '1000' },
      phases: { type: 'string', default: '2' },
      graphs: { type: 'string', default: 'hand-built,dataframe' },
    },
  })
  const worker = isWeirWorker()
  const log = (line: string) => {
    if (!worker) process.stderr.write(line + '\n')
  }
  const graphs = values.graphs.split(',') as GraphName[]
  for (const graph of graphs) {
    if (!(graph in GRAPHS)) {
      process.stderr.write(`--graphs ${graph}: use one or both of ${Object.keys(GRAPHS).join(', ')}\n`)
      process.exit(2)
    }
  }
  const lines = replay(loadTexts(), { records: Number(values.records) })
  const batchSize = Number(values.batch)
  const rounds = Number(values.rounds)
  const twoPhase = values.phases === '2'
  // Warm-up: one short run of each, so that no contender's first timed run pays for cold code on the main thread.
  const warm = lines.slice(0, 50_000)
  for (const graph of graphs) {
    for (const workers of [1, 2]) await GRAPHS[graph].run(warm, workers, batchSize, twoPhase)
  }
  const runs = new Map<GraphName, WorkersRun[][]>(graphs.map((g) => [g, [[], []]]))
  const controls: number[] = []
  for (let round = 0; round < rounds; round++) {
    if (!worker) {
      const control = await loopSpeedup(lines.length)
      controls.push(control.speedup)
      log(
        `round ${round + 1}, control, the plain loop: ${control.oneMs.toFixed(0)} ms on 1 thread, ${control.twoMs.toFixed(0)} ms on 2 (${control.speedup.toFixed(2)}x)`,
      )
    }
    for (const graph of graphs) {
      for (const workers of [1, 2]) {
        const run = await GRAPHS[graph].run(lines, workers, batchSize, twoPhase)
        runs.get(graph)![workers - 1].push(run)
        log(
          `round ${round + 1}, ${graph}, ${workers} thread(s): start-up ${run.startMs.toFixed(0)} ms, run ${run.runMs.toFixed(0)} ms ` +
            `(${run.recordsPerSecond} records/s), process CPU ${run.cpuMs.toFixed(0)} ms, ` +
            `main thread CPU in the steady state ${run.mainCpuMs.toFixed(0)} ms`,
        )
      }
    }
  }
  if (!worker) {
    const control = median(controls)
    const expected = loopCounts(lines)
    const reports = graphs.map(
      (graph) => [graph, report(graph, runs.get(graph)!, { rounds, control, expected })] as const,
    )
    console.log(
      `\ncontrol: the plain loop on 2 threads (no communication) ran ${control.toFixed(2)}x its 1-thread speed (median over the rounds)`,
    )
    const json: Record<string, unknown> = {
      records: lines.length,
      phases: twoPhase ? 2 : 1,
      loopSpeedup: Number(control.toFixed(2)),
    }
    for (const [graph, { json: part }] of reports) json[graph === 'hand-built' ? 'handBuilt' : graph] = part
    console.log(JSON.stringify(json))
    if (reports.some(([, r]) => !r.same)) process.exitCode = 1
  }
}
