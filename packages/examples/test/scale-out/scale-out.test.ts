import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { loadTweetTexts } from '@weir/connectors'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { lastOwned, useScaleOutCluster } from './groups.js'
import { tweetRecord, type TweetRecordOptions } from '../../src/producer/tweet-records.js'

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

const { serial, cluster, dir } = useScaleOutCluster('weir-scale-out-', (scratch) =>
  writeFile(join(scratch, 'tweets.jsonl'), [...phaseA, ...phaseB].map((r) => r.value).join('\n') + '\n'),
)

async function produce(topic: string, messages: readonly { key: string; value: string }[]): Promise<void> {
  const producer = new Kafka({ brokers: cluster().brokers, logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await producer.connect()
  try {
    await producer.send({ topic, messages: messages.map((m) => ({ ...m })), acks: -1 })
  } finally {
    await producer.disconnect()
  }
}

/** Window start → count, the last row of each window winning (update mode). */
type Rows = Map<number, number>

let references: Promise<[Rows, Rows]> | undefined

/** The one program every placement runs: query 3 through the DataFrame API. */
const PROGRAM = fileURLToPath(new URL('./query3-program.js', import.meta.url))

/** Query 3 over a file of the same tweets, on 1 thread and on 2 worker threads. */
function threads(): Promise<[Rows, Rows]> {
  const file = join(dir(), 'tweets.jsonl')
  const run = async (workers: number): Promise<Rows> => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [PROGRAM, JSON.stringify({ file, workers })],
      {
        timeout: 40_000,
      },
    )
    const rows: Rows = new Map()
    for (const line of stdout.split('\n').filter(Boolean)) {
      const event = JSON.parse(line) as { type: string; start: number; count: number }
      if (event.type === 'row') rows.set(event.start, event.count)
    }
    return rows
  }
  references ??= Promise.all([run(1), run(2)])
  return references
}

interface Member {
  readonly child: ChildProcess
  readonly lines: string[]
  /** Committed rows this member printed. */
  rows: number
  started: boolean
}

/** Every committed row of every member, in the order the test received them. */
type Arrivals = { start: number; count: number }[]

function spawnMember(config: object, arrivals: Arrivals): Member {
  const child = spawn(process.execPath, [PROGRAM, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const member: Member = { child, lines: [], rows: 0, started: false }
  let pending = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop()!
    for (const line of lines) {
      const event = JSON.parse(line) as { type: string; start: number; count: number; message: string }
      if (event.type === 'row') {
        arrivals.push({ start: event.start, count: event.count })
        member.rows++
      } else if (event.type === 'started') member.started = true
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

/**
 * Update mode as an upsert sink sees it: the last committed row of each window wins. A window moves
 * between processes only when its owner stops (SIGKILL, or a job stopped by a new assignment before
 * the new owner restores), so arrival order is commit order for each window.
 */
function finalRows(arrivals: Arrivals): Rows {
  const rows: Rows = new Map()
  for (const r of arrivals) rows.set(r.start, r.count)
  return rows
}

const sorted = (rows: Rows) => [...rows].sort((a, b) => a[0] - b[0])
const same = (a: Rows, b: Rows) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b))

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 100))
  }
  return true
}

/** Both members own 2 of the 4 partitions in both groups. */
function split(members: readonly Member[]): boolean {
  return members.every(
    (m) =>
      lastOwned(m.lines, /runs partitions ([^ ]+(?:, [^ ]+)*) of/) === 2 &&
      lastOwned(m.lines, /joined group .* with partitions (.*)$/) === 2,
  )
}

const exited = (m: Member) => m.child.exitCode !== null || m.child.signalCode !== null
const transcript = (members: readonly Member[]) =>
  members.map((m, i) => `member ${i}:\n${m.lines.join('\n')}`).join('\n')

/**
 * Waits for 2 members to split both groups 2 + 2. librdkafka's mock cluster now and then answers a
 * joining member's SyncGroup with a protocol error ("request being malformed"); kafkajs does not retry
 * it, so that member's query fails. It is the mock's (a real broker answers the same requests): the
 * member is started once more then.
 */
