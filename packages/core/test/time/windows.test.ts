import test from 'ava'

import { ConfigError } from '../../src/errors.js'
import type { Window } from '../../src/messages/messages.js'
import {
  sessionWindows,
  slidingWindows,
  tumblingWindows,
  type WindowAssigner,
} from '../../src/time/windows.js'

const MINUTE = 60_000

/** DESIGN 4, written out independently: starts t - mod(t - offset, slide) - k*slide while start > t - size. */
function byFormula(t: number, size: number, slide: number, offset: number): Window[] {
  const mod = (a: number, n: number) => ((a % n) + n) % n
  const windows: Window[] = []
  for (let start = t - mod(t - offset, slide); start > t - size; start -= slide) {
    windows.unshift({ start, end: start + size })
  }
  return windows
}

function starts(windows: Window[]): number[] {
  return windows.map((w) => w.start)
}

// [size, slide, offset as given]
const combos: [number, number, number][] = [
  [10, 10, 0],
  [10, 10, 3],
  [10, 10, -3],
  [10, 5, 0],
  [10, 5, 2],
  [10, 5, -2],
  [10, 4, 0],
  [10, 4, 1],
  [10, 4, -3],
  [9, 6, 5],
  [15, 9, 0],
  [7, 1, 0],
  [7, 3, -2],
]

for (const [size, slide, offset] of combos) {
  const assigner = slidingWindows({ size, slide, offset })

  test(`assigns by the DESIGN formula for size ${size}, slide ${slide}, offset ${offset}, negative times included`, (t) => {
    for (let time = -3 * size; time <= 3 * size; time++) {
      t.deepEqual(assigner.assign(time), byFormula(time, size, slide, offset), `t = ${time}`)
    }
  })

  test(`assigns exactly the grid windows that contain t for size ${size}, slide ${slide}, offset ${offset}`, (t) => {
    for (let time = -3 * size; time <= 3 * size; time++) {
      const expected: Window[] = []
      for (let start = time - size - slide; start <= time + slide; start++) {
        const onGrid = (((start - offset) % slide) + slide) % slide === 0
        if (onGrid && start <= time && time < start + size) expected.push({ start, end: start + size })
      }
      t.deepEqual(assigner.assign(time), expected, `t = ${time}`)
    }
  })

  test(`keeps slices, windows of slices and slices of windows consistent for size ${size}, slide ${slide}, offset ${offset}`, (t) => {
    const g = gcd(size, slide)
    for (let time = -3 * size; time <= 3 * size; time++) {
      const slice = assigner.sliceOf(time)
      t.true(slice.start <= time && time < slice.end, `slice of ${time} contains it`)
      t.is(slice.end - slice.start, g)
      t.is((((slice.start - offset) % g) + g) % g, 0, 'slice aligned at offset')
      t.deepEqual(assigner.windowsOfSlice(slice), assigner.assign(time))
      for (let u = slice.start; u < slice.end; u++) {
        t.deepEqual(
          assigner.assign(u),
          assigner.assign(time),
          `${u} and ${time} share a slice, so their windows`,
        )
      }
      for (const w of assigner.assign(time)) {
        const sliceStarts = assigner.slicesOfWindow(w)
        t.true(sliceStarts.includes(slice.start), `window ${w.start} is made of the slice of ${time}`)
        t.is(sliceStarts[0], w.start)
        t.is(sliceStarts[sliceStarts.length - 1] + g, w.end)
        for (let i = 1; i < sliceStarts.length; i++) t.is(sliceStarts[i] - sliceStarts[i - 1], g)
        for (const s of sliceStarts) {
          t.true(
            assigner.windowsOfSlice(assigner.sliceOf(s)).some((x) => x.start === w.start && x.end === w.end),
            `each slice of window ${w.start} lies in it`,
          )
        }
      }
    }
  })

  test(`gives as lastEnd the end of the last window containing t for size ${size}, slide ${slide}, offset ${offset}`, (t) => {
    for (let time = -3 * size; time <= 3 * size; time++) {
      const windows = assigner.assign(time)
      t.is(assigner.lastEnd(time), windows[windows.length - 1].end, `t = ${time}`)
    }
  })
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}

