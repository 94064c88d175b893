import type { Clock } from '../time/clock.js'

/**
 * What a connector implements to be read by weir: a set of splits (Kafka partitions, files, slices
 * of an array), read by one reader per parallel source instance. A connector package depends on
 * `@weir/core` for this interface and nothing else.
 *
 * @example
 * ```ts
 * const numbers: Source<number> = {
 *   name: 'numbers', bounded: true,
 *   createReader: () => {
 *     let done = false
 *     return {
 *       async poll() { if (done) return 'end'; done = true; return { split: '0', values: [1, 2, 3], position: 3 } },
 *       splits: () => ['0'], async close() {},
 *     }
 *   },
 * }
 * ```
 */
export interface Source<T> {
  /** Names the source in errors and metrics, e.g. `kafka`, `file`. */
  readonly name: string
  /**
   * A bounded source (a file, an array) has an end: when every split is read its watermark moves to
   * +∞ and closes every window. An unbounded one (Kafka) only stops, and keeps its open windows.
   */
  readonly bounded: boolean
  createReader(context: SourceReaderContext): SourceReader<T> | Promise<SourceReader<T>>
}

export interface SourceReaderContext {
  readonly sourceId: string
  readonly instance: number
  readonly parallelism: number
  readonly clock: Clock
  /**
   * Positions of the last committed epoch, by split id: every split of the source, whichever instance
   * read it before. A reader resumes the splits it owns now from here.
   */
  readonly restored: ReadonlyMap<string, unknown>
  /** Set when the trigger is `availableNow`: read up to the end seen now, then report `end`. */
  readonly availableNow: boolean
}

/** One polled batch, from one split. */
export interface SourceBatch<T> {
  readonly split: string
  readonly values: readonly T[]
  /** Where this split resumes after this batch (a Kafka offset, a line number): goes into snapshots. */
  readonly position: unknown
  /** Event times the source knows itself (a Kafka timestamp), used when no extractor is given. */
  readonly timestamps?: readonly (number | null)[]
  /** This split has no more records (bounded sources). */
  readonly splitEnded?: boolean
  /**
   * A watermark the source knows itself for this split (a repartition topic's minimum over its upstream
   * writers' in-band watermarks). Once a split's batch carries one, that split's watermark is the
   * highest such value and its timestamps no longer move it; a batch may carry no values, only this.
   */
  readonly watermark?: number
}

export interface SourceReader<T> {
  /**
   * The next batch; `'idle'` when nothing came within the reader's own poll timeout; `'end'` when every
   * split the reader owns is finished. It must not throw for bad data: a record that cannot be decoded
   * is the parse step's business. It throws only when the source itself fails (after its retries).
   */
  poll(): Promise<SourceBatch<T> | 'idle' | 'end'>
  /** The splits the reader owns now (for idleness); may change when splits are discovered or reassigned. */
  splits(): readonly string[]
  /**
   * Optional: epoch `epoch` is committed (every sink wrote it and, when the query checkpoints, its
   * snapshot is stored), and `positions` are where this reader's splits stood at the epoch's end. A
   * Kafka reader commits them to its consumer group. Called in epoch order, never overlapping a poll's
   * result; a rejection is ignored (the reader reports its own failures).
   */
  commit?(positions: ReadonlyMap<string, unknown>, epoch: number): void | Promise<void>
  /**
   * Optional: the reader holds back data that is there now until an epoch commits (a per-epoch cap such
   * as `maxFilesPerTrigger` or `maxOffsetsPerTrigger` is used up). `processAllAvailable` then ends
   * epochs until no reader says so, as Spark runs micro-batches until the source has nothing left.
   */
  throttled?(): boolean
  /**
   * Optional: how many records each split the reader owns has between its position and its end now,
   * where the source knows it (a Kafka partition's high watermark minus the position): its lag, shown
   * by metrics. Called about once a second, never per record: it must return what the reader already
   * knows, without I/O.
   */
  lag?(): ReadonlyMap<string, number>
  close(): Promise<void>
}
