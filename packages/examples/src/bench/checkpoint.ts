import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import {
  Job,
  LevelStateBackend,
  StreamGraph,
  type Checkpoint,
  type CommitStats,
  type EpochReport,
  type Sink,
  type Source,
  type SourceBatch,
  type StateBackend,
  type TransformSpec,
} from '@weir/core'
import { count, keyedAggregate, sink, source, type AggregateRow } from '@weir/operators'

/** What the checkpoint benchmark runs. */
export interface CheckpointBenchOptions {
  /** Keys of the large state (default 1,000,000): loaded first, one record each. */
  readonly stateKeys: number
  /** How long each run lasts, the load included (default 10 s). */
  readonly seconds: number
  /** Keys the records after the load go to (default 10,000). */
  readonly hotKeys: number
  /** Runs of each kind; figures are medians (default 3). */
  readonly rounds: number
  /** Records a source poll returns (default 1000). */
  readonly batchSize: number
}

export const DEFAULT_CHECKPOINT_BENCH: CheckpointBenchOptions = {
  stateKeys: 1_000_000,
  seconds: 10,
  hotKeys: 10_000,
  rounds: 3,
  batchSize: 1000,
}

/** One run of the keyed count: how fast, and what its checkpoints cost. */
export interface CheckpointRun {
  readonly stateKeys: number
  readonly checkpoints: boolean
  readonly seconds: number
  readonly recordsPerSecond: number
  /** The longest stretch the event loop was blocked (ms): a pause in processing. */
  readonly maxEventLoopDelayMs: number
  /** Per checkpoint (none without a backend): ms, bytes. */
  readonly snapshots: readonly SnapshotCost[]
}

export interface SnapshotCost {
  readonly epoch: number
  /** The operator's `snapshot()` at the barrier, synchronous: processing waits. */
  readonly barrierMs: number
  /** Encoding every key group (msgpack) and the checksum, synchronous, when the epoch is committed. */
  readonly encodeMs: number
  /** The LevelDB batch and the pruning of old epochs, asynchronous: processing goes on meanwhile. */
  readonly writeMs: number
  /** Encoded bytes of the aggregate's state. */
  readonly stateBytes: number
}

/** What restoring the last checkpoint of a run with `stateKeys` keys costs. */
export interface RestoreCost {
  readonly stateKeys: number
  /** `latest()`: reading the newest committed epoch, checking its checksum and decoding it. */
  readonly readMs: number
  /** `Job.start` with the checkpoint: read, decode, and load the state into the aggregate. */
  readonly startMs: number
  /** Bytes of the LevelDB directory (compressed, newest epochs kept). */
  readonly diskBytes: number
}

/** A deep copy of the same state, for comparison with the barrier's snapshot. */
export interface CopyCost {
  readonly stateKeys: number
  /** `structuredClone` of the snapshot's key groups: what copying the state at the barrier would cost. */
  readonly deepCopyMs: number
}

export interface CheckpointReport {
  readonly options: CheckpointBenchOptions
  readonly withoutCheckpoints: CheckpointRun
  readonly withCheckpoints: CheckpointRun
  /** Records per second with a snapshot every second, over without (medians). */
  readonly throughputRatio: number
  /** Records per second of every round, without and with checkpoints, in the order they ran. */
  readonly rounds: { readonly without: readonly number[]; readonly with: readonly number[] }
  /** Medians over the checkpoints that held the whole large state. */
  readonly snapshot: SnapshotCost
  readonly copy: CopyCost
  readonly restore: RestoreCost
}

/**
 * The cost of checkpoints: a keyed count (update mode) first loads `stateKeys` keys, then counts records
 * over `hotKeys` of them for the rest of `seconds`, with an epoch every second, once without a state
 * backend and once with LevelDB taking a snapshot every epoch (runs interleaved, figures are medians). Reports throughput, the longest pause of the event
 * loop, what each snapshot cost at the barrier (synchronous), in encoding (synchronous, at commit) and
 * in writing (asynchronous), its size, what restoring it costs, and what a deep copy of the state would
 * cost instead of the snapshot.
 *
 * @example
 * ```ts
 * const report = await checkpointBenchmark({ ...DEFAULT_CHECKPOINT_BENCH, rounds: 1 })
 * console.log(report.throughputRatio, report.snapshot.barrierMs)
 * ```
 */
