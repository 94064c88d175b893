import test from 'ava'
import { ConfigError, Counters, FILTERED, preview, WeirError, type DecodeContext } from '@weir/core'
import {
  array,
  boolean,
  double,
  integer,
  jsonParser,
  long,
  string,
  struct,
  timestamp,
  type ParseMode,
  type ParsedRow,
  type RowOf,
} from '../../src/index.js'
import { compileFields } from '../../src/schema/compile.js'
import { INVALID } from '../../src/schema/converters.js'

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false
function expectType<T extends true>(_check: T): void {}

/** The row a decode made: fails on a dropped (undefined) or skipped (FILTERED) record. */
function rowOf<R>(decoded: R | undefined | typeof FILTERED): R {
  if (decoded === undefined || decoded === FILTERED) throw new Error(`expected a row, got ${String(decoded)}`)
  return decoded
}

const schema = struct({
  creation_time: timestamp(),
  tweet_text: string(),
  retweets: long(),
  followers: integer(),
  score: double(),
  verified: boolean(),
  user: struct({ name: string(), id: long({ nullable: false }) }),
  tags: array(string({ nullable: false })),
})
type Tweet = RowOf<typeof schema>

const empty: Tweet = {
  creation_time: null,
  tweet_text: null,
  retweets: null,
  followers: null,
  score: null,
  verified: null,
  user: null,
  tags: null,
}

function fakeContext(): DecodeContext & { letters: [raw: unknown, reason: string][] } {
  const letters: [unknown, string][] = []
  return { counters: new Counters(), letters, deadLetter: (raw, reason) => letters.push([raw, reason]) }
}

function jsonError(text: string): string {
  try {
    JSON.parse(text)
  } catch (error) {
    return (error as Error).message
  }
  throw new Error(`${text} is valid JSON`)
}

interface Case {
  readonly title: string
  readonly raw: string | Uint8Array
  /** The row parsed, partial for a malformed record (permissive mode). */
  readonly row: Partial<Tweet>
  /** Set for a malformed record. */
  readonly reason?: string
}

const valid = JSON.stringify({
  creation_time: '2026-11-24T10:00:00.000Z',
  tweet_text: 'hello',
  retweets: 3,
  followers: 10,
  score: 0.5,
  verified: true,
  user: { name: 'ann', id: 7 },
  tags: ['a', 'b'],
  extra: { ignored: true },
})
const validRow: Tweet = {
  creation_time: new Date('2026-11-24T10:00:00.000Z'),
  tweet_text: 'hello',
  retweets: 3,
  followers: 10,
  score: 0.5,
  verified: true,
  user: { name: 'ann', id: 7 },
  tags: ['a', 'b'],
}
const big = 'x'.repeat(1024 * 1024)

