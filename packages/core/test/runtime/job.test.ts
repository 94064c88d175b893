import test from 'ava'
import {
  defineOperator,
  defineSink,
  defineSource,
  instanceForKey,
  Job,
  StreamGraph,
  type StreamRecord,
} from '../../src/index.js'
import { CollectSink, listSource } from '../../src/testing/index.js'

const double = (id: string) =>
  defineOperator<number, number>({
    id,
    name: 'double',
    build: () => ({ onData: (records, out) => out.emit(records.map((r) => ({ ...r, value: r.value * 2 }))) }),
  })

test('runs a bounded graph to its end and commits a last epoch', async (t) => {
  const out = new CollectSink<number>()
  const graph = new StreamGraph()
  graph
    .from(defineSource('nums', listSource([1, 2, 3, 4], { batchSize: 2 })))
    .via(double('double'))
    .to(defineSink('out', out))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.done
  t.is(job.state, 'finished')
  t.deepEqual(out.rows(), [2, 4, 6, 8])
  t.deepEqual(
    out.epochs.map((e) => e.epoch),
    [0],
  )
  t.is(out.closedWriters, 1)
})

test('routes every key to one instance through key groups, 4 → hash → 3', async (t) => {
  const words = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l']
  const splits = Object.fromEntries([0, 1, 2, 3].map((s) => [`s${s}`, words.map((w) => `${w}${s % 2}`)]))
  const out = new CollectSink<{ word: string; instance: number }>()
  const graph = new StreamGraph()
  graph
    .from(defineSource('words', listSource(splits, { batchSize: 5 })), { parallelism: 4 })
    .keyBy((w: string) => w)
    .via(
      defineOperator<string, { word: string; instance: number }>({
        id: 'tag',
        name: 'tag',
        build: (ctx) => ({
          onData: (records, o) =>
            o.emit(
              records.map((r) => ({
                value: { word: r.value, instance: ctx.instance },
                timestamp: r.timestamp,
                key: r.key,
              })),
            ),
        }),
      }),
      { parallelism: 3 },
    )
    .to(defineSink('out', out), { parallelism: 3 })
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.done
  const rows = out.rows()
  t.is(rows.length, 48)
  for (const row of rows) t.is(row.instance, instanceForKey(row.word, 128, 3), row.word)
  const perInstance = [0, 1, 2].map((i) => out.epochs.filter((e) => e.instance === i).flatMap((e) => e.rows))
  for (const [i, list] of perInstance.entries()) t.true(list.every((r) => r.instance === i))
  t.deepEqual(rows.map((r) => r.word).sort(), Object.values(splits).flat().sort())
})

test('fails the job with an error that names the operator when its code throws', async (t) => {
  const graph = new StreamGraph()
  graph
    .from(defineSource('nums', listSource([1, 2, 3])))
    .via(
      defineOperator<number, number>({
        id: 'boom',
        name: 'boom',
        build: () => ({
          onData: (records: readonly StreamRecord<number>[]) => {
            if (records.length) throw new Error('kaput')
          },
        }),
      }),
    )
    .to(defineSink('out', new CollectSink<number>()))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  const error = await t.throwsAsync(job.done)
  t.regex(error.message, /operator 'boom' failed in epoch 0: kaput/)
  t.is(job.state, 'failed')
})
