import {
  checkKey,
  ConfigError,
  defineOperator,
  type Key,
  type StreamRecord,
  type TransformSpec,
} from '@weir/core'
import type { RepartitionRow } from './repartition-record.js'

export interface RepartitionRowsOptions<T> {
  /** The upstream task a row belongs to: its input partition, e.g. `tweets-2`. One writer = one ordered input. */
  readonly writer: (row: T) => string
  /** The row's place in its writer's input (the Kafka offset, a whole number >= 0): the same on a replay. */
  readonly offset: (row: T) => number
  /**
   * What goes downstream for one row, each with the key it is grouped by (e.g. one per word and
   * window), in an order that is the same on a replay: a row's outputs are numbered by it.
   */
  readonly fanOut: (
    row: T,
    timestamp: number | null,
  ) => readonly { readonly key: Key; readonly value: unknown }[]
  /**
   * Bounded out-of-orderness of each writer's watermark, in ms (the query's `withWatermark` delay).
   * Undefined: the query has no watermark, and none is written.
   */
  readonly delay: number | undefined
}

/**
 * The upstream half of a keyed exchange through a repartition topic: turns each timed row into data
 * rows for `repartitionSink`, each numbered by its input offset and its index among that row's outputs
 * (deterministic, so the reader drops a replayed one; a row may have any number of outputs), and
 * after each batch a watermark row for every writer the batch touched: that writer's largest event
 * time minus `delay`, as a source's per-split generator would emit it.
 * Timestamps travel with the rows; watermarks become in-band rows (the sink writes them to every
 * partition); no state: after a restart a writer's watermark grows again from its replayed rows, and
 * the reader keeps the highest it saw.
 *
 * @example
 * ```ts
 * stream.via(repartitionRows('to-counts', { writer: (r) => `tweets-${r.p}`, offset: (r) => r.o, delay: 60_000,
 *   fanOut: (r, t) => windows.assign(t).map((w) => ({ key: w.start, value: r.text })) }))
 * ```
 */
export function repartitionRows<T>(
  id: string,
  options: RepartitionRowsOptions<T>,
): TransformSpec<T, RepartitionRow> {
  const { delay } = options
  if (delay !== undefined && (!Number.isSafeInteger(delay) || delay < 0)) {
    throw new ConfigError(
      `repartitionRows '${id}': delay ${options.delay} must be whole milliseconds >= 0, e.g. 60000`,
    )
  }
  return defineOperator<T, RepartitionRow>({
    id,
    name: 'repartition-rows',
    freshRecords: true,
    build: (context) => {
      const maxSeen = new Map<string, number>()
      return {
        onData(records, out) {
          const rows: StreamRecord<RepartitionRow>[] = []
          const touched = new Set<string>()
          let withoutTime = 0
          for (const record of records) {
            // Under no watermark; the window assigner downstream counts those in no window.
            if (record.timestamp === null) withoutTime++
            const writer = options.writer(record.value)
            const offset = options.offset(record.value)
            if (!Number.isSafeInteger(offset) || offset < 0) {
              throw new ConfigError(
                `repartitionRows '${id}': offset ${String(offset)} of writer '${writer}' is not a whole number >= 0: return the input record's offset as a number, e.g. Number(message.offset)`,
              )
            }
            options.fanOut(record.value, record.timestamp).forEach((part, index) => {
              checkKey(part.key, `repartitionRows '${id}'`)
              const row: RepartitionRow = {
                kind: 'data',
                writer,
                offset,
                index,
                t: record.timestamp,
                key: part.key,
                value: part.value,
              }
              rows.push({ value: row, timestamp: record.timestamp, key: undefined, window: undefined })
            })
            if (record.timestamp !== null && record.timestamp > (maxSeen.get(writer) ?? -Infinity)) {
              maxSeen.set(writer, record.timestamp)
              touched.add(writer)
            }
          }
          if (delay !== undefined)
            for (const writer of touched) {
              const row: RepartitionRow = {
                kind: 'watermark',
                writer,
                watermark: maxSeen.get(writer)! - delay,
              }
              rows.push({ value: row, timestamp: null, key: undefined, window: undefined })
            }
          context.counters.add('repartitionRows', rows.length)
          if (withoutTime > 0) context.counters.add('numRowsWithoutEventTime', withoutTime)
          if (rows.length > 0) out.emit(rows)
        },
      }
    },
  })
}
