import {
  messageOf,
  WeirError,
  type SourceBatch,
  type SourceReader,
  type SourceReaderContext,
} from '@weir/core'
import type { CrashPayload, GroupJoinPayload, KafkaAdmin, KafkaBatchLike, KafkaConsumer } from './client.js'
import { HandOff } from './hand-off.js'
import type { KafkaSourceSettings } from './kafka-source.js'
import { toKafkaRecord, type KafkaRecord } from './kafka-record.js'
import { resolveOffset, type LogRange } from './offsets.js'
import {
  byTopic,
  fixedAssigner,
  partitionsOfInstance,
  sortPartitions,
  splitOf,
  type TopicPartition,
} from './partitions.js'

/** What the reader knows of one partition it owns. Offsets are positions: the next offset to read. */
interface PartitionState {
  readonly tp: TopicPartition
  readonly split: string
  /** The next offset expected from the consumer: lower ones are duplicates and dropped. */
  fetched: number | undefined
  /** Whether `fetched` is where this consumer really is, so a rejoin seeks there (a group member's floor is not). */
  seekable: boolean
  /** The first offset not to read (`availableNow`, `endingOffsets`). */
  readonly end: number | undefined
  /** Handed to weir up to `end`. */
  done: boolean
  /** Where the partition stood before the first record handed to weir, and after the last. */
  base: number | undefined
  taken: number | undefined
  /** The position at the end of the last committed epoch. */
  committed: number | undefined
  /** The log end the last fetch saw. */
  high: number | undefined
}

/** Nothing more to fetch: handed out up to its end, or fetched up to it. */
function fetchedAll(state: PartitionState): boolean {
  return state.done || (state.end !== undefined && state.fetched !== undefined && state.fetched >= state.end)
}

/** A crash this long after the last good join starts a new count: the budget is for crashes in a row. */
const STABLE_MS = 60_000

/**
 * One Kafka source instance's reader: adapts kafkajs's push (`eachBatch`) to weir's pull (`poll`)
 * through a bounded hand-off, pausing the partitions while it is full. See `kafkaSource`.
 */
export class KafkaSourceReader implements SourceReader<KafkaRecord> {
  private readonly partitions = new Map<string, PartitionState>()
  private readonly ranges = new Map<string, LogRange>()
  private readonly handOff: HandOff
  private readonly label: string
  private topics: string[] = []
  private totalPartitions = 0
  private consumer: KafkaConsumer | undefined
  private started = false
  private joined = false
  private paused = false
  private closed = false
  private failure: WeirError | undefined
  private restarts = 0
  private lastJoinAt = -Infinity
  private wake: (() => void) | undefined
  private cancelDiscovery: (() => void) | undefined
  private readonly commits = new Set<Promise<void>>()
  private dataLossResets = 0

  private constructor(
    private readonly settings: KafkaSourceSettings,
    private readonly context: SourceReaderContext,
  ) {
    this.handOff = new HandOff({
      maxRecords: settings.maxBufferedRecords,
      maxBytes: settings.maxBufferedBytes,
    })
    this.label = `kafka source '${context.sourceId}' #${context.instance} (${settings.what} on ${settings.connection.brokers})`
  }

  /** Finds the topics, partitions and offsets now, so `splits()` is right from the first barrier on. */
  static async create(
    settings: KafkaSourceSettings,
    context: SourceReaderContext,
  ): Promise<KafkaSourceReader> {
    const reader = new KafkaSourceReader(settings, context)
    await reader.prepare()
    return reader
  }

  async poll(): Promise<SourceBatch<KafkaRecord> | 'idle' | 'end'> {
    if (!this.started) {
      this.started = true
      this.startConsumer()
      if (this.settings.subscription.kind === 'pattern') this.scheduleDiscovery()
    }
    for (let attempt = 0; ; attempt++) {
      if (this.failure) throw this.failure
      const batch = this.take()
      if (batch) return batch
      if (this.finished()) return 'end'
      if (attempt > 0 || this.closed) return 'idle'
      await this.waitForData()
    }
  }

  splits(): readonly string[] {
    return [...this.partitions.keys()]
  }

  /** Records between each partition's position and the log end its last fetch saw. */
  lag(): ReadonlyMap<string, number> {
    const lag = new Map<string, number>()
    for (const state of this.partitions.values()) {
      const position = state.taken ?? state.base
      if (state.high !== undefined && position !== undefined)
        lag.set(state.split, Math.max(0, state.high - position))
    }
    return lag
  }

