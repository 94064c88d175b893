import test from 'ava'

import { ConfigError } from '../../src/errors.js'
import { BoundedOutOfOrderness } from '../../src/time/watermark-generator.js'

test('is -Infinity before any record', (t) => {
  t.is(new BoundedOutOfOrderness({ delay: 1_000 }).current, Number.NEGATIVE_INFINITY)
})

test('trails the largest time seen by the delay and never goes back', (t) => {
  const generator = new BoundedOutOfOrderness({ delay: 1_000 })
  const seen: number[] = []
  for (const time of [5_000, 3_000, 9_000, 8_999, -20_000, 9_000, 12_000]) {
    generator.observe(time)
    seen.push(generator.current)
  }
  t.deepEqual(seen, [4_000, 4_000, 8_000, 8_000, 8_000, 8_000, 11_000])
})

test('ignores NaN', (t) => {
  const generator = new BoundedOutOfOrderness({ delay: 0 })
  generator.observe(Number.NaN)
  t.is(generator.current, Number.NEGATIVE_INFINITY)
  generator.observe(7)
  generator.observe(Number.NaN)
  t.is(generator.current, 7)
})

test('handles negative event times', (t) => {
  const generator = new BoundedOutOfOrderness({ delay: 10 })
  generator.observe(-100)
  t.is(generator.current, -110)
})

for (const delay of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
  test(`rejects the delay ${delay}`, (t) => {
    t.throws(() => new BoundedOutOfOrderness({ delay }), {
      instanceOf: ConfigError,
      message: `watermark delay ${delay} is not a whole number of milliseconds >= 0: write e.g. 600000, or parseDuration('10 minutes')`,
    })
  })
}
