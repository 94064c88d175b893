import { ConfigError, WeirError } from '../errors.js'
import type { OperatorSnapshot } from '../graph/operator.js'
import { buildPhysicalPlan, type PhysicalPlan } from '../graph/physical-plan.js'
import type { StreamGraph } from '../graph/stream-graph.js'
import type { BarrierMessage } from '../messages/messages.js'
import type { Checkpoint, StateBackend } from '../state/checkpoint.js'
import { systemClock, type Clock } from '../time/clock.js'
import { BusyTime } from '../metrics/busy-time.js'
import type { EpochSummary, JobMetrics } from '../metrics/job-metrics.js'
import { snapshotJob, withThreads } from '../metrics/job-snapshot.js'
import { Backpressure } from './backpressure.js'
import { Coordinator, type EpochReport } from './coordinator.js'
import type { InputGate } from './input-gate.js'
import type { InstanceAddress, OperatorInstance } from './operator-instance.js'
import { threadOf } from './placement.js'
import { RemoteChannels } from './remote-channels.js'
import type { SinkInstance } from './sink-instance.js'
import { sourceFailure, type SourceEpochInfo, type SourceInstance } from './source-instance.js'
import { restoredFrom, ThreadInstances } from './thread-instances.js'
import { validateTrigger, type Trigger } from './trigger.js'
import { joinParentJob } from './worker-agent.js'
import {
  decodeAckSnapshot,
  restoreFor,
  weirWorkerInit,
  WorkerPool,
  type FromWorker,
  type ThreadMetrics,
} from './worker-threads.js'

/** Jobs started in this thread so far: the n-th job a worker thread starts joins the n-th of the main thread. */
let jobsStarted = 0

export interface JobOptions {
  readonly trigger?: Trigger
  readonly clock?: Clock
  /** Where epochs are committed; without one nothing is snapshotted and nothing restored. */
  readonly stateBackend?: StateBackend
  /** Snapshot every k-th epoch (default 1: every epoch). */
  readonly checkpointEvery?: number
  /**
   * Snapshot at the first epoch that ends at least this many ms after the last checkpoint, however many
   * epochs that is (instead of `checkpointEvery`): short epochs for low latency, checkpoints at a pace.
   */
  readonly checkpointIntervalMs?: number
  /**
   * With `processingTime` 0 or `continuous`, how long to wait before ending an epoch when nothing new
   * came in (so an idle query does not spin). Default 100 ms.
   */
  readonly idleEpochDelayMs?: number
  /** The id of the streaming query this job runs, handed to sink writers. */
  readonly queryId?: string
  /**
   * Measure each instance's busy time and the time sources wait for room (default true). Counters,
   * watermarks and queue lengths are kept either way: progress is built from them. Off only to
   * measure what the timing costs.
   */
  readonly metrics?: boolean
  /**
   * Threads to run the job's instances on (default 1: all on this one). Instance `i` of every node runs
   * on thread `i mod workers`: thread 0 is this (main) thread, which also runs the coordinator, and
   * `workers - 1` worker threads run the program's entry module again and join this job when they reach
   * the same start (see `isWeirWorker()` and docs/workers.md). Give nodes a parallelism of at least
   * `workers`, or some threads have nothing to do.
   */
  readonly workers?: number
  /** The module worker threads run (default: the program's entry, `process.argv[1]`). */
  readonly workerEntry?: string | URL
}

export type JobState = 'running' | 'stopping' | 'finished' | 'failed'

/**
 * A running graph: instances wired by chains and RxJS channels, sources polling, a coordinator ending
 * epochs on the trigger. `done` settles when the job finishes (a bounded source read to its end, an
 * `availableNow` run, or `stop()`), or rejects with the error that failed it.
 *
 * @example
 * ```ts
 * const job = await Job.start(graph, { trigger: { kind: 'processingTime', intervalMs: 1000 } })
 * job.onEpoch((report) => console.log(report.epoch, report.numInputRows))
 * await job.stop()
 * ```
 */