const cases: Case[] = [
  { title: 'a valid record, ignoring keys not in the schema', raw: valid, row: validRow },
  { title: 'the same record as UTF-8 bytes', raw: Buffer.from(valid), row: validRow },
  { title: 'a record with missing fields as nulls', raw: '{"tweet_text":"hi"}', row: { tweet_text: 'hi' } },
  { title: 'explicit nulls', raw: '{"tweet_text":null,"user":null,"tags":null}', row: {} },
  { title: 'empty strings as strings', raw: '{"tweet_text":""}', row: { tweet_text: '' } },
  { title: 'a 1 MiB text', raw: JSON.stringify({ tweet_text: big }), row: { tweet_text: big } },
  {
    title: 'invalid UTF-8 bytes in a string as U+FFFD',
    raw: Buffer.concat([Buffer.from('{"tweet_text":"a'), Buffer.from([0xff, 0xc3]), Buffer.from('b"}')]),
    row: { tweet_text: 'a\ufffd\ufffdb' },
  },
  {
    title: 'numbers as a double, and NaN and Infinity strings',
    raw: '{"score":3}',
    row: { score: 3 },
  },
  { title: 'the string Infinity as a double', raw: '{"score":"-Infinity"}', row: { score: -Infinity } },
  {
    title: 'a timestamp in epoch seconds',
    raw: '{"creation_time":1700000000}',
    row: { creation_time: new Date(1.7e12) },
  },
  {
    title: 'a __proto__ key without touching any prototype',
    raw: '{"__proto__":{"polluted":1},"tweet_text":"hi"}',
    row: { tweet_text: 'hi' },
  },
  {
    title: 'not valid JSON',
    raw: '{"tweet_text": "hi"',
    row: {},
    reason: `not valid JSON: ${jsonError('{"tweet_text": "hi"')}`,
  },
  {
    title: 'invalid UTF-8 bytes outside a string',
    raw: Buffer.from([0x7b, 0xff, 0x7d]),
    row: {},
    reason: `not valid JSON: ${jsonError('{\ufffd}')}`,
  },
  {
    title: 'a JSON array',
    raw: '[{"tweet_text":"hi"}]',
    row: {},
    reason: 'expected a JSON object, got array',
  },
  { title: 'a JSON number', raw: '42', row: {}, reason: 'expected a JSON object, got number 42' },
  { title: 'a JSON string', raw: '"hi"', row: {}, reason: 'expected a JSON object, got string "hi"' },
  { title: 'JSON null', raw: 'null', row: {}, reason: 'expected a JSON object, got null' },
  {
    title: 'a string for a long',
    raw: '{"retweets":"3","tweet_text":"hi"}',
    row: { tweet_text: 'hi' },
    reason: `field 'retweets': expected long, got string "3"`,
  },
  {
    title: 'a fraction for a long',
    raw: '{"retweets":1.5}',
    row: {},
    reason: `field 'retweets': expected long, got number 1.5`,
  },
  {
    title: 'a long beyond 2^63',
    raw: '{"retweets":1e19}',
    row: {},
    reason: `field 'retweets': expected long, got number 10000000000000000000`,
  },
  {
    title: 'an integer beyond 32 bits',
    raw: '{"followers":2147483648}',
    row: {},
    reason: `field 'followers': expected integer, got number 2147483648`,
  },
  {
    title: 'a number for a string',
    raw: '{"tweet_text":5,"retweets":2}',
    row: { retweets: 2 },
    reason: `field 'tweet_text': expected string, got number 5`,
  },
  {
    title: 'a string for a double',
    raw: '{"score":"high"}',
    row: {},
    reason: `field 'score': expected double, got string "high"`,
  },
  {
    title: 'a string for a boolean',
    raw: '{"verified":"true"}',
    row: {},
    reason: `field 'verified': expected boolean, got string "true"`,
  },
  {
    title: 'an unparseable timestamp',
    raw: '{"creation_time":"yesterday","tweet_text":"hi"}',
    row: { tweet_text: 'hi' },
    reason: `field 'creation_time': expected timestamp, got string "yesterday"`,
  },
  {
    title: 'a date that does not exist',
    raw: '{"creation_time":"2026-02-30T10:00:00Z"}',
    row: {},
    reason: `field 'creation_time': expected timestamp, got string "2026-02-30T10:00:00Z"`,
  },
  {
    title: 'an object for an array',
    raw: '{"tags":{"a":1},"tweet_text":"hi"}',
    row: { tweet_text: 'hi' },
    reason: `field 'tags': expected array, got object`,
  },
  {
    title: 'an array for a struct',
    raw: '{"user":["ann"]}',
    row: {},
    reason: `field 'user': expected struct, got array`,
  },
  {
    title: 'a wrong type in a nested struct',
    raw: '{"user":{"name":5,"id":1},"tweet_text":"hi"}',
    row: { tweet_text: 'hi' },
    reason: `field 'user.name': expected string, got number 5`,
  },
  {
    title: 'a missing non-nullable field in a nested struct',
    raw: '{"user":{"name":"ann"}}',
    row: {},
    reason: `field 'user.id' is missing but not nullable`,
  },
  {
    title: 'a wrong array element',
    raw: '{"tags":["a",1],"retweets":4}',
    row: { retweets: 4 },
    reason: `field 'tags[1]': expected string, got number 1`,
  },
  {
    title: 'a null array element that is not nullable',
    raw: '{"tags":["a",null]}',
    row: {},
    reason: `field 'tags[1]' is null but not nullable`,
  },
]

