import anyTest, { type TestFn } from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { kafkaClient, kcatAvailable, startKafkaMockCluster } from '@weir/connectors'
import { describe, endings, killRepeatedly, readRows, type Outcome } from './crash-harness.js'
import { expectedWindows, readEventTimes, tweetMessages, writeTweets } from './tweet-input.js'

// The crash test read from Kafka: 200,000 tweets produced into a topic of 4 partitions of librdkafka's
// mock cluster (kcat), which stays up while the query is killed 6 times, restarted at parallelism 1, 2, 4,
// 2, 1, 1, then run to its end at 2; positions (offsets) come back from weir's checkpoint, epochs hold
// 8,000 records at most. Skipped without kcat (apt-get install kcat).

const SEED = Number(process.env.WEIR_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
const test = (kcatAvailable() ? anyTest : anyTest.skip) as TestFn

test('recovers exactly from SIGKILL reading Kafka, across parallelisms, the cluster staying up', async (t) => {
  t.timeout(170_000)
  const root = await mkdtemp(join(tmpdir(), 'weir-crash-kafka-'))
  const cluster = await startKafkaMockCluster()
  const outcomes: Outcome[] = []
  t.teardown(async () => {
    if (!t.passed) console.error(`seed ${SEED} (WEIR_CRASH_SEED=${SEED} replays it)\n${describe(outcomes)}`)
    await cluster.stop()
    await rm(root, { recursive: true, force: true })
  })
  const input = join(root, 'in')
  await writeTweets(input, {
    seed: SEED,
    files: 40,
    tweetsPerFile: 5_000,
    fileSpanMs: 90_000,
    outOfOrder: 0.1,
    late: 0,
    malformed: 3,
  })
  const producer = kafkaClient({ brokers: cluster.brokers, log: () => undefined }).producer()
  await producer.connect()
  const messages = await tweetMessages(input, { seed: SEED, partitions: 4 })
  for (let i = 0; i < messages.length; i += 2000) {
    await producer.send({ topic: 'tweets', messages: messages.slice(i, i + 2000), acks: -1 })
  }
  await producer.disconnect()

  const e = endings(SEED)
  const run = {
    input: { kind: 'kafka' as const, brokers: cluster.brokers, topic: 'tweets' },
    out: join(root, 'out'),
    checkpoint: join(root, 'checkpoint'),
  }
  await killRepeatedly(
    run,
    {
      runs: [
        { parallelism: 1, ending: e.kill },
        { parallelism: 2, ending: e.committed },
        { parallelism: 4, ending: e.kill },
        { parallelism: 2, ending: e.snapshot },
        { parallelism: 1, ending: e.restore },
        { parallelism: 1, ending: e.kill },
      ],
      finalParallelism: 2,
      minKills: 6,
    },
    outcomes,
  )
  t.log(`seed ${SEED}\n${describe(outcomes)}`)
  t.true(outcomes.filter((o) => o.killed).length >= 6)
  t.true(outcomes.at(-1)!.finished, describe(outcomes))

  const { rows, duplicates, staged } = await readRows(run.out)
  t.deepEqual(duplicates, [])
  t.deepEqual(staged, [])
  t.deepEqual(rows, expectedWindows(await readEventTimes(input), { bounded: true }), describe(outcomes))
})
