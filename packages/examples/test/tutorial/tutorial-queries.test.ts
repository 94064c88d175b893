import { readFileSync } from 'node:fs'
import test from 'ava'
import { ConfigError, StreamingQueryManager, type StreamingQueryProgress } from '@weir/core'
import { CollectSink, type CollectedEpoch } from '@weir/core/testing'
import { fileSource } from '@weir/connectors'
import type { DataFrame, OutputMode, WindowValue } from '@weir/operators'
import {
  tweets,
  watermarkedCounts,
  windowedCounts,
  wordCounts,
  type Tweet,
} from '../../src/tutorial/queries.js'
import { TWEET_FILES } from '../fixtures/generate-tweets.js'
import { fixturePath } from '../fixtures/paths.js'
import {
  batchesOfEpochs,
  epochRows,
  parseLine,
  windowedCountsReference,
  wordCountsReference,
  type ParsedTweet,
  type WindowCount,
  type WindowedOptions,
} from './spark-reference.js'
import { SteppedSource } from './stepped-source.js'

// The tutorial's three queries on the committed fixture (test/fixtures/tweets/, one file per epoch),
// every epoch compared with an independent computation of Spark's semantics (./spark-reference.ts), in
// every output mode Spark allows for the query. Epochs are stepped one file at a time (SteppedSource,
// the manual trigger and processAllAvailable), so epoch i is file i on every run.

const MINUTE = 60_000
const batches: ParsedTweet[][] = TWEET_FILES.map((name) =>
  readFileSync(fixturePath('tweets', name), 'utf8')
    .split('\n')
    .map(parseLine)
    .filter((tweet) => tweet !== undefined),
)
const malformed = batches.map((batch) => batch.filter((tweet) => tweet.malformed).length)

interface Run<R> {
  /** The rows of epoch i: file i. */
  readonly epochs: R[][]
  /** Epochs after the last file (the one `stop()` ends). */
  readonly later: CollectedEpoch<R>[]
  readonly progress: StreamingQueryProgress[]
}

async function runOnFiles<R>(
  frame: (input: DataFrame<Tweet>) => DataFrame<R>,
  outputMode: OutputMode,
): Promise<Run<R>> {
  const files = new SteppedSource(fileSource(fixturePath('tweets'), { maxFilesPerTrigger: 1 }))
  const out = new CollectSink<R>()
  const query = await frame(tweets(files))
    .writeStream({ sink: out, outputMode, trigger: { manual: true }, manager: new StreamingQueryManager() })
    .start()
  try {
    for (let i = 0; i < TWEET_FILES.length; i++) {
      files.step()
      await query.processAllAvailable()
    }
  } finally {
    files.release()
    await query.stop()
  }
  return {
    epochs: TWEET_FILES.map((_, i) => out.epoch(i)),
    later: out.epochs.filter((e) => e.epoch >= TWEET_FILES.length),
    progress: TWEET_FILES.map((_, i) => query.recentProgress.find((p) => p.batchId === i)!),
  }
}

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16)
const showReference = (rows: readonly WindowCount[]) =>
  rows.map((r) => `${hhmm(r.start)}-${hhmm(r.end)} ${r.count}`)
const showWeir = (rows: readonly { window: WindowValue; count: number }[]) =>
  rows.map((r) => `${hhmm(r.window.start.getTime())}-${hhmm(r.window.end.getTime())} ${r.count}`)
const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : undefined)

test('query 1 counts words in complete mode, sorted, exactly as Spark does, epoch by epoch', async (t) => {
  const run = await runOnFiles(wordCounts, 'complete')
  const expected = wordCountsReference(batches)
  t.deepEqual(run.epochs, expected)
  // Empty tokens, `__proto__` and characters outside the BMP are words like the others.
  t.true(expected.at(-1)!.some((r) => r.word === ''))
  t.is(expected.at(-1)!.find((r) => r.word === '__proto__')?.count, 2)
  // Complete mode: the epoch stop() ends has the whole table again, nothing new.
  for (const epoch of run.later) t.deepEqual(epoch.rows, expected.at(-1))
  t.deepEqual(
    run.progress.map((p) => [p.numInputRows, p.rejectedRows]),
    batches.map((batch, i) => [batch.length, malformed[i] ? { numMalformedRecords: malformed[i] } : {}]),
  )
})

test('query 1 with limit keeps the top rows of each epoch', async (t) => {
  const run = await runOnFiles((input) => wordCounts(input).limit(10), 'complete')
  t.deepEqual(run.epochs, wordCountsReference(batches, 10))
})

for (const mode of ['complete', 'update'] as const) {
  test(`query 2 counts tweets per sliding window in ${mode} mode, as Spark does, epoch by epoch`, async (t) => {
    const run = await runOnFiles(windowedCounts, mode)
    const expected = windowedCountsReference(batches, { size: 5 * MINUTE, slide: MINUTE, mode })
    t.deepEqual(
      run.epochs.map(showWeir),
      expected.map((b) => showReference(b.rows)),
    )
    for (const epoch of run.later)
      t.deepEqual(showWeir(epoch.rows), mode === 'complete' ? showReference(expected.at(-1)!.rows) : [])
    t.deepEqual(
      run.progress.map((p) => ({
        watermark: p.eventTime.watermark,
        rejected: p.rejectedRows,
        state: p.stateOperators[0].numRowsTotal,
      })),
      expected.map((b, i) => ({
        watermark: undefined,
        rejected: {
          ...(malformed[i] ? { numMalformedRecords: malformed[i] } : {}),
          ...(b.withoutTime ? { numRowsWithoutEventTime: b.withoutTime } : {}),
        },
        // Without a watermark nothing is ever evicted.
        state: b.slicesHeld,
      })),
    )
  })
}

