import { defineSource, type EventTimeOptions, type Source, type SourceSpec } from '@weir/core'

/**
 * A source node: reads a connector's `Source` with one reader per parallel instance, stamps each record
 * with its event time (`timestamp`), and keeps one watermark generator per split (bounded
 * out-of-orderness: `maxEventTimeSeen - delay`, emitted after each polled batch, never backwards; the
 * instance's watermark is the minimum over its non-idle splits). A split quiet for `idleTimeout` goes
 * idle. A bounded source that is read to its end moves its watermark to +∞. Its state is the position
 * of each split, taken at every checkpoint barrier.
 *
 * @example
 * ```ts
 * graph.from(source('tweets', fileSource('tweets.jsonl'), {
 *   timestamp: (t: Tweet) => Date.parse(t.creation_time),
 *   watermark: { delay: 60_000, idleTimeout: 30_000 },
 * }))
 * ```
 */
export function source<R, T = R>(
  id: string,
  from: Source<R>,
  options: EventTimeOptions<T, R> & { deadLetters?: boolean } = {},
): SourceSpec<T> {
  return defineSource(id, from, options)
}