export async function checkpointBenchmark(
  options: CheckpointBenchOptions = DEFAULT_CHECKPOINT_BENCH,
): Promise<CheckpointReport> {
  const without: CheckpointRun[] = []
  const withCheckpoints: CheckpointRun[] = []
  const restores: RestoreCost[] = []
  const copies: CopyCost[] = []
  for (let round = 0; round < options.rounds; round++) {
    without.push((await runKeyedCount(options, undefined)).run)
    const dir = await mkdtemp(join(tmpdir(), 'weir-bench-checkpoint-'))
    try {
      const backend = await LevelStateBackend.open(dir)
      const { run, lastSnapshot } = await runKeyedCount(options, backend)
      withCheckpoints.push(run)
      await backend.close()
      copies.push(deepCopyCost(options.stateKeys, lastSnapshot))
      restores.push(await restoreCost(options, dir))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
  const medianRun = (runs: readonly CheckpointRun[]) =>
    [...runs].sort((a, b) => a.recordsPerSecond - b.recordsPerSecond)[runs.length >> 1]
  // The checkpoints that hold the whole large state (not those taken while it was being loaded).
  const all = withCheckpoints.flatMap((r) => r.snapshots)
  const largest = Math.max(0, ...all.map((s) => s.stateBytes))
  const full = all.filter((s) => s.stateBytes >= 0.9 * largest)
  const rounds = {
    without: without.map((r) => Math.round(r.recordsPerSecond)),
    with: withCheckpoints.map((r) => Math.round(r.recordsPerSecond)),
  }
  const withRun = medianRun(withCheckpoints)
  const withoutRun = medianRun(without)
  return {
    options,
    withoutCheckpoints: withoutRun,
    withCheckpoints: withRun,
    throughputRatio: withRun.recordsPerSecond / withoutRun.recordsPerSecond,
    rounds,
    snapshot: {
      epoch: -1,
      barrierMs: median(full.map((s) => s.barrierMs)),
      encodeMs: median(full.map((s) => s.encodeMs)),
      writeMs: median(full.map((s) => s.writeMs)),
      stateBytes: median(full.map((s) => s.stateBytes)),
    },
    copy: { stateKeys: options.stateKeys, deepCopyMs: median(copies.map((c) => c.deepCopyMs)) },
    restore: {
      stateKeys: options.stateKeys,
      readMs: median(restores.map((r) => r.readMs)),
      startMs: median(restores.map((r) => r.startMs)),
      diskBytes: median(restores.map((r) => r.diskBytes)),
    },
  }
}

/** The keyed count over the bench's records, with or without a state backend. */
async function runKeyedCount(
  options: CheckpointBenchOptions,
  backend: LevelStateBackend | undefined,
): Promise<{ run: CheckpointRun; lastSnapshot: unknown }> {
  const barrier = new Map<number, number>()
  let lastSnapshot: unknown
  const timed = timedSnapshots(counts(), (epoch, ms, snapshot) => {
    barrier.set(epoch, ms)
    lastSnapshot = snapshot
  })
  const commits = new Map<number, { encodeMs: number; writeMs: number; stateBytes: number }>()
  const measured = backend && new MeasuredBackend(backend, (epoch, cost) => commits.set(epoch, cost))
  const graph = new StreamGraph()
  graph
    .from(source('events', keyedRecords(options)))
    .keyBy((key: number) => key)
    .via(timed)
    .to(sink('tally', new Tally()))
  const delay = monitorEventLoopDelay({ resolution: 5 })
  const start = performance.now()
  const job = await Job.start(graph, {
    trigger: { kind: 'processingTime', intervalMs: 1000 },
    stateBackend: measured,
    metrics: false,
  })
  const epochs: EpochReport[] = []
  job.onEpoch((report) => epochs.push(report))
  delay.enable()
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000))
  await job.stop()
  delay.disable()
  const seconds = (performance.now() - start) / 1000
  const read = job.counters()['events#0']?.recordsRead ?? 0
  const snapshots = epochs
    .filter((e) => e.checkpointed)
    .map((e) => ({ epoch: e.epoch, barrierMs: barrier.get(e.epoch) ?? 0, ...commits.get(e.epoch)! }))
  return {
    run: {
      stateKeys: options.stateKeys,
      checkpoints: backend !== undefined,
      seconds,
      recordsPerSecond: read / seconds,
      maxEventLoopDelayMs: delay.max / 1e6,
      snapshots,
    },
    lastSnapshot,
  }
}

