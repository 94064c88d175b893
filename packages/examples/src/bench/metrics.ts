// What metrics cost: the same queries with metrics on (busy and backpressure times measured, and a
// scraper reading a full snapshot and its Prometheus text every second, as a dashboard or Prometheus
// would) and off (`JobOptions.metrics: false`, nobody scraping). Counters are kept either way: progress
// is built from them, and they are counted per batch, never per record.
//
//   node packages/examples/dist/src/bench/metrics.js [--records N] [--rounds N] [--batch N]
//
// On a machine shared with other work, timings drift by more than what is measured here; count
// instructions instead, one run each, under Valgrind (deterministic to a fraction of a percent):
//
//   valgrind --tool=cachegrind --cache-sim=no node packages/examples/dist/src/bench/metrics.js \
//     --once on --query sliding --records 100000
//
// or, from the bench's runner: `const cost = await metricsCost({ records, rounds })`.
import { performance } from 'node:perf_hooks'
import { formatPrometheus, Job, metricFamilies, slidingWindows, StreamGraph, type Source } from '@weir/core'
import { count, explode, keyedAggregate, sink, source } from '@weir/operators'
import { isMain } from '../cli/is-main.js'
import { loadTexts, replay, type Tweet } from './corpus.js'
import { arraySource, RowTally, windowCountGraph } from './weir.js'

export interface MetricsCostOptions {
  /** Records per run. Default 500,000. */
  readonly records?: number
  /** Runs of each query with metrics on and off, interleaved. Default 5. */
  readonly rounds?: number
  /** Lines a source polls at a time. Default 1000. */
  readonly batchSize?: number
  /** How often the "on" runs are scraped (a full snapshot and its Prometheus text). Default 1000 ms. */
  readonly scrapeEveryMs?: number
}

export interface MetricsCostRow {
  readonly query: 'wordcount' | 'sliding'
  /**
   * Median records per second of the process' CPU time (user + system) over the rounds, with metrics
   * off and on: on a shared machine CPU time is far steadier than wall time, and what metrics cost is
   * CPU work.
   */
  readonly offPerCpuSecond: number
  readonly onPerCpuSecond: number
  /** Throughput lost with metrics on, in %: `(off - on) / off * 100` (negative: noise in favour of on). */
  readonly costPercent: number
  /** The same by wall time, for reference. */
  readonly offPerSecond: number
  readonly onPerSecond: number
  readonly wallCostPercent: number
  /** Snapshots taken during the "on" runs, all rounds together. */
  readonly scrapes: number
}

export interface MetricsCost {
  readonly records: number
  readonly rounds: number
  readonly rows: readonly MetricsCostRow[]
}

/**
 * Epochs end only when the input does: with a processing-time trigger the number of epochs (and so of
 * complete-mode tables written) would follow wall time, and differ between two runs of the same work.
 */
const TRIGGER = { kind: 'manual' } as const

/**
 * Runs each query `rounds` times with metrics off and on, interleaved (off, on, off, on, …) so that a
 * noisy machine slows both alike, and compares the median throughputs.
 *
 * @example
 * ```ts
 * const { rows } = await metricsCost({ records: 200_000, rounds: 3 })
 * for (const r of rows) console.log(r.query, r.costPercent.toFixed(1), '%')
 * ```
 */
export async function metricsCost(options: MetricsCostOptions = {}): Promise<MetricsCost> {
  const records = options.records ?? 500_000
  const rounds = options.rounds ?? 5
  const batchSize = options.batchSize ?? 1000
  const scrapeEveryMs = options.scrapeEveryMs ?? 1000
  const lines = replay(loadTexts(), { records })
  const rows: MetricsCostRow[] = []
  for (const query of ['wordcount', 'sliding'] as const) {
    const times = { on: [] as number[], off: [] as number[] }
    const cpu = { on: [] as number[], off: [] as number[] }
    let scrapes = 0
    // One run of each first, untimed: the JIT warms up on both paths.
    for (const metrics of [false, true]) await run(GRAPHS[query](arraySource(lines, batchSize)), metrics, 0)
    for (let round = 0; round < rounds; round++) {
      for (const metrics of [false, true]) {
        const { seconds, cpuSeconds, scraped } = await run(
          GRAPHS[query](arraySource(lines, batchSize)),
          metrics,
          metrics ? scrapeEveryMs : 0,
        )
        times[metrics ? 'on' : 'off'].push(seconds)
        cpu[metrics ? 'on' : 'off'].push(cpuSeconds)
        scrapes += scraped
      }
    }
    const offPerCpuSecond = records / median(cpu.off)
    const onPerCpuSecond = records / median(cpu.on)
    const offPerSecond = records / median(times.off)
    const onPerSecond = records / median(times.on)
    rows.push({
      query,
      offPerCpuSecond,
      onPerCpuSecond,
      costPercent: ((offPerCpuSecond - onPerCpuSecond) / offPerCpuSecond) * 100,
      offPerSecond,
      onPerSecond,
      wallCostPercent: ((offPerSecond - onPerSecond) / offPerSecond) * 100,
      scrapes,
    })
  }
  return { records, rounds, rows }
}

