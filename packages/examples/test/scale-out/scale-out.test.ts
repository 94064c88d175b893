import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { StreamingQueryManager } from '@weir/core'
import {
  fileSource,
  kcatAvailable,
  loadTweetTexts,
  MemorySink,
  startKafkaMockCluster,
  type KafkaMockCluster,
} from '@weir/connectors'
import test from 'ava'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { tweetRecord, type TweetRecordOptions } from '../../src/producer/tweet-records.js'
import { tweets, watermarkedCounts } from '../../src/tutorial/queries.js'

const texts = await loadTweetTexts()
const START = Date.UTC(2026, 10, 24, 10, 0, 0)
// Out of order by up to 20 s, under the 1-minute watermark delay: every one counts, in any placement.
const options: TweetRecordOptions = {
  texts,
  seed: 5,
  start: START,
  stepMs: 500,
  lateFraction: 0.15,
  maxDelayMs: 20_000,
}
const COUNT = 800
const phaseA = Array.from({ length: COUNT }, (_, n) => tweetRecord(n, options))
// Written once phase A is counted everywhere: their windows have all closed, so every placement drops them.
const phaseB = Array.from({ length: 8 }, (_, i) => ({
  key: `late-${i}`,
  value: JSON.stringify({
    creation_time: new Date(START + 10_000 + i * 1000).toISOString(),
    tweet_text: 'late',
  }),
}))

const serial = kcatAvailable() ? test.serial : test.serial.skip
let cluster: KafkaMockCluster | undefined
let reference: Map<number, number> | undefined
let dir = ''
if (kcatAvailable()) {
  test.before(async () => {
    cluster = await startKafkaMockCluster()
    dir = await mkdtemp(join(tmpdir(), 'weir-scale-out-'))
  })
  test.after.always(async () => {
    await cluster?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })
}

async function produce(topic: string, messages: readonly { key: string; value: string }[]): Promise<void> {
  const producer = new Kafka({ brokers: cluster!.brokers, logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await producer.connect()
  try {
    await producer.send({ topic, messages: messages.map((m) => ({ ...m })), acks: -1 })
  } finally {
    await producer.disconnect()
  }
}

/** The single-thread run of the tutorial's query 3 (DataFrame API) over the same tweets, in order. */
async function singleThread(): Promise<Map<number, number>> {
  if (reference) return reference
  const file = join(dir, 'tweets.jsonl')
  await writeFile(file, [...phaseA, ...phaseB].map((r) => r.value).join('\n') + '\n')
  const out = new MemorySink<{ window: { start: Date }; count: number }>({
    outputMode: 'update',
    key: (r) => String(r.window.start.getTime()),
  })
  const query = await watermarkedCounts(tweets(fileSource(file, { batchSize: 100 })))
    .writeStream({
      sink: out,
      outputMode: 'update',
      trigger: { availableNow: true },
      manager: new StreamingQueryManager(),
    })
    .start()
  await query.awaitTermination(30_000)
  reference = new Map(out.rows().map((r) => [r.window.start.getTime(), r.count]))
  return reference
}

interface Member {
  readonly child: ChildProcess
  readonly rows: { start: number; count: number }[]
  readonly lines: string[]
  started: boolean
}

function spawnMember(config: object): Member {
  const script = fileURLToPath(new URL('./scale-out-member.js', import.meta.url))
  const child = spawn(process.execPath, [script, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const member: Member = { child, rows: [], lines: [], started: false }
  let pending = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop()!
    for (const line of lines) {
      const event = JSON.parse(line) as { type: string; start: number; count: number; message: string }
      if (event.type === 'row') member.rows.push({ start: event.start, count: event.count })
      else if (event.type === 'started') member.started = true
      else member.lines.push(`${event.type}: ${event.message}`)
    }
  })
  return member
}

async function stopAll(members: readonly Member[]): Promise<void> {
  await Promise.all(
    members.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }),
  )
}

/** Counts only grow, so a window's final row is its largest count over every process's output. */
function finalRows(members: readonly Member[]): Map<number, number> {
  const rows = new Map<number, number>()
  for (const m of members)
    for (const r of m.rows) rows.set(r.start, Math.max(rows.get(r.start) ?? 0, r.count))
  return rows
}

const sorted = (rows: Map<number, number>) => [...rows].sort((a, b) => a[0] - b[0])
const same = (a: Map<number, number>, b: Map<number, number>) =>
  JSON.stringify(sorted(a)) === JSON.stringify(sorted(b))

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 100))
  }
  return true
}

/** Runs `processes` members in one group over a fresh input topic; `kill` SIGKILLs member 1 half-way. */
async function scaleOut(
  name: string,
  processes: number,
  kill = false,
): Promise<{ rows: Map<number, number>; members: Member[] }> {
  const inputTopic = `${name}-tweets-${process.pid}`
  const queryId = `${name}-${process.pid}`
  const config = { brokers: cluster!.brokers, inputTopic, queryId, checkpointDir: join(dir, queryId) }
  const members = Array.from({ length: processes }, () => spawnMember(config))
  try {
    await waitFor(() => members.every((m) => m.started), 20_000)
    const expected = await singleThread()
    if (kill) {
      await produce(inputTopic, phaseA.slice(0, COUNT / 2))
      await waitFor(() => members[1].rows.length > 0 && members[0].rows.length > 0, 30_000)
      members[1].child.kill('SIGKILL')
      await produce(inputTopic, phaseA.slice(COUNT / 2))
    } else {
      await produce(inputTopic, phaseA)
    }
    await waitFor(() => same(finalRows(members), expected), 45_000)
    await produce(inputTopic, phaseB)
    await new Promise((r) => setTimeout(r, 2_000))
    return { rows: finalRows(members), members }
  } finally {
    await stopAll(members)
  }
}

serial(
  'the watermarked sliding-window count gives the same rows on 1 thread, 1 process and 2 processes in one group',
  async (t) => {
    const expected = await singleThread()
    t.true(expected.size >= 10, `${expected.size} windows`)
    const one = await scaleOut('one', 1)
    t.deepEqual(sorted(one.rows), sorted(expected), one.members.flatMap((m) => m.lines).join('\n'))
    const two = await scaleOut('two', 2)
    t.deepEqual(sorted(two.rows), sorted(expected), two.members.flatMap((m) => m.lines).join('\n'))
    t.true(
      two.members.every((m) => m.rows.length > 0),
      'both processes counted windows',
    )
  },
)

serial(
  'killing one of two processes hands its partitions and key groups to the other, and the rows stay exact',
  async (t) => {
    const expected = await singleThread()
    const run = await scaleOut('kill', 2, true)
    t.deepEqual(sorted(run.rows), sorted(expected), run.members.flatMap((m) => m.lines).join('\n'))
    t.true(
      run.members[0].lines.some((l) => /runs partitions 0, 1, 2, 3 .* from epoch/.test(l)),
      'the survivor restored all four partitions from the shared checkpoints',
    )
  },
)
