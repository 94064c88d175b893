import test from 'ava'
import {
  StreamingQueryException,
  StreamingQueryManager,
  type DeadLetter,
  type StreamingQuery,
} from '@weir/core'
import { CollectSink, QueueSource } from '@weir/core/testing'
import { tweets, watermarkedCounts, wordCounts } from '../../src/tutorial/queries.js'

// Bad input end to end, through the tutorial's parse (`tweets(source, mode)`, the fluent API's
// `readStream(source).parse(tweetSchema, { mode })`): three epochs, good records, then bad and odd ones,
// then good ones again, in each of Spark's parse modes.

type Raw = string | Uint8Array

const at = (hhmmss: string) => `2026-11-24T${hhmmss}Z`
const tweet = (time: string, text: string) => JSON.stringify({ creation_time: time, tweet_text: text })
const bytes = (text: string, ...extra: number[]) => new Uint8Array([...Buffer.from(text, 'latin1'), ...extra])
const huge = 'x'.repeat(1 << 20)

const TRUNCATED = '{"creation_time": "2026-11-24T10:01:00Z", "tweet_te'
const ARRAY = JSON.stringify([{ creation_time: at('10:01:00'), tweet_text: 'in an array' }])
const WRONG_TEXT = JSON.stringify({ creation_time: at('10:01:02'), tweet_text: 42 })
const WRONG_TIME = JSON.stringify({ creation_time: true, tweet_text: 'a time of the wrong type' })
const BAD_TIME = JSON.stringify({ creation_time: 'yesterday at noon', tweet_text: 'an unparseable time' })
const NOT_UTF8 = new Uint8Array([0xff, 0xfe, 0x7b, 0x00])

/** Epoch 0: good; epoch 1: odd but valid records, then malformed ones; epoch 2: good again. */
const epochs: Raw[][] = [
  [tweet(at('10:00:00'), 'the first tweet'), tweet(at('10:00:30'), 'the second')],
  [
    JSON.stringify({ tweet_text: 'no time at all' }),
    JSON.stringify({ creation_time: at('10:01:00') }),
    '{"__proto__": {"polluted": true}, "creation_time": "2026-11-24T10:01:01Z", "tweet_text": "__proto__ keys"}',
    tweet(at('10:01:01'), ''),
    tweet(at('10:01:01'), huge),
    bytes('{"creation_time": "2026-11-24T10:01:01Z", "tweet_text": "caf', 0xe9, 0x22, 0x7d),
    '   ',
    TRUNCATED,
    ARRAY,
    'null',
    WRONG_TEXT,
    WRONG_TIME,
    BAD_TIME,
    NOT_UTF8,
  ],
  [tweet(at('10:02:00'), 'still running'), tweet(at('10:02:30'), 'the last tweet')],
]
const MALFORMED = 7

const row = (time: string | null, text: string | null) => ({
  creation_time: time === null ? null : new Date(time),
  tweet_text: text,
})
const good = [
  [row(at('10:00:00'), 'the first tweet'), row(at('10:00:30'), 'the second')],
  [
    row(null, 'no time at all'),
    row(at('10:01:00'), null),
    row(at('10:01:01'), '__proto__ keys'),
    row(at('10:01:01'), ''),
    row(at('10:01:01'), huge),
    // Bytes that are not UTF-8 become U+FFFD, as Spark's cast of binary to string does.
    row(at('10:01:01'), 'caf\uFFFD'),
  ],
  [row(at('10:02:00'), 'still running'), row(at('10:02:30'), 'the last tweet')],
]

async function runEpochs<R>(
  build: (source: QueueSource<Raw>) => Promise<StreamingQuery>,
  out: CollectSink<R>,
): Promise<{ rows: R[][]; query: StreamingQuery; failure: unknown }> {
  const source = new QueueSource<Raw>(['p0'])
  const query = await build(source)
  let failure: unknown
  for (const batch of epochs) {
    source.push('p0', batch)
    try {
      await query.processAllAvailable()
    } catch (error) {
      failure = error
      break
    }
  }
  if (query.isActive) await query.stop()
  return { rows: epochs.map((_, i) => out.epoch(i)), query, failure }
}

const options = (manager = new StreamingQueryManager()) => ({ trigger: { manual: true } as const, manager })
const rejected = (query: StreamingQuery) => query.recentProgress.slice(0, 3).map((p) => p.rejectedRows)

test('permissive keeps every record: malformed ones with null fields and their text in _corrupt_record', async (t) => {
  const out = new CollectSink<Record<string, unknown>>()
  const { rows, query } = await runEpochs(
    (source) =>
      tweets(source, 'permissive')
        .writeStream({ sink: out, outputMode: 'append', ...options() })
        .start(),
    out,
  )
  const ok = (r: ReturnType<typeof row>) => ({ ...r, _corrupt_record: null })
  const bad = (time: string | null, text: string | null, raw: string) => ({
    ...row(time, text),
    _corrupt_record: raw,
  })
  t.deepEqual(rows, [
    good[0].map(ok),
    [
      ...good[1].map(ok),
      bad(null, null, TRUNCATED),
      bad(null, null, ARRAY),
      bad(null, null, 'null'),
      // Spark 3's partial results: the fields that parsed are kept.
      bad(at('10:01:02'), null, WRONG_TEXT),
      bad(null, 'a time of the wrong type', WRONG_TIME),
      bad(null, 'an unparseable time', BAD_TIME),
      bad(null, null, '\uFFFD\uFFFD{\u0000'),
    ],
    good[2].map(ok),
  ])
  t.is(({} as Record<string, unknown>).polluted, undefined)
  t.is(Object.getPrototypeOf(rows[1][2]), Object.prototype)
  t.deepEqual(rejected(query), [{}, { numMalformedRecords: MALFORMED }, {}])
  t.deepEqual(
    query.recentProgress.slice(0, 3).map((p) => p.numInputRows),
    epochs.map((e) => e.length),
  )
  t.is(query.exception, null)
})

