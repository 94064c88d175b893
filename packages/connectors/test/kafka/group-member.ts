// A second process for the consumer-group test: runs a query whose Kafka source joins group
// `groupId` (groupMode), and prints what it reads and logs as JSON lines on stdout. SIGTERM stops it.
//   node group-member.js '{"brokers": [...], "topic": "...", "groupId": "..."}'
import { defineSink, defineSource, Job, StreamGraph } from '@weir/core'
import { CollectSink } from '@weir/core/testing'
import { kafkaSource, mockSafeAssigner, type KafkaRecord } from '../../src/index.js'

const { brokers, topic, groupId } = JSON.parse(process.argv[2] ?? '{}') as {
  brokers: string[]
  topic: string
  groupId: string
}
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`)

const out = new CollectSink<KafkaRecord>({
  onWrite: (rows) => {
    for (const r of rows)
      print({ type: 'record', partition: r.partition, offset: r.offset, value: r.value?.toString() })
  },
})
const graph = new StreamGraph()
graph
  .from(
    defineSource(
      'kafka',
      kafkaSource({
        brokers,
        subscribe: [topic],
        groupMode: true,
        groupId,
        partitionAssigners: [mockSafeAssigner()],
        startingOffsets: 'earliest',
        sessionTimeout: 6000,
        heartbeatInterval: 1000,
        logLevel: 'nothing',
        log: ({ level, message }) => print({ type: 'log', level, message }),
      }),
    ),
  )
  .to(defineSink('out', out))
const job = await Job.start(graph, { trigger: { kind: 'processingTime', intervalMs: 200 } })
process.once('SIGTERM', () => {
  void job.stop().finally(() => process.exit(0))
})
job.done.catch((error: unknown) => {
  print({ type: 'failed', message: String(error) })
  process.exit(1)
})
