import { Subject } from 'rxjs'
import { ConfigError, WeirError } from '../errors.js'
import type { OperatorSnapshot, Resume } from '../graph/operator.js'
import { DEAD_LETTER } from '../graph/record-function.js'
import { buildPhysicalPlan, gateChannels, type PhysicalNode, type PhysicalPlan } from '../graph/physical-plan.js'
import type { StreamGraph } from '../graph/stream-graph.js'
import type { SourceReader } from '../io/source.js'
import { keyGroupRange } from '../keys/key-groups.js'
import type { BarrierMessage, Message } from '../messages/messages.js'
import type { Checkpoint, StateBackend } from '../state/checkpoint.js'
import { systemClock, type Clock } from '../time/clock.js'
import { BusyTime } from '../metrics/busy-time.js'
import type { EpochSummary, JobMetrics } from '../metrics/job-metrics.js'
import { snapshotJob } from '../metrics/job-snapshot.js'
import { Backpressure } from './backpressure.js'
import { Coordinator, type EpochReport } from './coordinator.js'
import type { Emitter } from './emitter.js'
import { exchangeWriter } from './exchange.js'
import { InputGate } from './input-gate.js'
import { fanOut, OperatorInstance, type InstanceAddress } from './operator-instance.js'
import { SinkInstance } from './sink-instance.js'
import { sourceFailure, SourceInstance, type SourceEpochInfo } from './source-instance.js'
import { validateTrigger, type Trigger } from './trigger.js'

export interface JobOptions {
  readonly trigger?: Trigger
  readonly clock?: Clock
  /** Where epochs are committed; without one nothing is snapshotted and nothing restored. */
  readonly stateBackend?: StateBackend
  /** Snapshot every k-th epoch (default 1: every epoch). */
  readonly checkpointEvery?: number
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

