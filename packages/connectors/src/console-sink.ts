import type { Sink, SinkWriter, SinkWriterContext } from '@weir/core'
import { checkFormatOptions, columnsOf, formatBatch, type FormatOptions } from './console-format.js'
import { EpochParts } from './internal/epoch-parts.js'
import { checkOptionNames } from './internal/options.js'

export interface ConsoleSinkOptions extends FormatOptions {
  /** Where the text goes. Default: `process.stdout.write`. */
  readonly write?: (text: string) => void
}

/**
 * Prints each committed epoch as Spark's console sink does: `Batch: N` between two rules, then the
 * table (`numRows`, `truncate` and cell rendering as in `formatBatch`), then a blank line. Rows are
 * held until the epoch commits; with parallelism > 1 the instances' parts are printed as one table once
 * every instance has committed. An empty epoch prints its header and no rows. The columns are
 * `columns` when given, else those the query knows (`SinkWriterContext.columns`), else the keys of the
 * first row the sink ever received.
 *
 * Not idempotent, as in Spark: an epoch replayed after a restore is printed again.
 *
 * @example
 * ```ts
 * counts.to(sink('console', consoleSink({ numRows: 50, truncate: false })))
 * // -------------------------------------------
 * // Batch: 0
 * // -------------------------------------------
 * // +----+-----+
 * // |word|count|
 * // ...
 * ```
 */
export function consoleSink<T = unknown>(options: ConsoleSinkOptions = {}): Sink<T> {
  checkOptionNames('consoleSink', options, ['numRows', 'truncate', 'timeZone', 'write', 'columns'])
  checkFormatOptions(options)
  const write = options.write ?? ((text: string) => void process.stdout.write(text))
  let columns = options.columns
  const parts = new EpochParts<T>((epoch, rows) => {
    if (columns === undefined && rows.length > 0) columns = columnsOf(rows[0])
    write(formatBatch(epoch, rows, { ...options, columns }))
  })
  // `description` names the sink in a query's progress, as Spark's does.
  const sink = {
    name: 'console',
    description: 'ConsoleSink',
    createWriter(context: SinkWriterContext): SinkWriter<T> {
      columns ??= context.columns
      const part = parts.attach(context)
      return { write: part.write, commit: part.commit, close: () => undefined }
    },
  }
  return sink
}
