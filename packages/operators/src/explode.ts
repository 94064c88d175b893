import {
  DEAD_LETTER,
  defineOperator,
  eachRecord,
  type OnError,
  type StreamRecord,
  type TransformSpec,
} from '@weir/core'

/** Input records exploded per emitted batch. */
const INPUT_SLICE = 64

/**
 * One record in, zero or more out (Spark's `explode`, Flink's `flatMap`): every value `fn` yields becomes
 * a record with the *input's* timestamp, key and window, so exploded rows fall in the same event-time
 * windows as the row they came from. `fn` returning null or undefined yields no rows, as `explode(null)`
 * does in Spark. Watermarks and barriers pass through; no state.
 *
 * @example
 * ```ts
 * // Spark's explode(split(tweet_text, ' ')): empty tokens are kept ("a  b " → a, '', b, '')
 * stream.via(explode('words', (t: Tweet) => t.tweet_text?.split(' ')))
 * ```
 */
export function explode<I, O>(
  id: string,
  fn: (value: I) => Iterable<O> | null | undefined,
  options: { onError?: OnError } = {},
): TransformSpec<I, O> {
  const onError = options.onError ?? 'fail'
  return defineOperator<I, O>({
    id,
    name: 'explode',
    freshRecords: true,
    sideOutputs: onError === 'dead-letter' ? [DEAD_LETTER] : [],
    build: (context) => ({
      onData(records, out) {
        // Explode multiplies a batch (a tweet gives ~16 words): emitting per slice of the input keeps the
        // batches downstream small enough to stay in the CPU cache while the next operators touch them.
        for (let start = 0; start < records.length; start += INPUT_SLICE) {
          const slice = records.length <= INPUT_SLICE ? records : records.slice(start, start + INPUT_SLICE)
          const result: StreamRecord<O>[] = []
          eachRecord(context, slice, onError, out, (r) => {
            const values = fn(r.value)
            if (values == null) return
            if (Array.isArray(values)) {
              for (let j = 0; j < values.length; j++) {
                result.push({ value: values[j] as O, timestamp: r.timestamp, key: r.key, window: r.window })
              }
            } else {
              for (const value of values)
                result.push({ value, timestamp: r.timestamp, key: r.key, window: r.window })
            }
          })
          out.emit(result)
        }
      },
    }),
  })
}