/** What a new run pays to come back from the run's last checkpoint. */
async function restoreCost(options: CheckpointBenchOptions, dir: string): Promise<RestoreCost> {
  const diskBytes = await directoryBytes(dir)
  const backend = await LevelStateBackend.open(dir)
  try {
    let start = performance.now()
    const checkpoint = await backend.latest()
    const readMs = performance.now() - start
    if (!checkpoint) throw new Error('the checkpointed run left no checkpoint')
    const graph = new StreamGraph()
    graph
      .from(source('events', keyedRecords(options)))
      .keyBy((key: number) => key)
      .via(counts())
      .to(sink('tally', new Tally()))
    start = performance.now()
    const job = await Job.start(graph, { trigger: { kind: 'manual' }, stateBackend: backend, metrics: false })
    const startMs = performance.now() - start
    await job.done
    return { stateKeys: options.stateKeys, readMs, startMs, diskBytes }
  } finally {
    await backend.close()
  }
}

function deepCopyCost(stateKeys: number, snapshot: unknown): CopyCost {
  const start = performance.now()
  structuredClone(snapshot)
  return { stateKeys, deepCopyMs: performance.now() - start }
}

function counts(): TransformSpec<number, AggregateRow<number>> {
  return keyedAggregate('counts', { aggregator: count<number>(), outputMode: 'update' })
}

/** Wraps an operator so that each of its snapshots is timed (the synchronous work at the barrier). */
function timedSnapshots<I, O>(
  spec: TransformSpec<I, O>,
  onSnapshot: (epoch: number, ms: number, snapshot: unknown) => void,
): TransformSpec<I, O> {
  return {
    ...spec,
    build(context, resume) {
      const logic = spec.build(context, resume)
      if (!logic.snapshot) return logic
      return {
        ...logic,
        snapshot() {
          const start = performance.now()
          const taken = logic.snapshot!()
          onSnapshot(context.epoch, performance.now() - start, taken.keyGroups)
          return taken
        },
      }
    },
  }
}

/**
 * The LevelDB backend, timed: the synchronous part of `commit` (building the entries: encoding and the
 * checksum) apart from the rest (the batch written by LevelDB's own thread, and pruning).
 */
class MeasuredBackend implements StateBackend {
  constructor(
    private readonly inner: LevelStateBackend,
    private readonly onCommit: (
      epoch: number,
      cost: { encodeMs: number; writeMs: number; stateBytes: number },
    ) => void,
  ) {}

  latest(): Promise<Checkpoint | undefined> {
    return this.inner.latest()
  }

  async commit(checkpoint: Checkpoint): Promise<CommitStats | void> {
    const start = performance.now()
    const writing = this.inner.commit(checkpoint)
    const encoded = performance.now()
    const stats = await writing
    const bytes = stats?.stateBytes?.counts?.reduce((sum, n) => sum + n, 0) ?? 0
    this.onCommit(checkpoint.epoch, {
      encodeMs: encoded - start,
      writeMs: performance.now() - encoded,
      stateBytes: bytes,
    })
    return stats
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}

/**
 * Keys as numbers, without end: first `stateKeys` records, one per key (0, 1, 2, ...), then records over
 * the first `hotKeys` keys. One split; each poll yields to the event loop first, as I/O does. Restored
 * from a checkpoint, it has nothing more to read.
 */
function keyedRecords(options: CheckpointBenchOptions): Source<number> {
  return {
    name: 'bench-keys',
    bounded: false,
    createReader(context) {
      const restored = context.restored.has('0')
      let next = 0
      return {
        async poll(): Promise<SourceBatch<number> | 'end'> {
          await new Promise<void>((resolve) => setImmediate(resolve))
          if (restored) return 'end'
          const values: number[] = []
          const end = next + options.batchSize
          for (; next < end; next++) {
            values.push(
              next < options.stateKeys ? next : (Math.imul(next, 2654435761) >>> 0) % options.hotKeys,
            )
          }
          return { split: '0', values, position: next }
        },
        splits: () => ['0'],
        close: () => Promise.resolve(),
      }
    },
  }
}

/** Counts rows and keeps nothing. */
class Tally implements Sink<AggregateRow<number>> {
  readonly name = 'tally'
  rows = 0

  createWriter() {
    return {
      write: (rows: readonly AggregateRow<number>[]) => {
        this.rows += rows.length
      },
      commit: () => undefined,
      close: () => undefined,
    }
  }
}

async function directoryBytes(dir: string): Promise<number> {
  let bytes = 0
  for (const name of await readdir(dir)) bytes += (await stat(join(dir, name))).size
  return bytes
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]
}
