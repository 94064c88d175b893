import test from 'ava'
import {
  data,
  DEAD_LETTER,
  defineSink,
  defineSource,
  Job,
  OperatorError,
  StreamGraph,
  type DeadLetter,
  type StreamRecord,
} from '@weir/core'
import { CollectSink, listSource, OperatorHarness } from '@weir/core/testing'
import {
  jsonParser,
  long,
  parse,
  string,
  struct,
  timestamp,
  type ParsedRow,
  type RowOf,
} from '../src/index.js'

const schema = struct({ creation_time: timestamp(), tweet_text: string(), retweets: long() })
type Tweet = RowOf<typeof schema>

const window = { start: 0, end: 60_000 }
const input: StreamRecord<string | Uint8Array>[] = [
  {
    value: '{"creation_time":"2026-11-24T10:00:00Z","tweet_text":"hi","retweets":1}',
    timestamp: 1000,
    key: 'a',
    window,
  },
  { value: '{"tweet_text":', timestamp: 2000, key: 'b', window },
  { value: '', timestamp: 2500, key: 'b', window },
  { value: Buffer.from('{"retweets":"many"}'), timestamp: 3000, key: 'c' },
  { value: '{"tweet_text":"yo"}', timestamp: null },
]
const hi: Tweet = { creation_time: new Date('2026-11-24T10:00:00Z'), tweet_text: 'hi', retweets: 1 }
const yo: Tweet = { creation_time: null, tweet_text: 'yo', retweets: null }
const nothing: Tweet = { creation_time: null, tweet_text: null, retweets: null }
const badJson = (() => {
  try {
    JSON.parse('{"tweet_text":')
  } catch (error) {
    return `not valid JSON: ${(error as Error).message}`
  }
  return ''
})()

test('parses in permissive mode, keeping timestamps, keys and windows and the text of malformed records', (t) => {
  const h = OperatorHarness.open(parse('tweets', schema))
  h.processRecords(input)
  t.deepEqual(h.takeOutput(), [
    data<ParsedRow<typeof schema>>([
      { value: { ...hi, _corrupt_record: null }, timestamp: 1000, key: 'a', window },
      { value: { ...nothing, _corrupt_record: '{"tweet_text":' }, timestamp: 2000, key: 'b', window },
      {
        value: { ...nothing, _corrupt_record: '{"retweets":"many"}' },
        timestamp: 3000,
        key: 'c',
        window: undefined,
      },
      { value: { ...yo, _corrupt_record: null }, timestamp: null, key: undefined, window: undefined },
    ]),
  ])
  t.deepEqual(numCounters(h.counters.toJSON()), { numMalformedRecords: 2, numBlankRecords: 1 })
  t.deepEqual(parse('p', schema).sideOutputs, [])
})

test('routes malformed records to the dead-letter output in dropMalformed mode', (t) => {
  const h = OperatorHarness.open(parse('tweets', schema, { mode: 'dropMalformed' }))
  t.deepEqual(h.spec.sideOutputs, [DEAD_LETTER])
  h.processRecords(input)
  t.deepEqual(h.takeOutput(), [
    data<Tweet>([
      { value: hi, timestamp: 1000, key: 'a', window },
      { value: yo, timestamp: null, key: undefined, window: undefined },
    ]),
  ])
  t.deepEqual(h.takeSideOutput(DEAD_LETTER), [
    data<DeadLetter>([
      {
        value: { operatorId: 'tweets', epoch: 0, error: badJson, value: '{"tweet_text":' },
        timestamp: 2000,
        key: 'b',
        window,
      },
      {
        value: {
          operatorId: 'tweets',
          epoch: 0,
          error: `field 'retweets': expected long, got string "many"`,
          value: Buffer.from('{"retweets":"many"}'),
        },
        timestamp: 3000,
        key: 'c',
        window: undefined,
      },
    ]),
  ])
  t.deepEqual(numCounters(h.counters.toJSON()), {
    numMalformedRecords: 2,
    numBlankRecords: 1,
    numDeadLetters: 2,
  })
})

test('fails on the first malformed record in failFast mode, naming the operator, epoch and record', (t) => {
  const h = OperatorHarness.open(parse('tweets', schema, { mode: 'failFast' }))
  t.deepEqual(h.spec.sideOutputs, [])
  const error = t.throws(() => h.processRecords(input), { instanceOf: OperatorError })
  t.is(
    error.message,
    `operator 'tweets' failed in epoch 0 on record "{\\"tweet_text\\":": malformed record (${badJson}): ` +
      `"{\\"tweet_text\\":": use mode 'permissive' to keep it (fields that do not parse become null, the text ` +
      `goes to '_corrupt_record') or 'dropMalformed' to drop it`,
  )
  t.is((error.cause as { code?: string }).code, 'malformed-record')
  t.deepEqual(numCounters(h.counters.toJSON()), { numMalformedRecords: 1 })
})

