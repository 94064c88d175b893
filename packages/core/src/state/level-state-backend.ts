import { crc32 } from 'node:zlib'
import { Level } from 'level'
import { WeirError } from '../errors.js'
import type { OperatorSnapshot } from '../graph/operator.js'
import type { Checkpoint, CommitStats, NodeCheckpoint, StateBackend } from './checkpoint.js'
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js'

/** The layout version written into every epoch's metadata; a reader refuses versions it does not know. */
export const CHECKPOINT_FORMAT_VERSION = 1

/** What `<epoch>/meta` holds. */
export interface EpochMetadata {
  readonly formatVersion: number
  readonly epoch: number
  readonly queryId: string | null
  readonly maxParallelism: number
  readonly watermark: number
  readonly nodes: Readonly<Record<string, { readonly name: string; readonly parallelism: number }>>
  /** Number of state entries of the epoch and the CRC-32 over their keys and values, in key order. */
  readonly entries: number
  readonly checksum: number
  readonly writtenAt: string
}

/** A problem found while reading a checkpoint, reported and skipped for an older good epoch. */
export interface CheckpointProblem {
  readonly epoch: number
  readonly reason: string
}

const EPOCH_DIGITS = 12

/** How long encoding may hold the event loop before it yields a turn, in ms. */
const ENCODE_SLICE_MS = 8

/**
 * Snapshots in LevelDB under a query's checkpoint location, encoded with msgpackr, one entry per piece:
 *
 * - `<epoch>/<node>/k/<keyGroup>`: keyed state of one key group;
 * - `<epoch>/<node>/s/<split>`: a source's position in one split (a Kafka offset, a file line);
 * - `<epoch>/<node>/u/<instance>`: other instance state (union state, e.g. an aggregate's watermark);
 * - `<epoch>/meta` then `<epoch>/committed`: the epoch's metadata (query id, watermark, parallelism,
 *   format version, a checksum of the entries) and the commit marker, in the same atomic batch.
 *
 * An epoch without its marker was never committed and is removed on open; one whose entries do not
 * match its checksum is reported (`problems`) and skipped for the previous good one. The newest
 * `retain` epochs are kept.
 *
 * @example
 * ```ts
 * const backend = await LevelStateBackend.open('/var/lib/weir/word-counts/state')
 * const job = await Job.start(graph, { stateBackend: backend })
 * ```
 */
export class LevelStateBackend implements StateBackend {
  /** Problems met by the last `latest()`, newest first. */
  readonly problems: CheckpointProblem[] = []

  private constructor(
    private readonly db: Level<string, Uint8Array>,
    readonly location: string,
    private readonly retain: number,
    private readonly queryId: string | null,
  ) {}

  static async open(
    location: string,
    options: { retain?: number; queryId?: string } = {},
  ): Promise<LevelStateBackend> {
    const db = new Level<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (cause) {
      throw new WeirError(
        'checkpoint-unavailable',
        `the checkpoint at ${location} cannot be opened (${(cause as Error).message}): is another run of this query using it? Stop it, or use another checkpoint location`,
        { cause, retriable: true },
      )
    }
    const backend = new LevelStateBackend(db, location, options.retain ?? 3, options.queryId ?? null)
    await backend.removeUncommitted()
    return backend
  }

  /** Epoch numbers that have a commit marker, oldest first. */
  async committedEpochs(): Promise<number[]> {
    const epochs: number[] = []
    for await (const key of this.db.keys()) {
      if (key.endsWith('/committed')) epochs.push(Number(key.slice(0, EPOCH_DIGITS)))
    }
    return epochs
  }

  async latest(): Promise<Checkpoint | undefined> {
    this.problems.length = 0
    const epochs = await this.committedEpochs()
    for (let i = epochs.length - 1; i >= 0; i--) {
      try {
        return await this.read(epochs[i])
      } catch (error) {
        this.problems.push({ epoch: epochs[i], reason: (error as Error).message })
        process.emitWarning(
          `weir: checkpoint epoch ${epochs[i]} at ${this.location} is unreadable and is skipped: ${(error as Error).message}`,
        )
      }
    }
    return undefined
  }

