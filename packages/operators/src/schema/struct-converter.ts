import { convertNullable, INVALID, ownValue, type Converter } from './converters.js'
import { checkFieldName } from './types.js'

/** Where a struct converter reports the first field that did not convert: its index, or -1. */
export interface Failure {
  index: number
}

/** Builds a row from a JSON object, or `INVALID`; `failure.index` says which field failed first. */
export type StructConverter = (json: object, failure: Failure) => Record<string, unknown> | typeof INVALID

/** A struct's fields, compiled: parallel arrays in field order. */
export interface StructPlan {
  readonly names: readonly string[]
  readonly converters: readonly Converter[]
  readonly nullables: readonly boolean[]
  /**
   * Go on past a field that fails, making it null (Spark 3's partial results, for the top level in
   * permissive mode), instead of returning `INVALID` at once.
   */
  readonly partial: boolean
  /** A last column, null in every row: the corrupt-record column. */
  readonly extraColumn?: string
}

/**
 * Compiles a struct into one function. It is generated from the field names, so that V8 sees named
 * loads and one object literal per row: reading and writing fields by a name from an array (the loop
 * kept as a fallback, for Node run with `--disallow-code-generation-from-strings`) makes parsing a
 * tweet cost about 2.5× `JSON.parse` instead of 1.5×. Names enter the code only as JSON string literals.
 */
export function compileStruct(plan: StructPlan, options: { generate?: boolean } = {}): StructConverter {
  for (const name of plan.names) checkFieldName(name)
  if (plan.extraColumn !== undefined) checkFieldName(plan.extraColumn)
  if (options.generate ?? true) {
    try {
      return generatedStruct(plan)
    } catch (error) {
      if (!(error instanceof EvalError)) throw error
    }
  }
  return loopStruct(plan)
}

function generatedStruct({
  names,
  converters,
  nullables,
  partial,
  extraColumn,
}: StructPlan): StructConverter {
  const body: string[] = []
  const entries: string[] = []
  for (let i = 0; i < names.length; i++) {
    const key = JSON.stringify(names[i])
    body.push(
      `let v${i} = Object.hasOwn(json, ${key}) ? json[${key}] : undefined`,
      `if (v${i} === undefined || v${i} === null) v${i} = ${nullables[i] ? 'null' : 'INVALID'}`,
      `else v${i} = c${i}(v${i})`,
      partial
        ? `if (v${i} === INVALID) { if (failure.index < 0) failure.index = ${i}; v${i} = null }`
        : `if (v${i} === INVALID) { failure.index = ${i}; return INVALID }`,
    )
    entries.push(`${key}: v${i}`)
  }
  if (extraColumn !== undefined) entries.push(`${JSON.stringify(extraColumn)}: null`)
  const locals = names.map((_, i) => `const c${i} = converters[${i}]`)
  const source = [
    `'use strict'`,
    ...locals,
    `return function convertStruct(json, failure) {`,
    ...body,
    `return { ${entries.join(', ')} }`,
    `}`,
  ].join('\n')
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see compileStruct: names are JSON literals
  const factory = new Function('converters', 'INVALID', source) as (
    converters: readonly Converter[],
    invalid: typeof INVALID,
  ) => StructConverter
  return factory(converters, INVALID)
}

function loopStruct({ names, converters, nullables, partial, extraColumn }: StructPlan): StructConverter {
  return (json, failure) => {
    const row: Record<string, unknown> = {}
    for (let i = 0; i < names.length; i++) {
      let value = convertNullable(ownValue(json, names[i]), converters[i], nullables[i])
      if (value === INVALID) {
        if (!partial) {
          failure.index = i
          return INVALID
        }
        if (failure.index < 0) failure.index = i
        value = null
      }
      row[names[i]] = value
    }
    if (extraColumn !== undefined) row[extraColumn] = null
    return row
  }
}
