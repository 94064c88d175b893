import { ConfigError, FILTERED, messageOf, preview, WeirError, type DecodeContext } from '@weir/core'
import { compileFields } from './compile.js'
import { INVALID, isJsonObject, ownValue } from './converters.js'
import { describeJson, explainField } from './explain.js'
import type { Failure } from './struct-converter.js'
import { checkFieldName, type RowOf, type StructType, type ValueOf } from './types.js'

/**
 * What happens to a malformed record (Spark's `mode`): `permissive` keeps it, with the fields that do
 * not parse null and its text in the corrupt-record column; `dropMalformed` drops it (to the dead-letter
 * output, with the reason); `failFast` fails the query.
 */
export type ParseMode = 'permissive' | 'dropMalformed' | 'failFast'

/**
 * How `jsonParser` and `parse` treat malformed records.
 *
 * @example
 * ```ts
 * jsonParser(tweetSchema, { mode: 'dropMalformed' })
 * jsonParser(tweetSchema, { columnNameOfCorruptRecord: 'bad_line' }) // rows get `bad_line: string | null`
 * ```
 */
export interface JsonParserOptions<M extends ParseMode = ParseMode, C extends string = string> {
  /** Default `permissive`. */
  readonly mode?: M
  /** The column that holds a malformed record's text in `permissive` mode. Default `_corrupt_record`. */
  readonly columnNameOfCorruptRecord?: C
}

/**
 * A row of `permissive` mode: either a record that parsed (corrupt column null, the schema's types), or
 * a malformed one (corrupt column holds its text, any top-level field may be null).
 */
export type PermissiveRow<S extends StructType, C extends string = '_corrupt_record'> =
  | (RowOf<S> & { [K in C]: null })
  | ({ -readonly [K in keyof S['fields']]: ValueOf<S['fields'][K]> | null } & { [K in C]: string })

/**
 * The rows a parser with this mode makes: only `permissive` rows carry the corrupt-record column.
 *
 * @example
 * ```ts
 * const row: ParsedRow<typeof tweetSchema> = jsonParser(tweetSchema).decode(line)!
 * if (row._corrupt_record === null) row.tweet_text // the schema's types
 * ```
 */
export type ParsedRow<
  S extends StructType,
  M extends ParseMode = 'permissive',
  C extends string = '_corrupt_record',
> = M extends 'permissive' ? PermissiveRow<S, C> : RowOf<S>

/** A schema compiled into a decoder: see `jsonParser`. */
export interface JsonParser<R> {
  /**
   * One record's text (or UTF-8 bytes) to a row; undefined when a malformed record is dropped
   * (`dropMalformed`); `FILTERED` for a blank text, skipped as Spark skips blank lines, and not a
   * rejection. A function, not a
   * method: pass it as it is to a source's `decode`.
   */
  readonly decode: (raw: string | Uint8Array, context?: DecodeContext) => R | undefined | typeof FILTERED
}

const MODES: readonly string[] = ['permissive', 'dropMalformed', 'failFast']
const OPTIONS: readonly string[] = ['mode', 'columnNameOfCorruptRecord']
const utf8 = new TextDecoder('utf-8')

/**
 * Compiles a schema once into a JSON decoder with Spark's semantics (`from_json`, the JSON source): keys
 * not in the schema are ignored, a missing field is null, a field of the wrong type is null and makes
 * the record malformed, as does null in a `nullable: false` field or text that is not a JSON object.
 * Every malformed record is counted (`numMalformedRecords`) when a context is given; a blank text
 * yields no row (`numBlankRecords`), as Spark skips blank lines.
 *
 * @example
 * ```ts
 * const tweets = jsonParser(struct({ creation_time: timestamp(), tweet_text: string() }))
 * graph.from(source('tweets', fileSource('tweets.jsonl'), {
 *   decode: tweets.decode,
 *   timestamp: (row) => row.creation_time?.getTime() ?? null,
 * }))
 * ```
 */
export function jsonParser<
  S extends StructType,
  M extends ParseMode = 'permissive',
  C extends string = '_corrupt_record',