for (const mode of ['append', 'update', 'complete'] as const) {
  test(`query 3 drops late tweets and evicts closed windows in ${mode} mode, as Spark does, epoch by epoch`, async (t) => {
    const run = await runOnFiles(watermarkedCounts, mode)
    const options: WindowedOptions = { size: 5 * MINUTE, slide: MINUTE, delay: MINUTE, mode }
    const expected = windowedCountsReference(batches, options)
    t.deepEqual(
      run.epochs.map(showWeir),
      expected.map((b) => showReference(b.rows)),
    )
    for (const epoch of run.later)
      t.deepEqual(showWeir(epoch.rows), mode === 'complete' ? showReference(expected.at(-1)!.rows) : [])
    t.deepEqual(
      run.progress.map((p) => ({
        input: p.numInputRows,
        watermark: p.eventTime.watermark,
        late: p.stateOperators[0].numRowsDroppedByWatermark,
        state: p.stateOperators[0].numRowsTotal,
        malformed: p.rejectedRows.numMalformedRecords ?? 0,
        withoutTime: p.rejectedRows.numRowsWithoutEventTime ?? 0,
      })),
      expected.map((b, i) => ({
        input: batches[i].length,
        watermark: iso(b.watermark),
        late: b.late,
        state: b.slicesHeld,
        malformed: malformed[i],
        withoutTime: b.withoutTime,
      })),
    )
    if (mode === 'complete') {
      // As in Spark, complete mode keeps every window and drops nothing: the same table as query 2's.
      const unwatermarked = windowedCountsReference(batches, { ...options, delay: undefined })
      t.deepEqual(
        expected.map((b) => b.rows),
        unwatermarked.map((b) => b.rows),
      )
      t.true(expected.every((b) => b.late === 0))
    } else {
      t.true(expected.reduce((n, b) => n + b.late, 0) > 0)
      // Evicted: state never holds more than the windows of the last few minutes.
      t.true(Math.max(...run.progress.map((p) => p.stateOperators[0].numRowsTotal)) <= 12)
    }
  })
}

test('the reference appends every window once, with the last count update mode gave it', (t) => {
  const options = { size: 5 * MINUTE, slide: MINUTE, delay: MINUTE }
  const appended = windowedCountsReference(batches, { ...options, mode: 'append' }).flatMap((b) => b.rows)
  const updated = windowedCountsReference(batches, { ...options, mode: 'update' }).flatMap((b) => b.rows)
  const final = new Map(updated.map((r) => [r.start, r.count]))
  t.is(new Set(appended.map((r) => r.start)).size, appended.length)
  for (const row of appended) t.is(final.get(row.start), row.count)
})

for (const mode of ['append', 'update', 'complete'] as const) {
  test(`with availableNow, epochs hold whole files, however many: query 3 in ${mode} mode still gives Spark's rows`, async (t) => {
    const out = new CollectSink<{ window: WindowValue; count: number }>()
    const query = await watermarkedCounts(
      tweets(fileSource(fixturePath('tweets'), { maxFilesPerTrigger: 1 })),
    )
      .writeStream({
        sink: out,
        outputMode: mode,
        trigger: { availableNow: true },
        manager: new StreamingQueryManager(),
      })
      .start()
    await query.awaitTermination()
    const expected = windowedCountsReference(batches, {
      size: 5 * MINUTE,
      slide: MINUTE,
      delay: MINUTE,
      mode,
    })
    const progress = query.recentProgress
    const groups = batchesOfEpochs(
      progress.map((p) => p.numInputRows),
      batches.map((b) => b.length),
    )
    const rows = epochRows(
      expected.map((b) => b.rows),
      groups,
      { mode, key: (r) => r.start, order: (a, b) => a.start - b.start },
    )
    t.deepEqual(
      progress.map((p) => showWeir(out.epoch(p.batchId))),
      rows.map(showReference),
    )
    // The last file moves the watermark too, though availableNow stops the source after it.
    t.is(progress.at(-1)!.eventTime.watermark, iso(expected.at(-1)!.watermark))
    t.is(
      progress.reduce((n, p) => n + p.stateOperators[0].numRowsDroppedByWatermark, 0),
      expected.reduce((n, b) => n + b.late, 0),
    )
  })
}

test("refuses what Spark refuses, with Spark's reasons and what to write instead", async (t) => {
  const manager = new StreamingQueryManager()
  const start = (frame: DataFrame<unknown>, outputMode: OutputMode) =>
    frame.writeStream({ sink: new CollectSink(), outputMode, manager, trigger: { manual: true } }).start()
  const input = () => tweets(fileSource(fixturePath('tweets')))
  const appendWithoutWatermark = await t.throwsAsync(start(windowedCounts(input()), 'append'), {
    instanceOf: ConfigError,
  })
  t.regex(
    appendWithoutWatermark.message,
    /^Append output mode not supported when there are streaming aggregations on streaming DataFrames without watermark: add withWatermark/,
  )
  await t.throwsAsync(start(input().groupBy('tweet_text').count(), 'append'), {
    instanceOf: ConfigError,
    message: /^Append output mode not supported/,
  })
  const completeWithoutAggregation = await t.throwsAsync(start(input(), 'complete'), {
    instanceOf: ConfigError,
  })
  t.regex(
    completeWithoutAggregation.message,
    /^Complete output mode not supported when there are no streaming aggregations on streaming DataFrames: use outputMode append/,
  )
  const sorted = await t.throwsAsync(start(wordCounts(input()), 'update'), { instanceOf: ConfigError })
  t.regex(
    sorted.message,
    /^Sorting is not supported on streaming DataFrames, unless it is on an aggregated DataFrame in Complete output mode: aggregate first and use outputMode complete/,
  )
  t.deepEqual(manager.active, [])
})
