import test from 'ava'
import { StreamingQueryManager, type StreamingQuery } from '@weir/core'
import { CollectSink, QueueSource } from '@weir/core/testing'
import { desc, readStream, window, type DataFrame, type WindowValue } from '../../src/index.js'

// The three queries of the Spark Structured Streaming tweet tutorial, on in-memory tweets, stepped epoch
// by epoch (manual trigger + processAllAvailable), with every output row checked.

interface Tweet {
  creation_time: Date | null
  tweet_text: string | null
}

const at = (hhmmss: string) => new Date(`2026-11-24T${hhmmss}Z`)
const batches: Tweet[][] = [
  [
    { creation_time: at('10:00:10'), tweet_text: 'the cat' },
    { creation_time: at('10:01:30'), tweet_text: 'the dog' },
    { creation_time: at('10:02:00'), tweet_text: 'a  cat ' },
  ],
  [{ creation_time: at('10:07:00'), tweet_text: 'the end' }],
  [
    { creation_time: at('10:00:30'), tweet_text: 'late cat' },
    { creation_time: at('10:05:30'), tweet_text: 'new' },
    { creation_time: null, tweet_text: 'no time' },
  ],
]

async function runEpochs<R>(
  build: (tweets: DataFrame<Tweet>) => Promise<StreamingQuery>,
  out: CollectSink<R>,
): Promise<{ epochs: R[][]; query: StreamingQuery }> {
  const input = new QueueSource<Tweet>(['p0'])
  const query = await build(readStream(input))
  const epochs: R[][] = []
  for (const [i, batch] of batches.entries()) {
    input.push('p0', batch)
    await query.processAllAvailable()
    epochs.push(out.epoch(i))
  }
  await query.stop()
  return { epochs, query }
}

const manual = () => ({ trigger: { manual: true } as const, manager: new StreamingQueryManager() })
const windowRow = (r: { window: WindowValue; count: number }) =>
  `${r.window.start.toISOString().slice(11, 16)}-${r.window.end.toISOString().slice(11, 16)} ${r.count}`

test('query 1 counts words in complete mode, sorted by count', async (t) => {
  const out = new CollectSink<{ word: string; count: number }>()
  const { epochs } = await runEpochs(
    (tweets) =>
      tweets
        .explode('word', (row) => row.tweet_text?.split(' '))
        .groupBy('word')
        .count()
        .orderBy(desc('count'), 'word')
        .writeStream({ sink: out, outputMode: 'complete', queryName: 'word_counts', ...manual() })
        .start(),
    out,
  )
  const show = (rows: { word: string; count: number }[]) =>
    rows.map((r) => `${JSON.stringify(r.word)} ${r.count}`)
  t.deepEqual(show(epochs[0]), ['"" 2', '"cat" 2', '"the" 2', '"a" 1', '"dog" 1'])
  t.deepEqual(show(epochs[1]), ['"the" 3', '"" 2', '"cat" 2', '"a" 1', '"dog" 1', '"end" 1'])
  t.deepEqual(show(epochs[2]), [
    '"cat" 3',
    '"the" 3',
    '"" 2',
    '"a" 1',
    '"dog" 1',
    '"end" 1',
    '"late" 1',
    '"new" 1',
    '"no" 1',
    '"time" 1',
  ])
})

test('query 2 counts tweets per sliding window in complete mode', async (t) => {
  const out = new CollectSink<{ window: WindowValue; count: number }>()
  const { epochs } = await runEpochs(
    (tweets) =>
      tweets
        .groupBy(window('creation_time', '5 minutes', '1 minute'))
        .count()
        .writeStream({ sink: out, outputMode: 'complete', ...manual() })
        .start(),
    out,
  )
  t.deepEqual(epochs[0].map(windowRow), [
    '09:56-10:01 1',
    '09:57-10:02 2',
    '09:58-10:03 3',
    '09:59-10:04 3',
    '10:00-10:05 3',
    '10:01-10:06 2',
    '10:02-10:07 1',
  ])
  t.deepEqual(epochs[1].map(windowRow), [
    '09:56-10:01 1',
    '09:57-10:02 2',
    '09:58-10:03 3',
    '09:59-10:04 3',
    '10:00-10:05 3',
    '10:01-10:06 2',
    '10:02-10:07 1',
    '10:03-10:08 1',
    '10:04-10:09 1',
    '10:05-10:10 1',
    '10:06-10:11 1',
    '10:07-10:12 1',
  ])
  // Without a watermark nothing is late: the 10:00:30 tweet still counts.
  t.deepEqual(epochs[2].map(windowRow), [
    '09:56-10:01 2',
    '09:57-10:02 3',
    '09:58-10:03 4',
    '09:59-10:04 4',
    '10:00-10:05 4',
    '10:01-10:06 3',
    '10:02-10:07 2',
    '10:03-10:08 2',
    '10:04-10:09 2',
    '10:05-10:10 2',
    '10:06-10:11 1',
    '10:07-10:12 1',
  ])
})

test('query 3 drops late tweets with a 1 minute watermark in update mode', async (t) => {
  const out = new CollectSink<{ window: WindowValue; count: number }>()
  const { epochs, query } = await runEpochs(
    (tweets) =>
      tweets
        .withWatermark('creation_time', '1 minute')
        .groupBy(window('creation_time', '5 minutes', '1 minute'))
        .count()
        .writeStream({ sink: out, outputMode: 'update', queryName: 'watermarked', ...manual() })
        .start(),
    out,
  )
  t.deepEqual(epochs[0].map(windowRow), [
    '09:56-10:01 1',
    '09:57-10:02 2',
    '09:58-10:03 3',
    '09:59-10:04 3',
    '10:00-10:05 3',
    '10:01-10:06 2',
    '10:02-10:07 1',
  ])
  t.deepEqual(epochs[1].map(windowRow), [
    '10:03-10:08 1',
    '10:04-10:09 1',
    '10:05-10:10 1',
    '10:06-10:11 1',
    '10:07-10:12 1',
  ])
  // The watermark is 10:06: the 10:00:30 tweet is late in all its windows and dropped; the 10:05:30 one
  // still counts in the four windows that end after 10:06.
  t.deepEqual(epochs[2].map(windowRow), ['10:02-10:07 2', '10:03-10:08 2', '10:04-10:09 2', '10:05-10:10 2'])
  const last = query.recentProgress.find((p) => p.batchId === 2)!
  t.is(last.numInputRows, 3)
  t.is(last.eventTime.watermark, '2026-11-24T10:06:00.000Z')
  t.is(last.stateOperators[0].numRowsDroppedByWatermark, 1)
  t.is(last.rejectedRows.numRowsWithoutEventTime, 1)
})
