import test from 'ava'

import { ProtocolError } from '../../src/errors.js'
import { BarrierAligner, type AlignerOutput } from '../../src/runtime/barrier-aligner.js'

type Step = readonly ['barrier', number, number] | readonly ['end', number]

function run(channels: number, steps: readonly Step[]): { outputs: AlignerOutput[]; blocked: boolean[][] } {
  const aligner = new BarrierAligner(channels)
  const outputs: AlignerOutput[] = []
  const blocked: boolean[][] = []
  for (const s of steps) {
    outputs.push(s[0] === 'barrier' ? aligner.onBarrier(s[1], s[2]) : aligner.onEnd(s[1]))
    blocked.push(Array.from({ length: channels }, (_, c) => aligner.isBlocked(c)))
  }
  return { outputs, blocked }
}

test('aligns at once with one channel', (t) => {
  t.deepEqual(
    run(1, [
      ['barrier', 0, 1],
      ['barrier', 0, 2],
    ]),
    {
      outputs: [{ aligned: 1 }, { aligned: 2 }],
      blocked: [[false], [false]],
    },
  )
})

test('blocks each channel after its barrier until every channel has sent it', (t) => {
  t.deepEqual(
    run(3, [
      ['barrier', 1, 1],
      ['barrier', 0, 1],
      ['barrier', 2, 1],
      ['barrier', 2, 2],
      ['barrier', 0, 2],
      ['barrier', 1, 2],
    ]),
    {
      outputs: [{}, {}, { aligned: 1 }, {}, {}, { aligned: 2 }],
      blocked: [
        [false, true, false],
        [true, true, false],
        [false, false, false],
        [false, false, true],
        [true, false, true],
        [false, false, false],
      ],
    },
  )
})

test('completes a pending alignment when the last channel without the barrier ends', (t) => {
  t.deepEqual(
    run(3, [
      ['barrier', 0, 4],
      ['barrier', 1, 4],
      ['end', 2],
    ]),
    {
      outputs: [{}, {}, { aligned: 4 }],
      blocked: [
        [true, false, false],
        [true, true, false],
        [false, false, false],
      ],
    },
  )
})

test('leaves ended channels out of later alignments', (t) => {
  t.deepEqual(
    run(2, [
      ['end', 0],
      ['barrier', 1, 1],
      ['barrier', 1, 2],
    ]),
    {
      outputs: [{}, { aligned: 1 }, { aligned: 2 }],
      blocked: [
        [false, false],
        [false, false],
        [false, false],
      ],
    },
  )
})

test('counts a barrier sent before End, and still waits for the other channels', (t) => {
  t.deepEqual(
    run(2, [
      ['barrier', 0, 1],
      ['end', 0],
      ['barrier', 1, 1],
    ]),
    {
      outputs: [{}, {}, { aligned: 1 }],
      blocked: [
        [true, false],
        [false, false],
        [false, false],
      ],
    },
  )
})

test('aligns the pending epoch when every channel ends', (t) => {
  t.deepEqual(
    run(2, [
      ['barrier', 0, 3],
      ['end', 0],
      ['end', 1],
    ]).outputs,
    [{}, {}, { aligned: 3 }],
  )
})

test('returns nothing when channels end with no epoch pending', (t) => {
  t.deepEqual(
    run(2, [
      ['end', 0],
      ['end', 1],
    ]).outputs,
    [{}, {}],
  )
})

test('allows epochs to skip numbers', (t) => {
  t.deepEqual(
    run(2, [
      ['barrier', 0, 1],
      ['barrier', 1, 1],
      ['barrier', 1, 5],
      ['barrier', 0, 5],
    ]).outputs,
    [{}, { aligned: 1 }, {}, { aligned: 5 }],
  )
})

test('tells the pending epoch', (t) => {
  const aligner = new BarrierAligner(2)
  t.is(aligner.pendingEpoch, undefined)
  aligner.onBarrier(0, 7)
  t.is(aligner.pendingEpoch, 7)
  aligner.onBarrier(1, 7)
  t.is(aligner.pendingEpoch, undefined)
})

const misuse: [string, Step[], Step, string][] = [
  [
    'a second barrier on a blocked channel',
    [['barrier', 0, 1]],
    ['barrier', 0, 2],
    'barrier 2 on input channel 0, which is still blocked by barrier 1: a channel carries one barrier per epoch, and the next only after the epoch has aligned',
  ],
  [
    'the same barrier twice on one channel',
    [['barrier', 0, 1]],
    ['barrier', 0, 1],
    'barrier 1 on input channel 0, which is still blocked by barrier 1: a channel carries one barrier per epoch, and the next only after the epoch has aligned',
  ],
  [
    'an epoch that has already aligned',
    [
      ['barrier', 0, 3],
      ['barrier', 1, 3],
    ],
    ['barrier', 0, 3],
    'barrier 3 on input channel 0, but epoch 3 has already aligned: epochs must increase',
  ],
  [
    'an epoch older than the last aligned one',
    [
      ['barrier', 0, 3],
      ['barrier', 1, 3],
    ],
    ['barrier', 1, 2],
    'barrier 2 on input channel 1, but epoch 3 has already aligned: epochs must increase',
  ],
  [
    'a barrier for another epoch than the pending one',
    [['barrier', 0, 1]],
    ['barrier', 1, 2],
    'barrier 2 on input channel 1 while barrier 1 is aligning: every channel must carry barrier 1 before any later one',
  ],
  [
    'a barrier after End',
    [['end', 1]],
    ['barrier', 1, 1],
    'barrier 1 on input channel 1 after its End: nothing may follow End on a channel',
  ],
  ['End after End', [['end', 1]], ['end', 1], 'End on input channel 1 after its End: a channel ends once'],
  [
    'a channel out of range',
    [],
    ['barrier', 2, 1],
    'barrier 1 on input channel 2, but the aligner has channels 0..1',
  ],
  [
    'a fractional epoch',
    [],
    ['barrier', 0, 1.5],
    'barrier epoch 1.5 on input channel 0 is not a whole number',
  ],
]

for (const [what, before, bad, message] of misuse) {
  test(`rejects ${what} with a ProtocolError`, (t) => {
    t.throws(() => run(2, [...before, bad]), { instanceOf: ProtocolError, message })
  })
}

test('needs at least one channel', (t) => {
  t.throws(() => new BarrierAligner(0), {
    message: 'a barrier aligner needs a whole number of input channels >= 1, got 0',
  })
})
