import { randomUUID } from 'node:crypto'
import {
  ConfigError,
  Job,
  messageOf,
  WeirError,
  type EpochReport,
  type JobOptions,
  type Source,
  type StreamGraph,
} from '@weir/core'
import type { PartitionAssigner } from 'kafkajs'
import type { CrashPayload, GroupJoinPayload, KafkaConsumer } from '../client.js'
import { openConnection, type KafkaConnection, type KafkaConnectionOptions } from '../connection.js'
import {
  isReleased,
  partitionCheckpoints,
  readPartitionCheckpoint,
  releasePartition,
  type PartitionCheckpointsOptions,
} from './partition-checkpoints.js'
import {
  repartitionSource,
  type RepartitionInput,
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
  /** A writer not heard of for this long (ms) stops holding a partition's watermark back (see `repartitionSource`). */
  readonly idleTimeoutMs?: number
  /** The shared checkpoint directory (see `partitionCheckpoints`). */
  readonly checkpointDir: string
  /** Builds the downstream sub-topology around its source (node id of your choosing; see `repartitionSource`). */
  readonly graph: (source: Source<RepartitionInput>) => StreamGraph
  readonly job?: Omit<JobOptions, 'stateBackend'>
  readonly sessionTimeout?: number
  readonly heartbeatInterval?: number
  /** kafkajs's, for the group (default round robin); on the mock cluster use `mockSafeAssigner()`. */
  readonly partitionAssigners?: PartitionAssigner[]
  /**
   * Bytes fetched and not yet taken by the job, at most (default 8 MB): above it the consumer pauses
   * the partitions until the job has taken three quarters of them, so a slow aggregate holds the
   * topic back instead of filling memory.
   */
  readonly maxBufferedBytes?: number
}

/**
 * Runs the downstream sub-topology of a query in this process for the repartition partitions the
 * consumer group gives it, as Kafka Streams runs tasks: on every assignment the running job stops and
 * a new one starts for the new set, restoring those partitions' key groups and positions from the
 * shared checkpoint directory. The consumer outlives the jobs; it seeks each partition to the restored
 * position, or to offset 0 when the partition has no file yet (it never commits offsets to the group:
 * a checkpoint file is the only position there is). What it fetches goes to the current assignment's
 * feed only, so a stopping job cannot take records meant for its successor.
 *
 * @example
 * ```ts
 * const tasks = await RepartitionTasks.start({ brokers, topic, groupId, writers, checkpointDir, graph: (source) => countsGraph(source) })
 * await tasks.stop()
 * ```
 */
export class RepartitionTasks {
  private readonly connection: KafkaConnection
  private consumer: KafkaConsumer | undefined
  /** The feed of the current assignment: what the consumer fetched for it, not yet taken. */
  private feed = new AssignmentFeed(new Map())
  private owned: ReadonlySet<number> = new Set()
  private partitions = 0
  private job: Job | undefined
  /** Job swaps, one after the other: each stops whatever job runs when its turn comes. */
  private switching: Promise<void> = Promise.resolve()
  private stopped = false
  /** How many jobs were started (one per assignment), for tests and logs. */
  generations = 0
  private failure: Error | undefined
  private readonly epochListeners = new Set<(report: EpochReport) => void>()
  private settle!: { resolve: () => void; reject: (error: Error) => void }
  private markJoined!: () => void
  /**
   * Resolves when the consumer first joined its group (with whatever partitions it got); rejects if
   * the tasks fail first. An upstream that waits for it writes to a topic that is being read.
   */
  readonly joined: Promise<void>
  /** Resolves once stopped; rejects with the first failure (a job that failed or could not start, a consumer kafkajs gave up on). */
  readonly done: Promise<void>

  private readonly maxBuffered: number
  /** Names this process's files in the shared directory (see `partitionCheckpoints`). */
  private readonly id = randomUUID()