async function formGroups(members: Member[], restart: (i: number) => Member): Promise<void> {
  const replaced: Member[] = []
  for (let attempt = 1; ; attempt++) {
    await waitFor(() => split(members) || members.some(exited), 25_000)
    if (split(members)) return
    const quirk = members.findIndex((m) => m.lines.some((l) => /SyncGroup.*malformed/.test(l)))
    if (attempt > 1 || quirk < 0)
      throw new Error(`the groups did not split 2 + 2:\n${transcript([...replaced, ...members])}`)
    replaced.push(members[quirk])
    await stopAll([members[quirk]])
    members[quirk] = restart(quirk)
  }
}

/** Runs `processes` members in one group over a fresh input topic; `kill` SIGKILLs member 1 half-way. */
async function scaleOut(
  name: string,
  processes: number,
  change?: 'kill' | 'join',
): Promise<{ rows: Rows; members: Member[] }> {
  const inputTopic = `${name}-tweets-${process.pid}`
  // One checkpoint location every process sees: the first to start writes the query's id there.
  const config = { brokers: cluster().brokers, topic: inputTopic, checkpointLocation: join(dir(), name) }
  const arrivals: Arrivals = []
  const members = Array.from({ length: change === 'join' ? 1 : processes }, () =>
    spawnMember(config, arrivals),
  )
  try {
    await waitFor(() => members.every((m) => m.started), 20_000)
    if (members.length === 2) await formGroups(members, () => spawnMember(config, arrivals))
    const expected = (await threads())[0]
    if (change === 'kill') {
      await produce(inputTopic, phaseA.slice(0, COUNT / 2))
      await waitFor(() => members.every((m) => m.rows > 0), 30_000)
      members[1].child.kill('SIGKILL')
      await produce(inputTopic, phaseA.slice(COUNT / 2))
    } else if (change === 'join') {
      // The first process counts half the tweets alone; a second joins and takes half its partitions.
      await produce(inputTopic, phaseA.slice(0, COUNT / 2))
      await waitFor(() => members[0].rows > 0, 30_000)
      await new Promise((r) => setTimeout(r, 1_000))
      members.push(spawnMember(config, arrivals))
      await waitFor(() => members[1].started, 20_000)
      await formGroups(members, () => spawnMember(config, arrivals))
      await produce(inputTopic, phaseA.slice(COUNT / 2))
    } else {
      await produce(inputTopic, phaseA)
    }
    await waitFor(() => same(finalRows(arrivals), expected), 45_000)
    await produce(inputTopic, phaseB)
    await new Promise((r) => setTimeout(r, 2_000))
    return { rows: finalRows(arrivals), members }
  } finally {
    await stopAll(members)
  }
}

serial(
  'the watermarked sliding-window count gives the same rows on 1 thread, 2 worker threads, 1 process and 2 processes in one group',
  async (t) => {
    const [expected, twoThreads] = await threads()
    t.true(expected.size >= 10, `${expected.size} windows`)
    t.deepEqual(sorted(twoThreads), sorted(expected), '2 worker threads')
    const one = await scaleOut('one', 1)
    t.deepEqual(sorted(one.rows), sorted(expected), one.members.flatMap((m) => m.lines).join('\n'))
    const two = await scaleOut('two', 2)
    t.deepEqual(sorted(two.rows), sorted(expected), two.members.flatMap((m) => m.lines).join('\n'))
    t.true(
      two.members.every((m) => m.rows > 0),
      'both processes counted windows',
    )
  },
)

serial(
  'killing one of two processes hands its partitions and key groups to the other, and the rows stay exact',
  async (t) => {
    const [expected] = await threads()
    const run = await scaleOut('kill', 2, 'kill')
    t.deepEqual(sorted(run.rows), sorted(expected), run.members.flatMap((m) => m.lines).join('\n'))
    t.true(
      run.members[0].lines.some((l) => /runs partitions 0, 1, 2, 3 .* from epoch/.test(l)),
      'the survivor restored all four partitions from the shared checkpoints',
    )
  },
)

serial(
  'a process that joins a running query takes half the partitions once the first has released them, and the rows stay exact',
  async (t) => {
    const [expected] = await threads()
    const run = await scaleOut('join', 2, 'join')
    const transcript = run.members.flatMap((m) => m.lines).join('\n')
    t.deepEqual(sorted(run.rows), sorted(expected), transcript)
    t.true(
      run.members.every((m) => m.rows > 0),
      'both processes counted windows',
    )
    t.false(/were not released by their last owner/.test(transcript), 'the first released what it gave up')
    t.true(
      run.members[1].lines.some((l) => /runs partitions \d, \d of .* from epoch/.test(l)),
      "the second restored its partitions from the first one's files",
    )
  },
)