const tumblingTable: [string, WindowAssigner, number, Window][] = [
  ['at the start of a window', tumblingWindows({ size: 10 }), 10, { start: 10, end: 20 }],
  ['one before the end', tumblingWindows({ size: 10 }), 19, { start: 10, end: 20 }],
  ['at the end, which belongs to the next window', tumblingWindows({ size: 10 }), 20, { start: 20, end: 30 }],
  ['at zero', tumblingWindows({ size: 10 }), 0, { start: 0, end: 10 }],
  ['at -1', tumblingWindows({ size: 10 }), -1, { start: -10, end: 0 }],
  ['at -10', tumblingWindows({ size: 10 }), -10, { start: -10, end: 0 }],
  ['at -11', tumblingWindows({ size: 10 }), -11, { start: -20, end: -10 }],
  ['with offset 3, at 0', tumblingWindows({ size: 10, offset: 3 }), 0, { start: -7, end: 3 }],
  ['with offset 3, at 3', tumblingWindows({ size: 10, offset: 3 }), 3, { start: 3, end: 13 }],
  ['with offset 3, at 12', tumblingWindows({ size: 10, offset: 3 }), 12, { start: 3, end: 13 }],
  ['with offset -3, at 0', tumblingWindows({ size: 10, offset: -3 }), 0, { start: -3, end: 7 }],
  ['with offset -3, at 7', tumblingWindows({ size: 10, offset: -3 }), 7, { start: 7, end: 17 }],
  ['with offset -3, at -4', tumblingWindows({ size: 10, offset: -3 }), -4, { start: -13, end: -3 }],
]

for (const [when, assigner, time, window] of tumblingTable) {
  test(`puts a record in one tumbling window ${when}`, (t) => {
    t.deepEqual(assigner.assign(time), [window])
    t.deepEqual(assigner.sliceOf(time), window)
    t.is(assigner.lastEnd(time), window.end)
  })
}

const slidingTable: [string, WindowAssigner, number, number[]][] = [
  [
    '5 minutes every 1 minute, at 0',
    slidingWindows({ size: 5 * MINUTE, slide: MINUTE }),
    0,
    [-4, -3, -2, -1, 0].map((m) => m * MINUTE),
  ],
  [
    '5 minutes every 1 minute, at 90 s',
    slidingWindows({ size: 5 * MINUTE, slide: MINUTE }),
    90_000,
    [-3, -2, -1, 0, 1].map((m) => m * MINUTE),
  ],
  [
    '5 minutes every 1 minute, at -1 ms',
    slidingWindows({ size: 5 * MINUTE, slide: MINUTE }),
    -1,
    [-5, -4, -3, -2, -1].map((m) => m * MINUTE),
  ],
  [
    '5 minutes every 1 minute, at the last ms of a minute',
    slidingWindows({ size: 5 * MINUTE, slide: MINUTE }),
    MINUTE - 1,
    [-4, -3, -2, -1, 0].map((m) => m * MINUTE),
  ],
  [
    '5 minutes every 1 minute, at a whole minute',
    slidingWindows({ size: 5 * MINUTE, slide: MINUTE }),
    MINUTE,
    [-3, -2, -1, 0, 1].map((m) => m * MINUTE),
  ],
  ['10 every 5 offset 2, at 2', slidingWindows({ size: 10, slide: 5, offset: 2 }), 2, [-3, 2]],
  ['10 every 5 offset 2, at 1', slidingWindows({ size: 10, slide: 5, offset: 2 }), 1, [-8, -3]],
  ['10 every 5 offset -2, at 3', slidingWindows({ size: 10, slide: 5, offset: -2 }), 3, [-2, 3]],
  ['10 every 4, at 0: three windows', slidingWindows({ size: 10, slide: 4 }), 0, [-8, -4, 0]],
  ['10 every 4, at 2: two windows', slidingWindows({ size: 10, slide: 4 }), 2, [-4, 0]],
  ['10 every 4, at -7', slidingWindows({ size: 10, slide: 4 }), -7, [-16, -12, -8]],
]

