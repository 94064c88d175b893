import { spawn } from 'node:child_process'
import { Job, type JobOptions, type StreamGraph } from '@weir/core'
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs'
import type { KafkaLog, KafkaLogEntry, KafkaRecord } from '../../src/index.js'

let counter = 0

/** A topic or group name no other test (nor an earlier run against the same brokers) uses. */
export function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}-${Date.now().toString(36)}`
}

/** The group settings the mock needs (its rejoin waits sessionTimeout - 1 s). */
export const GROUP = { sessionTimeout: 6000, heartbeatInterval: 1000 } as const

/** Captures log lines instead of printing them. */
export function captureLog(): { log: KafkaLog; lines: KafkaLogEntry[] } {
  const lines: KafkaLogEntry[] = []
  return { log: (entry) => lines.push(entry), lines }
}

/** Writes messages with a plain kafkajs producer (not weir's sink), `perSend` in each request. */
export async function produce(
  brokers: string[],
  topic: string,
  messages: Message[],
  perSend = 500,
): Promise<void> {
  const kafka = new Kafka({ brokers, clientId: 'weir-test', logLevel: logLevel.NOTHING })
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  try {
    for (let i = 0; i < messages.length; i += perSend)
      await producer.send({ topic, messages: messages.slice(i, i + perSend), acks: -1 })
  } finally {
    await producer.disconnect()
  }
}

/** Names the topic so the brokers create it (the mock gives it 4 partitions). */
export async function createTopic(brokers: string[], topic: string): Promise<void> {
  const kafka = new Kafka({ brokers, clientId: 'weir-test', logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.fetchTopicMetadata({ topics: [topic] })
  } finally {
    await admin.disconnect()
  }
}

/** `count` messages spread over the 4 partitions: value `${prefix}-${i}`, key `k${i}`, partition i % 4. */
export function numbered(prefix: string, count: number, from = 0): Message[] {
  return Array.from({ length: count }, (_, n) => {
    const i = from + n
    return {
      partition: i % 4,
      key: `k${i}`,
      value: `${prefix}-${i}`,
      timestamp: String(1_700_000_000_000 + i * 1000),
    }
  })
}

/** Resolves once condition() holds; rejects after timeoutMs, saying what it waited for. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Rejects after ms unless promise settles first. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Starts a job and makes sure it is stopped when the test ends, whatever happens. */
export async function startJob(
  t: { teardown(fn: () => unknown): void },
  graph: StreamGraph,
  options: JobOptions = { trigger: { kind: 'processingTime', intervalMs: 200 } },
): Promise<Job> {
  const job = await Job.start(graph, options)
  t.teardown(() =>
    within(
      job.stop().catch(() => undefined),
      20_000,
      'the job to stop',
    ),
  )
  return job
}

/** A record without its buffers, for deepEqual: key and value as text. */
export function plain(record: KafkaRecord): Record<string, unknown> {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key?.toString() ?? null,
    value: record.value?.toString() ?? null,
    timestamp: record.timestamp,
    ...(record.headers ? { headers: record.headers.map((h) => [h.key, h.value?.toString() ?? null]) } : {}),
  }
}

/** Runs kcat (a client no one here wrote) to read a topic from the beginning to its end. */
export async function kcatRead(brokers: string[], topic: string, format: string): Promise<string> {
  return (await kcat(brokers, topic, format)).toString('utf8')
}

/** Every record's partition and value, as kcat reads them, for values that are not text. */
export async function kcatReadValues(
  brokers: string[],
  topic: string,
): Promise<{ partition: number; value: Buffer }[]> {
  // A header line with the value's length, then the value's bytes as they are.
  const out = await kcat(brokers, topic, '%p %S\\n%s')
  const records: { partition: number; value: Buffer }[] = []
  for (let at = 0; at < out.length;) {
    const eol = out.indexOf(10, at)
    const [partition, length] = out.subarray(at, eol).toString().split(' ').map(Number)
    records.push({ partition, value: out.subarray(eol + 1, eol + 1 + length) })
    at = eol + 1 + length
  }
  return records
}

function kcat(brokers: string[], topic: string, format: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'kcat',
      ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', format],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.once('error', reject)
    // 'close', not 'exit': only then has all of stdout been read.
    child.once('close', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(Buffer.concat(out))
      else reject(new Error(`kcat exited with ${code}: ${err}`))
    })
  })
}
