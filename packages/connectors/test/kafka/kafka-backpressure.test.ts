import { defineSink, defineSource, StreamGraph } from '@weir/core'
import { CollectSink } from '@weir/core/testing'
import { Kafka, logLevel } from 'kafkajs'
import { kafkaSource, type KafkaClient, type KafkaConsumer, type KafkaRecord } from '../../src/index.js'
import { captureLog, GROUP, produce, startJob, unique, waitFor, within } from './helpers.js'
import { useKafka } from './mock-cluster.js'

const kafka = useKafka()
const test = kafka.test

/** A kafkajs client whose consumers count the records they hand to weir, and their pauses: a compatible client. */
function countingClient(brokers: string[]) {
  const real = new Kafka({ brokers, clientId: 'weir-test', logLevel: logLevel.NOTHING })
  const counts = { consumed: 0, pauses: 0, resumes: 0 }
  const client: KafkaClient = {
    admin: () => real.admin(),
    producer: (config) => real.producer(config),
    consumer: (config) => {
      const consumer = real.consumer(config)
      const wrapped: KafkaConsumer = {
        connect: () => consumer.connect(),
        disconnect: () => consumer.disconnect(),
        subscribe: (s) => consumer.subscribe(s),
        run: (run) =>
          consumer.run({
            ...run,
            eachBatch: (payload) => {
              counts.consumed += payload.batch.messages.length
              return run.eachBatch(payload)
            },
          }),
        seek: (p) => consumer.seek(p),
        pause: (p) => {
          counts.pauses++
          consumer.pause(p)
        },
        resume: (p) => {
          counts.resumes++
          consumer.resume(p)
        },
        commitOffsets: (o) => consumer.commitOffsets(o),
        on: (event, listener) => consumer.on(event, listener),
        events: consumer.events,
      }
      return wrapped
    },
  }
  return { client, counts }
}

test('a slow sink pauses the consumer, and records in flight stay under the buffers plus a fetch', async (t) => {
  const topic = unique('slow')
  const total = 3000
  const value = 'x'.repeat(100)
  // Small producer batches (10 records a partition): a fetch returns whole record batches, at least one.
  const messages = Array.from({ length: total }, (_, i) => ({
    partition: i % 4,
    value: `${String(i).padStart(5, '0')}${value}`,
  }))
  await produce(kafka.brokers(), topic, messages, 40)
  const { client, counts } = countingClient(kafka.brokers())
  const maxBufferedRecords = 200
  const maxBytesPerPartition = 2048
  const sinkCapacity = 50
  let written = 0
  const out = new CollectSink<KafkaRecord>({
    delayMs: 20,
    onWrite: (rows) => {
      written += rows.length
    },
  })
  const graph = new StreamGraph()
  graph
    .from(
      defineSource(
        'kafka',
        kafkaSource({
          kafka: client,
          subscribe: [topic],
          startingOffsets: 'earliest',
          maxBufferedRecords,
          maxBytesPerPartition,
          log: captureLog().log,
          ...GROUP,
        }),
      ),
    )
    .to(defineSink('out', out, { capacity: sinkCapacity }))
  let maxInFlight = 0
  const sampler = setInterval(() => (maxInFlight = Math.max(maxInFlight, counts.consumed - written)), 5)
  t.teardown(() => clearInterval(sampler))
  const job = await startJob(t, graph)
  await waitFor(() => written >= total, 40_000, `${total} rows written`)
  clearInterval(sampler)
  await within(job.stop(), 20_000, 'the job to stop')
  // One fetch brings at most maxBytesPerPartition per partition: 4 partitions of ~17 records of 105 bytes.
  const fetch = 4 * Math.ceil(maxBytesPerPartition / 105)
  // The hand-off pauses at maxBufferedRecords (plus the fetch under way), the sink holds the sources back
  // beyond its capacity (plus the batch that crossed it).
  const bound = maxBufferedRecords + fetch + sinkCapacity + fetch
  t.log(`max in flight ${maxInFlight} (bound ${bound}), ${counts.pauses} pauses, ${counts.resumes} resumes`)
  t.true(maxInFlight <= bound, `max in flight ${maxInFlight} > ${bound}`)
  t.true(counts.pauses > 0, 'the consumer was paused')
  t.true(counts.resumes > 0, 'and resumed')
  const values = out.rows().map((r) => r.value!.toString().slice(0, 5))
  t.is(new Set(values).size, total, 'every record once')
  t.is(values.length, total)
})