export class Job {
  readonly plan: PhysicalPlan
  readonly done: Promise<void>
  private readonly sources: SourceInstance[] = []
  private readonly operators: OperatorInstance[] = []
  private readonly sinks: SinkInstance[] = []
  private readonly gates: InputGate[] = []
  private readonly backpressure = new Backpressure()
  private readonly clock: Clock
  private readonly trigger: Trigger
  private readonly epochListeners: ((report: EpochReport) => void)[] = []
  private readonly quietListeners: (() => void)[] = []
  private quiet = false
  private coordinator!: Coordinator
  private jobState: JobState = 'running'
  private failure: unknown
  private resolveDone!: () => void
  private rejectDone!: (error: unknown) => void
  private endedSinks = 0
  private timer: (() => void) | undefined
  private loops: Promise<void>[] = []
  private finishing: Promise<void> | undefined
  private readonly idleEpochDelayMs: number
  private readonly queryId: string | undefined
  private readonly busyTime: BusyTime | undefined
  private readonly recentEpochs: EpochSummary[] = []
  private epochsCompleted = 0
  /** Bytes of each node's last snapshot, per instance, when the state backend reports them. */
  private readonly stateBytes = new Map<string, readonly number[]>()
  /** The instances and splits of each worker thread, as its last commit reported them. */
  private readonly threadMetrics = new Map<number, ThreadMetrics>()
  private readonly ordinal = jobsStarted++
  private readonly threads: number
  /** With worker threads: the main thread's link to them. */
  private pool: WorkerPool | undefined
  private remote: RemoteChannels | undefined
  /** Whether a worker's source emitted since the last barrier. */
  private remoteBusy = false
  private remoteSourcesFinished = 0
  private remoteSources = 0
  private totalSinks = 0
  /** In a worker thread: this job is the thread's share of a job of the main thread, which decides. */
  private joined = false

