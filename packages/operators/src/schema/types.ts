import { ConfigError } from '@weir/core'

/**
 * Whether a value may be null: `nullable: false` makes a null or missing value a malformed record.
 * (The constructors return `XType<NoInfer<N>>`: inside `struct({...})` the expected `DataType` would
 * otherwise widen `nullable: false` to `boolean`.)
 */
export interface TypeOptions<N extends boolean> {
  readonly nullable?: N
}

/** Spark's `StringType`: a JSON string (the empty string included). */
export interface StringType<N extends boolean = boolean> {
  readonly kind: 'string'
  readonly nullable: N
}

/** Spark's `LongType`: an integral JSON number within ±2^63 (exact only up to 2^53, as in JSON.parse). */
export interface LongType<N extends boolean = boolean> {
  readonly kind: 'long'
  readonly nullable: N
}

/** Spark's `IntegerType`: an integral JSON number within the 32-bit range. */
export interface IntegerType<N extends boolean = boolean> {
  readonly kind: 'integer'
  readonly nullable: N
}

/** Spark's `DoubleType`: any JSON number, or the strings `NaN`, `Infinity`, `-Infinity`. */
export interface DoubleType<N extends boolean = boolean> {
  readonly kind: 'double'
  readonly nullable: N
}

/** Spark's `BooleanType`: JSON `true` or `false`. */
export interface BooleanType<N extends boolean = boolean> {
  readonly kind: 'boolean'
  readonly nullable: N
}

/** Spark's `TimestampType`: a date-time string or a number of seconds, a `Date` in rows. */
export interface TimestampType<N extends boolean = boolean> {
  readonly kind: 'timestamp'
  readonly nullable: N
}

/** The fields of a struct, in order. */
export type StructFields = { readonly [name: string]: DataType }

/** Spark's `StructType`: a JSON object; keys not in `fields` are ignored. */
export interface StructType<F extends StructFields = StructFields, N extends boolean = boolean> {
  readonly kind: 'struct'
  readonly fields: F
  readonly nullable: N
}

/** Spark's `ArrayType`: a JSON array whose elements are all of `element`'s type. */
export interface ArrayType<E extends DataType = DataType, N extends boolean = boolean> {
  readonly kind: 'array'
  readonly element: E
  readonly nullable: N
}

/** Every type a schema is built from. */
export type DataType =
  StringType | LongType | IntegerType | DoubleType | BooleanType | TimestampType | StructType | ArrayType

/** The value a field of type `T` holds in a row: `null` included unless `T` is `nullable: false`. */
export type ValueOf<T extends DataType> = T['nullable'] extends false
  ? PresentValueOf<T>
  : PresentValueOf<T> | null

/** The value of a type when it is not null. */
export type PresentValueOf<T extends DataType> = T extends StringType
  ? string
  : T extends LongType | IntegerType | DoubleType
    ? number
    : T extends BooleanType
      ? boolean
      : T extends TimestampType
        ? Date
        : T extends StructType<infer F>
          ? FieldsOf<F>
          : T extends ArrayType<infer E>
            ? ValueOf<E>[]
            : never

/** The row a struct's fields make. */
export type FieldsOf<F extends StructFields> = { -readonly [K in keyof F]: ValueOf<F[K]> }

/**
 * The row type a schema describes.
 *
 * @example
 * ```ts
 * const schema = struct({ tweet_text: string(), retweets: long({ nullable: false }) })
 * type Tweet = RowOf<typeof schema> // { tweet_text: string | null; retweets: number }
 * ```
 */
export type RowOf<S extends StructType> = FieldsOf<S['fields']>

/**
 * A string field. Types are nullable unless `{ nullable: false }`, as Spark's `StructField`.
 *
 * @example
 * ```ts
 * struct({ tweet_text: string(), id_str: string({ nullable: false }) })
 * ```
 */
export function string<N extends boolean = true>(options: TypeOptions<N> = {}): StringType<NoInfer<N>> {
  return primitive('string', options)
}

/**
 * A 64-bit integral field (Spark's `long`), a `number` in rows. Above 2^53 a number loses precision, as
 * it does in `JSON.parse`: read such ids as strings (Twitter's `id_str`).
 *
 * @example
 * ```ts
 * struct({ retweets: long() })
 * ```
 */
export function long<N extends boolean = true>(options: TypeOptions<N> = {}): LongType<NoInfer<N>> {
  return primitive('long', options)
}

/**
 * A 32-bit integral field (Spark's `integer`).
 *
 * @example
 * ```ts
 * struct({ followers: integer() })
 * ```
 */
