import {
  DEAD_LETTER,
  defineOperator,
  eachRecord,
  type OnError,
  type StreamRecord,
  type TransformSpec,
} from '@weir/core'

/**
 * Transforms each record's value with `fn`. Timestamps, keys and windows pass through unchanged;
 * watermarks and barriers are forwarded as they come; it holds no state. A throwing `fn` fails the
 * query (naming the operator, epoch and record) or, with `onError: 'dead-letter'`, routes the record
 * to the `dead-letter` side output.
 *
 * @example
 * ```ts
 * stream.via(map('parse', (line: string) => JSON.parse(line) as Tweet, { onError: 'dead-letter' }))
 * ```
 */
export function map<I, O>(
  id: string,
  fn: (value: I) => O,
  options: { onError?: OnError } = {},
): TransformSpec<I, O> {
  const onError = options.onError ?? 'fail'
  return defineOperator<I, O>({
    id,
    name: 'map',
    freshRecords: true,
    sideOutputs: onError === 'dead-letter' ? [DEAD_LETTER] : [],
    build: (context) => ({
      onData(records, out) {
        const result: StreamRecord<O>[] = []
        eachRecord(context, records, onError, out, (r) => {
          result.push({ value: fn(r.value), timestamp: r.timestamp, key: r.key, window: r.window })
        })
        out.emit(result)
      },
    }),
  })
}