>(schema: S, options: JsonParserOptions<M, C> = {}): JsonParser<ParsedRow<S, M, C>> {
  const { mode, corruptColumn } = checkOptions(schema, options)
  const permissive = mode === 'permissive'
  const convert = compileFields(schema.fields, {
    partial: permissive,
    extraColumn: permissive ? corruptColumn : undefined,
  })
  const names = Object.keys(schema.fields)
  const failure: Failure = { index: -1 }

  function malformed(
    raw: unknown,
    text: string,
    reason: string,
    row: Record<string, unknown> | undefined,
    context: DecodeContext | undefined,
  ): Record<string, unknown> | undefined {
    context?.counters.add('numMalformedRecords')
    if (mode === 'dropMalformed') {
      context?.deadLetter(raw, reason)
      return undefined
    }
    if (mode === 'failFast') {
      throw new WeirError(
        'malformed-record',
        `malformed record (${reason}): ${preview(text)}: use mode 'permissive' to keep it (fields that do not ` +
          `parse become null, the text goes to '${corruptColumn}') or 'dropMalformed' to drop it`,
      )
    }
    if (row === undefined) {
      row = {}
      for (const name of names) row[name] = null
    }
    row[corruptColumn] = text
    return row
  }

  function reasonOf(json: object, i: number): string {
    const name = names[i]
    return explainField(schema.fields[name], ownValue(json, name), Object.hasOwn(json, name), name)!
  }

  const decode = (
    raw: string | Uint8Array,
    context?: DecodeContext,
  ): Record<string, unknown> | undefined | typeof FILTERED => {
    const text = textOf(raw)
    if (text === undefined) {
      context?.counters.add('numBlankRecords')
      return FILTERED
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      return malformed(raw, text, `not valid JSON: ${messageOf(error)}`, undefined, context)
    }
    if (!isJsonObject(json))
      return malformed(raw, text, `expected a JSON object, got ${describeJson(json)}`, undefined, context)
    failure.index = -1
    const row = convert(json, failure)
    if (failure.index >= 0) {
      return malformed(raw, text, reasonOf(json, failure.index), row === INVALID ? undefined : row, context)
    }
    return row as Record<string, unknown>
  }
  return { decode: decode as JsonParser<ParsedRow<S, M, C>>['decode'] }
}

/** The record's text, or undefined for a blank one (null, empty or only whitespace). */
function textOf(raw: unknown): string | undefined {
  let text: string
  if (typeof raw === 'string') text = raw
  else if (raw instanceof Uint8Array) text = utf8.decode(raw)
  else if (raw === null || raw === undefined) return undefined
  else {
    throw new ConfigError(
      `jsonParser decodes text or UTF-8 bytes (string or Uint8Array), not ${describeJson(raw)}: ` +
        `the source already yields parsed values; drop the decode, or give it a source of text`,
    )
  }
  if (text.charCodeAt(0) === 123) return text // '{': not blank, the usual case
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return text
  }
  return undefined
}

function checkOptions(
  schema: StructType,
  options: JsonParserOptions,
): { mode: ParseMode; corruptColumn: string } {
  if (typeof schema !== 'object' || schema === null || schema.kind !== 'struct') {
    throw new ConfigError(
      `jsonParser takes a struct schema, e.g. jsonParser(struct({ tweet_text: string() }))`,
    )
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.includes(key)) {
      throw new ConfigError(
        `unknown jsonParser option '${key}': use ${OPTIONS.map((o) => `'${o}'`).join(' or ')}`,
      )
    }
  }
  const mode = options.mode ?? 'permissive'
  if (!MODES.includes(mode)) {
    throw new ConfigError(
      `unknown parse mode ${JSON.stringify(mode)}: use ${MODES.map((m) => `'${m}'`).join(', ')}`,
    )
  }
  const corruptColumn = options.columnNameOfCorruptRecord ?? '_corrupt_record'
  if (typeof corruptColumn !== 'string' || corruptColumn === '') {
    throw new ConfigError(`columnNameOfCorruptRecord must be a non-empty string, e.g. '_corrupt_record'`)
  }
  checkFieldName(corruptColumn)
  if (Object.hasOwn(schema.fields, corruptColumn)) {
    throw new ConfigError(
      `the schema has a field '${corruptColumn}', the corrupt-record column's name: ` +
        `rename the field, or set columnNameOfCorruptRecord to another name`,
    )
  }
  return { mode, corruptColumn }
}
