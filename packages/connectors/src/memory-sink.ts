import { ConfigError, type Sink, type SinkWriter, type SinkWriterContext } from '@weir/core'
import { EpochParts } from './internal/epoch-parts.js'
import { checkOptionNames } from './internal/options.js'

export interface MemorySinkOptions<T> {
  /**
   * How a committed epoch changes the table, as Spark's memory sink: `append` adds its rows, `complete`
   * replaces the table with them, `update` upserts them by `key`.
   */
  readonly outputMode: 'append' | 'update' | 'complete'
  /** The key of a row, required by `update` (e.g. the window and the word of a count). */
  readonly key?: (row: T) => string
}

/** One epoch as the sink applied it. */
export interface MemoryEpoch<T> {
  readonly epoch: number
  readonly rows: readonly T[]
}

/**
 * A queryable in-memory table for tests and for apps that embed a query. The rows of an epoch become
 * visible only when it commits (on every instance, with parallelism > 1: the instances share the
 * table). Exactly-once across restores: an epoch at or below `lastEpoch` that is delivered again after
 * a restore is skipped.
 *
 * @example
 * ```ts
 * const table = new MemorySink<{ word: string; count: number }>({ outputMode: 'update', key: (r) => r.word })
 * counts.to(sink('table', table))
 * table.onCommit(({ epoch }) => console.log(epoch, table.rows()))
 * ```
 */
export class MemorySink<T> implements Sink<T> {
  readonly name = 'memory'
  /** Names the sink in a query's progress, as Spark's does. */
  readonly description = 'MemorySink'
  /** Every epoch applied, oldest first, with the rows it brought. */
  readonly epochs: MemoryEpoch<T>[] = []
  private readonly table = new Map<string | number, T>()
  private appended = 0
  private last: number | undefined
  private readonly listeners: ((epoch: MemoryEpoch<T>) => void)[] = []
  private readonly parts = new EpochParts<T>((epoch, rows) => this.apply(epoch, rows))

  constructor(private readonly options: MemorySinkOptions<T>) {
    checkOptionNames('MemorySink', options, ['outputMode', 'key'])
    const { outputMode, key } = options
    if (outputMode !== 'append' && outputMode !== 'update' && outputMode !== 'complete') {
      throw new ConfigError(
        `MemorySink: outputMode '${String(outputMode)}' is not one of 'append', 'update', 'complete'`,
      )
    }
    if (outputMode === 'update' && typeof key !== 'function') {
      throw new ConfigError(
        `MemorySink: outputMode 'update' upserts rows by key: pass key, e.g. { outputMode: 'update', key: (row) => row.word }`,
      )
    }
  }

  /** The last epoch applied; undefined before the first. */
  get lastEpoch(): number | undefined {
    return this.last
  }

  /** The table now: appended rows in order, upserted rows in the order their keys first came. */
  rows(): T[] {
    return [...this.table.values()]
  }

  /** Calls listener after each epoch is applied. Returns a function that stops listening. */
  onCommit(listener: (epoch: MemoryEpoch<T>) => void): () => void {
    this.listeners.push(listener)
    return () => {
      const at = this.listeners.indexOf(listener)
      if (at !== -1) this.listeners.splice(at, 1)
    }
  }

  createWriter(context: SinkWriterContext): SinkWriter<T> {
    const part = this.parts.attach(context)
    const done = (epoch: number) => this.last !== undefined && epoch <= this.last
    return {
      write: (rows, epoch) => {
        if (!done(epoch)) part.write(rows, epoch)
      },
      commit: (epoch) => {
        if (!done(epoch)) return part.commit(epoch)
      },
      close: () => undefined,
    }
  }

  private apply(epoch: number, rows: T[]): void {
    switch (this.options.outputMode) {
      case 'append':
        for (const row of rows) this.table.set(this.appended++, row)
        break
      case 'complete':
        this.table.clear()
        this.appended = 0
        for (const row of rows) this.table.set(this.appended++, row)
        break
      case 'update': {
        const key = this.options.key!
        for (const row of rows) this.table.set(key(row), row)
        break
      }
    }
    this.last = epoch
    const applied: MemoryEpoch<T> = { epoch, rows }
    this.epochs.push(applied)
    for (const listener of [...this.listeners]) listener(applied)
  }
}
