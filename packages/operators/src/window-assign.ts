import { defineOperator, type StreamRecord, type TransformSpec, type WindowAssigner } from '@weir/core'

/** The side output for records that have no event time when `noTimeOutput` is set. */
export const NO_EVENT_TIME = 'no-event-time'

/**
 * Puts each record in its event-time windows by tagging it with its *slice* (`assigner.sliceOf(t)`):
 * the aligned stretch of time whose points all share the same windows. A keyed aggregate downstream
 * updates one slice per record and builds each window from its slices, so a sliding window costs about
 * what a tumbling one does. Timestamps and keys pass through. A record with no event time (null) is in
 * no window: it is counted (`numRowsWithoutWindow`) and, with `noTimeOutput`, routed to the
 * `no-event-time` side output — never silently lost. Watermarks pass through; no state.
 *
 * @example
 * ```ts
 * stream.via(windowAssign('windows', slidingWindows({ size: 300_000, slide: 60_000 })))
 * ```
 */
export function windowAssign<T>(
  id: string,
  assigner: WindowAssigner,
  options: { noTimeOutput?: boolean } = {},
): TransformSpec<T, T> {
  return defineOperator<T, T>({
    id,
    name: 'window-assign',
    freshRecords: true,
    sideOutputs: options.noTimeOutput ? [NO_EVENT_TIME] : [],
    build: (context) => ({
      onData(records, out) {
        const result: StreamRecord<T>[] = []
        let untimed: StreamRecord<T>[] | undefined
        for (let i = 0; i < records.length; i++) {
          const r = records[i]
          if (r.timestamp === null) {
            ;(untimed ??= []).push(r)
            continue
          }
          result.push({
            value: r.value,
            timestamp: r.timestamp,
            key: r.key,
            window: assigner.sliceOf(r.timestamp),
          })
        }
        if (untimed) {
          context.counters.add('numRowsWithoutWindow', untimed.length)
          if (options.noTimeOutput) out.emitTo(NO_EVENT_TIME, untimed)
        }
        out.emit(result)
      },
    }),
  })
}
