import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { defineSink, defineSource, StreamGraph } from '@weir/core'
import { CollectSink } from '@weir/core/testing'
import { Kafka, logLevel } from 'kafkajs'
import {
  kafkaSource,
  mockSafeAssigner,
  type KafkaLogEntry,
  type KafkaRecord,
  type KafkaSourceOptions,
} from '../../src/index.js'
import {
  captureLog,
  createTopic,
  GROUP,
  numbered,
  produce,
  startJob,
  unique,
  waitFor,
  within,
} from './helpers.js'
import { useKafka } from './mock-cluster.js'

const kafka = useKafka()
const test = kafka.test

function graphOf(options: Partial<KafkaSourceOptions>, out: CollectSink<KafkaRecord>, parallelism = 1) {
  const graph = new StreamGraph()
  const source = kafkaSource({
    brokers: kafka.brokers(),
    startingOffsets: 'earliest',
    ...GROUP,
    // The mock fails a follower that syncs after its group's leader (see mockSafeAssigner).
    ...(options.groupMode ? { partitionAssigners: [mockSafeAssigner()] } : {}),
    ...options,
  })
  graph.from(defineSource('kafka', source), { parallelism }).to(defineSink('out', out), { parallelism })
  return graph
}

/** The group's committed offsets, by partition. */
async function committed(groupId: string, topic: string): Promise<Record<number, string>> {
  const admin = new Kafka({ brokers: kafka.brokers(), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const [offsets] = (await admin.fetchOffsets({ groupId, topics: [topic] })) as {
      partitions: { partition: number; offset: string }[]
    }[]
    return Object.fromEntries(offsets.partitions.map((p) => [p.partition, p.offset]))
  } finally {
    await admin.disconnect()
  }
}

/** The partitions of the last `joined group` line. */
function lastJoin(lines: readonly KafkaLogEntry[]): string[] | undefined {
  const joins = lines
    .map((l) => /joined group '.*' with partitions (.*)$/.exec(l.message)?.[1])
    .filter((m) => m !== undefined)
  const last = joins.at(-1)
  return last === undefined ? undefined : last === '(none)' ? [] : last.split(', ')
}

test('without group mode each epoch commits its offsets to the instance’s own group, for monitoring', async (t) => {
  const topic = unique('monitor')
  const groupId = unique('monitor-group')
  await produce(kafka.brokers(), topic, numbered('v', 20))
  const out = new CollectSink<KafkaRecord>()
  await startJob(t, graphOf({ subscribe: [topic], groupId, log: captureLog().log }, out, 2))
  await waitFor(() => out.rows().length >= 20, 45_000, '20 rows')
  const expected = { 0: '5', 1: '5', 2: '5', 3: '5' }
  const deadline = Date.now() + 10_000
  let seen: Record<number, string> = {}
  while (Date.now() < deadline) {
    const [a, b] = await Promise.all([committed(`${groupId}-0`, topic), committed(`${groupId}-1`, topic)])
    seen = { 0: a[0], 2: a[2], 1: b[1], 3: b[3] }
    if (JSON.stringify(seen) === JSON.stringify(expected)) break
    await new Promise((r) => setTimeout(r, 200))
  }
  t.deepEqual(seen, expected)
})

test('group mode: two instances in one group share the partitions, and commits are where a member resumes', async (t) => {
  const topic = unique('group')
  const groupId = unique('group-id')
  await produce(kafka.brokers(), topic, numbered('v', 40))
  const out = new CollectSink<KafkaRecord>()
  const captured = captureLog()
  const job = await startJob(
    t,
    graphOf({ subscribe: [topic], groupMode: true, groupId, log: captured.log }, out, 2),
  )
  await waitFor(() => out.rows().length >= 40, 45_000, '40 rows').catch((error: Error) => {
    const group = captured.lines.filter((l) => /join|rebalanc|group|crash/i.test(l.message)).slice(-8)
    throw new Error(`${error.message} (${out.rows().length} came); log: ${JSON.stringify(group)}`)
  })
  const byInstance = (i: number) => [
    ...new Set(out.epochs.filter((e) => e.instance === i).flatMap((e) => e.rows.map((r) => r.partition))),
  ]
  t.is(byInstance(0).length + byInstance(1).length, 4)
  t.is(byInstance(0).length, 2)
  await waitFor(() => out.epochs.length > 0, 5_000, 'an epoch')
  await within(job.stop(), 20_000, 'the job to stop')
  t.deepEqual(await committed(groupId, topic), { 0: '10', 1: '10', 2: '10', 3: '10' })
  // A new member of the group starts where the group committed: it reads only what came after.
  await produce(kafka.brokers(), topic, numbered('w', 8, 40))
  const again = new CollectSink<KafkaRecord>()
  await startJob(t, graphOf({ subscribe: [topic], groupMode: true, groupId, log: captureLog().log }, again))
  await waitFor(() => again.rows().length >= 8, 45_000, 'the 8 new rows')
  await new Promise((r) => setTimeout(r, 300))
  t.deepEqual(
    again
      .rows()
      .map((r) => r.value!.toString())
      .sort(),
    numbered('w', 8, 40)
      .map((m) => String(m.value))
      .sort(),
  )
})

interface Member {
  readonly records: { partition: number; offset: number; value: string }[]
  readonly logs: KafkaLogEntry[]
  stop(): Promise<void>
}

/** Another process in the group (see group-member.ts). */
function spawnMember(topic: string, groupId: string): Member {
  const script = fileURLToPath(new URL('./group-member.js', import.meta.url))
  const child = spawn(
    process.execPath,
    [script, JSON.stringify({ brokers: kafka.brokers(), topic, groupId })],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const member: Member = {
    records: [],
    logs: [],
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await within(exited, 15_000, 'the member process to exit').catch(() => child.kill('SIGKILL'))
    },
  }
  let pending = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop()!
    for (const line of lines) {
      const event = JSON.parse(line) as {
        type: string
        level: KafkaLogEntry['level']
        message: string
        partition: number
        offset: number
        value: string
      }
      if (event.type === 'record')
        member.records.push({ partition: event.partition, offset: event.offset, value: event.value })
      else member.logs.push({ level: event.level ?? 'error', message: event.message })
    }
  })
  return member
}