for (const [when, assigner, time, expected] of slidingTable) {
  test(`puts a record in the right sliding windows for ${when}`, (t) => {
    t.deepEqual(
      assigner.assign(time),
      expected.map((start) => ({ start, end: start + assigner.size })),
    )
  })
}

test("puts every row in exactly 5 windows starting on whole UTC minutes for window('5 minutes', '1 minute')", (t) => {
  const assigner = slidingWindows({ size: 5 * MINUTE, slide: MINUTE })
  const from = Date.UTC(2026, 10, 24, 9, 58, 0, 0)
  for (let time = from; time < from + 10 * MINUTE; time += 997) {
    const windows = assigner.assign(time)
    t.is(windows.length, 5)
    for (const w of windows) {
      const start = new Date(w.start)
      t.is(start.getUTCSeconds(), 0)
      t.is(start.getUTCMilliseconds(), 0)
      t.is(w.end - w.start, 5 * MINUTE)
      t.true(w.start <= time && time < w.end)
    }
    t.deepEqual(
      windows.map((w) => w.start - windows[0].start),
      [0, 1, 2, 3, 4].map((m) => m * MINUTE),
    )
  }
  t.deepEqual(starts(assigner.assign(Date.UTC(2026, 10, 24, 10, 3, 27, 123))), [
    Date.UTC(2026, 10, 24, 9, 59),
    Date.UTC(2026, 10, 24, 10, 0),
    Date.UTC(2026, 10, 24, 10, 1),
    Date.UTC(2026, 10, 24, 10, 2),
    Date.UTC(2026, 10, 24, 10, 3),
  ])
})

test('makes a sliding window of 5 minutes every minute from five one-minute slices', (t) => {
  const assigner = slidingWindows({ size: 5 * MINUTE, slide: MINUTE })
  t.deepEqual(assigner.sliceOf(90_000), { start: MINUTE, end: 2 * MINUTE })
  t.deepEqual(
    assigner.slicesOfWindow({ start: 0, end: 5 * MINUTE }),
    [0, 1, 2, 3, 4].map((m) => m * MINUTE),
  )
  t.deepEqual(
    starts(assigner.windowsOfSlice({ start: MINUTE, end: 2 * MINUTE })),
    [-3, -2, -1, 0, 1].map((m) => m * MINUTE),
  )
})

test('slices size 10 every 4 into pieces of 2', (t) => {
  const assigner = slidingWindows({ size: 10, slide: 4 })
  t.deepEqual(assigner.sliceOf(5), { start: 4, end: 6 })
  t.deepEqual(assigner.sliceOf(-1), { start: -2, end: 0 })
  t.deepEqual(assigner.slicesOfWindow({ start: 4, end: 14 }), [4, 6, 8, 10, 12])
})

test('normalises the offset into [0, slide)', (t) => {
  t.is(tumblingWindows({ size: 10, offset: -3 }).offset, 7)
  t.is(tumblingWindows({ size: 10, offset: 3 }).offset, 3)
  t.is(slidingWindows({ size: 10, slide: 4, offset: -3 }).offset, 1)
  t.is(slidingWindows({ size: 10, slide: 4 }).offset, 0)
})

test('exposes kind, size and slide', (t) => {
  const tumbling = tumblingWindows({ size: 10 })
  t.deepEqual([tumbling.kind, tumbling.size, tumbling.slide], ['tumbling', 10, 10])
  const sliding = slidingWindows({ size: 10, slide: 4 })
  t.deepEqual([sliding.kind, sliding.size, sliding.slide], ['sliding', 10, 4])
  const session = sessionWindows({ gap: 10 })
  t.deepEqual([session.kind, session.size, session.slide, session.offset], ['session', 10, 10, 0])
})

test('treats sliding windows whose slide equals their size as tumbling', (t) => {
  const assigner = slidingWindows({ size: 5 * MINUTE, slide: 5 * MINUTE })
  t.is(assigner.kind, 'tumbling')
  t.is(assigner.describe(), 'tumbling 5 minutes')
})

