import test from 'ava'

import { OperatorError, WeirError } from '../../src/errors.js'
import { defineOperator } from '../../src/graph/operator.js'
import { defineSink, defineSource } from '../../src/graph/specs.js'
import { StreamGraph } from '../../src/graph/stream-graph.js'
import type { Sink } from '../../src/io/sink.js'
import type { Source } from '../../src/io/source.js'
import type { EpochReport } from '../../src/runtime/coordinator.js'
import { Job } from '../../src/runtime/job.js'
import { CollectSink } from '../../src/testing/collect-sink.js'
import { listSource } from '../../src/testing/list-source.js'
import { QueueSource } from '../../src/testing/queue-source.js'
import { ManualClock } from '../../src/time/clock.js'

const pass = (id: string) =>
  defineOperator<number, number>({
    id,
    name: 'pass',
    build: () => ({ onData: (records, out) => out.emit(records) }),
  })

/** The next epoch report of a job. */
function nextEpoch(job: Job): Promise<EpochReport> {
  return new Promise((resolve) => {
    const off = job.onEpoch((report) => {
      off()
      resolve(report)
    })
  })
}

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

/** Lets every pending I/O callback and microtask run once: no timer, no sleep. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** A sink that logs its calls and whose commits wait until the test lets them through. */
function loggingSink(log: string[], commits: { gate: Promise<void> }): Sink<number> {
  return {
    name: 'logging',
    createWriter: () => ({
      write: (rows) => void log.push(`write ${rows.join(',')}`),
      commit: async (epoch) => {
        log.push(`commit ${epoch}`)
        await commits.gate
        log.push(`committed ${epoch}`)
      },
      close: () => void log.push('close'),
    }),
  }
}

test('stop() resolves once every sink has committed a last epoch and closed', async (t) => {
  const log: string[] = []
  const hold = deferred()
  const queue = new QueueSource<number>(['p0'])
  const graph = new StreamGraph()
  graph.from(defineSource('nums', queue)).to(defineSink('out', loggingSink(log, { gate: hold.promise })))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  const finalEpoch = nextEpoch(job)
  queue.push('p0', [1, 2])
  while (log.length === 0) await turn()
  let stopped = false
  const stopping = job.stop().then(() => (stopped = true))
  while (!log.includes('commit 0')) await turn()
  await turn()
  t.false(stopped)
  t.is(job.state, 'stopping')
  hold.resolve()
  await stopping
  t.deepEqual(log, ['write 1,2', 'commit 0', 'committed 0', 'close'])
  t.is(job.state, 'finished')
  t.like(await finalEpoch, { epoch: 0, numInputRows: 2 })
})

test('stop() keeps the batch that was being read when it was called', async (t) => {
  const queue = new QueueSource<number>(['p0'])
  const out = new CollectSink<number>()
  const graph = new StreamGraph()
  graph.from(defineSource('nums', queue)).to(defineSink('out', out))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  // The reader is waiting for data: the push wakes it, and stop() comes before it hands the batch over.
  queue.push('p0', [1, 2, 3])
  await job.stop()
  t.deepEqual(out.epochs, [{ epoch: 0, instance: 0, rows: [1, 2, 3] }])
})

test('reports every epoch with its number and the rows read in it', async (t) => {
  const queue = new QueueSource<number>(['p0', 'p1'])
  const written = new Set<number>()
  const out = new CollectSink<number>({ onWrite: (rows) => rows.forEach((r) => written.add(r)) })
  const graph = new StreamGraph({ parallelism: 2 })
  graph.from(defineSource('nums', queue)).via(pass('pass')).to(defineSink('out', out))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  const reports: EpochReport[] = []
  job.onEpoch((report) => reports.push(report))
  queue.push('p0', [1, 2])
  queue.push('p1', [3])
  while (written.size < 3) await turn()
  t.is(job.triggerEpoch(), 0)
  t.like(await nextEpoch(job), { epoch: 0 })
  queue.push('p1', [4, 5])
  while (written.size < 5) await turn()
  t.is(job.triggerEpoch(), 1)
  await nextEpoch(job)
  await job.stop()
  t.deepEqual(
    reports.map((r) => [r.epoch, r.numInputRows, r.checkpointed]),
    [
      [0, 3, false],
      [1, 2, false],
      [2, 0, false],
    ],
  )
  t.deepEqual(out.epoch(0).sort(), [1, 2, 3])
  t.deepEqual(out.epoch(1), [4, 5])
  t.deepEqual(out.epoch(2), [])
})

