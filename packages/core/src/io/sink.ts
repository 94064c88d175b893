/**
 * What a connector implements to receive a query's rows. Rows of epoch N arrive through `write`, then
 * `commit(N)` says epoch N is whole: a console sink prints it as Spark's `Batch: N`, a file sink
 * renames its epoch file into place, a Kafka sink flushes. Calls never overlap: the runtime awaits each
 * one, and holds the sources back while too many are pending.
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
  commit(epoch: number): void | Promise<void>
  close(): void | Promise<void>
}
