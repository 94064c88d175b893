import { defineSink, defineSource, Job, StreamGraph, WeirError } from '@weir/core'
import { CollectSink, QueueSource } from '@weir/core/testing'
import { kafkaSink, kafkaSource, type KafkaRecord } from '../../src/index.js'
import { captureLog, GROUP, numbered, produce, unique, waitFor, within } from './helpers.js'
import { useOwnClusters } from './mock-cluster.js'

const clusters = useOwnClusters()
const test = clusters.test

/** Short timeouts and retries, so a lost cluster is noticed in seconds. */
const FAST = {
  connectionTimeout: 1000,
  requestTimeout: 2000,
  retry: { retries: 1, initialRetryTime: 100 },
} as const

test('brokers that go away fail the query with a clear error after the configured restarts', async (t) => {
  const cluster = await clusters.start()
  const topic = unique('gone')
  await produce(cluster.brokers, topic, numbered('v', 20))
  const { log, lines } = captureLog()
  const out = new CollectSink<KafkaRecord>()
  const graph = new StreamGraph()
  graph
    .from(
      defineSource(
        'kafka',
        kafkaSource({
          brokers: cluster.brokers,
          subscribe: [topic],
          startingOffsets: 'earliest',
          maxRestarts: 2,
          consumerRetry: { retries: 1, initialRetryTime: 100 },
          log,
          ...FAST,
          ...GROUP,
        }),
      ),
    )
    .to(defineSink('out', out))
  const job = await Job.start(graph, { trigger: { kind: 'processingTime', intervalMs: 100 } })
  t.teardown(() => job.stop().catch(() => undefined))
  await waitFor(() => out.rows().length >= 20, 20_000, 'the records before the brokers go')
  const killedAt = Date.now()
  await cluster.stop()
  const error = await within(t.throwsAsync(job.done), 40_000, 'the query to fail')
  t.log(`failed ${Date.now() - killedAt} ms after the brokers went away: ${error.message}`)
  t.is(job.state, 'failed')
  t.true(error instanceof WeirError)
  t.is((error as WeirError).code, 'source-failed')
  t.true((error as WeirError).retriable)
  t.true(error.message.includes(`Subscribe[${topic}]`), 'names the topic')
  t.true(error.message.includes(cluster.brokers.join(',')), 'names the brokers')
  t.regex(
    error.message,
    /the Kafka consumer crashed 3 times in a row, more than maxRestarts \(2\) allows: .*, or raise maxRestarts$/,
  )
  t.deepEqual(
    lines
      .filter((l) => /restart \d of 2/.test(l.message))
      .map((l) => /restart (\d) of 2/.exec(l.message)![1]),
    ['1', '2'],
  )
})

test('a sink whose brokers go away fails the query with an error naming the topic', async (t) => {
  const cluster = await clusters.start()
  const topic = unique('sink-gone')
  const queue = new QueueSource<{ n: number }>(['s0'])
  const graph = new StreamGraph()
  graph.from(defineSource('rows', queue)).to(
    defineSink(
      'kafka',
      kafkaSink<{ n: number }>({
        brokers: cluster.brokers,
        topic,
        retries: 1,
        log: captureLog().log,
        ...FAST,
      }),
    ),
  )
  const job = await Job.start(graph, { trigger: { kind: 'processingTime', intervalMs: 100 } })
  t.teardown(() => job.stop().catch(() => undefined))
  queue.push('s0', [{ n: 1 }, { n: 2 }])
  await waitFor(() => job.currentEpoch >= 2, 10_000, 'an epoch written')
  await cluster.stop()
  queue.push('s0', [{ n: 3 }])
  const error = await within(t.throwsAsync(job.done), 40_000, 'the query to fail')
  t.log(error.message)
  t.is((error as WeirError).code, 'sink-failed')
  t.true(error.message.includes(`topic '${topic}'`), 'names the topic')
  t.regex(error.message, /could not write 1 record\(s\)/)
})