test('ends epochs on a processing-time trigger, an interval after the last one began', async (t) => {
  const clock = new ManualClock(0)
  const log: string[] = []
  const commits = { gate: Promise.resolve() }
  const queue = new QueueSource<number>(['p0'])
  const graph = new StreamGraph()
  graph.from(defineSource('nums', queue)).to(defineSink('out', loggingSink(log, commits)))
  const job = await Job.start(graph, { trigger: { kind: 'processingTime', intervalMs: 1_000 }, clock })
  queue.push('p0', [1])
  while (log.length === 0) await turn()
  clock.advance(999)
  t.is(job.currentEpoch, 0)
  const first = nextEpoch(job)
  clock.advance(1)
  t.is(job.currentEpoch, 1)
  t.like(await first, { epoch: 0, numInputRows: 1, triggeredAt: 1_000, completedAt: 1_000 })

  // Epoch 1 takes 300 ms to commit: epoch 2 still begins 1 s after epoch 1 began, as Spark's trigger does.
  const hold = deferred()
  commits.gate = hold.promise
  const second = nextEpoch(job)
  clock.advance(1_000)
  t.is(job.currentEpoch, 2)
  clock.advance(300)
  hold.resolve()
  t.like(await second, { epoch: 1, numInputRows: 0, triggeredAt: 2_000, completedAt: 2_300 })
  clock.advance(699)
  t.is(job.currentEpoch, 2)
  clock.advance(1)
  t.is(job.currentEpoch, 3)
  await job.stop()
  t.deepEqual(log, [
    'write 1',
    'commit 0',
    'committed 0',
    'commit 1',
    'committed 1',
    'commit 2',
    'committed 2',
    'commit 3',
    'committed 3',
    'close',
  ])
})

test('fails the job with an error naming the sink when a write fails', async (t) => {
  const broken: Sink<number> = {
    name: 'broken',
    createWriter: () => ({
      write: () => Promise.reject(new Error('disk full')),
      commit: () => undefined,
      close: () => undefined,
    }),
  }
  const graph = new StreamGraph()
  graph.from(defineSource('nums', listSource([1, 2, 3]))).to(defineSink('out', broken))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  const error = await t.throwsAsync(job.done, { instanceOf: WeirError })
  t.is(error.message, "sink 'out' (broken) failed: disk full")
  t.is(error.code, 'sink-failed')
  t.is(job.state, 'failed')
  t.is(job.exception, error)
  await t.throwsAsync(job.stop(), { is: error })
})

test('fails the job with source-failed when the poll of a reader throws', async (t) => {
  const cause = new WeirError('broker-away', 'the broker is away', { retriable: true })
  let closed = 0
  const failing: Source<number> = {
    name: 'failing',
    bounded: false,
    createReader: () => ({
      poll: () => Promise.reject(cause),
      splits: () => ['0'],
      close: () => {
        closed++
        return Promise.resolve()
      },
    }),
  }
  const graph = new StreamGraph()
  graph.from(defineSource('nums', failing)).to(defineSink('out', new CollectSink<number>()))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  const error = await t.throwsAsync<WeirError>(job.done, { instanceOf: WeirError })
  t.is(error.message, "source 'nums' failed: the broker is away")
  t.is(error.code, 'source-failed')
  t.true(error.retriable)
  t.is(error.cause, cause)
  t.is(closed, 1)
})

test('fails the job when an operator throws at a barrier it was sent by triggerEpoch()', async (t) => {
  const queue = new QueueSource<number>(['p0'])
  const graph = new StreamGraph()
  graph
    .from(defineSource('nums', queue))
    .via(
      defineOperator<number, number>({
        id: 'boom',
        name: 'boom',
        build: () => ({
          onData: () => undefined,
          onBarrier: () => {
            throw new Error('kaput')
          },
        }),
      }),
    )
    .to(defineSink('out', new CollectSink<number>()))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  t.throws(() => job.triggerEpoch(), {
    instanceOf: OperatorError,
    message: "operator 'boom' failed in epoch 0: kaput",
  })
  t.is(job.state, 'failed')
  await t.throwsAsync(job.done, {
    instanceOf: OperatorError,
    message: "operator 'boom' failed in epoch 0: kaput",
  })
})

test('reads a stream unioned with itself twice', async (t) => {
  const out = new CollectSink<number>()
  const graph = new StreamGraph()
  const nums = graph.from(defineSource('nums', listSource([1, 2, 3])))
  nums.union(nums).via(pass('both')).to(defineSink('out', out))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await job.done
  t.deepEqual(out.rows(), [1, 2, 3, 1, 2, 3])
})
