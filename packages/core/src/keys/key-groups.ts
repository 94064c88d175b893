import { ConfigError } from '../errors.js'

/**
 * What a record may be keyed by. Other values (objects, arrays, dates, functions, symbols) are
 * rejected with a ConfigError where the key is made (`checkKey`): key by a string or number instead,
 * e.g. `JSON.stringify([a, b])` for a composite key.
 */
export type Key = string | number | boolean | bigint | null | undefined

/** Key groups per keyed operator unless configured: the most instances it can ever be rescaled to. */
export const DEFAULT_MAX_PARALLELISM = 128

/** The largest max parallelism accepted, as in Flink (2^15). */
const MAX_MAX_PARALLELISM = 32_768

// One seed per type, so that equal-looking keys of different types ('1', 1, 1n, true) hash apart.
// Strings use seed 0: their hash is plain murmur3_x86_32 of the UTF-16LE bytes, reproducible anywhere.
const SEED_STRING = 0
const SEED_INT = 1
const SEED_NUMBER_TEXT = 2
const SEED_BIGINT = 3
const SEED_BOOLEAN = 4
const SEED_NULL = 5
const SEED_UNDEFINED = 6

const C1 = 0xcc9e2d51
const C2 = 0x1b873593

const HASH_FALSE = murmur3Int(0, SEED_BOOLEAN)
const HASH_TRUE = murmur3Int(1, SEED_BOOLEAN)
const HASH_NULL = murmur3Int(0, SEED_NULL)
const HASH_UNDEFINED = murmur3Int(0, SEED_UNDEFINED)

/**
 * A key's hash: an unsigned 32-bit murmur3, the same in every process, platform and run, so a hash
 * exchange routes a key to the same instance whichever worker or machine computes it. Strings are
 * hashed over their UTF-16 code units without allocating; integers in int32 range as 4-byte ints;
 * other numbers by their canonical text (so `-0` hashes as `0`); bigints by their decimal text.
 * Each type has its own seed, so `'1'`, `1`, `1n` and `true` hash apart.
 *
 * @example
 * ```ts
 * hashKey('apple') === hashKey('apple')  // true, in any process
 * hashKey('1') !== hashKey(1)            // true
 * ```
 */
export function hashKey(key: Key): number {
  switch (typeof key) {
    case 'string':
      return murmur3Utf16(key, SEED_STRING)
    case 'number':
      return (key | 0) === key ? murmur3Int(key, SEED_INT) : murmur3Utf16(String(key), SEED_NUMBER_TEXT)
    case 'boolean':
      return key ? HASH_TRUE : HASH_FALSE
    case 'bigint':
      return murmur3Utf16(key.toString(), SEED_BIGINT)
    case 'undefined':
      return HASH_UNDEFINED
    default:
      if (key === null) return HASH_NULL
      checkKey(key, 'hashKey')
      return 0
  }
}

/**
 * The key group of a key: `hashKey(key) mod maxParallelism`. State is stored per key group, so it can
 * be restored at another parallelism. `maxParallelism` must have passed `validateParallelism`.
 *
 * @example
 * ```ts
 * keyGroupOf('apple', 128)  // a number in 0..127, the same everywhere
 * ```
 */
export function keyGroupOf(key: Key, maxParallelism: number): number {
  // hashKey already ends in murmur3's fmix32 finaliser, so its low bits are well spread.
  return hashKey(key) % maxParallelism
}

/**
 * The instance (of `parallelism`) that owns a key group: `floor(keyGroup * parallelism / maxParallelism)`.
 * Each instance owns one contiguous range of key groups (see `keyGroupRange`).
 *
 * @example
 * ```ts
 * instanceForKeyGroup(100, 128, 4)  // 3: instance 3 owns key groups 96..127
 * ```
 */
export function instanceForKeyGroup(keyGroup: number, maxParallelism: number, parallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism)
}

/**
 * The key groups an instance owns, half-open `[start, end)`: exactly those `instanceForKeyGroup` maps
 * to it. The ranges of instances 0..parallelism-1 partition `[0, maxParallelism)` in order.
 *
 * @example
 * ```ts
 * keyGroupRange(1, 3, 128)  // { start: 43, end: 86 }
 * ```
 */
