import { ProtocolError } from '../errors.js'
import type { OperatorSnapshot } from '../graph/operator.js'
import { barrier, type BarrierMessage } from '../messages/messages.js'
import type { Checkpoint, CommitStats, NodeCheckpoint, StateBackend } from '../state/checkpoint.js'
import type { Clock } from '../time/clock.js'
import type { InstanceAddress } from './operator-instance.js'
import type { SourceEpochInfo } from './source-instance.js'

/** What the coordinator learns when an epoch is done everywhere. */
export interface EpochReport {
  readonly epoch: number
  /** Whether the epoch's state was committed to the state backend. */
  readonly checkpointed: boolean
  /** Records the sources emitted in the epoch. */
  readonly numInputRows: number
  /** Wall-clock ms when the epoch's barrier was injected, and when the last sink committed it. */
  readonly triggeredAt: number
  readonly completedAt: number
  /** The query's watermark when the barrier was injected: the minimum over source instances. */
  readonly watermark: number
  /** What each source instance read in the epoch. */
  readonly sources: readonly SourceEpochReport[]
  /** Rows the sinks committed for the epoch. */
  readonly numOutputRows: number
  /** Ms the state backend took to commit the epoch's snapshot (0 when it took none). */
  readonly snapshotMs: number
  /** Wall-clock ms when the sinks had committed the epoch (after the snapshot, if any). */
  readonly committedAt: number
  /** Bytes of each node's snapshot, per instance, when the state backend says (see `CommitStats`). */
  readonly stateBytes?: CommitStats['stateBytes']
}

export interface SourceEpochReport {
  readonly nodeId: string
  readonly instance: number
  readonly info: SourceEpochInfo
}

export interface CoordinatorOptions {
  readonly clock: Clock
  readonly firstEpoch: number
  readonly checkpointEvery: number
  /** When set, a checkpoint is due once this long passed since the last one (instead of every k-th). */
  readonly checkpointIntervalMs?: number
  readonly stateBackend: StateBackend | undefined
  readonly maxParallelism: number
  readonly nodes: readonly { readonly id: string; readonly name: string; readonly parallelism: number }[]
  /** Injects a barrier into every source instance (each reports what it read when it acknowledges). */
  readonly injectIntoSources: (barrier: BarrierMessage) => void
  /** Commits an epoch in every sink, once its checkpoint (if any) is durable. */
  readonly commitSinks: (epoch: number) => Promise<void>
  readonly onEpoch: (report: EpochReport) => void
  readonly onError: (error: unknown) => void
}

interface PendingEpoch {
  readonly barrier: BarrierMessage
  readonly triggeredAt: number
  readonly sources: SourceEpochReport[]
  outputRows: number
  readonly snapshots: Map<string, (OperatorSnapshot | undefined)[]>
  acks: number
}

/**
 * Ends epochs and commits them. An epoch is done when every instance passed its barrier and every sink
 * prepared it; then, if it was a checkpoint, its snapshots are committed to the state backend, and
 * then the sinks commit it — in epoch order. Triggers (timers) live in the job; this class only counts.
 */
export class Coordinator {
  private nextEpoch: number
  private readonly pending = new Map<number, PendingEpoch>()
  private readonly expectedAcks: number
  private commitChain: Promise<void> = Promise.resolve()
  private lastCompleted: number
  private lastCheckpointTriggeredAt = -Infinity
  /** Epochs done but not yet covered by a checkpoint: their sinks commit with the next checkpoint. */
  private readonly uncovered: { epoch: number; entry: PendingEpoch; completedAt: number }[] = []

  constructor(private readonly options: CoordinatorOptions) {
    this.nextEpoch = options.firstEpoch
    this.lastCompleted = options.firstEpoch - 1
    this.expectedAcks = options.nodes.reduce((sum, n) => sum + n.parallelism, 0)
  }

  /** The number the next barrier will carry. */
  get epoch(): number {
    return this.nextEpoch
  }

  /** Epochs injected and not yet done. */
  get inFlight(): number {
    return this.pending.size
  }

  get lastCompletedEpoch(): number {
    return this.lastCompleted
  }

  /**
   * Ends the running epoch: injects its barrier into every source. Returns the epoch's number. With a
   * state backend, every `checkpointEvery`-th epoch is a checkpoint, and so is one asked for with
   * `checkpoint: true` (the last epoch of a run, one that `processAllAvailable` waits for).
   */
  trigger(options: { checkpoint?: boolean } = {}): number {
    const epoch = this.nextEpoch++
    const now = this.options.clock.now()
    const { checkpointIntervalMs } = this.options
    const due =
      options.checkpoint === true ||
      (checkpointIntervalMs === undefined
        ? (epoch + 1) % this.options.checkpointEvery === 0
        : now - this.lastCheckpointTriggeredAt >= checkpointIntervalMs)
    if (due) this.lastCheckpointTriggeredAt = now
    const message = barrier(epoch, { checkpoint: this.options.stateBackend !== undefined && due })
    const entry: PendingEpoch = {
      barrier: message,
      triggeredAt: this.options.clock.now(),
      sources: [],
      outputRows: 0,
      snapshots: new Map(),
      acks: 0,
    }
    this.pending.set(epoch, entry)
    this.options.injectIntoSources(message)
    return epoch
  }

