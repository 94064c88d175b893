import { closeSync, openSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StreamingQueryManager, type Source } from '@weir/core'
import {
  fileSource,
  kafkaSource,
  kcatAvailable,
  loadTweetTexts,
  MemorySink,
  startKafkaMockCluster,
  type KafkaMockCluster,
} from '@weir/connectors'
import { readStream } from '@weir/operators'
import test from 'ava'
import { main, type ProduceIo } from '../../src/cli/weir-produce.js'
import { tweetRecord, type TweetRecordOptions } from '../../src/producer/tweet-records.js'
import {
  tweets,
  tweetSchema,
  watermarkedCounts,
  windowedCounts,
  wordCounts,
} from '../../src/tutorial/queries.js'

const texts = await loadTweetTexts()
const START = Date.UTC(2026, 10, 24, 10, 0, 0)
const options: TweetRecordOptions = {
  texts,
  seed: 7,
  start: START,
  stepMs: 10,
  lateFraction: 0.1,
  maxDelayMs: 60_000,
}

function io(): ProduceIo & { text: { out: string; err: string } } {
  const text = { out: '', err: '' }
  return { text, out: (s) => (text.out += s), err: (s) => (text.err += s), isTTY: false, env: {} }
}

test('a tweet depends on its number and the seed alone', (t) => {
  const first = Array.from({ length: 1000 }, (_, n) => tweetRecord(n, options))
  t.deepEqual(
    Array.from({ length: 1000 }, (_, n) => tweetRecord(n, options)),
    first,
  )
  t.notDeepEqual(tweetRecord(5, { ...options, seed: 8 }), first[5])
  t.deepEqual(first[3].key, '3')
  const value = JSON.parse(first[3].value) as { creation_time: string; tweet_text: string }
  t.deepEqual(Object.keys(value), ['creation_time', 'tweet_text'])
  t.is(Date.parse(value.creation_time), first[3].creationTime)
  t.true(texts.includes(value.tweet_text))
  const late = first.filter((r, n) => r.creationTime < START + n * 10)
  t.true(late.length > 60 && late.length < 140, `${late.length} late of 1000 with lateFraction 0.1`)
  t.true(
    late.every((r) => START + Number(r.key) * 10 - r.creationTime <= 60_000),
    'late by at most maxDelay',
  )
  t.true(first.every((r, n) => r.creationTime <= START + n * 10))
})

test('--help prints the usage; a bad option is a usage error', async (t) => {
  const help = io()
  t.is(await main(['--help'], help), 0)
  t.regex(help.text.out, /usage: weir-produce \[options\][\s\S]*--late-fraction F/)
  const bad = io()
  t.is(await main(['--rate', 'fast'], bad), 2)
  t.regex(bad.text.err, /--rate "fast" is not a number/)
  const start = io()
  t.is(await main(['--start', 'yesterday'], start), 2)
  t.regex(start.text.err, /--start "yesterday" is not a time/)
})

// Over the wire: a mock Kafka cluster (kcat) or KAFKA_BROKERS; skipped without either, failed under CI.
const fromEnv = process.env.KAFKA_BROKERS?.split(',').filter(Boolean)
const haveKafka = (fromEnv?.length ?? 0) > 0 || kcatAvailable()
let cluster: KafkaMockCluster | undefined
if (haveKafka && !fromEnv?.length) {
  test.before(async () => {
    cluster = await startKafkaMockCluster()
  })
  test.after.always(async () => {
    await cluster?.stop()
  })
}
const wire = haveKafka ? test : process.env.CI ? test : test.skip
if (!haveKafka && !process.env.CI) {
  try {
    closeSync(openSync(join(tmpdir(), `weir-kafka-tests-skipped-${process.ppid}`), 'wx'))
    console.error(
      '\n*** Kafka tests SKIPPED: no kcat and no KAFKA_BROKERS here; install kcat (apt-get install kcat) or set KAFKA_BROKERS=host:port,... to run them. ***\n',
    )
  } catch {
    // Someone said it already.
  }
}

