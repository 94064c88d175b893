import test from 'ava'
import { ConfigError, defineSink, defineSource, Job, StreamGraph } from '@weir/core'
import { listSource } from '@weir/core/testing'

import { consoleSink, formatBatch } from '../src/index.js'

test('prints an epoch only when it commits, in one write', async (t) => {
  const printed: string[] = []
  const writer = await consoleSink<{ word: string }>({ write: (text) => printed.push(text) }).createWriter({
    sinkId: 'out',
    instance: 0,
    parallelism: 1,
    firstEpoch: 0,
  })
  await writer.write([{ word: 'a' }], 0)
  await writer.write([{ word: 'b' }], 0)
  t.deepEqual(printed, [])
  await writer.commit(0)
  t.deepEqual(printed, [formatBatch(0, [{ word: 'a' }, { word: 'b' }])])
})

test('keeps the columns of the first row for a later empty epoch', async (t) => {
  const printed: string[] = []
  const writer = await consoleSink<{ word: string; count: number }>({
    write: (text) => printed.push(text),
  }).createWriter({
    sinkId: 'out',
    instance: 0,
    parallelism: 1,
    firstEpoch: 0,
  })
  await writer.commit(0)
  await writer.write([{ word: 'a', count: 1 }], 1)
  await writer.commit(1)
  await writer.commit(2)
  t.deepEqual(printed, [
    formatBatch(0, []),
    formatBatch(1, [{ word: 'a', count: 1 }]),
    formatBatch(2, [], { columns: ['word', 'count'] }),
  ])
})

test('prints the header of columns the query knows before any row', async (t) => {
  const printed: string[] = []
  const writer = await consoleSink({ write: (text) => printed.push(text) }).createWriter({
    sinkId: 'out',
    instance: 0,
    parallelism: 1,
    firstEpoch: 0,
    columns: ['word', 'count'],
  })
  await writer.commit(0)
  t.deepEqual(printed, [formatBatch(0, [], { columns: ['word', 'count'] })])
})

test('prints one table per epoch over every instance, in instance order', async (t) => {
  const printed: string[] = []
  const sink = consoleSink<{ n: number }>({ write: (text) => printed.push(text), columns: ['n'] })
  const w0 = await sink.createWriter({ sinkId: 'out', instance: 0, parallelism: 2, firstEpoch: 0 })
  const w1 = await sink.createWriter({ sinkId: 'out', instance: 1, parallelism: 2, firstEpoch: 0 })
  await w1.write([{ n: 2 }], 0)
  await w0.write([{ n: 1 }], 0)
  await w1.commit(0)
  t.deepEqual(printed, [])
  await w0.commit(0)
  t.deepEqual(printed, [formatBatch(0, [{ n: 1 }, { n: 2 }])])
})

test('prints the batches of a running query', async (t) => {
  let text = ''
  const graph = new StreamGraph()
  graph
    .from(
      defineSource(
        'words',
        listSource([
          { word: 'the', count: 42 },
          { word: '', count: 7 },
        ]),
      ),
    )
    .to(defineSink('console', consoleSink({ write: (s) => (text += s), numRows: 1 })))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.done
  t.is(
    text,
    [
      '-------------------------------------------',
      'Batch: 0',
      '-------------------------------------------',
      '+----+-----+',
      '|word|count|',
      '+----+-----+',
      '| the|   42|',
      '+----+-----+',
      'only showing top 1 row',
      '',
      '',
    ].join('\n'),
  )
})

test('refuses an unknown option, naming the ones it knows', (t) => {
  t.throws(() => consoleSink({ numrows: 5 } as never), {
    instanceOf: ConfigError,
    message:
      "consoleSink: unknown option 'numrows'; the options are 'numRows', 'truncate', 'timeZone', 'write', 'columns'",
  })
})
