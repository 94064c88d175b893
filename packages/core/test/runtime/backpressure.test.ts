import test from 'ava'

import { defineSink, defineSource } from '../../src/graph/specs.js'
import { StreamGraph } from '../../src/graph/stream-graph.js'
import type { Source } from '../../src/io/source.js'
import { Backpressure } from '../../src/runtime/backpressure.js'
import { Job } from '../../src/runtime/job.js'
import { CollectSink } from '../../src/testing/collect-sink.js'

/** Whether a promise has settled, after the microtasks queued so far have run. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false
  void promise.then(() => (done = true))
  for (let i = 0; i < 5; i++) await Promise.resolve()
  return done
}

test('needs no wait while no queue is full', (t) => {
  const backpressure = new Backpressure()
  t.false(backpressure.pressured)
  t.is(backpressure.whenClear(), undefined)
  backpressure.set({}, false)
  t.false(backpressure.pressured)
  t.is(backpressure.whenClear(), undefined)
})

test('waits until every full queue has room again', async (t) => {
  const backpressure = new Backpressure()
  const sink = {}
  const snapshot = {}
  backpressure.set(sink, true)
  backpressure.set(snapshot, true)
  backpressure.set(sink, true)
  t.true(backpressure.pressured)
  const first = backpressure.whenClear()!
  const second = backpressure.whenClear()!
  backpressure.set(sink, false)
  t.true(backpressure.pressured)
  t.false(await settled(first))
  backpressure.set(snapshot, false)
  t.false(backpressure.pressured)
  t.true(await settled(first))
  t.true(await settled(second))
  t.is(backpressure.whenClear(), undefined)
})

test('wakes every waiter and forgets every full queue on releaseAll', async (t) => {
  const backpressure = new Backpressure()
  backpressure.set({}, true)
  const waiting = backpressure.whenClear()!
  backpressure.releaseAll()
  t.true(await settled(waiting))
  t.false(backpressure.pressured)
  t.is(backpressure.whenClear(), undefined)
})

const BATCH = 500
const CAPACITY = 2_000

test('memory stays bounded when the sink is slower than the source', async (t) => {
  let produced = 0
  let written = 0
  let maxGap = 0
  let sawBackpressure = false
  const running: { job?: Job } = {}
  const sample = () => {
    maxGap = Math.max(maxGap, produced - written)
    if (running.job?.backpressured) sawBackpressure = true
  }
  // An unbounded source that always has a full batch ready: only backpressure can hold it.
  const endless: Source<number> = {
    name: 'endless',
    bounded: false,
    createReader: () => ({
      poll() {
        const values = Array.from({ length: BATCH }, (_, i) => produced + i)
        produced += BATCH
        sample()
        return Promise.resolve({ split: '0', values, position: produced })
      },
      splits: () => ['0'],
      close: () => Promise.resolve(),
    }),
  }
  let enough!: () => void
  const wroteEnough = new Promise<void>((resolve) => (enough = resolve))
  const out = new CollectSink<number>({
    delayMs: 1,
    onWrite: (rows) => {
      written += rows.length
      sample()
      if (written >= 20 * CAPACITY) enough()
    },
  })
  const graph = new StreamGraph()
  graph.from(defineSource('endless', endless)).to(defineSink('out', out, { capacity: CAPACITY }))
  const job = (running.job = await Job.start(graph, { trigger: { kind: 'manual' } }))
  const deadline = setTimeout(enough, 2_000)
  await wroteEnough
  clearTimeout(deadline)
  await job.stop()

  t.true(written >= 20 * CAPACITY, `only ${written} rows were written in 2 s`)
  t.true(maxGap <= CAPACITY + BATCH, `${maxGap} rows were read and not yet written`)
  t.true(sawBackpressure)
  t.is(job.state, 'finished')
  // Everything read was written, once and in order, in the last epoch.
  t.is(written, produced)
  t.deepEqual(
    out.rows(),
    Array.from({ length: produced }, (_, i) => i),
  )
  t.deepEqual(
    out.epochs.map((e) => e.epoch),
    [0],
  )
})
