import test from 'ava'
import { parseOffsets, resolveOffset } from '../../src/kafka/offsets.js'

const range = { low: 5, high: 20 }
const tp = (partition: number) => ({ topic: 'tweets', partition })

test("'earliest' and 'latest' are the log's low and high offsets", (t) => {
  t.is(resolveOffset(parseOffsets('k', 'startingOffsets', 'earliest'), tp(0), range), 5)
  t.is(resolveOffset(parseOffsets('k', 'startingOffsets', 'latest'), tp(0), range), 20)
})

test("per-partition offsets in Spark's JSON, as text or an object; -2 earliest, -1 latest", (t) => {
  for (const value of ['{"tweets": {"0": 7, "1": -2, "2": -1}}', { tweets: { 0: 7, 1: -2, 2: -1 } }]) {
    const spec = parseOffsets('k', 'startingOffsets', value)
    t.deepEqual(
      [0, 1, 2, 3].map((p) => resolveOffset(spec, tp(p), range)),
      [7, 5, 20, 5],
      'a partition left out starts at the earliest',
    )
    const end = parseOffsets('k', 'endingOffsets', { tweets: { 0: 7 } })
    t.is(resolveOffset(end, tp(3), range), 20, 'an end left out is the latest')
  }
})

test('says what to write instead of an offset it cannot read', (t) => {
  t.throws(() => parseOffsets('kafkaSource', 'startingOffsets', 'soon'), {
    message: `kafkaSource: startingOffsets "soon" is not 'earliest', 'latest' or per partition, e.g. {"tweets": {"0": 42, "1": -2}} (-2: earliest, -1: latest)`,
  })
  t.throws(() => parseOffsets('kafkaSource', 'endingOffsets', 'earliest'), {
    message: /endingOffsets cannot be 'earliest'/,
  })
  t.throws(() => parseOffsets('kafkaSource', 'endingOffsets', { t: { 0: -2 } }), {
    message: /t\/0: -2 is not an offset >= 0 or -1 \(latest\)$/,
  })
  t.throws(() => parseOffsets('kafkaSource', 'startingOffsets', { t: { x: 1 } }), {
    message: /t\/x: 1 is not an offset/,
  })
  t.throws(() => parseOffsets('kafkaSource', 'startingOffsets', { t: [1] } as never), {
    message: /for topic 't' must map partitions to offsets/,
  })
})
