import { Job, messageOf, type JobOptions, type Source, type StreamGraph } from '@weir/core'
import type { GroupJoinPayload, KafkaConsumer } from '../client.js'
import { openConnection, type KafkaConnection, type KafkaConnectionOptions } from '../connection.js'
import {
  partitionCheckpoints,
  readPartitionCheckpoint,
  type PartitionCheckpointsOptions,
} from './partition-checkpoints.js'
import {
  repartitionSource,
  type RepartitionData,
  type RepartitionFeed,
  type RepartitionPosition,
} from './repartition-source.js'

export interface RepartitionTasksOptions extends KafkaConnectionOptions {
  /** The repartition topic, e.g. `${queryId}-${operatorId}-repartition`. */
  readonly topic: string
  /** The consumer group of the downstream sub-topology, the same in every process. */
  readonly groupId: string
  /** Every upstream writer (the input topic's partitions, `tweets-0` …): a split's watermark is the minimum over them. */
  readonly writers: readonly string[]
  /** The shared checkpoint directory (see `partitionCheckpoints`). */
  readonly checkpointDir: string
  /** Builds the downstream sub-topology around its source (node id of your choosing; see `repartitionSource`). */
  readonly graph: (source: Source<RepartitionData>) => StreamGraph
  readonly job?: Omit<JobOptions, 'stateBackend'>
  readonly sessionTimeout?: number
  readonly heartbeatInterval?: number
}

/**
 * Runs the downstream sub-topology of a query in this process for the repartition partitions the
 * consumer group gives it, as Kafka Streams runs tasks: on every assignment the running job stops and
 * a new one starts for the new set, restoring those partitions' key groups and positions from the
 * shared checkpoint directory. The consumer outlives the jobs; it seeks each partition to the restored
 * position (or the beginning), and keeps what it fetched for the job to take.
 *
 * @example
 * ```ts
 * const tasks = await RepartitionTasks.start({ brokers, topic, groupId, writers, checkpointDir, graph: (source) => countsGraph(source) })
 * await tasks.stop()
 * ```
 */
export class RepartitionTasks implements RepartitionFeed {
  private readonly connection: KafkaConnection
  private consumer: KafkaConsumer | undefined
  private readonly queues = new Map<
    number,
    { next: number; messages: { offset: number; value: Buffer | null }[] }
  >()
  private owned = new Set<number>()
  private partitions = 0
  private job: Job | undefined
  private switching: Promise<void> = Promise.resolve()
  private wake: (() => void) | undefined
  private stopped = false
  /** How many jobs were started (one per assignment), for tests and logs. */
  generations = 0
  private failure: Error | undefined

  private constructor(private readonly options: RepartitionTasksOptions) {
    this.connection = openConnection('RepartitionTasks', options)
  }

  static async start(options: RepartitionTasksOptions): Promise<RepartitionTasks> {
    const tasks = new RepartitionTasks(options)
    await tasks.open()
    return tasks
  }

  /** The partitions this process owns now. */
  get assignment(): readonly number[] {
    return [...this.owned].sort((a, b) => a - b)
  }

  /** Rejects if a job of the sub-topology failed. */
  get error(): Error | undefined {
    return this.failure
  }

  take(partition: number): readonly { offset: number; value: Buffer | null }[] {
    const queue = this.queues.get(partition)
    if (!queue || queue.messages.length === 0) return []
    return queue.messages.splice(0)
  }

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined
        resolve()
      }, ms)
      this.wake = () => {
        clearTimeout(timer)
        this.wake = undefined
        resolve()
      }
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.switching
    await this.job?.stop().catch(() => undefined)
    await this.consumer?.disconnect().catch(() => undefined)
  }

  private async open(): Promise<void> {
    const admin = this.connection.client.admin()
    await admin.connect()
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [this.options.topic] })
      this.partitions = topics[0]?.partitions.length ?? 0
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
    const consumer = this.connection.client.consumer({
      groupId: this.options.groupId,
      sessionTimeout: this.options.sessionTimeout,
      heartbeatInterval: this.options.heartbeatInterval,
      maxWaitTimeInMs: 200,
    })
    this.consumer = consumer
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      try {
        this.onJoin(consumer, (event.payload as GroupJoinPayload).memberAssignment)
      } catch (cause) {
        this.failure ??= cause instanceof Error ? cause : new Error(messageOf(cause))
      }
    })
    await consumer.connect()
    await consumer.subscribe({ topics: [this.options.topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: ({ batch }) => {
        const queue = this.queues.get(batch.partition)
        if (queue) {
          for (const message of batch.messages) {
            const offset = Number(message.offset)
            if (offset < queue.next) continue
            queue.next = offset + 1
            queue.messages.push({ offset, value: message.value })
          }
          this.wake?.()
        }
        return Promise.resolve()
      },
    })
  }

  private checkpointOptions(owned: () => ReadonlySet<number>): PartitionCheckpointsOptions {
    return { dir: this.options.checkpointDir, topic: this.options.topic, partitions: this.partitions, owned }
  }

  /** A new assignment: seek now (kafkajs needs it inside the join), then swap the job. */
  private onJoin(consumer: KafkaConsumer, assignment: GroupJoinPayload['memberAssignment']): void {
    const now = new Set(assignment[this.options.topic] ?? [])
    const same = now.size === this.owned.size && [...now].every((p) => this.owned.has(p))
    if (same && this.job) {
      // A rejoin with the same partitions: kafkajs forgot its seeks, so seek to where the queues are.
      for (const [p, queue] of this.queues)
        consumer.seek({ topic: this.options.topic, partition: p, offset: String(queue.next) })
      return
    }
    this.owned = now
    this.queues.clear()
    const mine = new Set(now)
    const restored = readPartitionCheckpoint(this.checkpointOptions(() => mine))
    const positions = new Map<string, unknown>()
    for (const node of Object.values(restored?.nodes ?? {}))
      for (const s of node.instances)
        if (s?.union instanceof Map) for (const [k, v] of s.union) positions.set(k as string, v)
    for (const p of now) {
      const start =
        (positions.get(`${this.options.topic}-${p}`) as RepartitionPosition | undefined)?.offset ?? 0
      this.queues.set(p, { next: start, messages: [] })
      consumer.seek({ topic: this.options.topic, partition: p, offset: String(start) })
    }
    const previous = this.job
    this.job = undefined
    this.switching = this.switching.then(async () => {
      await previous?.stop().catch(() => undefined)
      if (this.stopped || this.owned !== now) return
      const owned = () => (this.owned === now ? mine : new Set<number>())
      const source = repartitionSource({
        topic: this.options.topic,
        partitions: [...now].sort((a, b) => a - b),
        writers: this.options.writers,
        feed: this,
      })
      this.generations++
      this.log(
        'info',
        `runs partitions ${[...now].join(', ') || '(none)'} of '${this.options.topic}'${restored ? ` from epoch ${restored.epoch}` : ''}`,
      )
      const job = await Job.start(this.options.graph(source), {
        ...this.options.job,
        stateBackend: partitionCheckpoints(this.checkpointOptions(owned), restored),
      })
      this.job = job
      job.done.catch((error: unknown) => {
        if (this.job === job) this.failure ??= error instanceof Error ? error : new Error(messageOf(error))
      })
    })
  }

  private log(level: 'info' | 'warn', message: string): void {
    try {
      this.connection.log({ level, message: `repartition tasks '${this.options.groupId}': ${message}` })
    } catch {
      // A logger that throws must not stop the tasks.
    }
  }
}