  private constructor(graph: StreamGraph, options: JobOptions) {
    this.plan = buildPhysicalPlan(graph)
    this.clock = options.clock ?? systemClock
    this.trigger = validateTrigger(options.trigger ?? { kind: 'processingTime', intervalMs: 0 })
    this.idleEpochDelayMs = options.idleEpochDelayMs ?? 100
    this.queryId = options.queryId
    this.busyTime = options.metrics === false ? undefined : new BusyTime()
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
    return this.coordinator.epoch
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

  /** Ends the running epoch now. Returns its number. An error at the barrier fails the job, and is thrown. */
  triggerEpoch(): number {
    if (this.jobState !== 'running') throw new WeirError('not-running', `the job is ${this.jobState}: no epoch can start`)
    try {
      return this.coordinator.trigger()
    } catch (error) {
      this.fail(error)
      throw error
    }
  }

  /**
   * Waits until every source has emitted what it could read now, ends the epoch, and resolves when that
   * epoch is done everywhere (Spark's `processAllAvailable`). With the `manual` trigger it is how a test
   * or an embedding app steps through epochs. Rejects if the job fails; resolves at once once it ended.
   */
  async processAllAvailable(): Promise<void> {
    if (this.jobState === 'running') await Promise.all(this.sources.map((s) => s.caughtUp()))
    if (this.jobState !== 'running') {
      await this.done
      return
    }
    const epoch = this.triggerEpoch()
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
          reject(error)
        },
      )
    })
  }

  /** Every counter of every instance, by `nodeId#instance`. */
  counters(): Record<string, Record<string, number>> {
    const all: Record<string, Record<string, number>> = {}
    for (const i of [...this.sources, ...this.operators, ...this.sinks]) all[`${i.nodeId}#${i.instance}`] = i.counters.toJSON()
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
    return snapshotJob({
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
      epochs: { current: this.coordinator.epoch, completed: this.epochsCompleted, inFlight: this.coordinator.inFlight, recent: [...this.recentEpochs] },
    })
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
    if (this.jobState === 'running') {
      this.jobState = 'stopping'
      void this.finish()
    }
    await this.done.catch(() => undefined)
    if (this.jobState === 'failed') throw this.failure
  }

  private async open(options: JobOptions): Promise<void> {
    const checkpoint = options.stateBackend ? await options.stateBackend.latest() : undefined
    if (checkpoint) checkCompatible(this.plan, checkpoint)
    const firstEpoch = checkpoint ? checkpoint.epoch + 1 : 0
    const checkpointEvery = options.checkpointEvery ?? 1
    if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) {
      throw new ConfigError(`checkpointEvery ${checkpointEvery} must be a whole number of epochs >= 1, e.g. 1`)
    }
    this.coordinator = new Coordinator({
      clock: this.clock,
      firstEpoch,
      checkpointEvery,
      stateBackend: options.stateBackend,
      maxParallelism: this.plan.maxParallelism,
      nodes: this.plan.nodes.map((n) => ({
        id: n.id,
        name: n.spec.kind === 'transform' ? n.spec.name : n.spec.kind,
        parallelism: n.parallelism,
      })),
      injectIntoSources: (barrier) => this.injectIntoSources(barrier),
      commitSinks: async (epoch) => {
        await Promise.all(this.sinks.map((sink) => sink.commit(epoch)))
      },
      onEpoch: (report) => this.epochDone(report),
      onError: (error) => this.fail(error),
    })
    const readers = await this.createReaders(checkpoint)
    await this.wire(firstEpoch, checkpoint, readers)
    this.loops = this.sources.map((s) => this.runSource(s))
    this.scheduleNext(0)
  }

  private async createReaders(checkpoint: Checkpoint | undefined): Promise<Map<string, SourceReader<unknown>[]>> {
    const readers = new Map<string, SourceReader<unknown>[]>()
    for (const node of this.plan.nodes) {
      if (node.spec.kind !== 'source') continue
      const spec = node.spec
      const restored = restoredPositions(checkpoint, node.id)
      const list: SourceReader<unknown>[] = []
      for (let i = 0; i < node.parallelism; i++) {
        list.push(
          await spec.source.createReader({
            sourceId: node.id,
            instance: i,
            parallelism: node.parallelism,
            clock: this.clock,
            restored,
            availableNow: this.trigger.kind === 'availableNow',
          }),
        )
      }
      readers.set(node.id, list)
    }
    return readers
  }

  /** Creates instances from the sinks back to the sources, so each one's outputs exist when it is built. */
  private async wire(firstEpoch: number, checkpoint: Checkpoint | undefined, readers: Map<string, SourceReader<unknown>[]>) {
    const instances = new Map<string, Emitter[]>()
    const gateOf = new Map<string, { gate: InputGate; index: Map<string, number> }>()
    const listener = {
      onBarrier: (a: InstanceAddress, b: BarrierMessage, s: OperatorSnapshot | undefined, source?: SourceEpochInfo) =>
        this.acknowledge(a, b, s, { source }),
    }
    for (const node of [...this.plan.nodes].reverse()) {
      const list: Emitter[] = []
      for (let i = 0; i < node.parallelism; i++) {
        const outputs = this.outputsOf(node, i, instances, gateOf)
        const range = keyGroupRange(i, node.parallelism, this.plan.maxParallelism)
        let instance: Emitter
        switch (node.spec.kind) {
          case 'source': {
            const source = new SourceInstance({
              spec: node.spec,
              instance: i,
              reader: readers.get(node.id)![i]!,
              downstream: fanOut(outputs.get('main') ?? []),
              deadLetters: outputs.has(DEAD_LETTER) ? fanOut(outputs.get(DEAD_LETTER)!) : undefined,
              hooks: { ...listener, onFinished: () => this.sourceFinished() },
              backpressure: this.backpressure,
              clock: this.clock,
              restored: restoredPositions(checkpoint, node.id),
              firstEpoch,
              restoredWatermark: checkpoint?.watermark,
              busyTime: this.busyTime,
            })
            this.sources.push(source)
            instance = { process: () => undefined }
            break
          }
          case 'transform': {
            const operator = new OperatorInstance(
              node.spec,
              { instance: i, parallelism: node.parallelism, maxParallelism: this.plan.maxParallelism, keyGroups: range, clock: this.clock, firstEpoch, busyTime: this.busyTime },
              outputs,
              listener,
              resumeOf(checkpoint, node.id, range, firstEpoch),
            )
            this.operators.push(operator)
            instance = operator
            break
          }
          case 'sink': {
            const writer = await node.spec.sink.createWriter({
              sinkId: node.id,
              instance: i,
              parallelism: node.parallelism,
              queryId: this.queryId,
              firstEpoch,
              ...(node.spec.columns === undefined ? {} : { columns: node.spec.columns }),
            })
            const sink = new SinkInstance(
              node.spec,
              i,
              writer,
              {
                onPrepared: (s, b, rows) => this.acknowledge(s, b, undefined, { outputRows: rows }),
                onEnd: () => this.sinkEnded(),
                onError: (e) => this.fail(e),
              },
              this.backpressure,
              firstEpoch,
              { timed: this.busyTime !== undefined },
            )
            this.sinks.push(sink)
            instance = sink
            break
          }
        }
        if (node.exchangeInputs.length > 0) {
          const channels = gateChannels(this.plan, node, i)
          const gate = new InputGate(channels.length, instance)
          this.gates.push(gate)
          const index = new Map(channels.map((c, n) => [channelKey(node.exchangeInputs.indexOf(c.edge), c.upstreamInstance), n]))
          gateOf.set(`${node.id}#${i}`, { gate, index })
        }
        list.push(instance)
      }
      instances.set(node.id, list)
    }
  }

  private outputsOf(
    node: PhysicalNode,
    i: number,
    instances: Map<string, Emitter[]>,
    gateOf: Map<string, { gate: InputGate; index: Map<string, number> }>,
  ): Map<string, Emitter[]> {
    const outputs = new Map<string, Emitter[]>()
    for (const edge of node.outputs) {
      const target = this.plan.nodes.find((n) => n.id === edge.to)!
      let emitter: Emitter
      if (target.chainedInput === edge) {
        emitter = instances.get(target.id)![i]!
      } else {
        const targets = edge.partitioner.kind === 'forward' ? [i] : range(target.parallelism)
        const channels = targets.map((j) => {
          const { gate, index } = gateOf.get(`${target.id}#${j}`)!
          const channel = index.get(channelKey(target.exchangeInputs.indexOf(edge), i))!
          return this.channel(gate, channel)
        })
        emitter = exchangeWriter(edge.partitioner, channels, this.plan.maxParallelism)
      }
      const list = outputs.get(edge.tag) ?? []
      list.push(emitter)
      outputs.set(edge.tag, list)
    }
    return outputs
  }

  /** One channel of an exchange: an RxJS subject that the downstream gate subscribes to. */
  private channel(gate: InputGate, index: number): Emitter {
    const subject = new Subject<Message>()
    subject.subscribe((message) => {
      if (this.jobState === 'failed') return
      try {
        gate.receive(index, message)
      } catch (error) {
        this.fail(error)
      }
    })
    return { process: (message) => subject.next(message) }
  }

  private async runSource(source: SourceInstance): Promise<void> {
    try {
      await source.run()
    } catch (error) {
      this.fail(error instanceof WeirError ? error : sourceFailure(source.nodeId, error))
    }
  }

  private injectIntoSources(barrier: BarrierMessage): void {
    for (const source of this.sources) source.injectBarrier(barrier)
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
        this.fail(new WeirError('listener-failed', `an epoch listener threw: ${String(error)}`, { cause: error }))
      }
    }
    if (this.jobState !== 'failed') {
      for (const { nodeId, instance, info } of report.sources) {
        this.sources.find((s) => s.nodeId === nodeId && s.instance === instance)?.epochCommitted(report.epoch, info.endPositions)
      }
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
      const quiet = this.sources.every((s) => s.rowsThisEpoch === 0)
      if (quiet && this.trigger.kind !== 'continuous' && (this.trigger.kind !== 'processingTime' || this.trigger.intervalMs === 0)) {
        // Nothing new: look again shortly rather than end empty epochs back to back.
        if (!this.quiet) {
          this.quiet = true
          for (const listener of [...this.quietListeners]) listener()
        }
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined
          this.scheduleNext(this.clock.now() - (this.trigger.kind === 'processingTime' ? this.trigger.intervalMs : 0))
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
    if (this.jobState === 'running' && this.sources.every((s) => s.isFinished)) {
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
      await Promise.all(this.loops)
      if (this.jobState !== 'stopping') return
      try {
        this.coordinator.trigger()
        for (const source of this.sources) source.end()
      } catch (error) {
        this.fail(error)
      }
    })()
    return this.finishing
  }

  /** Every sink saw End: once the last epochs are committed, close the writers and finish. */
  private sinkEnded(): void {
    this.endedSinks++
    if (this.endedSinks < this.sinks.length || this.jobState === 'failed') return
    void (async () => {
      await this.coordinator.flushed()
      if ((this.jobState as JobState) === 'failed') return
      // A writer that fails to close fails the job through its instance's error hook.
      await Promise.all(this.sinks.map((sink) => sink.close()))
      await Promise.all(this.sources.map((s) => s.close().catch(() => undefined)))
      if ((this.jobState as JobState) === 'failed') return
      this.jobState = 'finished'
      this.resolveDone()
    })()
  }

  private fail(error: unknown): void {
    if (this.jobState === 'failed' || this.jobState === 'finished') return
    this.jobState = 'failed'
    this.failure = error
    this.timer?.()
    this.timer = undefined
    for (const source of this.sources) source.abort()
    this.backpressure.releaseAll()
    // Release what the readers and writers hold (sockets, files) so the process can exit; staged epochs
    // stay for the next run to finish or replay.
    void Promise.all([
      ...this.sources.map((s) => s.close().catch(() => undefined)),
      ...this.sinks.map((s) => s.abort()),
    ]).then(() => this.rejectDone(error))
  }
}