  private constructor(private readonly options: RepartitionTasksOptions) {
    this.connection = openConnection('RepartitionTasks', options)
    this.maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024
    if (!(this.maxBuffered > 0))
      throw new ConfigError(
        `RepartitionTasks: maxBufferedBytes ${this.maxBuffered} must be > 0, e.g. 8388608`,
      )
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }))
    this.joined = Promise.race([
      new Promise<void>((resolve) => (this.markJoined = resolve)),
      this.done.then(() => {
        throw new WeirError('stopped', 'repartition tasks stopped before they joined their group')
      }),
    ])
    this.joined.catch(() => undefined)
    // Whoever starts the tasks may watch `error` instead: an unobserved rejection must not end the process.
    this.done.catch(() => undefined)
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

  /** Set once a job of the sub-topology failed. */
  get error(): Error | undefined {
    return this.failure
  }

  /** The running job's counters (`nodeId#instance`), or none between two jobs. */
  counters(): Record<string, Record<string, number>> | undefined {
    return this.job?.counters()
  }

  /** Bytes fetched for the current assignment and not yet taken by its job. */
  get bufferedBytes(): number {
    return this.feed.bytes
  }

  /** The job of the current assignment, once started. */
  get current(): Job | undefined {
    return this.job
  }

  /** Called for every epoch any of the jobs commits, whichever assignment it runs. */
  onEpoch(listener: (report: EpochReport) => void): () => void {
    this.epochListeners.add(listener)
    return () => this.epochListeners.delete(listener)
  }

  /**
   * Waits until what the repartition topic holds now for this process's partitions has been fetched,
   * then until the running job has processed and committed it (`Job.processAllAvailable`).
   */
  async processAllAvailable(): Promise<void> {
    const admin = this.connection.client.admin()
    await admin.connect()
    let ends: Map<number, number>
    try {
      const offsets = await admin.fetchTopicOffsets(this.options.topic)
      ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]))
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
    const fetched = () => {
      const next = this.feed.nextOffsets()
      return [...this.owned].every((p) => (next.get(p) ?? 0) >= (ends.get(p) ?? 0))
    }
    while (!fetched() && !this.stopped && this.failure === undefined)
      await new Promise((resolve) => setTimeout(resolve, 25))
    await this.switching
    if (this.failure) throw this.failure
    await this.job?.processAllAvailable()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.feed.retire()
    this.switching = this.switching.then(async () => {
      await this.job?.stop().catch(() => undefined)
      // Its last epoch wrote the files: whoever gets these partitions next need not wait.
      if (this.job) this.release([...this.owned])
    })
    await this.switching
    await this.consumer?.disconnect().catch(() => undefined)
    if (this.failure) this.settle.reject(this.failure)
    else this.settle.resolve()
  }

  private fail(cause: unknown): void {
    if (this.failure) return
    this.failure = cause instanceof Error ? cause : new Error(messageOf(cause))
    this.settle.reject(this.failure)
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
      ...(this.options.partitionAssigners ? { partitionAssigners: this.options.partitionAssigners } : {}),
      maxWaitTimeInMs: 200,
      // One fetch is what the buffer may overshoot by.
      maxBytes: Math.min(4 * 1024 * 1024, this.maxBuffered),
    })
    this.consumer = consumer
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      try {
        this.onJoin(consumer, (event.payload as GroupJoinPayload).memberAssignment)
        this.markJoined()
      } catch (cause) {
        this.fail(cause)
      }
    })
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload as CrashPayload
      // kafkajs gives up on an error it deems not retriable: without a consumer the tasks are stuck, so say so.
      if (!restart && !this.stopped) this.fail(this.crashed(error))
    })
    await consumer.connect()
    await consumer.subscribe({ topics: [this.options.topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: ({ batch }) => {
        const feed = this.feed
        const gap = feed.push(
          batch.partition,
          batch.messages.map((m) => ({ offset: Number(m.offset), value: m.value })),
        )
        if (gap) void this.mindTheGap(consumer, feed, batch.partition, gap)
        return Promise.resolve()
      },
    })
  }

  private checkpointOptions(owned: () => ReadonlySet<number>): PartitionCheckpointsOptions {
    return {
      dir: this.options.checkpointDir,
      topic: this.options.topic,
      partitions: this.partitions,
      owned,
      owner: this.id,
    }
  }

  /**
   * A new assignment. The partitions wait (paused, nothing taken) until the job of the last assignment
   * has stopped, with a final epoch whose checkpoint files are the latest of its partitions, and until
   * whichever process owned a gained partition before has released it (see `awaitReleases`): Kafka
   * Streams' "revoked everywhere before assigned anywhere", which kafkajs's consumer does not give.
   * Then the files are read, the partitions sought to their positions, and the new job starts.
   */
  private onJoin(consumer: KafkaConsumer, assignment: GroupJoinPayload['memberAssignment']): void {
    const now: ReadonlySet<number> = new Set(assignment[this.options.topic] ?? [])
    const same = now.size === this.owned.size && [...now].every((p) => this.owned.has(p))
    if (same && this.generations > 0) {
      // A rejoin with the same partitions: the job goes on; kafkajs forgot its seeks, so seek to where the feed is.
      for (const [p, next] of this.feed.nextOffsets())
        consumer.seek({ topic: this.options.topic, partition: p, offset: String(next) })
      return
    }
    const before = this.owned
    this.owned = now
    const topicPartitions = [{ topic: this.options.topic, partitions: [...now] }]
    if (now.size > 0) consumer.pause(topicPartitions)
    this.feed.retire()
    const feed = new AssignmentFeed(new Map([...now].map((p) => [p, 0])), this.maxBuffered, (paused) => {
      if (paused) consumer.pause(topicPartitions)
      else consumer.resume(topicPartitions)
    })
    for (const p of now) feed.holdBack(p)
    this.feed = feed
    this.generations++
    this.switching = this.switching.then(async () => {
      await this.job?.stop().catch(() => undefined)
      this.job = undefined
      this.release([...before].filter((p) => !now.has(p)))
      if (this.stopped || this.feed !== feed) return
      await this.awaitReleases(
        [...now].filter((p) => !before.has(p)),
        () => this.feed !== feed,
      )
      if (this.stopped || this.feed !== feed) return
      const restored = readPartitionCheckpoint(this.checkpointOptions(() => now))
      const positions = new Map<string, unknown>()
      for (const node of Object.values(restored?.nodes ?? {}))
        for (const s of node.instances)
          if (s?.union instanceof Map) for (const [k, v] of s.union) positions.set(k as string, v)
      for (const p of now) {
        // No file yet: the partition has never been checkpointed, so all of it is to be read.
        const start =
          (positions.get(`${this.options.topic}-${p}`) as RepartitionPosition | undefined)?.offset ?? 0
        feed.open(p, start)
        consumer.seek({ topic: this.options.topic, partition: p, offset: String(start) })
      }
      if (now.size > 0) consumer.resume(topicPartitions)
      // This job writes the files of its partitions until it has stopped, its last epoch included.
      const owned = () => now
      const partitions = [...now].sort((a, b) => a - b)
      const source = repartitionSource({
        topic: this.options.topic,
        partitions,
        writers: this.options.writers,
        feed,
        idleTimeoutMs: this.options.idleTimeoutMs,
      })
      this.log(
        'info',
        `runs partitions ${partitions.join(', ') || '(none)'} of '${this.options.topic}'${restored ? ` from epoch ${restored.epoch}` : ''}`,
      )
      const job = await Job.start(this.options.graph(source), {
        ...this.options.job,
        stateBackend: partitionCheckpoints(this.checkpointOptions(owned), restored),
      })
      this.job = job
      job.onEpoch((report) => {
        for (const listener of [...this.epochListeners]) listener(report)
      })
      job.done.catch((error: unknown) => {
        if (this.job === job) this.fail(error)
      })
    })
    // A job that cannot start fails the tasks, and must not stop the swaps that come after it.
    this.switching = this.switching.catch((error: unknown) => {
      this.fail(error)
    })
  }

  /** Says, in the shared directory, that this process wrote its last file of each of `partitions`. */
  private release(partitions: readonly number[]): void {
    for (const p of partitions)
      releasePartition(
        this.checkpointOptions(() => new Set()),
        p,
      )
  }

  /**
   * Waits until each of `partitions` was last written by this process, never written, or released by
   * the process that wrote it last; at most `sessionTimeout` + 5 s (default 35 s): a process that died
   * releases nothing, and its session ended before the group could hand its partitions on.
   */
  private async awaitReleases(partitions: readonly number[], superseded: () => boolean): Promise<void> {
    const options = this.checkpointOptions(() => new Set())
    const deadline = Date.now() + (this.options.sessionTimeout ?? 30_000) + 5_000
    let waiting = partitions.filter((p) => !isReleased(options, p))
    while (waiting.length > 0 && Date.now() < deadline && !this.stopped && !superseded()) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      waiting = waiting.filter((p) => !isReleased(options, p))
    }
    if (waiting.length > 0 && !this.stopped && !superseded()) {
      this.log(
        'warn',
        `partitions ${waiting.join(', ')} of '${this.options.topic}' were not released by their last owner; taking them from its last files`,
      )
    }
  }

  /**
   * A fetch began past the next offset of a partition. Either it was under way before the last seek
   * (a new assignment sought the partition back to its checkpoint, and kafkajs delivered what it had
   * already asked for): then the partition is sought again; or the topic no longer holds those
   * offsets: then the tasks fail. The feed takes nothing of the partition until it is sought again.
   */
  private async mindTheGap(
    consumer: KafkaConsumer,
    feed: AssignmentFeed,
    partition: number,
    gap: { from: number; to: number },
  ): Promise<void> {
    try {
      const admin = this.connection.client.admin()
      await admin.connect()
      let low: number
      try {
        const offsets = await admin.fetchTopicOffsets(this.options.topic)
        low = Number(offsets.find((o) => o.partition === partition)?.low ?? 0)
      } finally {
        await admin.disconnect().catch(() => undefined)
      }
      if (low > gap.from) {
        this.fail(this.dataLost(partition, { from: gap.from, to: low }))
        return
      }
      if (this.feed !== feed || this.stopped) return
      const next = feed.resume(partition)
      consumer.seek({ topic: this.options.topic, partition, offset: String(next) })
    } catch (cause) {
      this.fail(cause)
    }
  }

  /**
   * Offsets of a partition are missing: the topic no longer holds them (its retention deleted them
   * while this process was behind, and kafkajs moved on to its earliest offset). Rows would be lost
   * without a trace, so the query fails instead, as Spark's Kafka source does with failOnDataLoss.
   */
  private dataLost(partition: number, gap: { from: number; to: number }): WeirError {
    return new WeirError(
      'source-failed',
      `repartition tasks '${this.options.groupId}': offsets ${gap.from} to ${gap.to - 1} of partition ${partition} of ` +
        `'${this.options.topic}' are gone before they were read (the topic's retention deleted them?): their rows ` +
        `would be lost. Keep a repartition topic's data until it is read (retention.ms=-1, or much longer than a restart takes)`,
      { retriable: false },
    )
  }

  private crashed(cause: Error): WeirError {
    return new WeirError(
      'source-failed',
      `repartition tasks '${this.options.groupId}': the consumer of '${this.options.topic}' crashed and kafkajs will not restart it: ${messageOf(cause)}`,
      { cause, retriable: true },
    )
  }

  private log(level: 'info' | 'warn', message: string): void {
    try {
      this.connection.log({ level, message: `repartition tasks '${this.options.groupId}': ${message}` })
    } catch {
      // A logger that throws must not stop the tasks.
    }
  }
}

