import test from 'ava'
import { ConfigError } from '@weir/core'

import { formatBatch, showString } from '../src/index.js'

const RULE = '-------------------------------------------'
const at = (iso: string) => new Date(iso)

test('prints a batch as Spark does: header, right-aligned cells, a blank line after', (t) => {
  const text = formatBatch(3, [
    { word: 'the', count: 42 },
    { word: '', count: 7 },
  ])
  t.is(
    text,
    [
      RULE,
      'Batch: 3',
      RULE,
      '+----+-----+',
      '|word|count|',
      '+----+-----+',
      '| the|   42|',
      '|    |    7|',
      '+----+-----+',
      '',
      '',
    ].join('\n'),
  )
})

test('cuts cells longer than 20 characters to 17 and "..." and widens columns to fit', (t) => {
  t.is(
    showString([
      { text: 'abcdefghijklmnopqrstuvwxyz', n: 1 },
      { text: 'exactly twenty chars', n: 22 },
    ]),
    [
      '+--------------------+---+',
      '|                text|  n|',
      '+--------------------+---+',
      '|abcdefghijklmnopq...|  1|',
      '|exactly twenty chars| 22|',
      '+--------------------+---+',
      '',
    ].join('\n'),
  )
})

test('takes a number as the truncation limit, and cuts without dots below 4', (t) => {
  t.is(showString([{ s: 'abcdefgh' }], { truncate: 6 }), '+------+\n|     s|\n+------+\n|abc...|\n+------+\n')
  t.is(showString([{ s: 'abcdefgh' }], { truncate: 2 }), '+---+\n|  s|\n+---+\n| ab|\n+---+\n')
})

test('left-aligns and keeps whole cells without truncation', (t) => {
  t.is(
    showString([{ text: 'abcdefghijklmnopqrstuvwxyz', n: 1 }], { truncate: false }),
    [
      '+--------------------------+---+',
      '|text                      |n  |',
      '+--------------------------+---+',
      '|abcdefghijklmnopqrstuvwxyz|1  |',
      '+--------------------------+---+',
      '',
    ].join('\n'),
  )
})

test('does not truncate header names', (t) => {
  t.is(
    showString([{ a_very_long_column_name_indeed: 1 }]),
    [
      '+------------------------------+',
      '|a_very_long_column_name_indeed|',
      '+------------------------------+',
      '|                             1|',
      '+------------------------------+',
      '',
    ].join('\n'),
  )
})

test('prints null for null and missing fields, and true/false for booleans', (t) => {
  t.is(
    showString([{ a: null, b: true }, { b: false }], { columns: ['a', 'b'] }),
    ['+----+-----+', '|   a|    b|', '+----+-----+', '|null| true|', '|null|false|', '+----+-----+', ''].join(
      '\n',
    ),
  )
})

test('prints timestamps in UTC, with milliseconds only when there are any', (t) => {
  t.is(
    showString(
      [
        { t: at('2026-11-24T10:00:00Z') },
        { t: at('2026-11-24T10:00:00.123Z') },
        { t: at('2026-11-24T10:00:00.120Z') },
      ],
      {
        truncate: false,
      },
    ),
    [
      '+-----------------------+',
      '|t                      |',
      '+-----------------------+',
      '|2026-11-24 10:00:00    |',
      '|2026-11-24 10:00:00.123|',
      '|2026-11-24 10:00:00.12 |',
      '+-----------------------+',
      '',
    ].join('\n'),
  )
})

test('prints timestamps in the time zone asked for', (t) => {
  const rows = [{ t: at('2026-11-24T23:30:00Z') }, { t: at('2026-07-01T10:00:00Z') }]
  t.is(
    showString(rows, { timeZone: 'Europe/Madrid' }),
    [
      '+-------------------+',
      '|                  t|',
      '+-------------------+',
      '|2026-11-25 00:30:00|',
      '|2026-07-01 12:00:00|',
      '+-------------------+',
      '',
    ].join('\n'),
  )
})

test('prints a window as a struct of two timestamps', (t) => {
  const row = {
    window: { start: at('2026-11-24T10:00:00Z'), end: at('2026-11-24T10:05:00Z') },
    word: 'the',
    count: 3,
  }
  t.is(
    showString([row], { truncate: false }),
    [
      '+------------------------------------------+----+-----+',
      '|window                                    |word|count|',
      '+------------------------------------------+----+-----+',
      '|{2026-11-24 10:00:00, 2026-11-24 10:05:00}|the |3    |',
      '+------------------------------------------+----+-----+',
      '',
    ].join('\n'),
  )
  t.is(showString([row]).split('\n')[3], '|{2026-11-24 10:00...| the|    3|')
})

test('renders nested structs, arrays, maps and bytes as Spark casts them to strings', (t) => {
  const row = {
    s: { a: 1, b: { c: 'x', d: null }, e: [1, 2] },
    l: [[1], [], null],
    m: new Map([['k', 1]]),
    bin: new Uint8Array([1, 171]),
  }
  t.is(
    showString([row], { truncate: false }).split('\n')[3],
    '|{1, {x, null}, [1, 2]}|[[1], [], null]|{k -> 1}|[01 AB]|',
  )
})

test('prints non-object rows in one column named value', (t) => {
  t.is(showString(['a', 'bb']), '+-----+\n|value|\n+-----+\n|    a|\n|   bb|\n+-----+\n')
})

test('escapes line breaks and tabs so that a cell stays on its line', (t) => {
  t.is(showString([{ s: 'a\nb\tc' }]).split('\n')[3], '|a\\nb\\tc|')
})

test('counts full-width characters as two columns, as Spark does', (t) => {
  t.is(showString([{ s: '日本' }, { s: 'abc' }]), '+----+\n|   s|\n+----+\n|日本|\n| abc|\n+----+\n')
})

test('shows numRows rows and says so when there are more', (t) => {
  const rows = Array.from({ length: 21 }, (_, i) => ({ i }))
  const lines = showString(rows).split('\n')
  t.is(lines.length, 3 + 20 + 1 + 1 + 1)
  t.is(lines[22], '| 19|')
  t.is(lines[23], '+---+')
  t.is(lines[24], 'only showing top 20 rows')
  t.is(lines[25], '')
  t.false(showString(rows.slice(0, 20)).includes('only showing'))
  t.is(showString(rows, { numRows: 1 }), '+---+\n|  i|\n+---+\n|  0|\n+---+\nonly showing top 1 row\n')
})

test('prints the header of an empty batch, and an empty table without columns', (t) => {
  t.is(
    formatBatch(5, [], { columns: ['word', 'count'] }),
    [RULE, 'Batch: 5', RULE, '+----+-----+', '|word|count|', '+----+-----+', '+----+-----+', '', ''].join(
      '\n',
    ),
  )
  t.is(formatBatch(0, []), [RULE, 'Batch: 0', RULE, '++', '||', '++', '++', '', ''].join('\n'))
})

test('refuses options it cannot honour, saying what to write', (t) => {
  t.throws(() => showString([], { numRows: -1 }), {
    instanceOf: ConfigError,
    message: 'console: numRows -1 must be a whole number of rows >= 0, e.g. 20',
  })
  t.throws(() => showString([], { truncate: 1.5 }), {
    instanceOf: ConfigError,
    message: /truncate 1\.5 must be true, false or a whole number/,
  })
  t.throws(() => showString([], { timeZone: 'Mars/Olympus' }), {
    instanceOf: ConfigError,
    message: "console: unknown time zone 'Mars/Olympus': write 'UTC' or an IANA name such as 'Europe/Madrid'",
  })
})
