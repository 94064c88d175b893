import { ConfigError, parseDuration, type DecodeContext, type FILTERED, type Source } from '@weir/core'
import type { SortKey } from '../sort-limit.js'
import { jsonParser, type JsonParserOptions, type ParseMode, type ParsedRow } from '../schema/json-parser.js'
import type { StructType } from '../schema/types.js'
import { checkColumn } from './functions.js'
import { GroupedData, type GroupRow } from './grouped-data.js'
import type { LogicalPlan, Step, WindowColumn } from './steps.js'
import { DataStreamWriter, type WriteStreamOptions } from './write-stream.js'

/** `T` with column `K` set to `V` (added, or replaced as Spark's withColumn does). */
export type WithColumn<T, K extends string, V> = Simplify<Omit<T, K> & { [P in K]: V }>
export type Simplify<T> = { [K in keyof T]: T[K] } & {}

/**
 * A streaming DataFrame: an immutable description of a query, typed by its rows. Nothing runs until
 * `writeStream(...).start()`. Every method returns a new DataFrame.
 *
 * @example
 * ```ts
 * const words = readStream(embeddedTweets())
 *   .parse(tweetSchema)
 *   .explode('word', (t) => t.tweet_text?.split(' '))
 * const query = await words.groupBy('word').count().orderBy(desc('count'))
 *   .writeStream({ sink: consoleSink(), outputMode: 'complete', queryName: 'word_counts' })
 *   .start()
 * ```
 */
export class DataFrame<T> {
  /** @internal */
  constructor(readonly plan: LogicalPlan) {}

  /**
   * Parses each raw value as JSON against a schema (Spark's `from_json(col('value').cast('string'),
   * schema)`), with Spark's modes: `permissive` (default) keeps a malformed record with null fields and
   * its text in `_corrupt_record`; `dropMalformed` drops it, counted, to the dead-letter output;
   * `failFast` fails the query. A Kafka record's `value` is what gets parsed.
   *
   * @example
   * ```ts
   * readStream(kafkaSource({ subscribe: ['tweets'] })).parse(struct({ creation_time: timestamp(), tweet_text: string() }))
   * ```
   */
  parse<S extends StructType, M extends ParseMode = 'permissive', C extends string = '_corrupt_record'>(
    schema: S,
    options: JsonParserOptions<M, C> = {},
  ): DataFrame<ParsedRow<S, M, C>> {
    const parser = jsonParser(schema, options)
    return this.decode('parse', (raw, context) => parser.decode(textOf(raw), context))
  }

  /**
   * Turns each raw value into a row with a decoder that may reject records (a JSON parser with Spark's
   * modes is the usual one): `decode` returns the row, undefined to reject it (counted), or `FILTERED`
   * to skip it (a blank line).
   */
  decode<O>(
    name: string,
    decode: (raw: T, context: DecodeContext) => O | undefined | typeof FILTERED,
  ): DataFrame<O> {
    return this.with({ kind: 'decode', name, fn: decode })
  }

  /** Adds or replaces a column computed from the row (Spark's `withColumn`). */
  withColumn<K extends string, V>(name: K, fn: (row: T) => V): DataFrame<WithColumn<T, K, V>> {
    checkColumn(name)
    return this.with({
      kind: 'row',
      name: `withColumn(${name})`,
      fn: (row: T) => ({ ...row, [name]: fn(row) }),
    })
  }

  /** Keeps only the named columns, in that order (Spark's `select` of columns). */
  select<K extends keyof T & string>(...columns: K[]): DataFrame<Simplify<Pick<T, K>>> {
    if (columns.length === 0)
      throw new ConfigError(`select() needs at least one column, e.g. select('tweet_text')`)
    columns.forEach(checkColumn)
    return this.with({
      kind: 'row',
      name: `select(${columns.join(', ')})`,
      fn: (row: T) => {
        const out: Record<string, unknown> = {}
        for (const c of columns) out[c] = row[c] ?? null
        return out
      },
    })
  }

  /** Turns each row into another value (a typed Dataset's `map`). */
  map<O>(fn: (row: T) => O): DataFrame<O> {
    return this.with({ kind: 'row', name: 'map', fn })
  }

  /** Keeps the rows that pass (Spark's `filter`/`where`). */
  filter(predicate: (row: T) => boolean): DataFrame<T> {
    return this.with({ kind: 'filter', fn: predicate })
  }

  /** Same as `filter`. */
  where(predicate: (row: T) => boolean): DataFrame<T> {
    return this.filter(predicate)
  }

