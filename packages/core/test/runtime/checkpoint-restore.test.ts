import test from 'ava'

import { ConfigError } from '../../src/errors.js'
import { defineOperator } from '../../src/graph/operator.js'
import { defineSink, defineSource } from '../../src/graph/specs.js'
import { StreamGraph } from '../../src/graph/stream-graph.js'
import type { Source, SourceBatch, SourceReader, SourceReaderContext } from '../../src/io/source.js'
import { keyGroupOf } from '../../src/keys/key-groups.js'
import { Job } from '../../src/runtime/job.js'
import { MemoryStateBackend } from '../../src/state/memory-state-backend.js'
import { CollectSink } from '../../src/testing/collect-sink.js'
import { ManualClock } from '../../src/time/clock.js'

interface Counted {
  readonly word: string
  readonly count: number
}

/** Lets every pending I/O callback and microtask run once: no timer, no sleep. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await turn()
}

/**
 * A durable log, as a Kafka topic is: every run reads the same splits and resumes from the positions it
 * is given. The test decides how much of each split has been written so far (`show`).
 */
class ReplaySource implements Source<string> {
  readonly name = 'replay'
  readonly bounded = false
  private readonly visible = new Map<string, number>()

  constructor(private readonly log: Readonly<Record<string, readonly string[]>>) {}

  show(counts: Readonly<Record<string, number>>): void {
    for (const [split, n] of Object.entries(counts)) this.visible.set(split, n)
  }

  createReader(context: SourceReaderContext): SourceReader<string> {
    const owned = Object.keys(this.log).filter((_, i) => i % context.parallelism === context.instance)
    const next = new Map(owned.map((s) => [s, (context.restored.get(s) as number | undefined) ?? 0]))
    return {
      poll: async (): Promise<SourceBatch<string> | 'idle'> => {
        for (const split of owned) {
          const from = next.get(split)!
          const to = Math.min(from + 2, this.visible.get(split) ?? 0)
          if (to > from) {
            next.set(split, to)
            return { split, values: this.log[split].slice(from, to), position: to }
          }
        }
        await turn()
        return 'idle'
      },
      splits: () => owned,
      close: () => Promise.resolve(),
    }
  }
}

const LOG = {
  s0: ['a', 'b', 'a', 'c', 'a', 'd', 'b', 'a'],
  s1: ['b', 'b', 'e', 'a', 'c', 'f', 'b', 'g'],
}

/** A running count per word, kept per key group: it restores at any parallelism. */
function runningCount(misplaced: string[]) {
  return defineOperator<string, Counted>({
    id: 'count',
    name: 'count',
    stateful: true,
    build: (ctx, resume) => {
      const groups = new Map<number, Map<string, number>>()
      for (const [group, counts] of resume?.keyGroups ?? []) {
        groups.set(group, new Map<string, number>(Object.entries(counts as Record<string, number>)))
      }
      return {
        onData(records, out) {
          out.emit(
            records.map((r) => {
              const group = keyGroupOf(r.key, ctx.maxParallelism)
              if (group < ctx.keyGroups.start || group >= ctx.keyGroups.end) misplaced.push(r.value)
              let counts = groups.get(group)
              if (!counts) groups.set(group, (counts = new Map<string, number>()))
              const count = (counts.get(r.value) ?? 0) + 1
              counts.set(r.value, count)
              return { value: { word: r.value, count }, timestamp: r.timestamp }
            }),
          )
        },
        snapshot: () => ({
          keyGroups: new Map([...groups].map(([group, counts]) => [group, Object.fromEntries(counts)])),
        }),
      }
    },
  })
}

function passThrough() {
  return defineOperator<string, string>({
    id: 'pass',
    name: 'pass',
    build: () => ({ onData: (records, out) => out.emit(records) }),
  })
}

