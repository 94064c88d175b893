import { arrayConverter, INVALID, isJsonObject, primitiveConverter, type Converter } from './converters.js'
import { compileStruct, type Failure, type StructConverter } from './struct-converter.js'
import type { DataType, StructFields } from './types.js'

/**
 * Builds the converter of a type, once per schema; null and missing values are the caller's (see
 * `convertNullable`). A nested struct is all or nothing: one field that fails makes it `INVALID`.
 */
export function compileType(type: DataType, options: { generate?: boolean } = {}): Converter {
  switch (type.kind) {
    case 'struct': {
      const convert = compileFields(type.fields, { partial: false, generate: options.generate })
      const failure: Failure = { index: -1 }
      return (value) => (isJsonObject(value) ? convert(value, failure) : INVALID)
    }
    case 'array':
      return arrayConverter(compileType(type.element, options), type.element.nullable)
    default:
      return primitiveConverter(type.kind)
  }
}

/** Builds the converter of a struct's fields (the top level of a schema has its own options). */
export function compileFields(
  fields: StructFields,
  options: { partial: boolean; extraColumn?: string; generate?: boolean },
): StructConverter {
  const names = Object.keys(fields)
  const nested = { generate: options.generate }
  const plan = {
    names,
    converters: names.map((name) => compileType(fields[name], nested)),
    nullables: names.map((name) => fields[name].nullable),
    partial: options.partial,
    extraColumn: options.extraColumn,
  }
  return compileStruct(plan, options)
}
