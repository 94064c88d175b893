import test from 'ava'

import { ConfigError } from '../../src/errors.js'
import {
  DEFAULT_MAX_PARALLELISM,
  checkKey,
  hashKey,
  instanceForKey,
  instanceForKeyGroup,
  keyGroupOf,
  keyGroupRange,
  validateParallelism,
  type Key,
} from '../../src/keys/key-groups.js'

/** murmur3_x86_32 over bytes, written out plainly from the reference, to check the fast one against. */
function murmur3Bytes(bytes: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51
  const c2 = 0x1b873593
  const mix = (k: number) => {
    k = Math.imul(k, c1)
    k = (k << 15) | (k >>> 17)
    return Math.imul(k, c2)
  }
  let h = seed | 0
  const blocks = bytes.length - (bytes.length % 4)
  for (let i = 0; i < blocks; i += 4) {
    h ^= mix(bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  let tail = 0
  for (let i = bytes.length - 1; i >= blocks; i--) tail = (tail << 8) | bytes[i]
  if (bytes.length > blocks) h ^= mix(tail)
  h ^= bytes.length
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const utf8 = (s: string) => Buffer.from(s, 'utf8')
const utf16 = (s: string) => Buffer.from(s, 'utf16le')
const int32 = (v: number) => {
  const bytes = Buffer.alloc(4)
  bytes.writeInt32LE(v)
  return bytes
}

test('checks its reference murmur3 against the published test vectors', (t) => {
  const vectors: [Uint8Array, number, number][] = [
    [utf8(''), 0, 0],
    [utf8(''), 1, 0x514e28b7],
    [utf8(''), 0xffffffff, 0x81f16f39],
    [Buffer.from([0, 0, 0, 0]), 0, 0x2362f9de],
    [utf8('aaaa'), 0x9747b28c, 0x5a97808a],
    [utf8('abc'), 0, 0xb3dd93fa],
    [utf8('hello'), 0, 0x248bfa47],
    [utf8('Hello, world!'), 0x9747b28c, 0x24884cba],
    [utf8('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
  ]
  for (const [bytes, seed, expected] of vectors) t.is(murmur3Bytes(bytes, seed), expected)
})

test('hashes a string as murmur3 of its UTF-16LE bytes with seed 0', (t) => {
  for (const s of ['', 'a', 'ab', 'abc', 'hello', 'über', '日本語', '😀 emoji', 'x'.repeat(1001)]) {
    t.is(hashKey(s), murmur3Bytes(utf16(s), 0), JSON.stringify(s))
  }
})

test('hashes an int32 number as murmur3 of its 4 bytes with seed 1', (t) => {
  for (const v of [0, 1, -1, 42, 2_147_483_647, -2_147_483_648])
    t.is(hashKey(v), murmur3Bytes(int32(v), 1), String(v))
})

test('hashes other numbers by their text with seed 2, and bigints by their decimal text with seed 3', (t) => {
  for (const v of [1.5, -0.25, 2 ** 31, 2 ** 40, -(2 ** 31) - 1, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.is(hashKey(v), murmur3Bytes(utf16(String(v)), 2), String(v))
  }
  for (const v of [0n, 1n, -5n, 12_345_678_901_234_567_890n])
    t.is(hashKey(v), murmur3Bytes(utf16(String(v)), 3), `${v}n`)
})

// Hard-coded so that any change to hashing, which would move every key's state, fails here first.
const pinned: [Key, number][] = [
  ['', 0x00000000],
  ['a', 0x6f49d11a],
  ['hello', 0xd7c31989],
  ['apple', 0xa2f0bfe8],
  ['😀', 0x56065e39],
  ['1', 0xf879cc33],
  [0, 0x78ed212d],
  [1, 0x5e11e574],
  [-1, 0x36c6fa09],
  [42, 0x063a8583],
  [1.5, 0x5cde102c],
  [2 ** 40, 0xc829bcaf],
  [1n, 0x9416ac93],
  [true, 0xd7f124c9],
  [false, 0xfe584167],
  [null, 0xb66d07f4],
  [undefined, 0x3bcb9de8],
]

for (const [key, hash] of pinned) {
  const name =
    typeof key === 'bigint' ? `${key}n` : typeof key === 'string' ? JSON.stringify(key) : String(key)
  test(`hashes ${name} (${typeof key}) to 0x${hash.toString(16).padStart(8, '0')}`, (t) => {
    t.is(hashKey(key), hash)
  })
}

test('returns unsigned 32-bit integers', (t) => {
  for (const key of ['a', 'b', 'apple', -1, 7.25, 3n, true, null]) {
    const h = hashKey(key)
    t.true(Number.isInteger(h) && h >= 0 && h <= 0xffffffff)
  }
})

test("keeps '1', 1, 1n and true apart", (t) => {
  const hashes = ['1', 1, 1n, true, '0', 0, 0n, false, 'null', null, 'undefined', undefined, 'true'].map(
    hashKey,
  )
  t.is(new Set(hashes).size, hashes.length)
})

test('hashes 1 and 1.0 alike, and -0 like 0', (t) => {
  t.is(hashKey(1.0), hashKey(1))
  t.is(hashKey(-0), hashKey(0))
})

test('puts a key in the group hash mod maxParallelism', (t) => {
  for (const key of ['a', 'apple', 1, 2n, true, null]) {
    t.is(keyGroupOf(key, 128), hashKey(key) % 128)
    t.is(keyGroupOf(key, 1), 0)
  }
  t.deepEqual(
    (['1', 1, 1n, true] as Key[]).map((key) => keyGroupOf(key, DEFAULT_MAX_PARALLELISM)),
    [51, 116, 19, 73],
  )
})

function words(count: number): string[] {
  let seed = 12_345
  const random = () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
    return seed / 2 ** 32
  }
  const out = new Set<string>()
  while (out.size < count) {
    const length = 2 + Math.floor(random() * 9)
    let word = ''
    for (let i = 0; i < length; i++) word += String.fromCharCode(97 + Math.floor(random() * 26))
    out.add(word)
  }
  return [...out]
}

for (const [what, keys] of [
  ['random words', words(10_000)],
  ['sequential names', Array.from({ length: 10_000 }, (_, i) => `user-${i}`)],
  ['sequential integers', Array.from({ length: 10_000 }, (_, i) => i)],
] as [string, Key[]][]) {
  test(`spreads 10k distinct ${what} evenly over 128 key groups`, (t) => {
    const counts = new Array<number>(128).fill(0)
    for (const key of keys) counts[keyGroupOf(key, 128)]++
    const min = Math.min(...counts)
    const max = Math.max(...counts)
    t.true(min > 0, 'no group is empty')
    t.true(max / min < 2.5, `max ${max} / min ${min}`)
  })
}

const parallelismPairs: [number, number][] = [
  [1, 1],
  [1, 128],
  [2, 128],
  [3, 128],
  [5, 7],
  [7, 7],
  [10, 128],
  [127, 128],
  [128, 128],
  [3, 1_000],
  [999, 1_000],
  [1, 32_768],
  [7, 32_768],
  [1_000, 32_768],
  [32_768, 32_768],
]
for (let maxP = 1; maxP <= 40; maxP++) for (let p = 1; p <= maxP; p++) parallelismPairs.push([p, maxP])

test('partitions [0, maxParallelism) into one contiguous, non-empty range per instance, consistent with instanceForKeyGroup', (t) => {
  for (const [p, maxP] of parallelismPairs) {
    let next = 0
    for (let i = 0; i < p; i++) {
      const range = keyGroupRange(i, p, maxP)
      if (range.start !== next || range.end <= range.start) {
        t.fail(
          `p ${p}, maxP ${maxP}: instance ${i} owns [${range.start}, ${range.end}), expected to start at ${next}`,
        )
        return
      }
      for (let kg = range.start; kg < range.end; kg++) {
        if (instanceForKeyGroup(kg, maxP, p) !== i) {
          t.fail(`p ${p}, maxP ${maxP}: key group ${kg} is in instance ${i}'s range but maps to another`)
          return
        }
      }
      next = range.end
    }
    t.is(next, maxP, `p ${p}, maxP ${maxP}: the ranges cover every key group`)
  }
})

test('gives the ranges Flink gives', (t) => {
  t.deepEqual(
    [0, 1, 2].map((i) => keyGroupRange(i, 3, 128)),
    [
      { start: 0, end: 43 },
      { start: 43, end: 86 },
      { start: 86, end: 128 },
    ],
  )
  t.is(instanceForKeyGroup(100, 128, 4), 3)
  t.is(instanceForKeyGroup(0, 128, 4), 0)
  t.is(instanceForKeyGroup(127, 128, 4), 3)
})

test('routes a key to the instance owning its key group', (t) => {
  for (const key of words(200)) {
    for (const p of [1, 2, 3, 8]) {
      const instance = instanceForKey(key, 128, p)
      const range = keyGroupRange(instance, p, 128)
      const kg = keyGroupOf(key, 128)
      t.true(kg >= range.start && kg < range.end)
    }
  }
})

test('accepts parallelism 1..maxParallelism and maxParallelism 1..32768', (t) => {
  for (const [p, maxP] of [
    [1, 1],
    [1, 128],
    [128, 128],
    [4, DEFAULT_MAX_PARALLELISM],
    [32_768, 32_768],
  ]) {
    t.notThrows(() => validateParallelism(p, maxP, "operator 'count'"))
  }
})

const badParallelism: [number, number, string][] = [
  [0, 128, "operator 'count': parallelism 0 is not a whole number >= 1: use e.g. 1 or 4"],
  [1.5, 128, "operator 'count': parallelism 1.5 is not a whole number >= 1: use e.g. 1 or 4"],
  [
    200,
    128,
    "operator 'count': parallelism 200 is more than maxParallelism 128, so some instances would own no key group: use a parallelism <= 128 or raise maxParallelism",
  ],
  [
    1,
    0,
    "operator 'count': maxParallelism 0 is not a whole number in 1..32768: use e.g. 128 (the default); it fixes how far the operator can be rescaled",
  ],
  [
    1,
    32_769,
    "operator 'count': maxParallelism 32769 is not a whole number in 1..32768: use e.g. 128 (the default); it fixes how far the operator can be rescaled",
  ],
]

for (const [p, maxP, message] of badParallelism) {
  test(`rejects parallelism ${p} with maxParallelism ${maxP}`, (t) => {
    t.throws(() => validateParallelism(p, maxP, "operator 'count'"), { instanceOf: ConfigError, message })
  })
}

test('accepts every Key type in checkKey', (t) => {
  for (const key of ['a', '', 0, -1.5, Number.NaN, 1n, true, false, null, undefined] as Key[]) {
    t.notThrows(() => checkKey(key, 'keyBy'))
  }
})

const badKeys: [string, unknown, string][] = [
  [
    'an object',
    { a: 1 },
    'not an object: key by a string or number instead, e.g. JSON.stringify([a, b]) for a composite key',
  ],
  [
    'an array',
    ['a', 1],
    'not an array: key by a string or number instead, e.g. JSON.stringify([a, b]) for a composite key',
  ],
  [
    'a function',
    () => 1,
    'not a function: key by a string or number instead, e.g. JSON.stringify([a, b]) for a composite key',
  ],
  [
    'a symbol',
    Symbol('k'),
    'not a symbol: key by a string or number instead, e.g. JSON.stringify([a, b]) for a composite key',
  ],
  ['a Date', new Date(0), 'not a Date: key by date.getTime() or date.toISOString() instead'],
]

for (const [what, key, end] of badKeys) {
  test(`rejects ${what} as a key, saying what to key by`, (t) => {
    const message = `keyBy in operator 'words': a key must be a string, number, boolean, bigint, null or undefined, ${end}`
    t.throws(() => checkKey(key as Key, "keyBy in operator 'words'"), { instanceOf: ConfigError, message })
    t.throws(() => hashKey(key as Key), { instanceOf: ConfigError })
  })
}
