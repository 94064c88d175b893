#!/usr/bin/env node
// What the repartition hop of docs/scale-out.md costs, on librdkafka's mock cluster (needs kcat):
//   node packages/examples/dist/src/bench/repartition-hop.js [--records N] [--rounds N]
// N tweets (default 20,000, a second apart, 15% out of order by up to 20 s) are produced to a 4-partition input topic
// before any timing. Then, in alternating rounds, in this one process:
// - direct: query 3 (DataFrame API: parse, 1-minute watermark, 5-minute windows sliding by 1 minute,
//   count, update mode) reading the input topic;
// - hop: the same program with `scaleOut: kafkaScaleOut()`, this process its only member: the upstream
//   job writes 5 rows per tweet (one per window) and a watermark per writer and batch to a repartition
//   topic, the downstream job (RepartitionTasks) reads it back, drops replays and counts.
// Each clock times the middle 80% of the rows the aggregate takes in (N tweets direct, 5N window rows
// through the hop), scaled to the whole input, so the mock's 3 s group join and the first fetch are left
// out. Figures are medians of input records per second; the hop's cost per input record is
// (hop time - direct time) / N. The final window counts are checked equal first.
// The last line of stdout is one JSON object.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { StreamingQueryManager } from '@weir/core'
import { kafkaScaleOut, kafkaSource, MemorySink, startKafkaMockCluster } from '@weir/connectors'
import { isMain } from '../cli/is-main.js'
import { produceTweets } from '../producer/produce-tweets.js'
import { tweets, watermarkedCounts } from '../tutorial/queries.js'

/** Window start → count, the last row of each window winning. */
type Counts = Map<number, number>

export interface HopRun {
  readonly contender: 'direct' | 'hop'
  readonly ms: number
  readonly recordsPerSecond: number
  readonly counts: Counts
}

const WINDOWS_PER_TWEET = 5
const START = Date.UTC(2026, 10, 24, 10, 0, 0)

async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
  failed: () => Error | null = () => null,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    const error = failed()
    if (error) throw error
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * The time the middle 80% of the input takes (from 10% to 90% of the rows taken in by the aggregate),
 * scaled to the whole input: start-up (the mock's 3 s group join, the first fetch) and the tail are
 * left out, and the aggregate's count jumping a whole fetched batch at a time matters less.
 */
async function timeMiddle(
  done: () => number,
  what: string,
  failed: () => Error | null = () => null,
): Promise<number> {
  await waitUntil(() => done() >= 0.1, 120_000, what, failed)
  const from = performance.now()
  await waitUntil(() => done() >= 0.9, 300_000, what, failed)
  const ms = (performance.now() - from) / 0.8
  await waitUntil(() => done() >= 1, 60_000, what, failed)
  return ms
}

/**
 * The program of query 3 over the input topic, placed as `placement` says: in one job (direct), or
 * scaled out (`scaleOut: kafkaScaleOut()`, this process the query's only member, running both halves,
 * each in its consumer group). `rowsPerTweet` is what the aggregate takes in per tweet: 1 direct, one
 * per window through the hop.
 */
async function run(
  contender: HopRun['contender'],
  brokers: string[],
  topic: string,
  records: number,
  rowsPerTweet: number,
  placement: object,
): Promise<HopRun> {
  const out = new MemorySink<{ window: { start: Date }; count: number }>({
    outputMode: 'update',
    key: (r) => String(r.window.start.getTime()),
  })
  const source = kafkaSource({
    brokers,
    subscribe: [topic],
    startingOffsets: 'earliest',
    logLevel: 'nothing',
  })
  const query = await watermarkedCounts(tweets(source))
    .writeStream({
      sink: out,
      outputMode: 'update',
      trigger: { processingTime: 300 },
      manager: new StreamingQueryManager(),
      ...placement,
    })
    .start()
  try {
    const taken = () =>
      query.metricsSnapshot().instances.find((i) => i.nodeId === 'aggregate')?.recordsIn ?? 0
    // The mock cluster keeps only a few MB of a partition: a repartition partition that outgrows
    // that before it is read fails the query (rows gone); see docs/scale-out.md.
    const ms = await timeMiddle(
      () => taken() / (records * rowsPerTweet),
      `the ${contender} query`,
      () => query.exception,
    )
    // The last epoch's rows reach the sink after the aggregate took them in.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    await query.stop()
    const counts: Counts = new Map(out.rows().map((r) => [r.window.start.getTime(), r.count]))
    return { contender, ms, recordsPerSecond: (records * 1000) / ms, counts }
  } finally {
    await query.stop()
  }
}

/** Query 3 in one job over the input topic. */
function direct(brokers: string[], topic: string, records: number): Promise<HopRun> {
  return run('direct', brokers, topic, records, 1, {})
}

/** The same program scaled out: every tweet crosses the repartition topic once per window. */
async function hop(brokers: string[], topic: string, records: number, round: number): Promise<HopRun> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-hop-'))
  try {
    return await run('hop', brokers, topic, records, WINDOWS_PER_TWEET, {
      checkpointLocation: join(dir, `round-${round}`),
      scaleOut: kafkaScaleOut({ sessionTimeout: 6000, heartbeatInterval: 1000 }),
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const sameCounts = (a: Counts, b: Counts) =>
  JSON.stringify([...a].sort((x, y) => x[0] - y[0])) === JSON.stringify([...b].sort((x, y) => x[0] - y[0]))

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { records: { type: 'string' }, rounds: { type: 'string' } } })
  const records = Number(values.records ?? 20_000)
  const rounds = Number(values.rounds ?? 3)
  const cluster = await startKafkaMockCluster()
  try {
    const topic = `hop-input-${process.pid}`
    await produceTweets({
      brokers: cluster.brokers,
      topic,
      count: records,
      rate: 0,
      // A second apart: 20,000 tweets span 5.5 hours, ~330 windows, whose keys spread over the
      // repartition partitions (10 ms apart, 8 windows would crowd one partition past the mock's cap).
      stepMs: 1000,
      start: START,
      seed: 7,
      lateFraction: 0.15,
      maxDelayMs: 20_000,
      batchSize: 1000,
      log: () => undefined,
    })
    const runs: HopRun[] = []
    for (let round = 0; round < rounds; round++) {
      for (const run of [
        () => direct(cluster.brokers, topic, records),
        () => hop(cluster.brokers, topic, records, round),
      ]) {
        const result = await run()
        if (runs.length > 0 && !sameCounts(result.counts, runs[0].counts))
          throw new Error(`${result.contender} counted differently from ${runs[0].contender}`)
        runs.push(result)
        console.log(
          `${result.contender}: ${records} tweets in ${result.ms.toFixed(0)} ms, ${result.recordsPerSecond.toFixed(0)} tweets/s`,
        )
      }
    }
    const directMs = median(runs.filter((r) => r.contender === 'direct').map((r) => r.ms))
    const hopMs = median(runs.filter((r) => r.contender === 'hop').map((r) => r.ms))
    const summary = {
      records,
      rounds,
      directRecordsPerSecond: Math.round((records * 1000) / directMs),
      hopRecordsPerSecond: Math.round((records * 1000) / hopMs),
      hopCostMicrosPerRecord: Math.round(((hopMs - directMs) * 1000) / records),
    }
    console.log(JSON.stringify(summary))
  } finally {
    await cluster.stop()
  }
}

if (isMain(import.meta.url)) await main()
