import test, { type ExecutionContext } from 'ava'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  describe,
  endings,
  killRepeatedly,
  KILL_KINDS,
  readRows,
  runChild,
  type Ending,
  type Outcome,
} from './crash-harness.js'
import { expectedWindows, readEventTimes, writeTweets, type TweetInputOptions } from './tweet-input.js'

// The crash tests: the watermarked sliding-window count over 300,000 tweets in 40 files, run as a child
// process with checkpoints, killed with SIGKILL again and again — by the test while it processes, and by
// itself while it writes a snapshot, right after a snapshot is durable (before the sinks commit), and
// while it restores — then run to its end. What its file sink committed must be exactly the rows a plain
// loop over the input computes: every window, each once, no count off by one.
//
// WEIR_CRASH_SEED=<n> replays the input and the schedule (not the exact instant of the test's own kills);
// a failure prints its seed and what each run did. Each test is bounded: 170 s, 24 runs.

const SEED = Number(process.env.WEIR_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))

const INPUT: Omit<TweetInputOptions, 'late'> = {
  seed: SEED,
  files: 40,
  tweetsPerFile: 7_500,
  fileSpanMs: 90_000,
  outOfOrder: 0.1,
  malformed: 3,
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-crash-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

interface Schedule {
  /** The parallelism and ending of each run that is meant to be killed; the list is cycled. */
  readonly runs: readonly { readonly parallelism: number; readonly ending: () => Ending }[]
  readonly finalParallelism: number
  readonly bounded: boolean
  readonly late: number
}

/**
 * Generates the input, kills the query again and again as the schedule says, then runs it to its end;
 * returns where the input and the output are.
 */
async function crashAndRecover(t: ExecutionContext, schedule: Schedule, minKills = 6) {
  t.timeout(170_000)
  const root = await tempDir(t)
  const input = join(root, 'in')
  await writeTweets(input, { ...INPUT, late: schedule.late })
  const run = {
    input: { kind: 'files' as const, dir: input, bounded: schedule.bounded },
    out: join(root, 'out'),
    checkpoint: join(root, 'checkpoint'),
  }
  const outcomes: Outcome[] = []
  t.teardown(() => {
    if (!t.passed) console.error(`seed ${SEED} (WEIR_CRASH_SEED=${SEED} replays it)\n${describe(outcomes)}`)
  })
  await killRepeatedly(run, { ...schedule, minKills }, outcomes)
  t.log(`seed ${SEED}\n${describe(outcomes)}`)
  t.true(outcomes.filter((o) => o.killed).length >= minKills)
  t.deepEqual(
    KILL_KINDS.filter((kind) => !outcomes.some((o) => o.killed && o.ending.kind === kind)),
    [],
  )
  t.true(outcomes.at(-1)!.finished, describe(outcomes))
  return { outcomes, input, out: run.out, checkpoint: run.checkpoint }
}

test.serial('recovers exactly from SIGKILL while processing, snapshotting and restoring', async (t) => {
  const e = endings(SEED)
  const { outcomes, input, out, checkpoint } = await crashAndRecover(t, {
    runs: [
      { parallelism: 1, ending: e.kill },
      { parallelism: 1, ending: e.snapshot },
      { parallelism: 1, ending: e.restore },
      { parallelism: 1, ending: e.committed },
      { parallelism: 1, ending: e.kill },
      { parallelism: 1, ending: e.snapshot },
    ],
    finalParallelism: 1,
    // A directory is unbounded: read to its end (availableNow), the windows the watermark has not
    // passed stay open in the checkpoint, unwritten.
    bounded: false,
    late: 0.02,
  })
  const truth = expectedWindows(await readEventTimes(input), { bounded: false })
  const { rows, duplicates, staged } = await readRows(out)
  t.deepEqual(duplicates, [])
  t.deepEqual(staged, [])
  t.deepEqual(rows, truth, describe(outcomes))

  // The open windows are in the checkpoint, exact: read the same directory as bounded, and they close.
  const drain = await runChild(
    { input: { kind: 'files', dir: input, bounded: true }, out, checkpoint, parallelism: 1 },
    { kind: 'none' },
  )
  t.true(drain.finished)
  const all = await readRows(out)
  t.deepEqual(all.duplicates, [])
  t.deepEqual(all.rows, expectedWindows(await readEventTimes(input), { bounded: true }))
  t.true(all.rows.size > truth.size)
})

test.serial(
  'recovers exactly across restarts at other parallelisms, 1 → 2 → 1 → 2 → 1 → 3 → 2',
  async (t) => {
    const e = endings(SEED + 1)
    const { outcomes, input, out } = await crashAndRecover(t, {
      runs: [
        { parallelism: 1, ending: e.kill },
        // A checkpoint durable but its epoch not committed by the sinks: instance 1 (which holds the
        // windows' key group at parallelism 2) leaves its staged file for a run at parallelism 1 to finish.
        { parallelism: 2, ending: e.committed },
        { parallelism: 1, ending: e.kill },
        { parallelism: 2, ending: e.snapshot },
        { parallelism: 1, ending: e.restore },
        { parallelism: 3, ending: e.kill },
      ],
      finalParallelism: 2,
      bounded: true,
      // Whether a late tweet counts depends on how far the other source instances have read (the watermark
      // is their minimum): tweets are out of order within the delay only, so the result is one.
      late: 0,
    })
    const { rows, duplicates, staged } = await readRows(out)
    t.deepEqual(duplicates, [])
    t.deepEqual(staged, [])
    t.deepEqual(rows, expectedWindows(await readEventTimes(input), { bounded: true }), describe(outcomes))
  },
)
