import { Packr } from 'msgpackr'

/**
 * Encodes snapshots with msgpackr. Maps stay Maps (key groups are numbers, split ids strings), and
 * Infinity, undefined and nested objects survive: `decode(encode(x))` deep-equals `x`.
 *
 * @example
 * ```ts
 * const bytes = encodeSnapshot({ keyGroups: new Map([[3, { the: 42 }]]) })
 * decodeSnapshot(bytes) // { keyGroups: Map { 3 => { the: 42 } } }
 * ```
 */
const packr = new Packr({ mapsAsObjects: false, moreTypes: true })

export function encodeSnapshot(value: unknown): Uint8Array {
  return packr.pack(value)
}

export function decodeSnapshot<T = unknown>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T
}
