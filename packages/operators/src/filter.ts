import {
  DEAD_LETTER,
  defineOperator,
  eachRecord,
  type OnError,
  type StreamRecord,
  type TransformSpec,
} from '@weir/core'

/**
 * Keeps the records whose value passes `predicate`; the records kept are the same objects (timestamps,
 * keys, windows untouched). Watermarks and barriers pass through; no state. A throwing predicate fails
 * the query or, with `onError: 'dead-letter'`, routes the record to the `dead-letter` side output.
 *
 * @example
 * ```ts
 * stream.via(filter('english', (tweet: Tweet) => tweet.lang === 'en'))
 * ```
 */
export function filter<T>(
  id: string,
  predicate: (value: T) => boolean,
  options: { onError?: OnError } = {},
): TransformSpec<T, T> {
  const onError = options.onError ?? 'fail'
  return defineOperator<T, T>({
    id,
    name: 'filter',
    sideOutputs: onError === 'dead-letter' ? [DEAD_LETTER] : [],
    build: (context) => ({
      onData(records, out) {
        const kept: StreamRecord<T>[] = []
        eachRecord(context, records, onError, out, (r) => {
          if (predicate(r.value)) kept.push(r)
        })
        out.emit(kept)
      },
    }),
  })
}
