import test from 'ava'

import { WeirError } from '../../src/errors.js'
import { ManualClock, systemClock } from '../../src/time/clock.js'

test('starts at the time it is given, or 0', (t) => {
  t.is(new ManualClock().now(), 0)
  t.is(new ManualClock(1_000).now(), 1_000)
})

test('runs due timers in time order, each seeing its own due time', (t) => {
  const clock = new ManualClock(1_000)
  const seen: [string, number][] = []
  clock.setTimeout(() => seen.push(['c', clock.now()]), 300)
  clock.setTimeout(() => seen.push(['a', clock.now()]), 100)
  clock.setTimeout(() => seen.push(['b', clock.now()]), 200)
  clock.advance(250)
  t.deepEqual(seen, [
    ['a', 1_100],
    ['b', 1_200],
  ])
  t.is(clock.now(), 1_250)
  clock.advance(50)
  t.deepEqual(seen.at(-1), ['c', 1_300])
  t.is(clock.pendingTimers, 0)
})

test('runs timers due at the same time in the order they were set', (t) => {
  const clock = new ManualClock()
  const seen: number[] = []
  for (const i of [1, 2, 3]) clock.setTimeout(() => seen.push(i), 10)
  clock.advance(10)
  t.deepEqual(seen, [1, 2, 3])
})

test('runs a timer set while advancing when it falls due within the span', (t) => {
  const clock = new ManualClock()
  const seen: [string, number][] = []
  clock.setTimeout(() => {
    seen.push(['first', clock.now()])
    clock.setTimeout(() => seen.push(['inner', clock.now()]), 30)
    clock.setTimeout(() => seen.push(['too late', clock.now()]), 100)
  }, 10)
  clock.setTimeout(() => seen.push(['second', clock.now()]), 50)
  clock.advance(60)
  t.deepEqual(seen, [
    ['first', 10],
    ['inner', 40],
    ['second', 50],
  ])
  t.is(clock.pendingTimers, 1)
  clock.advance(50)
  t.deepEqual(seen.at(-1), ['too late', 110])
})

test('runs a zero-delay timer on the next advance, even by 0', (t) => {
  const clock = new ManualClock(5)
  let ran = 0
  clock.setTimeout(() => ran++, 0)
  clock.setTimeout(() => ran++, -10)
  t.is(ran, 0)
  clock.advance(0)
  t.is(ran, 2)
})

test('does not run a cancelled timer, and cancelling twice or after it ran is harmless', (t) => {
  const clock = new ManualClock()
  const seen: string[] = []
  const cancelA = clock.setTimeout(() => seen.push('a'), 10)
  const cancelB = clock.setTimeout(() => seen.push('b'), 20)
  cancelA()
  cancelA()
  t.is(clock.pendingTimers, 1)
  clock.advance(30)
  cancelB()
  t.deepEqual(seen, ['b'])
})

test('sets the time forward running due timers, and backward running none', (t) => {
  const clock = new ManualClock(100)
  const seen: number[] = []
  clock.setTimeout(() => seen.push(clock.now()), 50)
  clock.set(40)
  t.is(clock.now(), 40)
  t.deepEqual(seen, [])
  clock.set(200)
  t.deepEqual(seen, [150])
  t.is(clock.now(), 200)
})

test('refuses to advance by a negative span', (t) => {
  const clock = new ManualClock()
  t.throws(() => clock.advance(-1), { instanceOf: WeirError, message: /time only moves forward/ })
})

test('tells the system time', (t) => {
  const before = Date.now()
  const now = systemClock.now()
  t.true(now >= before && now <= Date.now())
})

test('runs a system timer and not a cancelled one', async (t) => {
  const seen: string[] = []
  const cancel = systemClock.setTimeout(() => seen.push('cancelled'), 0)
  cancel()
  // Timers of equal delay fire in order, so by the time this one runs the cancelled one would have.
  await new Promise<void>((resolve) => systemClock.setTimeout(() => resolve(), 0))
  t.deepEqual(seen, [])
})