test('permissive rows without a time are in no window, counted, and the later tweets still count', async (t) => {
  const out = new CollectSink<{ window: { start: Date; end: Date }; count: number }>()
  const { rows, query } = await runEpochs(
    (source) =>
      watermarkedCounts(tweets(source))
        .writeStream({ sink: out, outputMode: 'append', ...options() })
        .start(),
    out,
  )
  // The watermark after epoch 2 (10:02:30 - 1 minute) closes the first window.
  t.deepEqual(rows, [
    [],
    [],
    [{ window: { start: new Date(at('09:56:00')), end: new Date(at('10:01:00')) }, count: 2 }],
  ])
  const progress = query.recentProgress.slice(0, 3)
  // No time: the tweet without one, the time of the wrong type, the unparseable one, and the malformed
  // records with every field null (truncated, array, null, not UTF-8).
  t.deepEqual(
    progress.map((p) => p.rejectedRows.numRowsWithoutEventTime ?? 0),
    [0, 7, 0],
  )
  t.is(progress[2].eventTime.watermark, at('10:01:30').replace('Z', '.000Z'))
  const words = new CollectSink<{ word: string; count: number }>()
  const counted = await runEpochs(
    (source) =>
      wordCounts(tweets(source))
        .writeStream({ sink: words, outputMode: 'complete', ...options() })
        .start(),
    words,
  )
  const last = new Map(counted.rows[2].map((r) => [r.word, r.count]))
  t.is(last.get(huge), 1)
  t.is(last.get(''), 1)
  t.is(last.get('__proto__'), 1)
  t.is(last.get('running'), 1)
  t.is(last.get('tweet'), 2)
})

test('dropMalformed drops malformed records, counted, to the dead-letter sink with the reason', async (t) => {
  const out = new CollectSink<Record<string, unknown>>()
  const letters = new CollectSink<DeadLetter>()
  const { rows, query } = await runEpochs(
    (source) =>
      tweets(source, 'dropMalformed')
        .writeStream({ sink: out, outputMode: 'append', deadLetterSink: letters, ...options() })
        .start(),
    out,
  )
  t.deepEqual(rows, good)
  t.deepEqual(
    letters.rows().map((l) => [l.epoch, l.value]),
    [TRUNCATED, ARRAY, 'null', WRONG_TEXT, WRONG_TIME, BAD_TIME, NOT_UTF8].map((raw) => [1, raw]),
  )
  const reasons = letters.rows().map((l) => l.error)
  t.regex(reasons[0], /^not valid JSON/)
  t.is(reasons[1], 'expected a JSON object, got array')
  t.is(reasons[2], 'expected a JSON object, got null')
  t.is(reasons[3], "field 'tweet_text': expected string, got number 42")
  t.is(reasons[4], "field 'creation_time': expected timestamp, got boolean true")
  t.is(reasons[5], `field 'creation_time': expected timestamp, got string "yesterday at noon"`)
  t.regex(reasons[6], /^not valid JSON/)
  t.deepEqual(rejected(query), [
    {},
    { numMalformedRecords: MALFORMED, numDeadLetters: MALFORMED, numRowsDroppedByDecode: MALFORMED },
    {},
  ])
  t.is(query.exception, null)
})

test('failFast fails the query on the first malformed record, naming it', async (t) => {
  const out = new CollectSink<Record<string, unknown>>()
  const { rows, query, failure } = await runEpochs(
    (source) =>
      tweets(source, 'failFast')
        .writeStream({ sink: out, outputMode: 'append', queryName: 'strict', ...options() })
        .start(),
    out,
  )
  t.true(failure instanceof StreamingQueryException)
  t.is(query.exception, failure as StreamingQueryException)
  t.false(query.isActive)
  const message = (failure as Error).message
  t.true(
    message.startsWith(
      `query 'strict' [id = ${query.id}, runId = ${query.runId}] terminated with exception: `,
    ),
  )
  t.true(
    message.includes(
      `failed in epoch 1 on record ${JSON.stringify(TRUNCATED)}: malformed record (not valid JSON`,
    ),
  )
  t.regex(message, /use mode 'permissive' to keep it .* or 'dropMalformed' to drop it$/)
  await t.throwsAsync(query.awaitTermination(), { is: failure as Error })
  // Epoch 0 was committed; nothing of the failed epoch reached the sink.
  t.deepEqual(rows, [good[0], [], []])
})