/** One run of the word count over the log, until `rows` rows are written, then a graceful stop. */
async function run(options: {
  backend?: MemoryStateBackend
  parallelism: { source: number; count: number }
  visible: Readonly<Record<string, number>>
  rows: number
  misplaced: string[]
  /** Ends an epoch once this many rows are written, before reading on. */
  epochAfter?: { rows: number; visible: Readonly<Record<string, number>> }
  /** Puts a stateless operator between the source and the exchange. */
  passThrough?: boolean
}): Promise<{ rows: Counted[]; epochs: number[] }> {
  const source = new ReplaySource(LOG)
  let written = 0
  const out = new CollectSink<Counted>({ onWrite: (rows) => (written += rows.length) })
  const graph = new StreamGraph()
  const words = graph.from(defineSource('words', source), { parallelism: options.parallelism.source })
  ;(options.passThrough ? words.via(passThrough(), { parallelism: options.parallelism.source }) : words)
    .keyBy((w) => w)
    .via(runningCount(options.misplaced), { parallelism: options.parallelism.count })
    .to(defineSink('out', out), { parallelism: options.parallelism.count })
  const job = await Job.start(graph, { trigger: { kind: 'manual' }, stateBackend: options.backend })
  if (options.epochAfter) {
    source.show(options.epochAfter.visible)
    await until(() => written >= options.epochAfter!.rows)
    const epoch = job.triggerEpoch()
    await until(() => out.epochs.some((e) => e.epoch === epoch))
  }
  source.show(options.visible)
  await until(() => written >= options.rows)
  await job.stop()
  return { rows: out.rows(), epochs: [...new Set(out.epochs.map((e) => e.epoch))] }
}

const byWordThenCount = (a: Counted, b: Counted) => a.word.localeCompare(b.word) || a.count - b.count
const ALL = { s0: 8, s1: 8 }

test('resumes state and source positions across restarts at other parallelisms, as if never stopped', async (t) => {
  const misplaced: string[] = []
  const uninterrupted = await run({ parallelism: { source: 2, count: 2 }, visible: ALL, rows: 16, misplaced })

  const backend = new MemoryStateBackend()
  const first = await run({
    backend,
    parallelism: { source: 2, count: 2 },
    epochAfter: { visible: { s0: 3, s1: 2 }, rows: 5 },
    visible: { s0: 4, s1: 4 },
    rows: 8,
    misplaced,
  })
  t.deepEqual(backend.committedEpochs, [0, 1])
  const second = await run({
    backend,
    parallelism: { source: 2, count: 3 },
    visible: { s0: 6, s1: 5 },
    rows: 3,
    misplaced,
  })
  const third = await run({ backend, parallelism: { source: 1, count: 1 }, visible: ALL, rows: 5, misplaced })

  t.deepEqual(first.epochs, [0, 1])
  t.deepEqual(second.epochs, [2])
  t.deepEqual(third.epochs, [3])
  t.deepEqual(backend.committedEpochs, [1, 2, 3])
  t.is(first.rows.length + second.rows.length + third.rows.length, 16)
  t.deepEqual(
    [...first.rows, ...second.rows, ...third.rows].sort(byWordThenCount),
    uninterrupted.rows.sort(byWordThenCount),
  )
  // The rows of the last run go on from the counts the first two left.
  t.deepEqual(third.rows.filter((r) => r.word === 'b').sort(byWordThenCount), [
    { word: 'b', count: 4 },
    { word: 'b', count: 5 },
  ])
  t.deepEqual(misplaced, [])
})

test('restores across a stateless operator added, then removed, as if never stopped', async (t) => {
  const misplaced: string[] = []
  const uninterrupted = await run({ parallelism: { source: 2, count: 2 }, visible: ALL, rows: 16, misplaced })
  const backend = new MemoryStateBackend()
  const first = await run({
    backend,
    parallelism: { source: 2, count: 2 },
    visible: { s0: 4, s1: 2 },
    rows: 6,
    misplaced,
  })
  const second = await run({
    backend,
    parallelism: { source: 2, count: 2 },
    visible: { s0: 6, s1: 6 },
    rows: 6,
    misplaced,
    passThrough: true,
  })
  const third = await run({ backend, parallelism: { source: 2, count: 2 }, visible: ALL, rows: 4, misplaced })
  t.deepEqual(
    [...first.rows, ...second.rows, ...third.rows].sort(byWordThenCount),
    uninterrupted.rows.sort(byWordThenCount),
  )
  t.deepEqual(misplaced, [])
})

