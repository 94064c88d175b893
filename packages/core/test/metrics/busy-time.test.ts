import { performance } from 'node:perf_hooks'
import test from 'ava'
import { BusyTime } from '../../src/metrics/busy-time.js'

/** Keeps the CPU busy for `ms`: the busy time measured must include it. */
function spin(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // busy
  }
}

test('charges each section its own time: a nested section is taken off the one around it', (t) => {
  const busy = new BusyTime()
  const outer = { busyMs: 0 }
  const inner = { busyMs: 0 }
  const start = busy.enter()
  spin(5)
  const innerStart = busy.enter()
  spin(50)
  busy.exit(inner, innerStart)
  busy.exit(outer, start)
  t.true(inner.busyMs >= 50, `inner ${inner.busyMs}`)
  t.true(outer.busyMs >= 5, `outer ${outer.busyMs}`)
  t.true(outer.busyMs < 40, `the inner section's 50 ms are not the outer's (outer ${outer.busyMs})`)
})

test('adds up sections that follow each other, and keeps counting after one threw', (t) => {
  const busy = new BusyTime()
  const meter = { busyMs: 0 }
  for (let i = 0; i < 3; i++) {
    const start = busy.enter()
    spin(4)
    busy.exit(meter, start)
  }
  const start = busy.enter()
  t.throws(() => {
    try {
      spin(4)
      throw new Error('boom')
    } finally {
      busy.exit(meter, start)
    }
  })
  t.true(meter.busyMs >= 16, `${meter.busyMs}`)
})