/**
 * A gate channel by its input edge (its place among the target's exchange inputs, not its `from` and
 * tag: a stream unioned with itself reaches the target twice) and its upstream instance.
 */
function channelKey(input: number, upstream: number): string {
  return `${input}#${upstream}`
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

function restoredPositions(checkpoint: Checkpoint | undefined, nodeId: string): ReadonlyMap<string, unknown> {
  const positions = new Map<string, unknown>()
  for (const snapshot of checkpoint?.nodes[nodeId]?.instances ?? []) {
    const union = snapshot?.union
    if (union instanceof Map) for (const [split, position] of union) positions.set(split as string, position)
  }
  return positions
}

function resumeOf(
  checkpoint: Checkpoint | undefined,
  nodeId: string,
  owned: { start: number; end: number },
  firstEpoch: number,
): Resume | undefined {
  const node = checkpoint?.nodes[nodeId]
  if (!node) return undefined
  const keyGroups = new Map<number, unknown>()
  const union: unknown[] = []
  for (const snapshot of node.instances) {
    if (!snapshot) continue
    if (snapshot.union !== undefined) union.push(snapshot.union)
    for (const [group, state] of snapshot.keyGroups ?? []) {
      if (group >= owned.start && group < owned.end) keyGroups.set(group, state)
    }
  }
  return { epoch: firstEpoch - 1, keyGroups, union }
}

/** A checkpoint restores only into the graph that wrote it: same nodes, same operators, same key groups. */
function checkCompatible(plan: PhysicalPlan, checkpoint: Checkpoint): void {
  if (checkpoint.maxParallelism !== plan.maxParallelism) {
    throw new ConfigError(
      `the checkpoint was written with maxParallelism ${checkpoint.maxParallelism}, this graph has ${plan.maxParallelism}: ` +
        `key groups cannot be remapped; use maxParallelism ${checkpoint.maxParallelism} or a new checkpoint location`,
    )
  }
  const now = new Map(plan.nodes.map((n) => [n.id, n.spec.kind === 'transform' ? n.spec.name : n.spec.kind]))
  const then = new Map(Object.entries(checkpoint.nodes).map(([id, n]) => [id, n.name]))
  const changes: string[] = []
  for (const [id, name] of then) {
    if (!now.has(id)) changes.push(`'${id}' (${name}) is gone`)
    else if (now.get(id) !== name) changes.push(`'${id}' was ${name}, is ${now.get(id)}`)
  }
  for (const [id, name] of now) if (!then.has(id)) changes.push(`'${id}' (${name}) is new`)
  if (changes.length > 0) {
    throw new ConfigError(
      `the checkpoint was written by another query shape: ${changes.join('; ')}. ` +
        `Restore with the graph that wrote it, or use a new checkpoint location`,
    )
  }
}