const modes: ParseMode[] = ['permissive', 'dropMalformed', 'failFast']
const advice =
  `use mode 'permissive' to keep it (fields that do not parse become null, the text goes to ` +
  `'_corrupt_record') or 'dropMalformed' to drop it`

for (const c of cases) {
  for (const mode of modes) {
    const outcome = c.reason === undefined ? 'parses' : 'handles as malformed'
    test(`${outcome} ${c.title} in ${mode} mode`, (t) => {
      const decode = jsonParser(schema, { mode }).decode
      const context = fakeContext()
      const text = typeof c.raw === 'string' ? c.raw : new TextDecoder().decode(c.raw)
      const row = { ...empty, ...c.row }
      if (c.reason === undefined) {
        t.deepEqual(decode(c.raw, context), mode === 'permissive' ? { ...row, _corrupt_record: null } : row)
        t.deepEqual(context.counters.toJSON(), {})
        t.deepEqual(context.letters, [])
        return
      }
      if (mode === 'permissive') {
        t.deepEqual(decode(c.raw, context), { ...row, _corrupt_record: text })
      } else if (mode === 'dropMalformed') {
        t.is(decode(c.raw, context), undefined)
      } else {
        const error = t.throws(() => decode(c.raw, context), { instanceOf: WeirError })
        t.is(error.code, 'malformed-record')
        t.is(error.message, `malformed record (${c.reason}): ${preview(text)}: ${advice}`)
      }
      t.deepEqual(context.counters.toJSON(), { numMalformedRecords: 1 })
      t.deepEqual(context.letters, mode === 'dropMalformed' ? [[c.raw, c.reason]] : [])
    })
  }
}

for (const mode of modes) {
  test(`skips blank texts in ${mode} mode, as Spark skips blank lines`, (t) => {
    const decode = jsonParser(schema, { mode }).decode
    const context = fakeContext()
    const results = ['', '  \r\n\t', Buffer.alloc(0), null as unknown as string].map((raw) =>
      decode(raw, context),
    )
    t.deepEqual(results, [FILTERED, FILTERED, FILTERED, FILTERED])
    t.deepEqual(context.counters.toJSON(), { numBlankRecords: 4 })
    t.deepEqual(context.letters, [])
  })
}

test('pollutes neither Object.prototype nor the row through a __proto__ key', (t) => {
  const withProto = struct({ tweet_text: string(), polluted: long() })
  const row = rowOf(
    jsonParser(withProto).decode('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}'),
  )
  t.is(Object.getPrototypeOf(row), Object.prototype)
  t.false('polluted' in Object.prototype)
  t.false('x' in Object.prototype)
  t.deepEqual(Object.keys(row), ['tweet_text', 'polluted', '_corrupt_record'])
  t.is(row.polluted, null)
})

test('reads no inherited member for a field named like one', (t) => {
  const decode = jsonParser(struct({ toString: string(), hasOwnProperty: long() })).decode
  t.deepEqual(decode('{}'), { toString: null, hasOwnProperty: null, _corrupt_record: null })
  t.deepEqual(decode('{"toString":"a"}'), { toString: 'a', hasOwnProperty: null, _corrupt_record: null })
})

test('makes a non-nullable top-level field null or missing a malformed record', (t) => {
  const decode = jsonParser(struct({ id: long({ nullable: false }), text: string() }), {
    mode: 'dropMalformed',
  }).decode
  const context = fakeContext()
  t.is(decode('{"text":"a"}', context), undefined)
  t.is(decode('{"id":null,"text":"a"}', context), undefined)
  t.deepEqual(decode('{"id":1}', context), { id: 1, text: null })
  t.deepEqual(context.letters, [
    ['{"text":"a"}', `field 'id' is missing but not nullable`],
    ['{"id":null,"text":"a"}', `field 'id' is null but not nullable`],
  ])
  t.deepEqual(context.counters.toJSON(), { numMalformedRecords: 2 })
})

test('counts nothing without a context', (t) => {
  const decode = jsonParser(schema, { mode: 'dropMalformed' }).decode
  t.is(decode('nope'), undefined)
  t.deepEqual(jsonParser(schema).decode('nope'), { ...empty, _corrupt_record: 'nope' })
})