export function integer<N extends boolean = true>(options: TypeOptions<N> = {}): IntegerType<NoInfer<N>> {
  return primitive('integer', options)
}

/**
 * A floating-point field (Spark's `double`).
 *
 * @example
 * ```ts
 * struct({ score: double() })
 * ```
 */
export function double<N extends boolean = true>(options: TypeOptions<N> = {}): DoubleType<NoInfer<N>> {
  return primitive('double', options)
}

/**
 * A boolean field.
 *
 * @example
 * ```ts
 * struct({ verified: boolean() })
 * ```
 */
export function boolean<N extends boolean = true>(options: TypeOptions<N> = {}): BooleanType<NoInfer<N>> {
  return primitive('boolean', options)
}

/**
 * A timestamp field, a `Date` in rows: what `parseTimestamp` reads (ISO-8601, Twitter's format, seconds).
 *
 * @example
 * ```ts
 * struct({ creation_time: timestamp() })
 * ```
 */
export function timestamp<N extends boolean = true>(options: TypeOptions<N> = {}): TimestampType<NoInfer<N>> {
  return primitive('timestamp', options)
}

/**
 * A struct: a JSON object with these fields, in this order. A schema is a struct. Field names that would
 * reach an object's prototype (`__proto__`, `constructor`, `prototype`) are refused.
 *
 * @example
 * ```ts
 * const tweetSchema = struct({ creation_time: timestamp(), user: struct({ name: string() }) })
 * ```
 */
export function struct<F extends StructFields, N extends boolean = true>(
  fields: F,
  options: TypeOptions<N> = {},
): StructType<F, NoInfer<N>> {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new ConfigError(
      `struct() takes an object of fields, e.g. struct({ name: string() }), not ${typeof fields}`,
    )
  }
  const proto = Object.getPrototypeOf(fields) as unknown
  if (proto !== Object.prototype && proto !== null) {
    throw new ConfigError(
      `struct() takes a plain object of fields: a '__proto__: ...' key in an object literal sets its prototype ` +
        `instead of naming a field; rename the field upstream, or read it with a map()`,
    )
  }
  const copy: Record<string, DataType> = {}
  for (const name of Object.keys(fields)) {
    checkFieldName(name)
    const type = fields[name]
    if (!isDataType(type)) {
      throw new ConfigError(
        `field '${name}' is not a type: use string(), long(), integer(), double(), boolean(), timestamp(), ` +
          `struct({...}) or array(...)`,
      )
    }
    copy[name] = type
  }
  return Object.freeze({ kind: 'struct', fields: Object.freeze(copy) as F, nullable: nullableOf(options) })
}

/**
 * An array whose elements are of `element`'s type; the element's `nullable` is Spark's `containsNull`.
 *
 * @example
 * ```ts
 * struct({ tags: array(string()) }) // tags: (string | null)[] | null
 * ```
 */
export function array<E extends DataType, N extends boolean = true>(
  element: E,
  options: TypeOptions<N> = {},
): ArrayType<E, NoInfer<N>> {
  if (!isDataType(element)) {
    throw new ConfigError(`array() takes the type of its elements, e.g. array(string())`)
  }
  return Object.freeze({ kind: 'array', element, nullable: nullableOf(options) })
}

const KINDS: ReadonlySet<string> = new Set([
  'string',
  'long',
  'integer',
  'double',
  'boolean',
  'timestamp',
  'struct',
  'array',
])

/** Names a row cannot hold by assignment without touching a prototype. */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** Refuses a field name that would reach a prototype when a row is built by assignment. */
export function checkFieldName(name: string): void {
  if (FORBIDDEN_NAMES.has(name)) {
    throw new ConfigError(
      `field name '${name}' is not allowed in a schema (rows are plain objects and it would reach their ` +
        `prototype): rename the field upstream, or read it from the parsed JSON with a map()`,
    )
  }
}

function isDataType(value: unknown): value is DataType {
  return (
    typeof value === 'object' && value !== null && KINDS.has((value as { kind?: unknown }).kind as string)
  )
}

function primitive<K extends DataType['kind'], N extends boolean>(kind: K, options: TypeOptions<N>) {
  return Object.freeze({ kind, nullable: nullableOf(options) })
}

function nullableOf<N extends boolean>(options: TypeOptions<N>): N {
  const nullable = options.nullable ?? true
  if (typeof nullable !== 'boolean') {
    throw new ConfigError(`nullable must be true or false, not ${JSON.stringify(nullable)}`)
  }
  return nullable as N
}
