import { preview } from '@weir/core'
import { INVALID, isJsonObject, ownValue, primitiveConverter } from './converters.js'
import type { DataType } from './types.js'

/**
 * Why a field's value does not fit its type, e.g. `field 'user.name': expected string, got number 3`,
 * or undefined when it fits. Only run for a record already found malformed, so it may be slow.
 */
export function explainField(
  type: DataType,
  value: unknown,
  present: boolean,
  path: string,
): string | undefined {
  if (value === null || value === undefined) {
    return type.nullable ? undefined : `field '${path}' is ${present ? 'null' : 'missing'} but not nullable`
  }
  switch (type.kind) {
    case 'struct': {
      if (!isJsonObject(value)) break
      for (const [name, field] of Object.entries(type.fields)) {
        const reason = explainField(
          field,
          ownValue(value, name),
          Object.hasOwn(value, name),
          `${path}.${name}`,
        )
        if (reason !== undefined) return reason
      }
      return undefined
    }
    case 'array': {
      if (!Array.isArray(value)) break
      for (let i = 0; i < value.length; i++) {
        const reason = explainField(type.element, value[i], true, `${path}[${i}]`)
        if (reason !== undefined) return reason
      }
      return undefined
    }
    default:
      if (primitiveConverter(type.kind)(value) !== INVALID) return undefined
  }
  return `field '${path}': expected ${type.kind}, got ${describeJson(value)}`
}

/** A JSON value's kind and a short preview: `string "12"`, `number 1.5`, `object`, `array`. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'object') return 'object'
  return `${typeof value} ${preview(value, 40)}`
}