test('a second process joins the group and takes half the partitions; together they read every record once', async (t) => {
  const topic = unique('two-processes')
  const groupId = unique('two-processes-group')
  await createTopic(kafka.brokers(), topic)
  const other = spawnMember(topic, groupId)
  t.teardown(() => other.stop())
  await waitFor(() => lastJoin(other.logs)?.length === 4, 45_000, 'the other process to own all 4 partitions')
  await produce(kafka.brokers(), topic, numbered('before', 100))
  await waitFor(() => other.records.length >= 100, 45_000, 'the other process to read the first 100')
  // Let an epoch commit those offsets to the group, so nobody reads them again.
  await new Promise((r) => setTimeout(r, 1_000))

  const out = new CollectSink<KafkaRecord>()
  let lines: KafkaLogEntry[] = []
  // librdkafka's mock cluster now and then answers the joining member's SyncGroup with a protocol error
  // ("request being malformed"), and that member's consumer crashes out of the group while the other
  // takes all 4 partitions back. It is the mock's (a real broker answers the same requests), so the
  // join is tried once more then; any record the first try read still counts below (no loss, no
  // duplicate).
  for (let attempt = 1; ; attempt++) {
    const captured = captureLog()
    lines = captured.lines
    const job = await startJob(
      t,
      graphOf({ subscribe: [topic], groupMode: true, groupId, log: captured.log }, out),
    )
    try {
      await waitFor(
        () => lastJoin(lines)?.length === 2 && lastJoin(other.logs)?.length === 2,
        60_000,
        'the group to split 2 + 2',
      )
      break
    } catch (error) {
      const mockQuirk = lines.some((l) => /SyncGroup.*malformed/.test(l.message))
      if (attempt < 2 && mockQuirk) {
        await job.stop().catch(() => undefined)
        continue
      }
      const joins = (entries: readonly KafkaLogEntry[]) =>
        entries
          .filter((l) => /join|rebalanc|group|crash/i.test(l.message))
          .map((l) => l.message)
          .slice(-6)
      throw new Error(
        `${(error as Error).message}; here: ${JSON.stringify(joins(lines))}; there: ${JSON.stringify(joins(other.logs))}`,
      )
    }
  }
  const mine = lastJoin(lines)!
  const theirs = lastJoin(other.logs)!
  t.deepEqual(
    [...mine, ...theirs].sort(),
    [0, 1, 2, 3].map((p) => `${topic}-${p}`),
  )
  await produce(kafka.brokers(), topic, numbered('after', 100, 100))
  const union = () => [...other.records.map((r) => r.value), ...out.rows().map((r) => r.value!.toString())]
  await waitFor(() => union().length >= 200, 45_000, 'all 200 records')
  await new Promise((r) => setTimeout(r, 500))
  const all = union()
  t.is(new Set(all).size, all.length, 'no record twice')
  t.deepEqual(
    all.sort(),
    [...numbered('before', 100), ...numbered('after', 100, 100)].map((m) => String(m.value)).sort(),
  )
  t.deepEqual(
    [...new Set(out.rows().map((r) => `${topic}-${r.partition}`))].sort(),
    [...mine].sort(),
    'this process read only its partitions',
  )
})