export function keyGroupRange(
  instance: number,
  parallelism: number,
  maxParallelism: number,
): { readonly start: number; readonly end: number } {
  // kg maps to i  ⇔  i*maxP/p <= kg < (i+1)*maxP/p  ⇔  ceil(i*maxP/p) <= kg < ceil((i+1)*maxP/p)
  return {
    start: Math.ceil((instance * maxParallelism) / parallelism),
    end: Math.ceil(((instance + 1) * maxParallelism) / parallelism),
  }
}

/**
 * The instance (of `parallelism`) that a hash exchange sends a key to.
 *
 * @example
 * ```ts
 * instanceForKey('apple', 128, 4)  // 0..3, the same everywhere
 * ```
 */
export function instanceForKey(key: Key, maxParallelism: number, parallelism: number): number {
  return instanceForKeyGroup(keyGroupOf(key, maxParallelism), maxParallelism, parallelism)
}

/**
 * Checks an operator's parallelism and max parallelism: max parallelism a whole number in 1..32768,
 * parallelism a whole number in 1..maxParallelism (an instance must own at least one key group).
 * `what` names the operator in the message.
 *
 * @example
 * ```ts
 * validateParallelism(4, 128, "operator 'count'")    // fine
 * validateParallelism(200, 128, "operator 'count'")  // ConfigError: … use a parallelism <= 128 or raise maxParallelism
 * ```
 */
export function validateParallelism(parallelism: number, maxParallelism: number, what: string): void {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_MAX_PARALLELISM) {
    throw new ConfigError(
      `${what}: maxParallelism ${maxParallelism} is not a whole number in 1..${MAX_MAX_PARALLELISM}: ` +
        `use e.g. ${DEFAULT_MAX_PARALLELISM} (the default); it fixes how far the operator can be rescaled`,
    )
  }
  if (!Number.isInteger(parallelism) || parallelism < 1) {
    throw new ConfigError(`${what}: parallelism ${parallelism} is not a whole number >= 1: use e.g. 1 or 4`)
  }
  if (parallelism > maxParallelism) {
    throw new ConfigError(
      `${what}: parallelism ${parallelism} is more than maxParallelism ${maxParallelism}, so some instances would own no key group: ` +
        `use a parallelism <= ${maxParallelism} or raise maxParallelism`,
    )
  }
}

/**
 * Throws a ConfigError unless key is a valid `Key`. Call it where keys are made (`keyBy`), so a bad
 * key fails with a message that names the place, not deep inside an exchange.
 *
 * @example
 * ```ts
 * checkKey(record.word, "keyBy in operator 'words'")   // fine for a string
 * checkKey({ a: 1 }, "keyBy in operator 'words'")
 * // ConfigError: keyBy in operator 'words': a key must be a string, number, boolean, bigint, null or undefined, not an object: …
 * ```
 */
export function checkKey(key: Key, where: string): void {
  const type = typeof key
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint' || key == null) return
  const value = key as unknown
  let hint = 'key by a string or number instead, e.g. JSON.stringify([a, b]) for a composite key'
  let kind: string
  if (Array.isArray(value)) kind = 'an array'
  else if (value instanceof Date) {
    kind = 'a Date'
    hint = 'key by date.getTime() or date.toISOString() instead'
  } else if (type === 'function') kind = 'a function'
  else if (type === 'symbol') kind = 'a symbol'
  else kind = 'an object'
  throw new ConfigError(
    `${where}: a key must be a string, number, boolean, bigint, null or undefined, not ${kind}: ${hint}`,
  )
}

/** murmur3_x86_32 over the UTF-16LE bytes of s, read as code units: two per 4-byte block. */
function murmur3Utf16(s: string, seed: number): number {
  const n = s.length
  const pairsEnd = n & ~1
  let h = seed | 0
  let i = 0
  for (; i < pairsEnd; i += 2) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  if (i < n) {
    let k = s.charCodeAt(i)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
  }
  h ^= n * 2
  return fmix32(h)
}

/** murmur3_x86_32 over the 4 little-endian bytes of an int32. */
function murmur3Int(value: number, seed: number): number {
  let k = Math.imul(value | 0, C1)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, C2)
  let h = (seed | 0) ^ k
  h = (h << 13) | (h >>> 19)
  h = (Math.imul(h, 5) + 0xe6546b64) | 0
  h ^= 4
  return fmix32(h)
}

/** murmur3's finaliser: every input bit affects every output bit. Returns an unsigned 32-bit int. */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