  /**
   * An instance passed a barrier (sources and transforms) or prepared it (sinks, with the rows they
   * wrote in the epoch).
   */
  acknowledge(
    address: InstanceAddress,
    message: BarrierMessage,
    snapshot: OperatorSnapshot | undefined,
    extra: { readonly outputRows?: number; readonly source?: SourceEpochInfo } = {},
  ): void {
    const entry = this.pending.get(message.epoch)
    if (!entry)
      throw new ProtocolError(
        `'${address.nodeId}' #${address.instance} acknowledged unknown epoch ${message.epoch}`,
      )
    if (message.checkpoint) {
      const node = this.options.nodes.find((n) => n.id === address.nodeId)!
      let list = entry.snapshots.get(address.nodeId)
      if (!list)
        entry.snapshots.set(
          address.nodeId,
          (list = new Array<OperatorSnapshot | undefined>(node.parallelism).fill(undefined)),
        )
      list[address.instance] = snapshot
    }
    entry.outputRows += extra.outputRows ?? 0
    if (extra.source)
      entry.sources.push({ nodeId: address.nodeId, instance: address.instance, info: extra.source })
    entry.acks++
    if (entry.acks === this.expectedAcks) this.complete(message.epoch, entry)
  }

  /** Resolves when every epoch done so far is committed to the state backend. */
  async flushed(): Promise<void> {
    await this.commitChain
  }

  private complete(epoch: number, entry: PendingEpoch): void {
    this.pending.delete(epoch)
    const completedAt = this.options.clock.now()
    this.commitChain = this.commitChain.then(async () => {
      try {
        let snapshotMs = 0
        let stats: CommitStats | void = undefined
        if (entry.barrier.checkpoint) {
          const start = this.options.clock.now()
          stats = await this.options.stateBackend!.commit(this.checkpointOf(epoch, entry))
          snapshotMs = this.options.clock.now() - start
        } else if (this.options.stateBackend !== undefined) {
          // No checkpoint covers this epoch yet: a crash now would replay it, perhaps cut differently,
          // so its sinks may not commit it before the next checkpoint does.
          this.uncovered.push({ epoch, entry, completedAt })
          return
        }
        for (const held of this.uncovered.splice(0))
          await this.finishEpoch(held.epoch, held.entry, held.completedAt, 0, undefined)
        await this.finishEpoch(epoch, entry, completedAt, snapshotMs, stats)
      } catch (error) {
        this.options.onError(error)
      }
    })
  }

  /** Commits an epoch in the sinks and reports it. */
  private async finishEpoch(
    epoch: number,
    entry: PendingEpoch,
    completedAt: number,
    snapshotMs: number,
    stats: CommitStats | void,
  ): Promise<void> {
    await this.options.commitSinks(epoch)
    this.lastCompleted = epoch
    this.options.onEpoch({
      epoch,
      checkpointed: entry.barrier.checkpoint,
      numInputRows: entry.sources.reduce((sum, s) => sum + s.info.numInputRows, 0),
      triggeredAt: entry.triggeredAt,
      completedAt,
      watermark: watermarkOf(entry),
      sources: entry.sources,
      numOutputRows: entry.outputRows,
      snapshotMs,
      committedAt: this.options.clock.now(),
      ...(stats?.stateBytes === undefined ? {} : { stateBytes: stats.stateBytes }),
    })
  }

  private checkpointOf(epoch: number, entry: PendingEpoch): Checkpoint {
    const nodes: Record<string, NodeCheckpoint> = {}
    for (const node of this.options.nodes) {
      nodes[node.id] = {
        name: node.name,
        parallelism: node.parallelism,
        instances: entry.snapshots.get(node.id) ?? new Array(node.parallelism).fill(undefined),
      }
    }
    return { epoch, maxParallelism: this.options.maxParallelism, watermark: watermarkOf(entry), nodes }
  }
}

/** The query's watermark at an epoch's end: the minimum over its active source instances. */
function watermarkOf(entry: PendingEpoch): number {
  // Idle instances (no split with data, or none at all) hold nothing back, as in the valve.
  const active = entry.sources.filter((s) => !s.info.idle)
  if (active.length > 0) return Math.min(...active.map((s) => s.info.watermark))
  return entry.sources.length === 0 ? -Infinity : Math.max(...entry.sources.map((s) => s.info.watermark))
}