const described: [WindowAssigner, string][] = [
  [slidingWindows({ size: 5 * MINUTE, slide: MINUTE }), 'sliding 5 minutes every 1 minute'],
  [
    slidingWindows({ size: 10 * MINUTE, slide: 5 * MINUTE, offset: 30_000 }),
    'sliding 10 minutes every 5 minutes offset 30 seconds',
  ],
  [tumblingWindows({ size: 3_600_000 }), 'tumbling 1 hour'],
  [tumblingWindows({ size: 86_400_000, offset: -3_600_000 }), 'tumbling 1 day offset 23 hours'],
  [sessionWindows({ gap: 10 * MINUTE }), 'session gap 10 minutes'],
]

for (const [assigner, text] of described) {
  test(`describes itself as '${text}'`, (t) => {
    t.is(assigner.describe(), text)
  })
}

test('assigns a session record its proto-window [t, t + gap)', (t) => {
  const assigner = sessionWindows({ gap: 100 })
  for (const time of [-150, -1, 0, 1, 99, 100, 12_345]) {
    const window = { start: time, end: time + 100 }
    t.deepEqual(assigner.assign(time), [window])
    t.deepEqual(assigner.sliceOf(time), window)
    t.deepEqual(assigner.windowsOfSlice(window), [window])
    t.deepEqual(assigner.slicesOfWindow({ start: time, end: time + 250 }), [time])
    t.is(assigner.lastEnd(time), time + 100)
  }
})

test('rejects a slide longer than the size, as Spark does', (t) => {
  t.throws(() => slidingWindows({ size: 5 * MINUTE, slide: 10 * MINUTE }), {
    instanceOf: ConfigError,
    message: 'window slide (10 minutes) is longer than its size (5 minutes): use a slide <= size',
  })
})

const badLengths: [string, () => unknown, string][] = [
  [
    'a zero size',
    () => tumblingWindows({ size: 0 }),
    'window size 0 is not a positive whole number of milliseconds',
  ],
  [
    'a negative size',
    () => slidingWindows({ size: -5, slide: 1 }),
    'window size -5 is not a positive whole number of milliseconds',
  ],
  [
    'a fractional size',
    () => tumblingWindows({ size: 1.5 }),
    'window size 1.5 is not a positive whole number of milliseconds',
  ],
  [
    'a NaN size',
    () => tumblingWindows({ size: Number.NaN }),
    'window size NaN is not a positive whole number of milliseconds',
  ],
  [
    'a zero slide',
    () => slidingWindows({ size: 10, slide: 0 }),
    'window slide 0 is not a positive whole number of milliseconds',
  ],
  [
    'a zero session gap',
    () => sessionWindows({ gap: 0 }),
    'session gap 0 is not a positive whole number of milliseconds',
  ],
  [
    'an infinite session gap',
    () => sessionWindows({ gap: Number.POSITIVE_INFINITY }),
    'session gap Infinity is not a positive whole number of milliseconds',
  ],
]

for (const [what, make, start] of badLengths) {
  test(`rejects ${what}, saying to write whole milliseconds`, (t) => {
    t.throws(make, {
      instanceOf: ConfigError,
      message: `${start}: write e.g. 300000, or parseDuration('5 minutes')`,
    })
  })
}

test('rejects an offset as long as the slide, as Spark rejects such a startTime', (t) => {
  t.throws(() => slidingWindows({ size: 5 * MINUTE, slide: MINUTE, offset: MINUTE }), {
    instanceOf: ConfigError,
    message:
      'window offset (1 minute) is not shorter than the window slide (1 minute): ' +
      'use an offset strictly between -slide and slide (an offset of a whole slide shifts nothing)',
  })
  t.throws(() => tumblingWindows({ size: 10 * MINUTE, offset: -10 * MINUTE }), {
    instanceOf: ConfigError,
    message:
      'window offset (-10 minutes) is not shorter than the window size (10 minutes): ' +
      'use an offset strictly between -size and size (an offset of a whole size shifts nothing)',
  })
})

test('rejects a fractional offset', (t) => {
  t.throws(() => tumblingWindows({ size: 10, offset: 0.5 }), {
    instanceOf: ConfigError,
    message: 'window offset 0.5 is not a whole number of milliseconds: write e.g. 0, 30000 or -60000',
  })
})
