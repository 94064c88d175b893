import {
  defineOperator,
  type Output,
  type StreamRecord,
  type TransformSpec,
  type WindowAssigner,
} from '@weir/core'
import type { Aggregator } from './aggregators.js'
import type { Partial } from './partial-aggregate.js'
import { checkAggregateOptions, restoredWatermark } from './aggregate/config.js'
import { GlobalTable } from './aggregate/global-table.js'
import { SessionTable } from './aggregate/session-table.js'
import { SlicedTable } from './aggregate/sliced-table.js'
import {
  ADDED,
  compareRows,
  LATE,
  type AggregateRow,
  type AggregateTable,
  type OutputMode,
} from './aggregate/table.js'

export type { AggregateRow, OutputMode } from './aggregate/table.js'

export interface KeyedAggregateOptions<V, A, R> {
  readonly aggregator: Aggregator<V, A, R>
  readonly outputMode: OutputMode
  /** The windows records were assigned to upstream (`record.window` is their slice); none: one row per key. */
  readonly windows?: WindowAssigner
  /** How long after its end a window still takes records, in ms. Default 0. */
  readonly allowedLateness?: number
  /** Send late records to the side output `'late'` (they are counted either way). */
  readonly lateOutput?: boolean
  /**
   * What the records carry: `'values'` (the default) to add, or `'partials'`: `[key, acc, rows]` from a
   * `partialAggregate` upstream (with the same `windows`), whose accumulators are merged
   * (`aggregator.merge`, required). The state, its snapshots and the rows are the same as with values; a
   * late partial counts as `rows` dropped rows. Not with session windows, nor with `lateOutput`.
   */
  readonly input?: 'values' | 'partials'
}

/**
 * Aggregates keyed records, per key or per (window, key), with Spark's output modes. Records come keyed
 * by a hash exchange (`record.key`; keyless records all share the key `null`) and, when `windows` is set,
 * with `record.window` set by window assignment to the record's slice.
 *
 * - **Timestamps**: a row of window w carries event time `w.end - 1`; a row without window has none.
 * - **Watermarks**: window w is closed once `watermark >= w.end + allowedLateness`; a record whose every
 *   window is closed is late: dropped, counted (`numRowsDroppedByWatermark`), and sent to `'late'` with
 *   `lateOutput`. A record without event time is in no window: dropped and counted (`numRowsWithoutEventTime`).
 * - **Emission** happens at barriers only, as one batch ordered by window start, window end, then key:
 *   `append` the rows of windows closed since the last barrier, once and final; `update` the rows changed
 *   in the epoch, with their cumulative value; `complete` the whole table. End emits nothing: the last
 *   barrier came before it (a bounded source's +∞ watermark closed every window before that barrier;
 *   an unbounded source stopped by `availableNow` keeps its open windows in the checkpoint).
 * - **State** is kept per slice and key, so a sliding window costs no more per record than a tumbling
 *   one when the aggregator can `merge`; it is purged once every window needing it has closed. As in
 *   Spark, `complete` keeps all state: there the watermark neither drops late records nor purges windows.
 *   State is snapshotted per key group, so it restores at any parallelism.
 *
 * Spark's rules are checked here: `append` needs windows; session windows need a mergeable aggregator and
 * do not support `update` (a merged session would leave stale rows for its parts in an upserting sink).
 *
 * @example
 * ```ts
 * keyedAggregate('counts', {
 *   aggregator: count(),
 *   outputMode: 'update',
 *   windows: slidingWindows({ size: 300_000, slide: 60_000 }),
 * })
 * // at a barrier: { key: 'spark', window: { start: 0, end: 300_000 }, value: 3 }, … for each window changed
 * ```
 */
export function keyedAggregate<V, A, R>(
  id: string,
  options: KeyedAggregateOptions<V, A, R>,
): TransformSpec<V, AggregateRow<R>> {
  const { aggregator, outputMode, windows } = options
  const allowedLateness = options.allowedLateness ?? 0
  const lateOutput = options.lateOutput ?? false
  checkAggregateOptions(id, options, allowedLateness)
  // Partials are folded in with merge: the tables then keep the same accumulators as with values.
  const partials = options.input === 'partials'
  const folding: Aggregator<V, A, R> = partials
    ? mergingPartials(aggregator as Aggregator<unknown, A, R>)
    : aggregator
  return defineOperator<V, AggregateRow<R>>({
    id,
    name: 'keyed-aggregate',
    freshRecords: true,
    stateful: true,
    sideOutputs: lateOutput ? ['late'] : [],
    build(ctx, resume) {
      const watermark = restoredWatermark(id, resume, windows)
      const settings = { aggregator: folding, outputMode, allowedLateness, watermark }
      const table: AggregateTable<V, R> =
        windows === undefined
          ? new GlobalTable(settings)
          : windows.kind === 'session'
            ? new SessionTable({ ...settings, windows })
            : new SlicedTable({ ...settings, windows })
      for (const state of resume?.keyGroups.values() ?? []) table.load(state)

      function emit(out: Output<AggregateRow<R>>): void {
        const rows = table.flush().sort(compareRows)
        const records: StreamRecord<AggregateRow<R>>[] = []
        for (const row of rows) {
          const timestamp = row.window === undefined ? null : row.window.end - 1
          records.push({ value: row, timestamp, key: row.key, window: undefined })
        }
        out.emit(records)
        ctx.counters.set('numRowsTotal', table.size)
        ctx.counters.add('numRowsUpdated', records.length)
      }

      return {
        onData(records, out) {
          let late = 0
          let withoutTime = 0
          let lateRecords: StreamRecord<V>[] | undefined
          for (let i = 0; i < records.length; i++) {
            const record = records[i]
            const outcome = table.add(record)
            if (outcome === ADDED) continue
            const rows = partials ? (record.value as Partial<unknown>)[2] : 1
            if (outcome === LATE) {
              late += rows
              if (lateOutput) (lateRecords ??= []).push(record)
            } else withoutTime += rows
          }
          ctx.counters.add('numRowsDroppedByWatermark', late)
          ctx.counters.add('numRowsWithoutEventTime', withoutTime)
          if (lateRecords !== undefined) out.emitTo('late', lateRecords)
        },
        onWatermark(time) {
          table.advance(time)
        },
        onBarrier(_barrier, out) {
          emit(out)
        },
        snapshot() {
          return {
            keyGroups: table.snapshot(ctx.maxParallelism),
            union: { watermark: table.watermark, windows: windows?.describe() ?? null },
          }
        },
      }
    },
  })
}

/** The aggregator a keyed aggregate with `input: 'partials'` folds with: each value is `[key, acc]`, merged into the key's accumulator. */
function mergingPartials<V, A, R>(aggregator: Aggregator<unknown, A, R>): Aggregator<V, A, R> {
  const merge = aggregator.merge!.bind(aggregator)
  return {
    name: aggregator.name,
    init: () => aggregator.init(),
    add: (acc, partial) => merge(acc, (partial as unknown as Partial<A>)[1]),
    merge,
    result: (acc) => aggregator.result(acc),
  }
}