test('refuses a checkpoint written by another graph shape, naming what changed', async (t) => {
  const backend = new MemoryStateBackend()
  await run({ backend, parallelism: { source: 1, count: 1 }, visible: { s0: 1 }, rows: 1, misplaced: [] })

  const renamed = new StreamGraph()
  renamed
    .from(defineSource('words', new ReplaySource(LOG)))
    .keyBy((w) => w)
    .via(
      defineOperator<string, string>({
        id: 'tally',
        name: 'count',
        stateful: true,
        build: () => ({ onData: () => undefined }),
      }),
    )
    .via(
      defineOperator<string, string>({
        id: 'out',
        name: 'format',
        build: () => ({ onData: () => undefined }),
      }),
    )
    .to(defineSink('printed', new CollectSink<string>()))
  const error = await t.throwsAsync(
    Job.start(renamed, { trigger: { kind: 'manual' }, stateBackend: backend }),
    {
      instanceOf: ConfigError,
    },
  )
  t.is(
    error.message,
    "the checkpoint was written by another query shape: 'count' (count) is gone; 'out' was sink, is format; " +
      "'tally' (count) is new; 'printed' (sink) is new. " +
      'Restore with the graph that wrote it, or use a new checkpoint location',
  )
})

test('refuses a checkpoint written with another maxParallelism', async (t) => {
  const backend = new MemoryStateBackend()
  await run({ backend, parallelism: { source: 1, count: 1 }, visible: { s0: 1 }, rows: 1, misplaced: [] })

  const graph = new StreamGraph({ maxParallelism: 64 })
  graph
    .from(defineSource('words', new ReplaySource(LOG)))
    .keyBy((w) => w)
    .via(runningCount([]))
    .to(defineSink('out', new CollectSink<Counted>()))
  const error = await t.throwsAsync(Job.start(graph, { stateBackend: backend }), { instanceOf: ConfigError })
  t.is(
    error.message,
    'the checkpoint was written with maxParallelism 128, this graph has 64: key groups cannot be remapped; ' +
      'use maxParallelism 128 or a new checkpoint location',
  )
})

test('snapshots every k-th epoch with checkpointEvery, and commits sinks only for covered epochs', async (t) => {
  const backend = new MemoryStateBackend(10)
  const out = new CollectSink<Counted>()
  const graph = new StreamGraph()
  graph
    .from(defineSource('words', new ReplaySource(LOG)))
    .keyBy((w) => w)
    .via(runningCount([]))
    .to(defineSink('out', out))
  const job = await Job.start(graph, {
    trigger: { kind: 'manual' },
    stateBackend: backend,
    checkpointEvery: 2,
  })
  const reports: [number, boolean][] = []
  job.onEpoch((report) => reports.push([report.epoch, report.checkpointed]))
  t.is(job.triggerEpoch(), 0)
  t.is(job.triggerEpoch(), 1)
  // Epoch 0 is done first, but no checkpoint covers it until epoch 1's: a crash before would replay it.
  await until(() => reports.length === 2)
  t.deepEqual(reports, [
    [0, false],
    [1, true],
  ])
  t.deepEqual(
    out.epochs.map((e) => e.epoch),
    [0, 1],
  )
  t.is(job.triggerEpoch(), 2)
  await job.stop()
  t.deepEqual(reports, [
    [0, false],
    [1, true],
    [2, false],
    [3, true],
  ])
  t.deepEqual(backend.committedEpochs, [1, 3], 'the last epoch of a run is always a checkpoint')
  t.deepEqual(
    out.epochs.map((e) => e.epoch),
    [0, 1, 2, 3],
  )
})

test('snapshots at a pace with checkpointIntervalMs, however many epochs end in between', async (t) => {
  const backend = new MemoryStateBackend(10)
  const clock = new ManualClock(0)
  const graph = new StreamGraph()
  graph
    .from(defineSource('words', new ReplaySource(LOG)))
    .keyBy((w) => w)
    .via(runningCount([]))
    .to(defineSink('out', new CollectSink<Counted>()))
  const job = await Job.start(graph, {
    trigger: { kind: 'manual' },
    stateBackend: backend,
    checkpointIntervalMs: 1000,
    clock,
  })
  const reports: [number, boolean][] = []
  job.onEpoch((report) => reports.push([report.epoch, report.checkpointed]))
  for (const at of [0, 300, 900, 1000, 1500]) {
    clock.set(at)
    job.triggerEpoch()
  }
  await until(() => reports.length === 4)
  await job.stop()
  t.deepEqual(reports, [
    [0, true],
    [1, false],
    [2, false],
    [3, true],
    [4, false],
    [5, true],
  ])
  t.deepEqual(backend.committedEpochs, [0, 3, 5])
})