  /** Reads one committed epoch; throws when it is missing, of an unknown format, or fails its checksum. */
  async read(epoch: number): Promise<Checkpoint> {
    const prefix = `${pad(epoch)}/`
    const metaBytes = await this.db.get(`${prefix}meta`)
    if (metaBytes === undefined) throw new WeirError('checkpoint-missing', `epoch ${epoch} has no metadata`)
    const meta = decodeSnapshot<EpochMetadata>(metaBytes)
    if (meta.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
      throw new WeirError(
        'checkpoint-format',
        `epoch ${epoch} was written in checkpoint format ${meta.formatVersion}; this weir reads format ${CHECKPOINT_FORMAT_VERSION}`,
      )
    }
    const nodes: Record<
      string,
      { name: string; parallelism: number; instances: (OperatorSnapshot | undefined)[] }
    > = {}
    for (const [id, node] of Object.entries(meta.nodes)) {
      nodes[id] = {
        ...node,
        instances: new Array<OperatorSnapshot | undefined>(node.parallelism).fill(undefined),
      }
    }
    const keyGroups = new Map<string, Map<number, unknown>>()
    const splits = new Map<string, Map<string, unknown>>()
    let entries = 0
    let checksum = 0
    for await (const [key, value] of this.db.iterator({ gt: prefix, lt: `${prefix}\uffff` })) {
      const rest = key.slice(prefix.length)
      if (rest === 'meta' || rest === 'committed') continue
      entries++
      checksum = crc32(value, crc32(key, checksum))
      const [nodeId, kind, ...name] = rest.split('/')
      const part = name.join('/')
      const decoded = decodeSnapshot(value)
      if (kind === 'k') {
        if (!keyGroups.has(nodeId)) keyGroups.set(nodeId, new Map())
        keyGroups.get(nodeId)!.set(Number(part), decoded)
      } else if (kind === 's') {
        if (!splits.has(nodeId)) splits.set(nodeId, new Map())
        splits.get(nodeId)!.set(part, decoded)
      } else if (kind === 'u') {
        const node = nodes[nodeId]
        if (node) node.instances[Number(part)] = { ...(node.instances[Number(part)] ?? {}), union: decoded }
      }
    }
    if (entries !== meta.entries || checksum !== meta.checksum) {
      throw new WeirError(
        'checkpoint-corrupt',
        `epoch ${epoch} is corrupt: ${entries} entries with checksum ${checksum}, its metadata says ${meta.entries} with ${meta.checksum}`,
      )
    }
    // Keyed state and split positions are not per instance: they go to instance 0's slot, and a restore
    // hands each key group and split to whichever instance owns it now.
    for (const [nodeId, groups] of keyGroups) {
      const node = nodes[nodeId]
      if (node) node.instances[0] = { ...(node.instances[0] ?? {}), keyGroups: groups }
    }
    for (const [nodeId, positions] of splits) {
      const node = nodes[nodeId]
      if (node) node.instances[0] = { ...(node.instances[0] ?? {}), union: positions }
    }
    return { epoch, maxParallelism: meta.maxParallelism, watermark: meta.watermark, nodes }
  }

  /** The metadata of one committed epoch (for tools such as `weir-checkpoint`). */
  async metadata(epoch: number): Promise<EpochMetadata | undefined> {
    const bytes = await this.db.get(`${pad(epoch)}/meta`)
    return bytes === undefined ? undefined : decodeSnapshot<EpochMetadata>(bytes)
  }

  /** Every entry of an epoch with its encoded size, for tools. */
  async *entries(epoch: number): AsyncGenerator<{ key: string; bytes: number; value: unknown }> {
    const prefix = `${pad(epoch)}/`
    for await (const [key, value] of this.db.iterator({ gt: prefix, lt: `${prefix}\uffff` })) {
      yield { key: key.slice(prefix.length), bytes: value.byteLength, value: decodeSnapshot(value) }
    }
  }

