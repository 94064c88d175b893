import test from 'ava'
import { ConfigError } from '@weir/core'
import {
  array,
  boolean,
  describeSchema,
  double,
  fieldNames,
  integer,
  long,
  string,
  struct,
  timestamp,
  type DataType,
  type RowOf,
} from '../../src/index.js'

/** True only when A and B are the same type (compile-time). */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false
function expectType<T extends true>(_check: T): void {}

const tweetSchema = struct({
  creation_time: timestamp(),
  tweet_text: string(),
  retweets: long({ nullable: true }),
  user: struct({ name: string() }),
  tags: array(string()),
})

test('infers nullable row types by default', (t) => {
  type Tweet = RowOf<typeof tweetSchema>
  expectType<
    Equal<
      Tweet,
      {
        creation_time: Date | null
        tweet_text: string | null
        retweets: number | null
        user: { name: string | null } | null
        tags: (string | null)[] | null
      }
    >
  >(true)
  const row: Tweet = {
    creation_time: null,
    tweet_text: 'hi',
    retweets: null,
    user: { name: null },
    tags: ['a', null],
  }
  t.is(row.tweet_text, 'hi')
})

test('infers non-null types for nullable: false, at every depth', (t) => {
  const schema = struct({
    id: long({ nullable: false }),
    count: integer({ nullable: false }),
    score: double(),
    verified: boolean({ nullable: false }),
    at: timestamp({ nullable: false }),
    user: struct({ name: string({ nullable: false }) }, { nullable: false }),
    tags: array(string({ nullable: false }), { nullable: false }),
  })
  expectType<
    Equal<
      RowOf<typeof schema>,
      {
        id: number
        count: number
        score: number | null
        verified: boolean
        at: Date
        user: { name: string }
        tags: string[]
      }
    >
  >(true)
  // @ts-expect-error a non-nullable field does not take null
  const bad: RowOf<typeof schema>['id'] = null
  t.true(bad === null)
  t.false(schema.fields.user.fields.name.nullable)
})

test('keeps a nullable that is only known at run time as nullable', (t) => {
  const flag: boolean = Math.random() > 2
  const schema = struct({ name: string({ nullable: flag }) })
  expectType<Equal<RowOf<typeof schema>, { name: string | null }>>(true)
  t.false(schema.fields.name.nullable)
})

test('describes a schema as Spark prints it', (t) => {
  const schema = struct({
    creation_time: timestamp(),
    tweet_text: string({ nullable: false }),
    retweets: long(),
    followers: integer(),
    score: double(),
    verified: boolean(),
    user: struct({ name: string(), place: struct({ country: string() }, { nullable: false }) }),
    tags: array(string({ nullable: false })),
    mentions: array(struct({ id: long() })),
    matrix: array(array(double())),
  })
  t.is(
    describeSchema(schema),
    [
      'root',
      ' |-- creation_time: timestamp (nullable = true)',
      ' |-- tweet_text: string (nullable = false)',
      ' |-- retweets: long (nullable = true)',
      ' |-- followers: integer (nullable = true)',
      ' |-- score: double (nullable = true)',
      ' |-- verified: boolean (nullable = true)',
      ' |-- user: struct (nullable = true)',
      ' |    |-- name: string (nullable = true)',
      ' |    |-- place: struct (nullable = false)',
      ' |    |    |-- country: string (nullable = true)',
      ' |-- tags: array (nullable = true)',
      ' |    |-- element: string (containsNull = false)',
      ' |-- mentions: array (nullable = true)',
      ' |    |-- element: struct (containsNull = true)',
      ' |    |    |-- id: long (nullable = true)',
      ' |-- matrix: array (nullable = true)',
      ' |    |-- element: array (containsNull = true)',
      ' |    |    |-- element: double (containsNull = true)',
    ].join('\n'),
  )
})

test('lists the top-level field names in order', (t) => {
  const names: ('creation_time' | 'tweet_text' | 'retweets' | 'user' | 'tags')[] = fieldNames(tweetSchema)
  t.deepEqual(names, ['creation_time', 'tweet_text', 'retweets', 'user', 'tags'])
})

test('freezes schemas', (t) => {
  t.true(Object.isFrozen(tweetSchema))
  t.true(Object.isFrozen(tweetSchema.fields))
  t.true(Object.isFrozen(tweetSchema.fields.tags))
})

for (const name of ['__proto__', 'constructor', 'prototype']) {
  test(`refuses a field named ${name}`, (t) => {
    const error = t.throws(() => struct({ [name]: string() }), { instanceOf: ConfigError })
    t.is(
      error.message,
      `field name '${name}' is not allowed in a schema (rows are plain objects and it would reach their ` +
        `prototype): rename the field upstream, or read it from the parsed JSON with a map()`,
    )
  })
}

test('refuses a nested field named constructor', (t) => {
  t.throws(() => struct({ user: struct({ constructor: string() }) }), { instanceOf: ConfigError })
})

test('refuses a __proto__ key of an object literal, which sets the prototype', (t) => {
  const error = t.throws(() => struct({ __proto__: string() }), {
    instanceOf: ConfigError,
  })
  t.is(
    error.message,
    `struct() takes a plain object of fields: a '__proto__: ...' key in an object literal sets its prototype ` +
      `instead of naming a field; rename the field upstream, or read it with a map()`,
  )
})

test('refuses what is not a type', (t) => {
  const error = t.throws(() => struct({ name: 'string' } as unknown as Record<string, DataType>), {
    instanceOf: ConfigError,
  })
  t.is(
    error.message,
    `field 'name' is not a type: use string(), long(), integer(), double(), boolean(), timestamp(), ` +
      `struct({...}) or array(...)`,
  )
  t.throws(() => array(undefined as unknown as DataType), {
    instanceOf: ConfigError,
    message: 'array() takes the type of its elements, e.g. array(string())',
  })
})

test('refuses a nullable that is not a boolean', (t) => {
  t.throws(() => string({ nullable: 'no' as unknown as boolean }), {
    instanceOf: ConfigError,
    message: 'nullable must be true or false, not "no"',
  })
})