test('names the corrupt-record column as told', (t) => {
  const parser = jsonParser(struct({ text: string() }), { columnNameOfCorruptRecord: 'bad' })
  const row = rowOf(parser.decode('{"text":1}'))
  t.deepEqual(row, { text: null, bad: '{"text":1}' })
  if (row.bad === null) expectType<Equal<typeof row.text, string | null>>(true)
})

test('types permissive rows honestly: a parsed row has the schema types, a malformed one nulls', (t) => {
  const strict = struct({ id: long({ nullable: false }) })
  expectType<
    Equal<
      ParsedRow<typeof strict>,
      ({ id: number } & { _corrupt_record: null }) | ({ id: number | null } & { _corrupt_record: string })
    >
  >(true)
  expectType<Equal<ParsedRow<typeof strict, 'dropMalformed'>, { id: number }>>(true)
  const row = rowOf(jsonParser(strict).decode('{"id":1}'))
  if (row._corrupt_record === null) {
    const id: number = row.id
    t.is(id, 1)
  } else {
    t.fail()
  }
})

test('refuses options it does not know, with what to write instead', (t) => {
  const cases: [options: object, message: string][] = [
    [{ mode: 'lenient' }, `unknown parse mode "lenient": use 'permissive', 'dropMalformed', 'failFast'`],
    [{ modes: 'failFast' }, `unknown jsonParser option 'modes': use 'mode' or 'columnNameOfCorruptRecord'`],
    [
      { columnNameOfCorruptRecord: '' },
      `columnNameOfCorruptRecord must be a non-empty string, e.g. '_corrupt_record'`,
    ],
    [
      { columnNameOfCorruptRecord: 'tweet_text' },
      `the schema has a field 'tweet_text', the corrupt-record column's name: rename the field, or set ` +
        `columnNameOfCorruptRecord to another name`,
    ],
  ]
  for (const [options, message] of cases) {
    t.throws(() => jsonParser(schema, options), { instanceOf: ConfigError, message })
  }
  t.throws(() => jsonParser(schema, { columnNameOfCorruptRecord: '__proto__' }), { instanceOf: ConfigError })
})

test('refuses raw values that are not text, saying the source already parses', (t) => {
  t.throws(() => jsonParser(schema).decode({ tweet_text: 'hi' } as unknown as string), {
    instanceOf: ConfigError,
    message:
      'jsonParser decodes text or UTF-8 bytes (string or Uint8Array), not object: the source already yields ' +
      'parsed values; drop the decode, or give it a source of text',
  })
})

test('converts the same with generated code as with the fallback loop', (t) => {
  for (const c of cases) {
    let json: unknown
    try {
      json = JSON.parse(typeof c.raw === 'string' ? c.raw : new TextDecoder().decode(c.raw))
    } catch {
      continue
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) continue
    for (const partial of [true, false]) {
      const results = [true, false].map((generate) => {
        const convert = compileFields(schema.fields, {
          partial,
          extraColumn: partial ? 'bad' : undefined,
          generate,
        })
        const failure = { index: -1 }
        const row = convert(json, failure)
        return { row: row === INVALID ? 'INVALID' : row, failed: failure.index }
      })
      t.deepEqual(results[0], results[1], `${c.title}, partial: ${partial}`)
    }
  }
})

test('reads fields whose names are odd characters, digits or empty', (t) => {
  const odd = struct({
    'a"b': string(),
    'c\\d': long(),
    'e\nf': string(),
    '\u2028': string(),
    '1': string(),
    '': long(),
  })
  const json = {
    'a"b': 'q',
    'c\\d': 1,
    'e\nf': 'n',
    '\u2028': 'ls',
    '1': 'one',
    '': 2,
    '}); throw 1; ({': 'x',
  }
  t.deepEqual(jsonParser(odd, { mode: 'failFast' }).decode(JSON.stringify(json)), {
    'a"b': 'q',
    'c\\d': 1,
    'e\nf': 'n',
    '\u2028': 'ls',
    '1': 'one',
    '': 2,
  })
})
