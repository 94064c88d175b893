import test from 'ava'

import { ProtocolError } from '../../src/errors.js'
import { WatermarkValve, type ValveOutput } from '../../src/time/watermark-valve.js'

type Step =
  | readonly ['watermark', number, number]
  | readonly ['data', number]
  | readonly ['idle', number]
  | readonly ['end', number]

function step(valve: WatermarkValve, s: Step): ValveOutput {
  switch (s[0]) {
    case 'watermark':
      return valve.onWatermark(s[1], s[2])
    case 'data':
      return valve.onData(s[1])
    case 'idle':
      return valve.onIdle(s[1])
    case 'end':
      return valve.onEnd(s[1])
  }
}

const I = Number.POSITIVE_INFINITY

const sequences: [string, number, [Step, ValveOutput][]][] = [
  [
    'forwards a single channel watermark each time it rises',
    1,
    [
      [['watermark', 0, 5], { watermark: 5 }],
      [['watermark', 0, 7], { watermark: 7 }],
      [['data', 0], {}],
      [['watermark', 0, 7], {}],
      [['watermark', 0, 6], {}],
      [['watermark', 0, 8], { watermark: 8 }],
    ],
  ],
  [
    'emits the minimum over channels, only when it rises',
    3,
    [
      [['watermark', 0, 10], {}],
      [['watermark', 1, 20], {}],
      [['watermark', 2, 5], { watermark: 5 }],
      [['watermark', 2, 30], { watermark: 10 }],
      [['watermark', 1, 25], {}],
      [['watermark', 0, 40], { watermark: 25 }],
      [['watermark', 1, 35], { watermark: 30 }],
    ],
  ],
  [
    'ignores a watermark lower than the one the channel already sent',
    2,
    [
      [['watermark', 0, 10], {}],
      [['watermark', 0, 3], {}],
      [['watermark', 1, 20], { watermark: 10 }],
      [['watermark', 0, 4], {}],
      [['watermark', 0, 15], { watermark: 15 }],
    ],
  ],
  [
    'leaves an idle channel out of the minimum and goes idle once when every channel is',
    2,
    [
      [['watermark', 0, 10], {}],
      [['watermark', 1, 20], { watermark: 10 }],
      [['idle', 0], { watermark: 20 }],
      [['idle', 0], {}],
      [['watermark', 1, 30], { watermark: 30 }],
      [['idle', 1], { idle: true }],
      [['idle', 1], {}],
      [['idle', 0], {}],
    ],
  ],
  [
    'goes idle without a watermark when the minimum does not rise',
    2,
    [
      [['watermark', 0, 10], {}],
      [['idle', 1], { watermark: 10 }],
      [['idle', 0], { idle: true }],
    ],
  ],
  [
    'reactivates a channel on data without emitting, then holds the minimum back with it',
    2,
    [
      [['watermark', 0, 10], {}],
      [['watermark', 1, 20], { watermark: 10 }],
      [['idle', 0], { watermark: 20 }],
      [['data', 0], {}],
      [['watermark', 1, 30], {}],
      [['watermark', 0, 25], { watermark: 25 }],
      [['watermark', 0, 40], { watermark: 30 }],
    ],
  ],
  [
    'leaves the idle status on a watermark from an idle channel and emits it when it raises the minimum',
    2,
    [
      [['watermark', 0, 10], {}],
      [['watermark', 1, 10], { watermark: 10 }],
      [['idle', 0], {}],
      [['idle', 1], { idle: true }],
      [['watermark', 1, 15], { watermark: 15 }],
      [['idle', 1], { idle: true }],
      [['data', 0], {}],
      [['watermark', 0, 12], {}],
      [['watermark', 0, 16], { watermark: 16 }],
    ],
  ],
  [
    'counts an ended channel as +Infinity',
    3,
    [
      [['watermark', 0, 10], {}],
      [['watermark', 1, 20], {}],
      [['watermark', 2, 30], { watermark: 10 }],
      [['end', 0], { watermark: 20 }],
      [['end', 2], {}],
      [['watermark', 1, 50], { watermark: 50 }],
      [['end', 1], {}],
    ],
  ],
  [
    'goes idle when the last active channel ends and the others are idle',
    2,
    [
      [['watermark', 0, 10], {}],
      [['idle', 1], { watermark: 10 }],
      [['end', 0], { idle: true }],
      [['watermark', 1, 5], {}],
      [['watermark', 1, 11], { watermark: 11 }],
    ],
  ],
  [
    'stays idle, saying nothing, when an idle valve loses a channel to End',
    3,
    [
      [['idle', 0], {}],
      [['idle', 1], {}],
      [['idle', 2], { idle: true }],
      [['end', 0], {}],
      [['end', 1], {}],
      [['end', 2], {}],
    ],
  ],
  [
    'returns nothing, not +Infinity, when every channel ends',
    2,
    [
      [['watermark', 0, 10], {}],
      [['watermark', 1, 20], { watermark: 10 }],
      [['end', 1], {}],
      [['end', 0], {}],
    ],
  ],
  [
    'passes a +Infinity watermark through when a channel sends one',
    2,
    [
      [['watermark', 0, I], {}],
      [['watermark', 1, I], { watermark: I }],
    ],
  ],
]

