import { defineSink, defineSource, Job, StreamGraph, WeirError } from '@weir/core'
import { listSource } from '@weir/core/testing'
import { kafkaSink, type KafkaSinkOptions } from '../../src/index.js'
import { captureLog, kcatRead, unique, within } from './helpers.js'
import { useKafka } from './mock-cluster.js'

const kafka = useKafka()
const test = kafka.test

interface Count {
  readonly word: string
  readonly count: number
}

const rows: Count[] = Array.from({ length: 30 }, (_, i) => ({ word: `w${i % 10}`, count: i }))

async function write(options: Omit<KafkaSinkOptions<Count>, 'brokers'>, queryId?: string): Promise<Job> {
  const graph = new StreamGraph()
  graph
    .from(defineSource('rows', listSource(rows, { batchSize: 8 })))
    .to(
      defineSink('kafka', kafkaSink<Count>({ brokers: kafka.brokers(), log: captureLog().log, ...options })),
    )
  const job = await Job.start(graph, { trigger: { kind: 'processingTime', intervalMs: 50 }, queryId })
  await within(
    job.done.catch(() => undefined),
    20_000,
    'the job to end',
  )
  return job
}

test('rows written by the sink, read back by kcat, carry their keys, values and headers', async (t) => {
  const topic = unique('sink')
  const job = await write(
    {
      topic,
      key: (r) => r.word,
      headers: (r) => ({ parity: r.count % 2 === 0 ? 'even' : 'odd' }),
      compression: 'gzip',
      batchRows: 7,
    },
    'query-1',
  )
  t.is(job.state, 'finished')
  const lines = (await kcatRead(kafka.brokers(), topic, '%k\\t%s\\t%h\\n')).trim().split('\n').sort()
  const expected = rows
    .map(
      (r) =>
        `${r.word}\t${JSON.stringify(r)}\tparity=${r.count % 2 === 0 ? 'even' : 'odd'},weir-query-id=query-1,weir-epoch=0`,
    )
    .sort()
  t.deepEqual(lines, expected)
})

test('a partition and a value from the row, acks 1', async (t) => {
  const topic = unique('sink-partition')
  await write({ topic, partition: (r) => r.count % 4, value: (r) => `${r.word}=${r.count}`, acks: 1 })
  const lines = (await kcatRead(kafka.brokers(), topic, '%p\\t%k\\t%s\\t%h\\n')).trim().split('\n').sort()
  // No key, and no query id outside a streaming query: only the epoch header.
  t.deepEqual(lines, rows.map((r) => `${r.count % 4}\t\t${r.word}=${r.count}\tweir-epoch=0`).sort())
})

test('a key function that throws fails the query, naming the sink, the topic and the row', async (t) => {
  const topic = unique('sink-throws')
  const job = await write({
    topic,
    key: (r) => {
      if (r.count === 5) throw new Error('no key for five')
      return r.word
    },
  })
  t.is(job.state, 'failed')
  const error = job.exception as WeirError
  t.is(error.code, 'sink-failed')
  t.regex(
    error.message,
    new RegExp(
      `kafka sink 'kafka' #0 \\(topic '${topic}' on .*\\): the record's key, value, headers or partition function threw on row \\{"word":"w5","count":5\\}: no key for five`,
    ),
  )
})
