import {
  Counters,
  DEAD_LETTER,
  defineOperator,
  eachRecord,
  FILTERED,
  type DeadLetter,
  type DecodeContext,
  type StreamRecord,
  type TransformSpec,
} from '@weir/core'
import { jsonParser, type JsonParserOptions, type ParsedRow, type ParseMode } from './schema/json-parser.js'
import type { StructType } from './schema/types.js'

/**
 * Parses each record's JSON text (or UTF-8 bytes) with a schema, as `jsonParser` does, in the middle of
 * a graph (a source should rather parse in its `decode`, so event times come from the rows). Timestamps,
 * keys and windows pass through; watermarks and barriers are forwarded; no state. Malformed records are
 * counted (`numMalformedRecords`); with `dropMalformed` they go to the `dead-letter` side output with
 * the reason (`numDeadLetters`), with `failFast` the query fails naming the operator, epoch and record.
 * Blank texts yield no row (`numBlankRecords`).
 *
 * @example
 * ```ts
 * const tweetSchema = struct({ creation_time: timestamp(), tweet_text: string() })
 * stream.via(parse('tweets', tweetSchema, { mode: 'dropMalformed' }))
 * ```
 */
export function parse<
  S extends StructType,
  M extends ParseMode = 'permissive',
  C extends string = '_corrupt_record',
>(
  id: string,
  schema: S,
  options: JsonParserOptions<M, C> = {},
): TransformSpec<string | Uint8Array, ParsedRow<S, M, C>> {
  const { decode } = jsonParser(schema, options)
  return defineOperator<string | Uint8Array, ParsedRow<S, M, C>>({
    id,
    name: 'parse',
    freshRecords: true,
    sideOutputs: options.mode === 'dropMalformed' ? [DEAD_LETTER] : [],
    build: (context) => ({
      onData(records, out) {
        const result: StreamRecord<ParsedRow<S, M, C>>[] = []
        const rejected: StreamRecord<DeadLetter>[] = []
        const counters = new Counters()
        let current: StreamRecord<string | Uint8Array>
        const decodeContext: DecodeContext = {
          counters,
          deadLetter(raw, reason) {
            const value: DeadLetter = {
              operatorId: context.operatorId,
              epoch: context.epoch,
              error: reason,
              value: raw,
            }
            rejected.push({ value, timestamp: current.timestamp, key: current.key, window: current.window })
          },
        }
        try {
          eachRecord(context, records, 'fail', out, (r) => {
            current = r
            const value = decode(r.value, decodeContext)
            if (value !== undefined && value !== FILTERED)
              result.push({ value, timestamp: r.timestamp, key: r.key, window: r.window })
          })
        } finally {
          // Operator counters take one add per batch; a failing batch still counts what it saw.
          for (const [name, n] of Object.entries(counters.toJSON())) context.counters.add(name, n)
        }
        if (rejected.length > 0) {
          context.counters.add('numDeadLetters', rejected.length)
          out.emitTo(DEAD_LETTER, rejected)
        }
        out.emit(result)
      },
    }),
  })
}
