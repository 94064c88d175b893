import type { DataType, StructFields, StructType } from './types.js'

/**
 * The names of a schema's top-level fields, in order (Spark's `schema.fieldNames`).
 *
 * @example
 * ```ts
 * fieldNames(struct({ creation_time: timestamp(), tweet_text: string() })) // ['creation_time', 'tweet_text']
 * ```
 */
export function fieldNames<F extends StructFields>(schema: StructType<F>): (keyof F & string)[] {
  return Object.keys(schema.fields)
}

/**
 * A schema as Spark's `printSchema()` prints it (without the trailing newline).
 *
 * @example
 * ```ts
 * describeSchema(struct({ tweet_text: string(), tags: array(string()) }))
 * // root
 * //  |-- tweet_text: string (nullable = true)
 * //  |-- tags: array (nullable = true)
 * //  |    |-- element: string (containsNull = true)
 * ```
 */
export function describeSchema(schema: StructType): string {
  const lines = ['root']
  describeFields(schema.fields, ' |', lines)
  return lines.join('\n')
}

function describeFields(fields: StructFields, prefix: string, lines: string[]): void {
  for (const [name, type] of Object.entries(fields)) describeType(name, type, 'nullable', prefix, lines)
}

function describeType(name: string, type: DataType, flag: string, prefix: string, lines: string[]): void {
  lines.push(`${prefix}-- ${name}: ${type.kind} (${flag} = ${type.nullable})`)
  if (type.kind === 'struct') describeFields(type.fields, `${prefix}    |`, lines)
  else if (type.kind === 'array')
    describeType('element', type.element, 'containsNull', `${prefix}    |`, lines)
}