  /** Commits a committed epoch's positions to the consumer group (monitoring; in group mode, where members resume). */
  async commit(positions: ReadonlyMap<string, unknown>, epoch: number): Promise<void> {
    const offsets: { topic: string; partition: number; offset: string }[] = []
    for (const [split, position] of positions) {
      const state = this.partitions.get(split)
      if (!state || typeof position !== 'number') continue
      state.committed = position
      offsets.push({ topic: state.tp.topic, partition: state.tp.partition, offset: String(position) })
    }
    // A poll waiting with its maxOffsetsPerTrigger share used up can hand out more now.
    if (this.settings.maxOffsetsPerTrigger !== undefined) this.wake?.()
    const consumer = this.consumer
    if (
      !this.settings.commitOffsets ||
      !consumer ||
      !this.joined ||
      this.closed ||
      this.failure ||
      offsets.length === 0
    )
      return
    const commit = (async () => {
      try {
        await consumer.commitOffsets(offsets)
      } catch (cause) {
        // A group that is rebalancing refuses commits; the next epoch's commit carries these offsets too.
        const level = this.settings.groupMode ? 'warn' : 'info'
        this.log(
          level,
          `could not commit epoch ${epoch}'s offsets to group '${this.groupId}': ${messageOf(cause)}`,
        )
      }
    })()
    this.commits.add(commit)
    await commit
    this.commits.delete(commit)
  }

  async close(): Promise<void> {
    this.closed = true
    this.cancelDiscovery?.()
    this.wake?.()
    await Promise.all(this.commits)
    await this.stopConsumer()
  }

  // ---- start: topics, partitions, offsets ----

