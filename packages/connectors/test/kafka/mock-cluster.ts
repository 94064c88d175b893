import { closeSync, openSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type TestFn } from 'ava'
import { kcatAvailable, startKafkaMockCluster, type KafkaMockCluster } from '../../src/index.js'

/**
 * How the Kafka tests reach Kafka: `KAFKA_BROKERS` when set (a real cluster), else a mock cluster that
 * each test file starts with kcat and stops by PID when it is done (also after a failure). Without
 * either, the tests are skipped with one line saying how to enable them; under CI (`CI` set) that skip
 * is a failure instead.
 */
export interface KafkaForTests {
  /** ava's `test`, or `test.skip` when there is no Kafka here. */
  readonly test: TestFn
  /** The bootstrap brokers, once the file's `before` hook ran. */
  brokers(): string[]
}

const HOW = 'install kcat (apt-get install kcat) or set KAFKA_BROKERS=host:port,... to run them'

const kcat = kcatAvailable()

/** Registers the file's hooks and returns the `test` to write Kafka tests with. */
export function useKafka(): KafkaForTests {
  const fromEnv = process.env.KAFKA_BROKERS?.split(',').filter(Boolean)
  if (fromEnv && fromEnv.length > 0) return { test, brokers: () => fromEnv }
  if (!kcat) return { test: unavailable(), brokers: () => [] }
  let cluster: KafkaMockCluster | undefined
  test.before(async () => {
    cluster = await startKafkaMockCluster()
  })
  test.after.always(async () => {
    await cluster?.stop()
  })
  return {
    test,
    brokers: () => {
      if (!cluster) throw new Error('the mock Kafka cluster did not start')
      return cluster.brokers
    },
  }
}

/**
 * For a test that needs a cluster of its own (to kill it): kcat is required even with KAFKA_BROKERS.
 * The test starts it with `start()`; the file stops every one it started.
 */
export function useOwnClusters(): {
  test: TestFn
  start(options?: { rttMs?: number }): Promise<KafkaMockCluster>
} {
  if (!kcat) return { test: unavailable(), start: () => Promise.reject(new Error('no kcat')) }
  const started: KafkaMockCluster[] = []
  test.after.always(async () => {
    await Promise.all(started.map((c) => c.stop()))
  })
  return {
    test,
    start: async (options = {}) => {
      const cluster = await startKafkaMockCluster(options)
      started.push(cluster)
      return cluster
    },
  }
}

function unavailable(): TestFn {
  if (process.env.CI) {
    // Under CI a missing Kafka must not pass as a skip.
    const failing = ((title: string) =>
      test(title, (t) => {
        t.fail(`no Kafka for the Kafka tests under CI: ${HOW}`)
      })) as unknown as TestFn
    return failing
  }
  announceSkip()
  return test.skip as unknown as TestFn
}

/** One line per test run (ava runs each file in a child of one process), not one per file. */
function announceSkip(): void {
  try {
    closeSync(openSync(join(tmpdir(), `weir-kafka-tests-skipped-${process.ppid}`), 'wx'))
  } catch {
    return
  }
  console.error(`\n*** Kafka tests SKIPPED: no kcat and no KAFKA_BROKERS here; ${HOW}. ***\n`)
}
