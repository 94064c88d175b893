import { spawn, spawnSync } from 'node:child_process'
import { WeirError } from '@weir/core'
import { PartitionAssigners, type PartitionAssigner } from 'kafkajs'

/** A running mock Kafka cluster (librdkafka's, inside kcat). */
export interface KafkaMockCluster {
  /** The bootstrap list, `127.0.0.1:PORT` per broker. */
  readonly brokers: string[]
  readonly pid: number
  /** Stops the cluster (every topic, group and offset is gone with it). Resolves once the process has exited. */
  stop(): Promise<void>
}

/** Whether `kcat` can be run here (Debian/Ubuntu: `apt-get install kcat`). */
export function kcatAvailable(): boolean {
  const result = spawnSync('kcat', ['-V'], { stdio: 'ignore', timeout: 5000 })
  return result.error === undefined && result.status === 0
}

/**
 * Starts a Kafka-protocol cluster for tests: librdkafka's mock cluster, kept alive by a `kcat`
 * consumer, read from its stderr line `... replaced with 127.0.0.1:PORT,...`. Topics are created by
 * naming them and always get 4 partitions; see KAFKA-TESTING.md for what the mock does and does not do.
 * The process is killed when this one exits, if `stop()` was not called.
 *
 * @example
 * ```ts
 * const cluster = await startKafkaMockCluster()
 * try { await run(kafkaSource({ brokers: cluster.brokers, subscribe: ['t'] })) } finally { await cluster.stop() }
 * ```
 */
export function startKafkaMockCluster(
  options: { brokers?: number; rttMs?: number; timeoutMs?: number } = {},
): Promise<KafkaMockCluster> {
  const args = [
    '-C',
    '-q',
    '-b',
    '127.0.0.1:1',
    '-t',
    '__keepalive',
    '-o',
    'end',
    '-X',
    `test.mock.num.brokers=${options.brokers ?? 3}`,
  ]
  if (options.rttMs !== undefined) args.push('-X', `test.mock.broker.rtt=${options.rttMs}`)
  const child = spawn('kcat', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    process.removeListener('exit', killOnExit)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
  }
  return new Promise<KafkaMockCluster>((resolve, reject) => {
    let text = ''
    let found = false
    const timer = setTimeout(() => {
      void stop()
      reject(
        new WeirError(
          'kafka-mock',
          `kcat did not print the mock cluster's brokers within ${options.timeoutMs ?? 10_000} ms; it said: ${text.slice(0, 500)}`,
        ),
      )
    }, options.timeoutMs ?? 10_000)
    child.once('error', (cause) => {
      clearTimeout(timer)
      process.removeListener('exit', killOnExit)
      reject(
        new WeirError('kafka-mock', `could not run kcat (apt-get install kcat): ${cause.message}`, { cause }),
      )
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(
        new WeirError(
          'kafka-mock',
          `kcat exited (${signal ?? code}) before it printed the brokers: ${text.slice(0, 500)}`,
        ),
      )
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      // Keep reading (and dropping) stderr so kcat never blocks on a full pipe.
      if (found) return
      text = (text + chunk).slice(-10_000)
      const match = /replaced with (\S+)/.exec(text)
      if (match) {
        found = true
        clearTimeout(timer)
        resolve({ brokers: match[1].split(','), pid: child.pid!, stop })
      }
    })
  })
}

/**
 * kafkajs's round-robin assigner, whose leader waits `delayMs` before it answers, for consumer groups on
 * the mock cluster. The mock completes a sync as soon as the leader's SyncGroup (which carries every
 * member's assignment) arrives, and answers a follower's SyncGroup that comes after it with
 * INVALID_REQUEST ("request being malformed"), which kafkajs does not retry: that member's consumer
 * crashes. A real broker answers a late follower with its assignment. Followers send SyncGroup as soon
 * as their JoinGroup returns, so a leader that waits a little lets them sync first. Only the leader runs
 * an assigner, and the protocol name is unchanged, so members with and without it agree.
 *
 * @example
 * ```ts
 * kafkaSource({ brokers: cluster.brokers, subscribe: ['t'], groupMode: true, partitionAssigners: [mockSafeAssigner()] })
 * ```
 */
export function mockSafeAssigner(delayMs = 500): PartitionAssigner {
  return (config) => {
    const roundRobin = PartitionAssigners.roundRobin(config)
    return {
      ...roundRobin,
      assign: async (group) => {
        await new Promise((resolve) => setTimeout(resolve, delayMs))
        return roundRobin.assign(group)
      },
    }
  }
}
