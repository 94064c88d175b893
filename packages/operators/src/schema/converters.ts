import { parseTimestamp } from './timestamp.js'
import type { DataType } from './types.js'

/** What a converter returns for a value that does not fit its type. */
export const INVALID: unique symbol = Symbol('invalid')

/** Turns a non-null JSON value into a row value, or `INVALID`; built once per schema, run per record. */
export type Converter = (value: unknown) => unknown

/** The converter of a type that is neither a struct nor an array. */
export function primitiveConverter(kind: Exclude<DataType['kind'], 'struct' | 'array'>): Converter {
  return PRIMITIVES[kind]
}

/** Null and missing values become null, or `INVALID` where the type is not nullable. */
export function convertNullable(value: unknown, convert: Converter, nullable: boolean): unknown {
  if (value === null || value === undefined) return nullable ? null : INVALID
  return convert(value)
}

/** The value of an object's own key, or undefined: inherited members (`toString`) are never read. */
export function ownValue(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined
}

export function isJsonObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** An array's converter: every element must convert, or the whole array is `INVALID`. */
export function arrayConverter(convert: Converter, nullable: boolean): Converter {
  return (value) => {
    if (!Array.isArray(value)) return INVALID
    const result: unknown[] = []
    for (let i = 0; i < value.length; i++) {
      const converted = convertNullable(value[i], convert, nullable)
      if (converted === INVALID) return INVALID
      result.push(converted)
    }
    return result
  }
}

function asString(value: unknown): unknown {
  return typeof value === 'string' ? value : INVALID
}

// 2^63 itself is let in: it is what JSON.parse makes of Long.MAX_VALUE (9223372036854775807).
function asLong(value: unknown): unknown {
  return Number.isInteger(value) && Math.abs(value as number) <= 2 ** 63 ? value : INVALID
}

function asInteger(value: unknown): unknown {
  return Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31
    ? value
    : INVALID
}

/** Strings Spark's JSON reader takes for a double (`allowNonNumericNumbers`). */
const NON_NUMERIC: ReadonlyMap<string, number> = new Map([
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['+Infinity', Infinity],
  ['-Infinity', -Infinity],
])

function asDouble(value: unknown): unknown {
  if (typeof value === 'number') return value
  return typeof value === 'string' ? (NON_NUMERIC.get(value) ?? INVALID) : INVALID
}

function asBoolean(value: unknown): unknown {
  return typeof value === 'boolean' ? value : INVALID
}

function asTimestamp(value: unknown): unknown {
  return parseTimestamp(value) ?? INVALID
}

const PRIMITIVES = {
  string: asString,
  long: asLong,
  integer: asInteger,
  double: asDouble,
  boolean: asBoolean,
  timestamp: asTimestamp,
}