  private constructor(graph: StreamGraph, options: JobOptions) {
    this.plan = buildPhysicalPlan(graph)
    this.clock = options.clock ?? systemClock
    this.trigger = validateTrigger(options.trigger ?? { kind: 'processingTime', intervalMs: 0 })
    this.idleEpochDelayMs = options.idleEpochDelayMs ?? 100
    this.queryId = options.queryId
    this.busyTime = options.metrics === false ? undefined : new BusyTime()
    this.threads = options.workers ?? 1
    if (!Number.isInteger(this.threads) || this.threads < 1) {
      throw new ConfigError(
        `workers ${options.workers} must be a whole number of threads >= 1, e.g. 2 on a 2-core machine`,
      )
    }
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve
      this.rejectDone = reject
    })
    // A job that fails with no one awaiting `done` must not crash the host process.
    this.done.catch(() => undefined)
  }

  /** Builds the physical graph, restores the newest committed epoch if there is one, and starts. */
  static async start(graph: StreamGraph, options: JobOptions = {}): Promise<Job> {
    const job = new Job(graph, options)
    await job.open(options)
    return job
  }

  get state(): JobState {
    return this.jobState
  }

  /** The error the job failed with, if it failed. */
  get exception(): unknown {
    return this.failure
  }

  /** The number the next barrier will carry. */
  get currentEpoch(): number {
    return this.coordinator?.epoch ?? 0
  }

  /** Listens to every epoch that completes. Returns a function that stops listening. */
  onEpoch(listener: (report: EpochReport) => void): () => void {
    this.epochListeners.push(listener)
    return () => this.epochListeners.splice(this.epochListeners.indexOf(listener) >>> 0, 1)
  }

  /**
   * Listens to the moments a trigger fires and finds no new input (once per quiet spell): Spark's
   * `onQueryIdle`. Returns a function that stops listening.
   */
  onQuiet(listener: () => void): () => void {
    this.quietListeners.push(listener)
    return () => this.quietListeners.splice(this.quietListeners.indexOf(listener) >>> 0, 1)
  }

  /**
   * Ends the running epoch now. Returns its number. An error at the barrier fails the job, and is thrown.
   * With `checkpoint: true` the epoch is a checkpoint (when the job has a state backend) whatever
   * `checkpointEvery` says, so its sinks commit as soon as it is done.
   */
  triggerEpoch(options: { checkpoint?: boolean } = {}): number {
    if (this.jobState !== 'running')
      throw new WeirError('not-running', `the job is ${this.jobState}: no epoch can start`)
    if (this.joined)
      throw new WeirError(
        'not-running',
        'a worker thread runs part of a job: epochs start in the main thread',
      )
    try {
      return this.coordinator.trigger(options)
    } catch (error) {
      this.fail(error)
      throw error
    }
  }

  /**
   * Waits until every source has emitted what it could read now, ends the epoch, and resolves when that
   * epoch is done everywhere (Spark's `processAllAvailable`); while a source holds data back for a later
   * epoch (`maxFilesPerTrigger`, `maxOffsetsPerTrigger`), it ends as many epochs as that takes. With the
   * `manual` trigger it is how a test or an embedding app steps through epochs. Rejects if the job
   * fails; resolves at once once it ended.
   */
  async processAllAvailable(): Promise<void> {
    while (await this.processAvailableOnce());
  }

  /** One epoch of `processAllAvailable`; true when a source still holds data back. */
  private async processAvailableOnce(): Promise<boolean> {
    if (this.joined) {
      await this.done
      return false
    }
    let throttled = false
    if (this.jobState === 'running') {
      const [remote] = await Promise.all([
        this.pool?.request({ t: 'caught-up' }, 'caught-up'),
        ...this.sources.map((s) => s.caughtUp()),
      ])
      throttled =
        this.sources.some((s) => s.throttled) ||
        (remote ?? []).some((reply) => reply?.t === 'caught-up' && reply.throttled)
    }
    if (this.jobState !== 'running') {
      await this.done
      return false
    }
    const epoch = this.triggerEpoch({ checkpoint: true })
    await new Promise<void>((resolve, reject) => {
      const stop = this.onEpoch((report) => {
        if (report.epoch >= epoch) {
          stop()
          resolve()
        }
      })
      this.done.then(
        () => {
          stop()
          resolve()
        },
        (error: unknown) => {
          stop()
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the job's own failure, whatever it is
          reject(error)
        },
      )
    })
    return throttled && this.jobState === 'running'
  }

  /**
   * Every counter of every instance, by `nodeId#instance`: this thread's as they are now, a worker
   * thread's as of the last epoch it committed.
   */
  counters(): Record<string, Record<string, number>> {
    const all: Record<string, Record<string, number>> = {}
    for (const i of [...this.sources, ...this.operators, ...this.sinks])
      all[`${i.nodeId}#${i.instance}`] = i.counters.toJSON()
    for (const thread of this.threadMetrics.values())
      for (const i of thread.instances) all[`${i.nodeId}#${i.instance}`] = { ...i.counters }
    return all
  }

  /** The watermark of each source instance; the query's watermark is their minimum. */
  get watermark(): number {
    return Math.min(...this.sources.map((s) => s.watermark))
  }

  /**
   * A snapshot of every instance's metrics (counters, watermark, busy time, queue fill, state size),
   * every split's position, the last epochs and the physical graph. Cheap: it reads what the runtime
   * keeps anyway; call it as often as once a second.
   */
  metrics(): JobMetrics {
    const local = snapshotJob({
      takenAt: this.clock.now(),
      state: this.jobState,
      plan: this.plan,
      sources: this.sources,
      operators: this.operators,
      sinks: this.sinks,
      watermark: this.watermark,
      backpressured: this.backpressure.pressured,
      timed: this.busyTime !== undefined,
      stateBytes: this.stateBytes,
      epochs: {
        current: this.coordinator?.epoch ?? 0,
        completed: this.epochsCompleted,
        inFlight: this.coordinator?.inFlight ?? 0,
        recent: [...this.recentEpochs],
      },
    })
    return withThreads(local, this.plan, [...this.threadMetrics.values()], this.stateBytes)
  }

  /** Whether a bounded queue is full and the sources are held back now. */
  get backpressured(): boolean {
    return this.backpressure.pressured
  }

  /**
   * Stops gracefully: sources stop polling, a last epoch flushes what was read, End flows through the
   * graph, and the promise resolves when every sink has committed and closed.
   */
  async stop(): Promise<void> {
    if (this.jobState === 'running' && !this.joined) {
      this.jobState = 'stopping'
      void this.finish()
    }
    await this.done.catch(() => undefined)
    if (this.jobState === 'failed') throw this.failure
  }

  private async open(options: JobOptions): Promise<void> {
    const init = weirWorkerInit()
    if (init) return this.join(init)
    const checkpoint = options.stateBackend ? await options.stateBackend.latest() : undefined
    if (checkpoint) checkCompatible(this.plan, checkpoint)
    const firstEpoch = checkpoint ? checkpoint.epoch + 1 : 0
    const checkpointEvery = options.checkpointEvery ?? 1
    if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) {
      throw new ConfigError(
        `checkpointEvery ${checkpointEvery} must be a whole number of epochs >= 1, e.g. 1`,
      )
    }
    const checkpointIntervalMs = options.checkpointIntervalMs
    if (
      checkpointIntervalMs !== undefined &&
      !(Number.isFinite(checkpointIntervalMs) && checkpointIntervalMs >= 0)
    ) {
      throw new ConfigError(
        `checkpointIntervalMs ${checkpointIntervalMs} must be a duration >= 0 in ms, e.g. 60000`,
      )
    }
    this.coordinator = new Coordinator({
      clock: this.clock,
      firstEpoch,
      checkpointEvery,
      checkpointIntervalMs,
      stateBackend: options.stateBackend,
      maxParallelism: this.plan.maxParallelism,
      nodes: this.plan.nodes.map((n) => ({
        id: n.id,
        name: n.spec.kind === 'transform' ? n.spec.name : n.spec.kind,
        parallelism: n.parallelism,
      })),
      injectIntoSources: (barrier) => this.injectIntoSources(barrier),
      commitSinks: async (epoch) => {
        const [replies] = await Promise.all([
          this.pool?.request({ t: 'commit', epoch }, 'committed'),
          ...this.sinks.map((sink) => sink.commit(epoch)),
        ])
        // Replies come in thread order, threads 1 .. n-1.
        ;(replies ?? []).forEach((reply, i) => {
          if (reply?.t === 'committed' && reply.metrics) this.threadMetrics.set(i + 1, reply.metrics)
        })
      },
      onEpoch: (report) => this.epochDone(report),
      onError: (error) => this.fail(error),
    })
    const restored = restoredFrom(checkpoint, firstEpoch)
    for (const node of this.plan.nodes) {
      for (let i = 0; i < node.parallelism; i++) {
        if (node.spec.kind === 'sink') this.totalSinks++
        if (node.spec.kind === 'source' && threadOf(i, this.threads) !== 0) this.remoteSources++
      }
    }
    if (this.threads > 1) {
      const availableNow = this.trigger.kind === 'availableNow'
      this.pool = new WorkerPool({
        entry: options.workerEntry ?? process.argv[1],
        argv: process.argv.slice(2),
        threads: this.threads,
        init: (thread) => ({
          job: this.ordinal,
          firstEpoch,
          availableNow,
          queryId: this.queryId,
          restore: restoreFor(this.plan, restored, thread, this.threads),
        }),
        onMessage: (thread, message) => this.fromWorker(thread, message),
        onError: (error) => this.fail(error),
      })
      this.remote = new RemoteChannels(this.pool.mainPorts, this.backpressure, (error) => this.fail(error))
    }
    const thread = await ThreadInstances.build({
      plan: this.plan,
      thread: 0,
      threads: this.threads,
      clock: this.clock,
      busyTime: this.busyTime,
      backpressure: this.backpressure,
      queryId: this.queryId,
      firstEpoch,
      availableNow: this.trigger.kind === 'availableNow',
      restored,
      remote: this.remote,
      hooks: this.threadHooks(),
    })
    this.adopt(thread)
    if (this.pool) {
      this.remote!.start()
      await Promise.race([this.pool.whenReady(), this.done])
    }
    this.loops = this.sources.map((s) => this.runSource(s))
    this.scheduleNext(0)
  }

  private threadHooks() {
    return {
      acknowledge: (
        a: InstanceAddress,
        b: BarrierMessage,
        s: OperatorSnapshot | undefined,
        extra: { outputRows?: number; source?: SourceEpochInfo },
      ) => this.acknowledge(a, b, s, extra),
      sourceFinished: () => this.sourceFinished(),
      sinkEnded: () => this.sinkEnded(),
      fail: (error: unknown) => this.fail(error),
      failed: () => this.jobState === 'failed',
    }
  }

  private adopt(thread: ThreadInstances): void {
    this.sources.push(...thread.sources)
    this.operators.push(...thread.operators)
    this.sinks.push(...thread.sinks)
    this.gates.push(...thread.gates)
  }

  /**
   * In a worker thread: the n-th job started here joins the n-th job of the main thread, which started
   * this worker; any other job started here is a stand-in that is finished at once.
   */
  private async join(init: NonNullable<ReturnType<typeof weirWorkerInit>>): Promise<void> {
    if (init.job !== this.ordinal) {
      this.jobState = 'finished'
      this.resolveDone()
      return
    }
    this.joined = true
    const joined = await joinParentJob({ plan: this.plan, init, clock: this.clock, busyTime: this.busyTime })
    this.adopt(joined.instances)
    joined.done.then(
      () => {
        this.jobState = 'finished'
        this.resolveDone()
      },
      (error: unknown) => {
        this.jobState = 'failed'
        this.failure = error
        this.rejectDone(error)
      },
    )
  }

  /** A report from a worker thread. */
  private fromWorker(thread: number, message: FromWorker): void {
    if (this.jobState === 'failed') return
    switch (message.t) {
      case 'ack':
        this.acknowledge(
          { nodeId: message.nodeId, instance: message.instance },
          message.barrier,
          decodeAckSnapshot(message.snapshot),
          {
            outputRows: message.outputRows,
            source: message.source,
          },
        )
        return
      case 'busy':
        this.remoteBusy = true
        return
      case 'source-finished':
        this.remoteSourcesFinished++
        this.sourceFinished()
        return
      case 'sink-ended':
        this.sinkEnded()
        return
      case 'failed': {
        const error = new WeirError(message.error.code, message.error.message)
        if (message.error.stack) error.stack = message.error.stack
        this.fail(error)
        return
      }
      default:
        this.fail(new WeirError('protocol', `worker thread ${thread} sent an unexpected '${message.t}'`))
    }
  }

  private async runSource(source: SourceInstance): Promise<void> {
    try {
      await source.run()
    } catch (error) {
      this.fail(error instanceof WeirError ? error : sourceFailure(source.nodeId, error))
    }
  }

  private injectIntoSources(barrier: BarrierMessage): void {
    this.remoteBusy = false
    for (const source of this.sources) source.injectBarrier(barrier)
    this.pool?.post({ t: 'inject', barrier })
  }

  private acknowledge(
    address: InstanceAddress,
    barrier: BarrierMessage,
    snapshot: OperatorSnapshot | undefined,
    extra?: { outputRows?: number; source?: SourceEpochInfo },
  ): void {
    if (this.jobState === 'failed') return
    this.coordinator.acknowledge(address, barrier, snapshot, extra)
  }

  private epochDone(report: EpochReport): void {
    this.epochsCompleted++
    this.recentEpochs.push({
      epoch: report.epoch,
      triggeredAt: report.triggeredAt,
      completedAt: report.committedAt,
      durationMs: Math.max(0, report.committedAt - report.triggeredAt),
      snapshotMs: report.snapshotMs,
      checkpointed: report.checkpointed,
      numInputRows: report.numInputRows,
      numOutputRows: report.numOutputRows,
      watermark: report.watermark,
    })
    if (this.recentEpochs.length > 30) this.recentEpochs.shift()
    for (const [nodeId, bytes] of Object.entries(report.stateBytes ?? {})) this.stateBytes.set(nodeId, bytes)
    for (const listener of [...this.epochListeners]) {
      try {
        listener(report)
      } catch (error) {
        this.fail(
          new WeirError('listener-failed', `an epoch listener threw: ${String(error)}`, { cause: error }),
        )
      }
    }
    if (this.jobState !== 'failed') {
      for (const { nodeId, instance, info } of report.sources) {
        this.sources
          .find((s) => s.nodeId === nodeId && s.instance === instance)
          ?.epochCommitted(report.epoch, info.endPositions)
      }
      this.pool?.post({
        t: 'epoch-committed',
        epoch: report.epoch,
        sources: report.sources
          .filter((s) => threadOf(s.instance, this.threads) !== 0)
          .map((s) => ({ nodeId: s.nodeId, instance: s.instance, positions: s.info.endPositions })),
      })
    }
    // Spark's processing-time trigger: the next epoch begins an interval after this one began (at once if it took longer).
    if (this.jobState === 'running' && this.coordinator.inFlight === 0) this.scheduleNext(report.triggeredAt)
  }

  /** Schedules the next barrier as the trigger says, once the previous epoch is done. */
  private scheduleNext(lastTriggeredAt: number): void {
    if (this.timer || this.jobState !== 'running') return
    let delay: number
    switch (this.trigger.kind) {
      case 'manual':
        return
      case 'processingTime':
        delay = Math.max(0, lastTriggeredAt + this.trigger.intervalMs - this.clock.now())
        break
      case 'availableNow':
      case 'continuous':
        delay = 0
        break
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      if (this.jobState !== 'running') return
      const quiet = this.sources.every((s) => s.rowsThisEpoch === 0) && !this.remoteBusy
      if (
        quiet &&
        this.trigger.kind !== 'continuous' &&
        (this.trigger.kind !== 'processingTime' || this.trigger.intervalMs === 0)
      ) {
        // Nothing new: look again shortly rather than end empty epochs back to back.
        if (!this.quiet) {
          this.quiet = true
          for (const listener of [...this.quietListeners]) listener()
        }
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined
          this.scheduleNext(
            this.clock.now() - (this.trigger.kind === 'processingTime' ? this.trigger.intervalMs : 0),
          )
        }, this.idleEpochDelayMs)
        return
      }
      this.quiet = false
      try {
        this.coordinator.trigger()
      } catch (error) {
        this.fail(error)
      }
    }, delay)
  }

  private sourceFinished(): void {
    if (
      this.jobState === 'running' &&
      this.sources.every((s) => s.isFinished) &&
      this.remoteSourcesFinished === this.remoteSources
    ) {
      this.jobState = 'stopping'
      void this.finish()
    }
  }

  /** The last epoch, then End everywhere; `done` resolves when every sink has closed. */
  private finish(): Promise<void> {
    this.finishing ??= (async () => {
      this.timer?.()
      this.timer = undefined
      for (const source of this.sources) source.stop()
      this.backpressure.releaseAll()
      await Promise.all([...this.loops, this.pool?.request({ t: 'stop' }, 'stopped')])
      if (this.jobState !== 'stopping') return
      try {
        // The last epoch is always a checkpoint: its sinks, and any epoch still waiting for one, commit.
        this.coordinator.trigger({ checkpoint: true })
        for (const source of this.sources) source.end()
        this.pool?.post({ t: 'end' })
      } catch (error) {
        this.fail(error)
      }
    })()
    return this.finishing
  }

  /** Every sink saw End: once the last epochs are committed, close the writers and finish. */
  private sinkEnded(): void {
    this.endedSinks++
    if (this.endedSinks < this.totalSinks || this.jobState === 'failed') return
    void (async () => {
      await this.coordinator.flushed()
      if (this.failedWhileAwaiting()) return
      // A writer that fails to close fails the job through its instance's error hook.
      await Promise.all(this.sinks.map((sink) => sink.close()))
      await this.pool?.close()
      this.remote?.close()
      await Promise.all(this.sources.map((s) => s.close().catch(() => undefined)))
      if (this.failedWhileAwaiting()) return
      this.jobState = 'finished'
      this.resolveDone()
    })()
  }

  /** Whether the job failed meanwhile (a method, so checks after an await are not narrowed away). */
  private failedWhileAwaiting(): boolean {
    return this.jobState === 'failed'
  }

  private fail(error: unknown): void {
    if (this.jobState === 'failed' || this.jobState === 'finished') return
    this.jobState = 'failed'
    this.failure = error
    this.timer?.()
    this.timer = undefined
    for (const source of this.sources) source.abort()
    this.backpressure.releaseAll()
    this.pool?.fail()
    this.remote?.close()
    // Release what the readers and writers hold (sockets, files) so the process can exit; staged epochs
    // stay for the next run to finish or replay.
    void Promise.all([
      ...this.sources.map((s) => s.close().catch(() => undefined)),
      ...this.sinks.map((s) => s.abort()),
    ]).then(() => this.rejectDone(error))
  }
}