const GRAPHS = {
  wordcount: (input: Source<string>) => wordCountGraph(input),
  sliding: (input: Source<string>) =>
    windowCountGraph(input, {
      windows: slidingWindows({ size: 300_000, slide: 60_000 }),
      delay: 60_000,
      out: new RowTally(),
    }).graph,
}

async function run(
  graph: StreamGraph,
  metrics: boolean,
  scrapeEveryMs: number,
): Promise<{ seconds: number; cpuSeconds: number; scraped: number }> {
  globalThis.gc?.()
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const job = await Job.start(graph, { trigger: TRIGGER, metrics })
  let scraped = 0
  const timer =
    scrapeEveryMs > 0
      ? setInterval(() => {
          formatPrometheus(metricFamilies({ query: 'bench', id: 'bench', runId: 'bench' }, job.metrics()))
          scraped++
        }, scrapeEveryMs)
      : undefined
  await job.done
  clearInterval(timer)
  const cpu = process.cpuUsage(cpuBefore)
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, scraped }
}

/** Word count: lines → JSON → `explode(split(text, ' '))` → keyBy(word) → count, complete mode. */
function wordCountGraph(input: Source<string>): StreamGraph {
  const graph = new StreamGraph()
  graph
    .from(source('tweets', input, { decode: (line: string) => JSON.parse(line) as Tweet }))
    .via(explode('words', (tweet: Tweet) => tweet.tweet_text?.split(' ')))
    .keyBy((word) => word)
    .via(keyedAggregate('counts', { aggregator: count<string>(), outputMode: 'complete' }))
    .to(sink('table', new RowTally(), { capacity: 1_000_000 }))
  return graph
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2)
  const option = (name: string) => {
    const i = args.indexOf(name)
    return i >= 0 ? Number(args[i + 1]) : undefined
  }
  const once = args.indexOf('--once')
  if (once >= 0) {
    // One run, for an instruction count: `--once on|off --query wordcount|sliding [--scrape-every MS]` (0: none).
    const query = args[args.indexOf('--query') + 1] === 'wordcount' ? 'wordcount' : 'sliding'
    const lines = replay(loadTexts(), { records: option('--records') ?? 100_000 })
    const on = args[once + 1] === 'on'
    const scrapeEvery = option('--scrape-every') ?? 1000
    const { seconds, scraped } = await run(
      GRAPHS[query](arraySource(lines, option('--batch') ?? 1000)),
      on,
      on ? scrapeEvery : 0,
    )
    console.log(
      `${query}, metrics ${on ? 'on' : 'off'}: ${lines.length} records in ${seconds.toFixed(2)} s, ${scraped} scrapes`,
    )
    process.exit(0)
  }
  const cost = await metricsCost({
    records: option('--records'),
    rounds: option('--rounds'),
    batchSize: option('--batch'),
  })
  const perSecond = (n: number) => `${(n / 1e6).toFixed(3)} M/s`
  console.log(
    `metrics on vs off, ${cost.records.toLocaleString('en-US')} records, median of ${cost.rounds} interleaved rounds`,
  )
  console.log(
    '| query | off, per CPU s | on (+1 scrape/s), per CPU s | cost (CPU) | off, wall | on, wall | cost (wall) |',
  )
  console.log('|---|---|---|---|---|---|---|')
  for (const r of cost.rows) {
    console.log(
      `| ${r.query} | ${perSecond(r.offPerCpuSecond)} | ${perSecond(r.onPerCpuSecond)} | ${r.costPercent.toFixed(1)} % | ` +
        `${perSecond(r.offPerSecond)} | ${perSecond(r.onPerSecond)} | ${r.wallCostPercent.toFixed(1)} % |`,
    )
  }
  console.log(
    JSON.stringify(Object.fromEntries(cost.rows.map((r) => [r.query, Math.round(r.costPercent * 10) / 10]))),
  )
}