type Fetched = { readonly offset: number; readonly value: Buffer | null }

/**
 * What the consumer fetched for one assignment, per partition in offset order from the position the
 * assignment started at (an overlapping fetch is cut). Retired when the assignment ends: from then on
 * it takes nothing and wakes its reader, so the old job's last poll comes back empty.
 */
class AssignmentFeed implements RepartitionFeed {
  private readonly queues = new Map<number, { next: number; messages: Fetched[] }>()
  private wake: (() => void) | undefined
  private retired = false
  /** Bytes fetched and not taken. */
  bytes = 0
  private paused = false
  /** Partitions whose last fetch began past their next offset: nothing is taken until `resume`. */
  private readonly held = new Set<number>()

  /** `hold(true)` when `bytes` passes `maxBytes`, `hold(false)` once it is back under three quarters. */
  constructor(
    starts: ReadonlyMap<number, number>,
    private readonly maxBytes = Infinity,
    private readonly hold: (paused: boolean) => void = () => undefined,
  ) {
    for (const [p, next] of starts) this.queues.set(p, { next, messages: [] })
  }

  /**
   * Takes what was fetched past what the partition has. Returns the offsets a fetch jumped over, if it
   * did (a repartition topic is written without transactions and never compacted, so its offsets have
   * no holes: the fetch was asked for before a seek, or the records were deleted before they were
   * read), and holds the partition until `resume`.
   */
  push(partition: number, messages: readonly Fetched[]): { from: number; to: number } | undefined {
    const queue = this.queues.get(partition)
    if (!queue || this.retired || this.held.has(partition)) return undefined
    for (const message of messages) {
      if (message.offset < queue.next) continue
      if (message.offset > queue.next) {
        // The rest of this fetch is not taken either: the partition waits to be sought again.
        this.held.add(partition)
        this.wake?.()
        return { from: queue.next, to: message.offset }
      }
      queue.next = message.offset + 1
      queue.messages.push(message)
      this.bytes += message.value?.length ?? 0
    }
    if (!this.paused && this.bytes > this.maxBytes) this.setPaused(true)
    this.wake?.()
    return undefined
  }

