import test from 'ava'
import { defineSink, defineSource, Job, StreamGraph, type Source, type SourceBatch } from '../../src/index.js'
import { CollectSink } from '../../src/testing/index.js'

/** A source whose readers hand out `batches` one per poll, then idle, and log every commit they are told about. */
function committingSource(batches: readonly SourceBatch<number>[], commits: string[]): Source<number> {
  return {
    name: 'committing',
    bounded: false,
    createReader: () => {
      const queue = [...batches]
      return {
        poll: async () => queue.shift() ?? (await new Promise<'idle'>((r) => setTimeout(() => r('idle'), 5))),
        splits: () => ['a', 'b'],
        commit: (positions, epoch) => {
          commits.push(`${epoch}: ${[...positions].map(([split, p]) => `${split}@${String(p)}`).join(' ')}`)
        },
        close: () => Promise.resolve(),
      }
    },
  }
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 5000) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

test("tells the reader each committed epoch's end positions, in epoch order", async (t) => {
  const commits: string[] = []
  const out = new CollectSink<number>()
  const source = committingSource(
    [
      { split: 'a', values: [1, 2], position: 2 },
      { split: 'b', values: [3], position: 1 },
    ],
    commits,
  )
  const graph = new StreamGraph()
  graph.from(defineSource('src', source)).to(defineSink('out', out))
  const job = await Job.start(graph, { trigger: { kind: 'manual' } })
  await until(() => job.counters()['src#0']?.recordsRead === 3)
  job.triggerEpoch()
  await until(() => commits.length === 1)
  job.triggerEpoch()
  await until(() => commits.length === 2)
  await job.stop()
  t.deepEqual(commits.slice(0, 2), ['0: a@2 b@1', '1: a@2 b@1'])
  t.deepEqual(out.rows(), [1, 2, 3])
})