  /**
   * One row per element of `fn(row)`, in column `name`, other columns kept: Spark's
   * `withColumn(name, explode(...))`. Null or undefined yields no row (`explode(null)`); the rows keep
   * the input row's event time.
   */
  explode<K extends string, V>(
    name: K,
    fn: (row: T) => Iterable<V> | null | undefined,
  ): DataFrame<WithColumn<T, K, V>> {
    checkColumn(name)
    return this.with({ kind: 'explode', column: name, fn })
  }

  /**
   * Declares the event-time column and how late its data may be: the watermark is the latest event
   * time seen (per source partition) minus `delay`. Windows end once the watermark passes them; later
   * rows for them are dropped and counted; their state is freed. The column must hold Dates (a
   * `timestamp()` field) or epoch ms, and be present in the row before any `explode` or `groupBy`.
   */
  withWatermark(column: keyof T & string, delay: string | number): DataFrame<T> {
    return this.with({
      kind: 'watermark',
      column: checkColumn(column),
      delayMs: parseDuration(delay, 'watermark delay'),
    })
  }

  /** Groups by columns, and optionally first by an event-time window: `groupBy(window('t', '5 minutes'), 'word')`. */
  // K defaults to never: without key columns, TypeScript would otherwise infer every column as a key.
  groupBy<K extends keyof T & string = never>(...keys: K[]): GroupedData<T, GroupRow<T, K, false>>
  groupBy<K extends keyof T & string = never>(
    window: WindowColumn<keyof T & string>,
    ...keys: K[]
  ): GroupedData<T, GroupRow<T, K, true>>
  groupBy(...keys: (string | WindowColumn)[]): GroupedData<T, unknown> {
    const [first, ...rest] = keys
    const window = typeof first === 'object' ? first : undefined
    const columns = (window ? rest : keys) as string[]
    for (const c of columns) {
      if (typeof c !== 'string')
        throw new ConfigError(`groupBy takes at most one window, first: groupBy(window(...), 'word')`)
      checkColumn(c)
    }
    return new GroupedData(this.plan, columns, window)
  }

  /** Sorts the result (complete output mode only, as in Spark). */
  orderBy(...keys: (SortKey<T> | (keyof T & string))[]): DataFrame<T> {
    if (keys.length === 0) throw new ConfigError(`orderBy() needs a column, e.g. orderBy(desc('count'))`)
    const sortKeys = keys.map((k) => (typeof k === 'string' ? { by: (row: T) => row[k] } : k))
    return this.with({ kind: 'orderBy', keys: sortKeys })
  }

  /** Keeps the first `n` rows of each result (complete output mode only). */
  limit(n: number): DataFrame<T> {
    if (!Number.isInteger(n) || n < 0)
      throw new ConfigError(`limit(${n}) needs a whole number of rows >= 0, e.g. limit(20)`)
    return this.with({ kind: 'limit', n })
  }

  /** Says where and how the result goes; `.start()` runs it. */
  writeStream(options: WriteStreamOptions<T>): DataStreamWriter<T> {
    return new DataStreamWriter(this.plan, options)
  }

  /** @internal */
  with<O>(step: Step): DataFrame<O> {
    return new DataFrame<O>({ ...this.plan, steps: [...this.plan.steps, step] })
  }
}

/** What a parser reads of a raw value: the value itself, or the `value` of a Kafka-like record. */
function textOf(raw: unknown): string | Uint8Array {
  if (typeof raw === 'string' || raw instanceof Uint8Array) return raw
  if (typeof raw === 'object' && raw !== null && 'value' in raw) return textOf(raw.value)
  // A null Kafka value (a tombstone) or anything else: malformed JSON for the parser, handled per mode.
  if (raw === null || raw === undefined) return 'null'
  if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw)
  // Any other value is named by its type alone (`[object Object]`): its own toString could spell valid JSON.
  return Object.prototype.toString.call(raw)
}

/**
 * Starts a streaming DataFrame on a source (Spark's `spark.readStream...load()`). Rows are the source's
 * raw values (a Kafka value, a line of a file) until `parse` shapes them.
 *
 * @example
 * ```ts
 * readStream(fileSource('tweets/')).parse(tweetSchema, { mode: 'permissive' })
 * ```
 */
export function readStream<T>(source: Source<T>): DataFrame<T> {
  if (typeof source?.createReader !== 'function') {
    throw new ConfigError(
      `readStream() takes a Source (e.g. fileSource('tweets.jsonl'), embeddedTweets(), kafkaSource({...}))`,
    )
  }
  return new DataFrame<T>({ source: source, steps: [] })
}
