import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  decodeSnapshot,
  encodeSnapshot,
  keyGroupRange,
  type Checkpoint,
  type NodeCheckpoint,
  type OperatorSnapshot,
  type StateBackend,
} from '@weir/core'

/** One repartition partition's share of a committed epoch: its key groups and its split's position. */
interface PartitionFile {
  /** The process that wrote it (`PartitionCheckpointsOptions.owner`). */
  readonly owner?: string
  readonly epoch: number
  readonly watermark: number
  readonly maxParallelism: number
  readonly nodes: Record<string, NodeCheckpoint>
}

export interface PartitionCheckpointsOptions {
  /** The shared directory every process of the query sees. */
  readonly dir: string
  readonly topic: string
  /** The repartition topic's partition count. */
  readonly partitions: number
  /** The partitions this process owns, now. */
  readonly owned: () => ReadonlySet<number>
  /** This process, in the files it writes (a process that gains a partition waits for its last writer to release it). */
  readonly owner?: string
}

/**
 * Checkpoints of a downstream sub-topology kept per repartition partition in a shared directory, as
 * Kafka Streams keeps a task's state with its input partition: `<topic>-<p>.ckpt` holds the key groups
 * `keyGroupRange(p, partitions, maxParallelism)` of every node and the position of split `<topic>-<p>`,
 * taken at the same barrier, so any file is a consistent (state, position) pair. A process that gains a
 * partition restores from its file; a process only writes the partitions it still owns. Written to a
 * temporary name and renamed, so a reader never sees half a file.
 *
 * @example
 * ```ts
 * const restored = readPartitionCheckpoint({ dir, topic, partitions: 4, owned: () => new Set([1, 3]) })
 * Job.start(graph, { stateBackend: partitionCheckpoints({ dir, topic, partitions: 4, owned }, restored) })
 * ```
 */
export function partitionCheckpoints(
  options: PartitionCheckpointsOptions,
  restored: Checkpoint | undefined,
): StateBackend {
  mkdirSync(options.dir, { recursive: true })
  return {
    latest: () => Promise.resolve(restored),
    commit: (checkpoint) => {
      for (const p of options.owned()) writePartition(options, p, checkpoint)
      return Promise.resolve()
    },
    close: () => Promise.resolve(),
  }
}

/** The files of the partitions owned now, merged into one checkpoint; undefined when there is none. */
export function readPartitionCheckpoint(options: PartitionCheckpointsOptions): Checkpoint | undefined {
  const files: PartitionFile[] = []
  let missing = false
  for (const p of options.owned()) {
    const path = fileOf(options, p)
    if (!existsSync(path)) {
      missing = true
      continue
    }
    files.push(decodeSnapshot<PartitionFile>(readFileSync(path)))
  }
  if (files.length === 0) return undefined
  // A partition that starts afresh, or one behind the others, must not be held to a later watermark.
  const watermark = missing ? -Infinity : Math.min(...files.map((f) => f.watermark))
  const nodes: Record<string, NodeCheckpoint> = {}
  for (const file of files) {
    for (const [id, node] of Object.entries(file.nodes)) {
      const instances = node.instances.map((s) => clampWatermark(s, watermark))
      const before = nodes[id]
      nodes[id] = before
        ? {
            ...before,
            parallelism: before.parallelism + instances.length,
            instances: [...before.instances, ...instances],
          }
        : { name: node.name, parallelism: instances.length, instances }
    }
  }
  return {
    epoch: Math.max(...files.map((f) => f.epoch)),
    maxParallelism: files[0].maxParallelism,
    watermark,
    nodes,
  }
}

function fileOf(options: PartitionCheckpointsOptions, partition: number): string {
  return join(options.dir, `${options.topic}-${partition}.ckpt`)
}

function releaseFileOf(options: PartitionCheckpointsOptions, partition: number): string {
  return join(options.dir, `${options.topic}-${partition}.released`)
}

/**
 * Marks `partition` released by `options.owner`: that process has stopped and its last file of the
 * partition is written. The marker names the owner, so it means nothing once another process writes.
 */
export function releasePartition(options: PartitionCheckpointsOptions, partition: number): void {
  if (options.owner === undefined) return
  mkdirSync(options.dir, { recursive: true })
  const path = releaseFileOf(options, partition)
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, options.owner)
  renameSync(temporary, path)
}

/**
 * Whether a process may take `partition` now: it has no file yet, `options.owner` wrote it last, or
 * its last writer released it.
 */
export function isReleased(options: PartitionCheckpointsOptions, partition: number): boolean {
  const path = fileOf(options, partition)
  if (!existsSync(path)) return true
  const { owner } = decodeSnapshot<PartitionFile>(readFileSync(path))
  if (owner === undefined || owner === options.owner) return true
  try {
    return readFileSync(releaseFileOf(options, partition), 'utf8') === owner
  } catch {
    return false
  }
}

function writePartition(
  options: PartitionCheckpointsOptions,
  partition: number,
  checkpoint: Checkpoint,
): void {
  const range = keyGroupRange(partition, options.partitions, checkpoint.maxParallelism)
  const split = `${options.topic}-${partition}`
  const nodes: Record<string, NodeCheckpoint> = {}
  for (const [id, node] of Object.entries(checkpoint.nodes)) {
    const instances = node.instances.map((snapshot): OperatorSnapshot | undefined => {
      if (!snapshot) return undefined
      const keyGroups = snapshot.keyGroups
        ? new Map([...snapshot.keyGroups].filter(([group]) => group >= range.start && group < range.end))
        : undefined
      const union =
        snapshot.union instanceof Map
          ? new Map([...snapshot.union].filter(([s]) => s === split))
          : snapshot.union
      return { keyGroups, union }
    })
    nodes[id] = { name: node.name, parallelism: node.parallelism, instances }
  }
  const file: PartitionFile = {
    owner: options.owner,
    epoch: checkpoint.epoch,
    watermark: checkpoint.watermark,
    maxParallelism: checkpoint.maxParallelism,
    nodes,
  }
  const path = fileOf(options, partition)
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, encodeSnapshot(file))
  renameSync(temporary, path)
}

/** An operator's union watermark (keyed aggregate) restored no higher than the merged checkpoint's. */
function clampWatermark(
  snapshot: OperatorSnapshot | undefined,
  watermark: number,
): OperatorSnapshot | undefined {
  const union = snapshot?.union as { watermark?: unknown } | undefined
  if (
    !snapshot ||
    union === null ||
    typeof union !== 'object' ||
    union instanceof Map ||
    typeof union.watermark !== 'number'
  )
    return snapshot
  return { ...snapshot, union: { ...union, watermark: Math.min(union.watermark, watermark) } }
}