for (const [title, channels, steps] of sequences) {
  test(title, (t) => {
    const valve = new WatermarkValve(channels)
    t.deepEqual(
      steps.map(([s]) => step(valve, s)),
      steps.map(([, out]) => out),
    )
  })
}

test('starts at -Infinity, active, not ended', (t) => {
  const valve = new WatermarkValve(2)
  t.is(valve.watermark, Number.NEGATIVE_INFINITY)
  t.false(valve.idle)
  t.false(valve.ended)
})

test('tracks the last emitted watermark and the idle status', (t) => {
  const valve = new WatermarkValve(2)
  valve.onWatermark(0, 10)
  valve.onWatermark(1, 20)
  t.is(valve.watermark, 10)
  valve.onIdle(0)
  t.is(valve.watermark, 20)
  t.false(valve.idle)
  valve.onIdle(1)
  t.true(valve.idle)
  valve.onData(1)
  t.false(valve.idle)
  t.is(valve.watermark, 20)
})

test('is ended once every channel has ended, and not before', (t) => {
  const valve = new WatermarkValve(2)
  valve.onEnd(0)
  t.false(valve.ended)
  valve.onEnd(1)
  t.true(valve.ended)
})

const misuse: [string, (valve: WatermarkValve) => unknown, string][] = [
  [
    'a watermark after End',
    (v) => v.onWatermark(0, 5),
    'a watermark on input channel 0 after its End: nothing may follow End on a channel',
  ],
  [
    'data after End',
    (v) => v.onData(0),
    'data on input channel 0 after its End: nothing may follow End on a channel',
  ],
  [
    'Idle after End',
    (v) => v.onIdle(0),
    'Idle on input channel 0 after its End: nothing may follow End on a channel',
  ],
  [
    'End after End',
    (v) => v.onEnd(0),
    'End on input channel 0 after its End: nothing may follow End on a channel',
  ],
  [
    'a channel out of range',
    (v) => v.onWatermark(2, 5),
    'a watermark on input channel 2, but the valve has channels 0..1',
  ],
  ['a negative channel', (v) => v.onData(-1), 'data on input channel -1, but the valve has channels 0..1'],
  [
    'a NaN watermark',
    (v) => v.onWatermark(1, Number.NaN),
    'watermark NaN on input channel 1: a watermark must be a time in ms or ±Infinity',
  ],
]

for (const [what, act, message] of misuse) {
  test(`rejects ${what} with a ProtocolError`, (t) => {
    const valve = new WatermarkValve(2)
    valve.onEnd(0)
    t.throws(() => act(valve), { instanceOf: ProtocolError, message })
  })
}

test('needs at least one channel', (t) => {
  t.throws(() => new WatermarkValve(0), {
    message: 'a watermark valve needs a whole number of input channels >= 1, got 0',
  })
})
