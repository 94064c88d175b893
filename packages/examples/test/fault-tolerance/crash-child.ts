import { join } from 'node:path'
import {
  LevelStateBackend,
  resolveQueryId,
  StreamingQueryManager,
  type Checkpoint,
  type CommitStats,
  type Source,
  type StateBackend,
} from '@weir/core'
import { fileSink, fileSource, kafkaSource } from '@weir/connectors'
import { tweets, watermarkedCounts } from '../../src/tutorial/queries.js'

/**
 * One run of the watermarked sliding-window count for the crash test: a child process that the test
 * starts again and again on the same checkpoint location, and that dies by SIGKILL — the test's, or
 * its own at a precise point (`CrashPlan`). It reports on stdout, one line each: `started`, `epoch N`
 * when an epoch is committed, `finished` when the input is read to its end.
 */
export interface CrashRun {
  readonly input: { readonly kind: 'files'; readonly dir: string; readonly bounded: boolean } | KafkaInput
  readonly out: string
  readonly checkpoint: string
  readonly parallelism: number
  readonly crash: CrashPlan
}

export interface KafkaInput {
  readonly kind: 'kafka'
  readonly brokers: readonly string[]
  readonly topic: string
}

/**
 * Where the run kills itself: `none`; `restore` inside the state backend's `latest()`, while it reads;
 * `snapshot` as the `at`-th checkpoint of the run is written (`delayMs` after the LevelDB batch is
 * started, -1: at once, before it can complete); `committed` once the `at`-th checkpoint is durable,
 * before the sinks commit its epoch.
 */
export type CrashPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'restore'; readonly delayMs: number }
  | { readonly kind: 'snapshot'; readonly at: number; readonly delayMs: number }
  | { readonly kind: 'committed'; readonly at: number }

function die(): never {
  process.kill(process.pid, 'SIGKILL')
  throw new Error('unreachable: SIGKILL did not kill the process')
}

/** A state backend that kills the process where the plan says, and otherwise is the real one. */
class CrashingBackend implements StateBackend {
  private commits = 0

  constructor(
    private readonly inner: StateBackend,
    private readonly plan: CrashPlan,
  ) {}

  async latest(): Promise<Checkpoint | undefined> {
    if (this.plan.kind !== 'restore') return this.inner.latest()
    setTimeout(die, this.plan.delayMs)
    await this.inner.latest()
    return die()
  }

  async commit(checkpoint: Checkpoint): Promise<CommitStats | void> {
    this.commits++
    const plan = this.plan
    if (plan.kind === 'snapshot' && this.commits === plan.at) {
      const writing = this.inner.commit(checkpoint)
      if (plan.delayMs < 0) die()
      setTimeout(die, plan.delayMs)
      await writing
      return die()
    }
    const stats = await this.inner.commit(checkpoint)
    if (plan.kind === 'committed' && this.commits === plan.at) die()
    return stats
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}

function sourceOf(input: CrashRun['input']): Source<unknown> {
  if (input.kind === 'files') return fileSource(input.dir, { maxFilesPerTrigger: 1, bounded: input.bounded })
  // Bounded at the ends seen at start (the topic is written before the first run): its watermark goes to
  // +∞ at the end, as a bounded directory's does. Epochs of 8,000 records, so that there are many to
  // kill the run in. The mock cluster's group join needs these timeouts.
  return kafkaSource({
    brokers: [...input.brokers],
    subscribe: [input.topic],
    startingOffsets: 'earliest',
    endingOffsets: 'latest',
    maxOffsetsPerTrigger: 8000,
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
  })
}

async function main(run: CrashRun): Promise<void> {
  const id = await resolveQueryId(run.checkpoint)
  const level = await LevelStateBackend.open(join(run.checkpoint, 'state'), { queryId: id })
  const backend = new CrashingBackend(level, run.crash)
  const manager = new StreamingQueryManager()
  manager.addListener({
    onQueryProgress: ({ progress }) => process.stdout.write(`epoch ${progress.batchId}\n`),
  })
  const query = await watermarkedCounts(tweets(sourceOf(run.input)))
    .writeStream({
      sink: fileSink(run.out),
      outputMode: 'append',
      trigger: { availableNow: true },
      checkpointLocation: run.checkpoint,
      stateBackend: backend,
      parallelism: run.parallelism,
      manager,
    })
    .start()
  process.stdout.write('started\n')
  await query.awaitTermination()
  await level.close()
  if (query.exception) throw query.exception
  process.stdout.write('finished\n')
}

main(JSON.parse(process.argv[2]) as CrashRun).catch((error: unknown) => {
  process.stderr.write(
    `crash-child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
