import { defineSink, type Sink, type SinkSpec } from '@weir/core'

/**
 * A sink node: hands each epoch's rows to a connector's `Sink` writer, then commits the epoch at its
 * barrier. It is an asynchronous boundary with a bounded queue: while more than `capacity` rows wait for
 * the writer, the sources stop polling, so memory stays bounded when the sink is slower than the input.
 *
 * @example
 * ```ts
 * counts.to(sink('console', consoleSink(), { capacity: 10_000 }))
 * ```
 */
export function sink<T>(id: string, to: Sink<T>, options: { capacity?: number } = {}): SinkSpec<T> {
  return defineSink(id, to, options)
}