/**
 * A checkpoint restores only into a graph whose state lines up with it: the same maxParallelism, and the
 * same sources, sinks and stateful operators under the same ids. Stateless operators are left out on both
 * sides (one the checkpoint holds no state for, or one that keeps none now): adding or removing one, e.g.
 * the partial aggregate of a two-phase aggregation, loses nothing and misreads nothing.
 */
function checkCompatible(plan: PhysicalPlan, checkpoint: Checkpoint): void {
  if (checkpoint.maxParallelism !== plan.maxParallelism) {
    throw new ConfigError(
      `the checkpoint was written with maxParallelism ${checkpoint.maxParallelism}, this graph has ${plan.maxParallelism}: ` +
        `key groups cannot be remapped; use maxParallelism ${checkpoint.maxParallelism} or a new checkpoint location`,
    )
  }
  const now = new Map(plan.nodes.map((n) => [n.id, n.spec.kind === 'transform' ? n.spec.name : n.spec.kind]))
  const then = new Map(Object.entries(checkpoint.nodes).map(([id, n]) => [id, n.name]))
  const keepsState = new Set(
    plan.nodes.filter((n) => n.spec.kind !== 'transform' || n.spec.stateful).map((n) => n.id),
  )
  const heldState = new Set(
    Object.entries(checkpoint.nodes)
      .filter(([, n]) => n.name === 'source' || n.name === 'sink' || n.instances.some(holdsState))
      .map(([id]) => id),
  )
  const changes: string[] = []
  for (const [id, name] of then) {
    if (!heldState.has(id) && !keepsState.has(id)) continue
    if (!now.has(id)) changes.push(`'${id}' (${name}) is gone`)
    else if (now.get(id) !== name) changes.push(`'${id}' was ${name}, is ${now.get(id)}`)
  }
  for (const [id, name] of now) {
    if (keepsState.has(id) && !then.has(id)) changes.push(`'${id}' (${name}) is new`)
  }
  if (changes.length > 0) {
    throw new ConfigError(
      `the checkpoint was written by another query shape: ${changes.join('; ')}. ` +
        `Restore with the graph that wrote it, or use a new checkpoint location`,
    )
  }
}

function holdsState(snapshot: OperatorSnapshot | undefined): boolean {
  return snapshot !== undefined && (snapshot.union !== undefined || (snapshot.keyGroups?.size ?? 0) > 0)
}
