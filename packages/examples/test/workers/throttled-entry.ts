// The program the workers test runs to see `processAllAvailable` across threads: a directory of files read
// with `maxFilesPerTrigger: 1` by two source instances (one on each thread with WORKERS = 2), manual
// trigger. One `processAllAvailable()` must read every file, one per instance an epoch. Usage: node
// throttled-entry.js DIR WORKERS. Prints `{ rows, epochs }` as one JSON line.
import { defineSink, defineSource, isWeirWorker, Job, StreamGraph, type Sink } from '@weir/core'
import { fileSource } from '@weir/connectors'

const [dir, workers] = [process.argv[2], Number(process.argv[3] ?? '1')]
let rows = 0
const epochs = new Set<number>()
const count: Sink<string> = {
  name: 'count',
  createWriter: () => ({
    write: (batch: readonly string[], epoch: number) => {
      rows += batch.length
      if (batch.length > 0) epochs.add(epoch)
    },
    commit: () => undefined,
    close: () => undefined,
  }),
}
const graph = new StreamGraph()
graph
  .from(defineSource('lines', fileSource(dir, { maxFilesPerTrigger: 1 })), { parallelism: 2 })
  .rebalance()
  .to(defineSink('count', count), { parallelism: 1 })
const job = await Job.start(graph, { trigger: { kind: 'manual' }, workers })
if (!isWeirWorker()) {
  await job.processAllAvailable()
  process.stdout.write(JSON.stringify({ rows, epochs: epochs.size }) + '\n')
  await job.stop()
}