  async commit(checkpoint: Checkpoint): Promise<CommitStats> {
    const prefix = `${pad(checkpoint.epoch)}/`
    const puts: { type: 'put'; key: string; value: Uint8Array }[] = []
    const stateBytes: Record<string, number[]> = {}
    // Encoding a large state takes a while: do it in slices, giving the event loop a turn between them,
    // so records keep flowing while an epoch is written (the write itself is asynchronous in LevelDB).
    let sliceStarted = performance.now()
    const put = async (key: string, value: unknown): Promise<number> => {
      if (performance.now() - sliceStarted > ENCODE_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        sliceStarted = performance.now()
      }
      const encoded = encodeSnapshot(value)
      puts.push({ type: 'put', key, value: encoded })
      return encoded.byteLength
    }
    for (const [nodeId, node] of Object.entries(checkpoint.nodes)) {
      const bytes = (stateBytes[nodeId] = new Array<number>(node.instances.length).fill(0))
      for (const [instance, snapshot] of node.instances.entries()) {
        if (!snapshot) continue
        for (const [group, state] of snapshot.keyGroups ?? []) {
          bytes[instance] += await put(`${prefix}${nodeId}/k/${group}`, state)
        }
        if (isSourceNode(node) && snapshot.union instanceof Map) {
          for (const [split, position] of snapshot.union) {
            bytes[instance] += await put(`${prefix}${nodeId}/s/${String(split)}`, position)
          }
        } else if (snapshot.union !== undefined) {
          bytes[instance] += await put(`${prefix}${nodeId}/u/${instance}`, snapshot.union)
        }
      }
    }
    puts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    let checksum = 0
    for (const put of puts) checksum = crc32(put.value, crc32(put.key, checksum))
    const meta: EpochMetadata = {
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      epoch: checkpoint.epoch,
      queryId: this.queryId,
      maxParallelism: checkpoint.maxParallelism,
      watermark: checkpoint.watermark,
      nodes: Object.fromEntries(
        Object.entries(checkpoint.nodes).map(([id, n]) => [id, { name: n.name, parallelism: n.parallelism }]),
      ),
      entries: puts.length,
      checksum,
      writtenAt: new Date().toISOString(),
    }
    // After `latest()` skipped this epoch as corrupt, the restored run writes it again: none of the old
    // entries may outlive it, or the new epoch would fail its checksum in turn.
    await this.db.clear({ gte: prefix, lt: `${prefix}\uffff` })
    await this.db.batch([
      ...puts,
      { type: 'put', key: `${prefix}meta`, value: encodeSnapshot(meta) },
      { type: 'put', key: `${prefix}committed`, value: encodeSnapshot(true) },
    ])
    await this.prune(checkpoint.epoch)
    return { stateBytes }
  }

  async close(): Promise<void> {
    await this.db.close()
  }

  /** Keeps the newest `retain` committed epochs. */
  private async prune(newest: number): Promise<void> {
    const epochs = await this.committedEpochs()
    const keep = epochs.filter((e) => e <= newest).slice(-this.retain)
    const oldestKept = keep[0] ?? newest
    if (epochs[0] !== undefined && epochs[0] < oldestKept) await this.db.clear({ lt: `${pad(oldestKept)}/` })
  }

  /** Deletes whatever belongs to epochs newer than the newest commit marker (a write cut short). */
  private async removeUncommitted(): Promise<void> {
    const epochs = await this.committedEpochs()
    const newest = epochs.at(-1)
    await this.db.clear(newest === undefined ? {} : { gt: `${pad(newest)}/\uffff` })
  }
}

function isSourceNode(node: NodeCheckpoint): boolean {
  return node.name === 'source'
}

function pad(epoch: number): string {
  return String(epoch).padStart(EPOCH_DIGITS, '0')
}
