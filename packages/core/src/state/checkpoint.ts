import type { OperatorSnapshot } from '../graph/operator.js'

/** Everything one committed epoch holds: the state of every instance of every node, and the metadata. */
export interface Checkpoint {
  readonly epoch: number
  readonly maxParallelism: number
  /** The query's watermark when the epoch ended (the minimum over the sinks' inputs). */
  readonly watermark: number
  readonly nodes: Readonly<Record<string, NodeCheckpoint>>
}

export interface NodeCheckpoint {
  /** `source`, `sink`, or the operator's name (`keyed-aggregate`): a restore refuses another shape. */
  readonly name: string
  readonly parallelism: number
  /** One snapshot per instance of the run that wrote it (index = old instance). */
  readonly instances: readonly (OperatorSnapshot | undefined)[]
}

/** Where committed epochs are kept. LevelDB in production (see the checkpoint issue); memory in tests. */
export interface StateBackend {
  /** The newest committed epoch, or undefined when there is none. */
  latest(): Promise<Checkpoint | undefined>
  /**
   * Commits an epoch atomically: either all of it is readable afterwards, or none. May say what it
   * wrote (for metrics).
   */
  commit(checkpoint: Checkpoint): Promise<CommitStats | void>
  close(): Promise<void>
}

/** What a state backend may report about an epoch it committed. */
export interface CommitStats {
  /** Encoded bytes of each node's snapshot, by node id, one number per instance (its keyed and union state). */
  readonly stateBytes?: Readonly<Record<string, readonly number[]>>
}
