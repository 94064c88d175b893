/**
 * What a connector implements to receive a query's rows, in two phases per epoch (as Flink's
 * exactly-once sinks):
 *
 * 1. rows of epoch N arrive through `write(rows, N)`; at N's barrier, `prepare(N)` says every row of N
 *    has been handed over (flush, stage a file, pre-commit a transaction);
 * 2. `commit(N)` comes once every instance of the query prepared N and N's checkpoint is durable: make
 *    N visible (a console sink prints `Batch: N`, a file sink renames its staged file into place). Rows
 *    of epoch N+1 may already have been written by then, so keep rows by epoch.
 *
 * After a crash the query restarts from its last committed checkpoint and replays what came after it:
 * `context.firstEpoch` tells the writer which epoch comes next, so it can finish a commit that was cut
 * short (an epoch <= firstEpoch - 1 that was staged) and drop staged epochs >= firstEpoch. Calls never
 * overlap: the runtime awaits each one, and holds the sources back while too many rows are pending.
 *
 * @example
 * ```ts
 * const printer: Sink<string> = {
 *   name: 'printer',
 *   createWriter: () => ({ write: (rows) => { for (const row of rows) console.log(row) }, commit: () => {}, close: () => {} }),
 * }
 * ```
 */
export interface Sink<T> {
  readonly name: string
  createWriter(context: SinkWriterContext): SinkWriter<T> | Promise<SinkWriter<T>>
}

export interface SinkWriterContext {
  readonly sinkId: string
  readonly instance: number
  readonly parallelism: number
  /** The query's id when run as a streaming query (stable across restarts): for idempotent writes. */
  readonly queryId?: string
  /** The first epoch this run will write: one past the restored epoch, or 0. */
  readonly firstEpoch: number
  /**
   * The names of the rows' fields, in order, when the query knows them (a planned query's result
   * schema): a sink that shows a table (console) prints its header even before the first row.
   */
  readonly columns?: readonly string[]
}

export interface SinkWriter<T> {
  write(rows: readonly T[], epoch: number): void | Promise<void>
  /** Every row of `epoch` has been written (optional: a sink with nothing to stage leaves it out). */
  prepare?(epoch: number): void | Promise<void>
  /** `epoch` is durable in the query's checkpoint: make it visible. Epochs commit in order. */
  commit(epoch: number): void | Promise<void>
  close(): void | Promise<void>
}
