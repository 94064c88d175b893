import test from 'ava'

import { ConfigError } from '../../src/errors.js'
import { formatDuration, parseDuration } from '../../src/time/duration.js'

const valid: [string | number, number][] = [
  ['5 minutes', 300_000],
  ['1 minute', 60_000],
  ['10 seconds', 10_000],
  ['1 second', 1_000],
  ['500 milliseconds', 500],
  ['1 millisecond', 1],
  ['2 hours', 7_200_000],
  ['1 hour', 3_600_000],
  ['1 day', 86_400_000],
  ['3 days', 259_200_000],
  ['1 week', 604_800_000],
  ['2 weeks', 1_209_600_000],
  ['5 min', 300_000],
  ['5 mins', 300_000],
  ['5m', 300_000],
  ['10s', 10_000],
  ['10 sec', 10_000],
  ['500ms', 500],
  ['2h', 7_200_000],
  ['2 hrs', 7_200_000],
  ['1d', 86_400_000],
  ['1w', 604_800_000],
  ['5 MINUTES', 300_000],
  ['5 Minutes', 300_000],
  ['  5 minutes  ', 300_000],
  ['1 hour 30 minutes', 5_400_000],
  ['1h30m', 5_400_000],
  ['1 day 2 hours 3 minutes 4 seconds 5 milliseconds', 93_784_005],
  ['interval 10 minutes', 600_000],
  ['INTERVAL 1 hour', 3_600_000],
  ['1.5 seconds', 1_500],
  ['0.1 seconds', 100],
  ['0 seconds', 0],
  [0, 0],
  [250, 250],
  [300_000, 300_000],
]

for (const [input, ms] of valid) {
  test(`reads ${JSON.stringify(input)} as ${ms} ms`, (t) => {
    t.is(parseDuration(input, 'window size'), ms)
  })
}

const invalid: [string, string][] = [
  [
    '5 minutos',
    "watermark delay '5 minutos' is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds",
  ],
  [
    '',
    "watermark delay '' is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds",
  ],
  [
    '500',
    "watermark delay '500' is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds",
  ],
  [
    'minutes',
    "watermark delay 'minutes' is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds",
  ],
  [
    '-5 minutes',
    "watermark delay '-5 minutes' is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds",
  ],
  [
    '5 minutes,',
    "watermark delay '5 minutes,' is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds",
  ],
  [
    '1 hour and 30 minutes',
    "watermark delay '1 hour and 30 minutes' is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds",
  ],
  [
    '5 months',
    "watermark delay '5 months' is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds",
  ],
  [
    '0.5 ms',
    "watermark delay '0.5 ms' is not a whole number of milliseconds (or is too long): write e.g. '1500 milliseconds' or '2 seconds'",
  ],
]

for (const [input, message] of invalid) {
  test(`rejects ${JSON.stringify(input)} with a message that says what to write`, (t) => {
    const error = t.throws(() => parseDuration(input, 'watermark delay'), { instanceOf: ConfigError })
    t.is(error?.message, message)
    t.is(error?.code, 'config')
  })
}

for (const input of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
  test(`rejects the number ${input}, asking for whole milliseconds >= 0`, (t) => {
    t.throws(() => parseDuration(input, 'idle timeout'), {
      instanceOf: ConfigError,
      message: `idle timeout ${input} is not a duration: a number is read as milliseconds and must be a whole number >= 0; write e.g. 300000 or '5 minutes'`,
    })
  })
}

test('rejects a value that is neither a string nor a number', (t) => {
  t.throws(() => parseDuration(null as unknown as string, 'window size'), {
    instanceOf: ConfigError,
    message:
      "window size null is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds",
  })
})

const formatted: [number, string][] = [
  [300_000, '5 minutes'],
  [60_000, '1 minute'],
  [90_000, '90 seconds'],
  [1_500, '1500 milliseconds'],
  [1, '1 millisecond'],
  [1_000, '1 second'],
  [3_600_000, '1 hour'],
  [5_400_000, '90 minutes'],
  [86_400_000, '1 day'],
  [604_800_000, '1 week'],
  [1_209_600_000, '2 weeks'],
  [0, '0 milliseconds'],
  [-60_000, '-1 minute'],
  [-120_000, '-2 minutes'],
  [0.5, '0.5 milliseconds'],
]

for (const [ms, text] of formatted) {
  test(`formats ${ms} ms as '${text}'`, (t) => {
    t.is(formatDuration(ms), text)
  })
}

test('reads back what it formats', (t) => {
  for (const ms of [1, 999, 1_000, 61_000, 300_000, 5_400_000, 86_400_000, 604_800_000]) {
    t.is(parseDuration(formatDuration(ms), 'x'), ms)
  }
})