const lines = [
  '{"creation_time":"2026-11-24T10:00:00Z","tweet_text":"a","retweets":1}',
  'not json',
  '{"creation_time":"Tue Nov 24 10:01:00 +0000 2026","tweet_text":"b","retweets":"x"}',
  '',
  '{"creation_time":"2026-11-24T10:02:00.500+01:00","tweet_text":"c"}',
]

test('decodes in a source and keeps the query running on bad input', async (t) => {
  const parser = jsonParser(schema)
  const out = new CollectSink<ParsedRow<typeof schema>>()
  const times: (number | null)[] = []
  const graph = new StreamGraph()
  graph
    .from(
      defineSource('tweets', listSource(lines, { batchSize: 2 }), {
        decode: parser.decode,
        timestamp: (row) => {
          times.push(row.creation_time?.getTime() ?? null)
          return row.creation_time?.getTime() ?? null
        },
      }),
    )
    .to(defineSink('out', out))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.done
  t.is(job.state, 'finished')
  t.deepEqual(out.rows(), [
    { creation_time: new Date('2026-11-24T10:00:00Z'), tweet_text: 'a', retweets: 1, _corrupt_record: null },
    { creation_time: null, tweet_text: null, retweets: null, _corrupt_record: 'not json' },
    {
      creation_time: new Date('2026-11-24T10:01:00Z'),
      tweet_text: 'b',
      retweets: null,
      _corrupt_record: lines[2],
    },
    {
      creation_time: new Date('2026-11-24T09:02:00.500Z'),
      tweet_text: 'c',
      retweets: null,
      _corrupt_record: null,
    },
  ])
  t.deepEqual(times, [
    Date.UTC(2026, 10, 24, 10),
    null,
    Date.UTC(2026, 10, 24, 10, 1),
    Date.UTC(2026, 10, 24, 9, 2, 0, 500),
  ])
  t.like(job.counters()['tweets#0'], {
    recordsRead: 5,
    recordsOut: 4,
    numMalformedRecords: 2,
    numBlankRecords: 1,
    numRowsFiltered: 1,
    numRowsWithoutEventTime: 1,
  })
})

test('drops malformed records in a source to its dead-letter output', async (t) => {
  const out = new CollectSink<Tweet>()
  const letters = new CollectSink<DeadLetter>()
  const graph = new StreamGraph()
  const tweets = graph.from(
    defineSource('tweets', listSource(lines), {
      decode: jsonParser(schema, { mode: 'dropMalformed' }).decode,
      deadLetters: true,
    }),
  )
  tweets.to(defineSink('out', out))
  tweets.sideOutput<DeadLetter>(DEAD_LETTER).to(defineSink('letters', letters))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.done
  t.deepEqual(
    out.rows().map((r) => r.tweet_text),
    ['a', 'c'],
  )
  t.deepEqual(
    letters.rows().map((l) => [l.value, l.error]),
    [
      ['not json', `not valid JSON: ${jsonMessage('not json')}`],
      [lines[2], `field 'retweets': expected long, got string "x"`],
    ],
  )
  t.like(job.counters()['tweets#0'], {
    numMalformedRecords: 2,
    numDeadLetters: 2,
    numRowsDroppedByDecode: 2,
    numRowsFiltered: 1,
  })
})

test('fails the query on a malformed record in failFast mode, naming the source', async (t) => {
  const graph = new StreamGraph()
  graph
    .from(
      defineSource('tweets', listSource(lines), { decode: jsonParser(schema, { mode: 'failFast' }).decode }),
    )
    .to(defineSink('out', new CollectSink()))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  const error = await t.throwsAsync(job.done)
  t.regex(
    error.message,
    /^operator 'tweets' failed in epoch 0 on record "not json": malformed record \(not valid JSON: /,
  )
  t.is(job.state, 'failed')
})

function jsonMessage(text: string): string {
  try {
    JSON.parse(text)
  } catch (error) {
    return (error as Error).message
  }
  return ''
}

/** The `num…` counters (the runtime's own, such as `recordsIn`, are not this operator's). */
function numCounters(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([name]) => name.startsWith('num')))
}