  private async prepare(): Promise<void> {
    const admin = this.settings.connection.client.admin()
    try {
      await admin.connect()
      this.topics = await this.matchingTopics(admin)
      const all = await this.partitionsOf(admin, this.topics)
      this.totalPartitions = all.length
      const mine = this.settings.groupMode ? all : this.select(all)
      await this.loadRanges(admin, mine)
      if (!this.settings.groupMode) {
        for (const tp of mine) this.adopt(tp, { isNew: false })
        this.log(
          'info',
          `reads ${[...this.partitions.values()].map((s) => `${s.split}@${s.fetched ?? 'earliest'}`).join(', ') || 'no partition'}`,
        )
      }
    } catch (cause) {
      throw new WeirError(
        'source-failed',
        `${this.label}: could not read the topics' partitions and offsets: ${messageOf(cause)}`,
        {
          cause,
          retriable: true,
        },
      )
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }

  private async matchingTopics(admin: KafkaAdmin): Promise<string[]> {
    const subscription = this.settings.subscription
    switch (subscription.kind) {
      case 'subscribe':
        return [...subscription.topics]
      case 'assign':
        return [...subscription.partitions.keys()]
      case 'pattern': {
        const topics = await admin.listTopics()
        return topics.filter((t) => !t.startsWith('__') && subscription.pattern.test(t)).sort()
      }
    }
  }

  /** Every partition of the topics; naming a topic creates it where the brokers auto-create topics. */
  private async partitionsOf(admin: KafkaAdmin, topics: string[]): Promise<TopicPartition[]> {
    if (topics.length === 0) return []
    const { topics: found } = await admin.fetchTopicMetadata({ topics })
    const all = found.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId })))
    const subscription = this.settings.subscription
    if (subscription.kind !== 'assign') return sortPartitions(all)
    const missing = [...subscription.partitions].flatMap(([topic, ps]) =>
      ps
        .filter((p) => !all.some((tp) => tp.topic === topic && tp.partition === p))
        .map((p) => `${topic}-${p}`),
    )
    if (missing.length > 0)
      this.log(
        'warn',
        `assigned partitions ${missing.join(', ')} do not exist (yet): they are read once they do`,
      )
    return sortPartitions(all.filter((tp) => subscription.partitions.get(tp.topic)?.includes(tp.partition)))
  }

  /** This instance's share of the partitions when weir places them. */
  private select(all: TopicPartition[]): TopicPartition[] {
    const subscription = this.settings.subscription
    const wanted =
      subscription.kind === 'assign'
        ? all.filter((tp) => subscription.partitions.get(tp.topic)?.includes(tp.partition))
        : all
    return partitionsOfInstance(wanted, this.context.instance, this.context.parallelism)
  }

  private async loadRanges(admin: KafkaAdmin, partitions: TopicPartition[]): Promise<void> {
    for (const topic of new Set(partitions.map((tp) => tp.topic))) {
      for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) {
        this.ranges.set(splitOf({ topic, partition }), { low: Number(low), high: Number(high) })
      }
    }
  }

  /**
   * Starts owning a partition: from its restored position; else, when restoring or when it is new
   * during the run, from the earliest offset (as Spark does for partitions it did not know); else from
   * `startingOffsets`. In group mode a position is only a floor: the group's committed offset rules.
   */
  private adopt(tp: TopicPartition, options: { isNew: boolean }): PartitionState {
    const split = splitOf(tp)
    const range = this.ranges.get(split)
    const restored = this.context.restored.get(split)
    let start: number | undefined
    if (typeof restored === 'number') {
      start =
        range && (restored < range.low || restored > range.high)
          ? this.dataLoss(split, restored, range)
          : restored
    } else if (!this.settings.groupMode) {
      if (this.context.restored.size > 0 || options.isNew) start = range?.low
      else if (range) start = resolveOffset(this.settings.starting, tp, range)
    }
    const { ending } = this.settings
    const end =
      ending && range ? resolveOffset(ending, tp, range) : this.context.availableNow ? range?.high : undefined
    // A partition found after start is not part of a bounded or `availableNow` read.
    const bounded = this.context.availableNow || ending !== undefined
    const done = bounded && (end === undefined || (start !== undefined && start >= end))
    const state: PartitionState = {
      tp,
      split,
      fetched: start,
      seekable: !this.settings.groupMode,
      end,
      done,
      base: start,
      taken: undefined,
      committed: undefined,
      high: range?.high,
    }
    this.partitions.set(split, state)
    // Record the starting position at once, so a checkpoint taken before any record resumes from it.
    if (start !== undefined && start !== restored) this.handOff.push(split, [], start)
    else if (done) this.handOff.push(split, [], start ?? 0)
    return state
  }

  private dataLoss(split: string, position: number, range: LogRange): number {
    const what =
      `${this.label}: partition ${split} should resume at offset ${position}, but its log holds offsets ` +
      `${range.low} to ${range.high} (the topic was deleted and created again, retention removed the records, or the cluster was replaced)`
    if (this.settings.failOnDataLoss) {
      this.failure ??= new WeirError(
        'data-loss',
        `${what}. Some records may be lost: to go on from the earliest offset anyway, set failOnDataLoss: false`,
      )
      return position
    }
    this.dataLossResets++
    this.log(
      'warn',
      `${what}; failOnDataLoss is false: reading it from offset ${range.low} (${this.dataLossResets} partition(s) reset so far)`,
    )
    return range.low
  }

  // ---- the consumer ----

  private get groupId(): string {
    return this.settings.groupMode
      ? this.settings.groupId
      : `${this.settings.groupId}-${this.context.instance}`
  }

  private startConsumer(): void {
    if (this.closed || this.failure || this.topics.length === 0) return
    if (!this.settings.groupMode && [...this.partitions.values()].every((s) => s.done)) return
    const { settings } = this
    const userRestart = settings.consumerRetry?.restartOnFailure
    const consumer = settings.connection.client.consumer({
      ...settings.consumer,
      groupId: this.groupId,
      partitionAssigners: settings.groupMode
        ? settings.partitionAssigners
        : [fixedAssigner((all) => this.select(all))],
      retry: {
        ...(settings.consumerRetry ?? { retries: 5 }),
        restartOnFailure: async (error: Error) => {
          if (this.closed || this.consumer !== consumer) return false
          if (this.context.clock.now() - this.lastJoinAt > STABLE_MS && this.lastJoinAt > -Infinity)
            this.restarts = 0
          this.restarts++
          if (this.restarts > settings.maxRestarts) return false
          this.log(
            'warn',
            `the consumer crashed (${messageOf(error)}); restart ${this.restarts} of ${settings.maxRestarts}`,
          )
          return userRestart ? userRestart(error) : true
        },
      },
    })
    this.consumer = consumer
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (this.consumer === consumer)
        this.safely(() => this.onJoin(consumer, (event.payload as GroupJoinPayload).memberAssignment))
    })
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload as CrashPayload
      if (this.consumer === consumer && !restart && !this.closed) this.fail(this.consumerFailure(error))
    })
    void (async () => {
      // Closed (or replaced) while connecting: this consumer must not go on and hold connections open.
      const stale = async () => {
        if (this.consumer === consumer) return false
        await consumer.disconnect()
        return true
      }
      await consumer.connect()
      if (await stale()) return
      await consumer.subscribe({ topics: this.topics, fromBeginning: settings.starting.kind === 'earliest' })
      if (await stale()) return
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: 1,
        // Never throws and never waits: a throw would make kafkajs retry the batch forever.
        eachBatch: ({ batch }) => {
          if (this.consumer === consumer) this.safely(() => this.onBatch(consumer, batch))
          return Promise.resolve()
        },
      })
      await stale()
    })().catch((cause) => {
      if (this.consumer === consumer && !this.closed) this.fail(this.consumerFailure(cause))
    })
  }

  private async stopConsumer(): Promise<void> {
    const consumer = this.consumer
    this.consumer = undefined
    await consumer?.disconnect().catch(() => undefined)
  }

  /** The group gave this member its partitions (at start, after a rebalance, after a restart). */
  private onJoin(consumer: KafkaConsumer, assignment: GroupJoinPayload['memberAssignment']): void {
    this.joined = true
    this.lastJoinAt = this.context.clock.now()
    const assigned = sortPartitions(
      Object.entries(assignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition }))),
    )
    const now = new Set(assigned.map(splitOf))
    const revoked = new Set([...this.partitions.keys()].filter((split) => !now.has(split)))
    if (revoked.size > 0) {
      // Records of a revoked partition are not handed out any more: its new owner reads them.
      for (const split of revoked) this.partitions.delete(split)
      this.handOff.drop(revoked)
      this.log('info', `partitions ${[...revoked].join(', ')} were revoked`)
    }
    this.log('info', `joined group '${this.groupId}' with partitions ${[...now].join(', ') || '(none)'}`)
    if (assigned.length === 0)
      this.log(
        this.settings.groupMode ? 'info' : 'warn',
        `group '${this.groupId}' gave this instance no partition`,
      )
    const finished: TopicPartition[] = []
    for (const tp of assigned) {
      const state = this.partitions.get(splitOf(tp)) ?? this.adopt(tp, { isNew: !this.settings.groupMode })
      if (state.seekable && state.fetched !== undefined)
        consumer.seek({ ...tp, offset: String(state.fetched) })
      else if (!this.settings.groupMode) consumer.seek({ ...tp, offset: '-2' })
      if (fetchedAll(state)) finished.push(tp)
    }
    // A restarted consumer forgets its pauses.
    if (finished.length > 0) this.flow(() => consumer.pause(byTopic(finished)))
    if (this.paused) this.flow(() => consumer.pause(byTopic(assigned)))
    this.wake?.()
  }

  private onBatch(consumer: KafkaConsumer, batch: KafkaBatchLike): void {
    const split = splitOf(batch)
    const state = this.partitions.get(split)
    if (!state || state.done || this.closed || this.failure) return
    const records: KafkaRecord[] = []
    for (const message of batch.messages) {
      const offset = Number(message.offset)
      if (state.fetched !== undefined && offset < state.fetched) continue
      if (state.end !== undefined && offset >= state.end) break
      records.push(toKafkaRecord(batch.topic, batch.partition, message, this.settings.includeHeaders))
    }
    state.high = Number(batch.highWatermark)
    let after = Number(batch.lastOffset()) + 1
    if (state.end !== undefined) after = Math.min(after, state.end)
    if (state.fetched !== undefined && after <= state.fetched) return
    state.fetched = after
    state.seekable = true
    if (records.length > 0) this.restarts = 0
    this.handOff.push(split, records, after)
    if (fetchedAll(state)) this.flow(() => consumer.pause(byTopic([state.tp])))
    if (this.handOff.full && !this.paused) {
      this.paused = true
      this.flow(() => consumer.pause(byTopic([...this.partitions.values()].map((s) => s.tp))))
    }
    this.wake?.()
  }

  private take(): SourceBatch<KafkaRecord> | undefined {
    const part = this.handOff.take(this.budget())
    if (!part) return undefined
    const state = this.partitions.get(part.split)!
    state.base ??= part.records[0]?.offset ?? part.position
    state.taken = part.position
    let splitEnded = false
    if (state.end !== undefined && part.position >= state.end) {
      state.done = true
      splitEnded = this.settings.ending !== undefined
    }
    if (this.paused && this.handOff.drained) {
      this.paused = false
      const open = [...this.partitions.values()].filter((s) => !fetchedAll(s)).map((s) => s.tp)
      this.flow(() => this.consumer?.resume(byTopic(open)))
    }
    return {
      split: part.split,
      values: part.records,
      position: part.position,
      timestamps: part.records.map((r) => r.timestamp),
      splitEnded,
    }
  }

  /** Offsets this instance may still hand out in the running epoch (`maxOffsetsPerTrigger`). */
  private budget(): number {
    const max = this.settings.maxOffsetsPerTrigger
    if (max === undefined) return Infinity
    const share = Math.max(
      1,
      Math.ceil((max * this.partitions.size) / Math.max(1, this.totalPartitions, this.partitions.size)),
    )
    let outstanding = 0
    for (const state of this.partitions.values()) {
      if (state.taken !== undefined)
        outstanding += state.taken - (state.committed ?? state.base ?? state.taken)
    }
    return share - outstanding
  }

  /** The running epoch's `maxOffsetsPerTrigger` share is handed out (see `SourceReader.throttled`). */
  throttled(): boolean {
    return this.settings.maxOffsetsPerTrigger !== undefined && this.budget() <= 0 && !this.finished()
  }

  /** A bounded or `availableNow` read has handed out everything up to its end offsets. */
  private finished(): boolean {
    if (!this.context.availableNow && this.settings.ending === undefined) return false
    if (this.settings.groupMode && !this.joined) return false
    return this.handOff.isEmpty && [...this.partitions.values()].every((s) => s.done)
  }

  private waitForData(): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancel = this.context.clock.setTimeout(() => {
        this.wake = undefined
        resolve()
      }, this.settings.pollTimeoutMs)
      this.wake = () => {
        cancel()
        this.wake = undefined
        resolve()
      }
    })
  }

  /** Pause and resume throw while kafkajs restarts its consumer; the next join applies pauses again. */
  private flow(step: () => void): void {
    try {
      step()
    } catch (cause) {
      this.log('debug', `pause/resume skipped: ${messageOf(cause)}`)
    }
  }

  // ---- topics that appear (subscribePattern) ----

  private scheduleDiscovery(): void {
    if (this.closed || this.failure) return
    this.cancelDiscovery = this.context.clock.setTimeout(() => {
      this.rediscover()
        .catch((cause) => this.log('warn', `could not look for new topics: ${messageOf(cause)}`))
        .finally(() => this.scheduleDiscovery())
    }, this.settings.partitionDiscoveryIntervalMs)
  }

  private async rediscover(): Promise<void> {
    const admin = this.settings.connection.client.admin()
    let all: TopicPartition[]
    try {
      await admin.connect()
      const topics = await this.matchingTopics(admin)
      if (topics.join('\n') === this.topics.join('\n')) return
      all = await this.partitionsOf(admin, topics)
      await this.loadRanges(admin, all)
      this.topics = topics
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
    if (this.closed || this.failure) return
    this.log('info', `subscribing to ${this.topics.join(', ')}`)
    this.totalPartitions = all.length
    // kafkajs subscribes before it runs: a new topic needs a new consumer. Positions carry over (seek on join).
    await this.stopConsumer()
    this.joined = false
    this.startConsumer()
  }

  // ---- failures ----

  private consumerFailure(cause: unknown): WeirError {
    const { maxRestarts } = this.settings
    const what =
      this.restarts > maxRestarts
        ? `the Kafka consumer crashed ${this.restarts} times in a row, more than maxRestarts (${maxRestarts}) allows`
        : 'the Kafka consumer stopped'
    return new WeirError(
      'source-failed',
      `${this.label}: ${what}: ${messageOf(cause)}. Check that the brokers are reachable and the topics exist` +
        (this.restarts > maxRestarts ? ', or raise maxRestarts' : ''),
      { cause, retriable: true },
    )
  }

  private fail(error: WeirError): void {
    if (this.failure || this.closed) return
    this.failure = error
    this.log('error', error.message)
    this.wake?.()
    void this.stopConsumer()
  }

  /** Runs a step called from kafkajs: nothing may throw into it. */
  private safely(step: () => void): void {
    try {
      step()
    } catch (cause) {
      this.fail(new WeirError('source-failed', `${this.label}: ${messageOf(cause)}`, { cause }))
    }
  }

  private log(level: 'error' | 'warn' | 'info' | 'debug', message: string): void {
    try {
      this.settings.connection.log({
        level,
        message: level === 'error' ? message : `${this.label}: ${message}`,
      })
    } catch {
      // A logger that throws must not stop the source.
    }
  }
}
