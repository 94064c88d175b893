// One process of the scale-out query (see docs/scale-out.md): runs the upstream sub-topology (input
// topic → repartition topic) and the downstream one (repartition topic → keyed count) for whatever
// partitions the two consumer groups give it, and prints each committed epoch's window counts as JSON lines.
// SIGTERM stops it; the test SIGKILLs it to see its partitions and key groups move.
//   node scale-out-member.js '{"brokers": [...], "inputTopic": "...", "queryId": "...", "checkpointDir": "..."}'
import { Job, type Sink } from '@weir/core'
import { mockSafeAssigner, RepartitionTasks } from '@weir/connectors'
import {
  downstreamGraph,
  repartitionTopicOf,
  upstreamGraph,
  type WindowCount,
} from '../../src/scale-out/tweet-counts.js'

const { brokers, inputTopic, queryId, checkpointDir } = JSON.parse(process.argv[2] ?? '{}') as {
  brokers: string[]
  inputTopic: string
  queryId: string
  checkpointDir: string
}
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`)
const log = ({ level, message }: { level: string; message: string }) => {
  if (level !== 'debug') print({ type: 'log', level, message })
}
// The mock cluster fails a follower that syncs after its group's leader: see mockSafeAssigner.
const partitionAssigners = [mockSafeAssigner()]
const options = {
  brokers,
  log,
  queryId,
  inputTopic,
  windowMs: 300_000,
  slideMs: 60_000,
  watermarkMs: 60_000,
  partitionAssigners,
}
// Rows are printed when their epoch commits, so the test sees committed output only, in commit order.
const sink: Sink<WindowCount> = {
  name: 'print',
  createWriter: () => {
    const pending = new Map<number, WindowCount[]>()
    return {
      write: (rows, epoch) => void pending.set(epoch, [...(pending.get(epoch) ?? []), ...rows]),
      commit: (epoch) => {
        for (const row of pending.get(epoch) ?? []) print({ type: 'row', epoch, ...row })
        pending.delete(epoch)
      },
      close: () => undefined,
    }
  },
}
const trigger = { kind: 'processingTime', intervalMs: 300 } as const
const tasks = await RepartitionTasks.start({
  brokers,
  log,
  topic: repartitionTopicOf(queryId),
  groupId: `${queryId}-repartition`,
  writers: [0, 1, 2, 3].map((p) => `${inputTopic}-${p}`),
  checkpointDir,
  graph: (source) => downstreamGraph(options, source, sink),
  job: { trigger },
  sessionTimeout: 6000,
  heartbeatInterval: 1000,
  partitionAssigners,
})
const upstream = await Job.start(upstreamGraph(options), { trigger })
print({ type: 'started' })
setInterval(() => {
  if (tasks.error) {
    print({ type: 'failed', message: String(tasks.error) })
    process.exit(1)
  }
}, 200)
process.once('SIGTERM', () => {
  void Promise.all([upstream.stop(), tasks.stop()]).finally(() => process.exit(0))
})
upstream.done.catch((error: unknown) => {
  print({ type: 'failed', message: String(error) })
  process.exit(1)
})
