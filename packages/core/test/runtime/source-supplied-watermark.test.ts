import test from 'ava'

import { defineSource, type SourceSpec } from '../../src/graph/specs.js'
import type { SourceBatch, SourceReader } from '../../src/io/source.js'
import { data, watermark, type Message } from '../../src/messages/messages.js'
import { Backpressure } from '../../src/runtime/backpressure.js'
import { SourceInstance } from '../../src/runtime/source-instance.js'
import { ManualClock } from '../../src/time/clock.js'

interface Event {
  readonly t: number
}

/** Runs a source instance over a reader that answers each poll with the next batch, then stops it. */
async function run(splits: readonly string[], batches: readonly SourceBatch<Event>[]): Promise<Message[]> {
  const out: Message[] = []
  const steps = [...batches]
  const reader: SourceReader<Event> = {
    poll() {
      const step = steps.shift()
      if (step === undefined) instance.stop()
      return Promise.resolve(step ?? 'idle')
    },
    splits: () => splits,
    close: () => Promise.resolve(),
  }
  const spec = defineSource<Event>(
    'events',
    { name: 'script', bounded: false, createReader: () => reader },
    { timestamp: (e) => e.t, watermark: { delay: 0 } },
  )
  const instance = new SourceInstance({
    spec: spec as SourceSpec,
    instance: 0,
    reader,
    downstream: { process: (m) => out.push(m) },
    hooks: { onBarrier: () => undefined, onFinished: () => undefined },
    backpressure: new Backpressure(),
    clock: new ManualClock(),
  })
  await instance.run()
  return out
}

const rec = (t: number) => ({ value: { t }, timestamp: t, key: undefined, window: undefined })

test('takes a split’s watermark from the source when its batches carry one, not from its timestamps', async (t) => {
  const out = await run(
    ['r0'],
    [
      { split: 'r0', values: [{ t: 500 }], position: 1, watermark: 100 },
      { split: 'r0', values: [], position: 1, watermark: 200 },
      { split: 'r0', values: [{ t: 900 }], position: 2, watermark: 150 },
    ],
  )
  t.deepEqual(out, [data([rec(500)]), watermark(100), watermark(200), data([rec(900)])])
})

test('takes the minimum over splits of the supplied watermarks, a split without one holding it at -∞', async (t) => {
  const out = await run(
    ['r0', 'r1'],
    [
      { split: 'r0', values: [], position: 0, watermark: 300 },
      { split: 'r1', values: [], position: 0, watermark: -Infinity },
      { split: 'r1', values: [], position: 0, watermark: 250 },
      { split: 'r1', values: [], position: 0, watermark: 400 },
    ],
  )
  t.deepEqual(out, [watermark(250), watermark(300)])
})

test('holds a split at a supplied -∞ whatever event times its batches carry', async (t) => {
  const out = await run(
    ['r0'],
    [
      { split: 'r0', values: [{ t: 500 }], position: 1, watermark: -Infinity },
      { split: 'r0', values: [{ t: 900 }], position: 2, watermark: 100 },
    ],
  )
  t.deepEqual(out, [data([rec(500)]), data([rec(900)]), watermark(100)])
})