wire('weir-produce writes the replay into Kafka, and a query reads back exactly those records', async (t) => {
  if (!haveKafka) return t.fail('no Kafka for the Kafka tests under CI: install kcat or set KAFKA_BROKERS')
  const brokers = fromEnv ?? cluster!.brokers
  const topic = `produce-${process.pid}-${Date.now().toString(36)}`
  const out = io()
  const code = await main(
    [
      '--brokers',
      brokers.join(','),
      '--topic',
      topic,
      '--count',
      '300',
      '--rate',
      '0',
      '--seed',
      '7',
      '--start',
      '2026-11-24T10:00:00Z',
      '--late-fraction',
      '0.1',
      '--max-delay',
      '60000',
    ],
    out,
  )
  t.is(code, 0, out.text.err)
  t.regex(out.text.err, /^tweets to 'produce-.*': 300 tweets in [\d.]+ s \(/m)

  const manager = new StreamingQueryManager()
  const source = () =>
    kafkaSource({
      brokers,
      subscribe: [topic],
      startingOffsets: 'earliest',
      sessionTimeout: 6000,
      heartbeatInterval: 1000,
      log: () => undefined,
    })
  const raw = new MemorySink<{ key: string; value: string; partition: number }>({ outputMode: 'append' })
  const parsed = new MemorySink<{ creation_time: Date | null; tweet_text: string | null }>({
    outputMode: 'append',
  })
  const queries = await Promise.all([
    readStream(source())
      .map((r) => ({ key: r.key!.toString(), value: r.value!.toString(), partition: r.partition }))
      .writeStream({ sink: raw, trigger: { availableNow: true }, manager })
      .start(),
    readStream(source())
      .parse(tweetSchema, { mode: 'failFast' })
      .writeStream({ sink: parsed, trigger: { availableNow: true }, manager })
      .start(),
  ])
  for (const query of queries) t.true(await query.awaitTermination(30_000), 'the query ends')
  const expected = Array.from({ length: 300 }, (_, n) => tweetRecord(n, { ...options, stepMs: 10 }))
  const byKey = (a: { key: string }, b: { key: string }) => Number(a.key) - Number(b.key)
  t.deepEqual(
    raw
      .rows()
      .map(({ key, value }) => ({ key, value }))
      .sort(byKey),
    expected.map(({ key, value }) => ({ key, value })),
  )
  t.is(new Set(raw.rows().map((r) => r.partition)).size, 4, 'keys spread the tweets over the partitions')
  t.deepEqual(
    parsed
      .rows()
      .map((r) => `${r.creation_time!.toISOString()} ${r.tweet_text}`)
      .sort(),
    expected
      .map((r) => JSON.parse(r.value) as { creation_time: string; tweet_text: string })
      .map((v) => `${v.creation_time} ${v.tweet_text}`)
      .sort(),
  )
})

wire(
  "the tutorial's three queries give the same rows from Kafka as from a file of the same tweets",
  async (t) => {
    if (!haveKafka) return t.fail('no Kafka for the Kafka tests under CI: install kcat or set KAFKA_BROKERS')
    const brokers = fromEnv ?? cluster!.brokers
    const topic = `tutorial-${process.pid}-${Date.now().toString(36)}`
    const out = io()
    // No late tweets: each partition's watermark then drops what a single file's would (nothing), so the
    // rows may not depend on how the partitions interleave.
    const args = [
      '--count',
      '600',
      '--rate',
      '0',
      '--seed',
      '11',
      '--start',
      '2026-11-24T10:00:00Z',
      '--late-fraction',
      '0',
    ]
    t.is(await main(['--brokers', brokers.join(','), '--topic', topic, ...args], out), 0, out.text.err)
    const lines = Array.from(
      { length: 600 },
      (_, n) => tweetRecord(n, { ...options, seed: 11, lateFraction: 0 }).value,
    )
    const dir = await mkdtemp(join(tmpdir(), 'weir-tutorial-kafka-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'tweets.jsonl'), lines.join('\n') + '\n')

    const fromKafka = () =>
      kafkaSource({
        brokers,
        subscribe: [topic],
        startingOffsets: 'earliest',
        sessionTimeout: 6000,
        heartbeatInterval: 1000,
        log: () => undefined,
      })
    const fromFile = () => fileSource(join(dir, 'tweets.jsonl'))
    const windowKey = (row: { window: { start: Date } }) => String(row.window.start.getTime())
    const run = async (source: () => Source<unknown>) => {
      const manager = new StreamingQueryManager()
      const words = new MemorySink<{ word: string; count: number }>({ outputMode: 'complete' })
      const windowed = new MemorySink<{ window: { start: Date; end: Date }; count: number }>({
        outputMode: 'complete',
      })
      const watermarked = new MemorySink<{ window: { start: Date; end: Date }; count: number }>({
        outputMode: 'update',
        key: windowKey,
      })
      const trigger = { availableNow: true } as const
      const queries = [
        await wordCounts(tweets(source()))
          .writeStream({ sink: words, outputMode: 'complete', trigger, manager })
          .start(),
        await windowedCounts(tweets(source()))
          .writeStream({ sink: windowed, outputMode: 'complete', trigger, manager })
          .start(),
        await watermarkedCounts(tweets(source()))
          .writeStream({ sink: watermarked, outputMode: 'update', trigger, manager })
          .start(),
      ]
      for (const query of queries) t.true(await query.awaitTermination(30_000), 'the query ends')
      const show = (rows: { window: { start: Date; end: Date }; count: number }[]) =>
        rows.map((r) => `${r.window.start.toISOString()} ${r.count}`).sort()
      return { words: words.rows(), windowed: show(windowed.rows()), watermarked: show(watermarked.rows()) }
    }
    const [kafka, file] = [await run(fromKafka), await run(fromFile)]
    t.true(
      kafka.words.length > 100 && kafka.windowed.length >= 5,
      `${kafka.words.length} words, ${kafka.windowed.length} windows`,
    )
    t.deepEqual(kafka.words, file.words, 'word counts, sorted')
    t.deepEqual(kafka.windowed, file.windowed, 'every window of the windowed count')
    t.deepEqual(
      kafka.watermarked,
      file.watermarked,
      'the last value of every window of the watermarked count',
    )
  },
)