  /** Takes nothing of `partition` until `open` or `resume`. */
  holdBack(partition: number): void {
    this.held.add(partition)
  }

  /** Takes `partition` from `offset` on (it is being sought there). */
  open(partition: number, offset: number): void {
    const queue = this.queues.get(partition)
    if (queue) queue.next = offset
    this.held.delete(partition)
  }

  /** Takes fetches of `partition` again (it is being sought to the returned offset). */
  resume(partition: number): number {
    this.held.delete(partition)
    return this.queues.get(partition)?.next ?? 0
  }

  private setPaused(paused: boolean): void {
    this.paused = paused
    try {
      this.hold(paused)
    } catch {
      // A consumer that cannot pause now (between assignments) is given the next assignment's feed.
    }
  }

  /** Where the consumer should fetch each partition from next. */
  nextOffsets(): ReadonlyMap<number, number> {
    return new Map([...this.queues].map(([p, q]) => [p, q.next]))
  }

  take(partition: number): readonly Fetched[] {
    const queue = this.queues.get(partition)
    if (!queue || this.retired || queue.messages.length === 0) return []
    const taken = queue.messages.splice(0)
    for (const message of taken) this.bytes -= message.value?.length ?? 0
    if (this.paused && this.bytes <= this.maxBytes * 0.75) this.setPaused(false)
    return taken
  }

  wait(ms: number): Promise<void> {
    if (this.retired) return Promise.resolve()
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

  retire(): void {
    this.retired = true
    // The next assignment's partitions are fetched again from where its job restores.
    if (this.paused) this.setPaused(false)
    this.wake?.()
  }
}
