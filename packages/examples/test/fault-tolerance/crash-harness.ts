import { spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CrashPlan, CrashRun } from './crash-child.js'
import { mulberry32 } from '@weir/connectors'

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url))

/** How one run of the child is to end: killed by the test after some epochs, or as its `CrashPlan` says. */
export type Ending =
  { readonly kind: 'kill'; readonly afterEpochs: number; readonly delayMs: number } | CrashPlan

/** What happened to one run. */
export interface Outcome {
  readonly parallelism: number
  readonly ending: Ending
  /** Killed by SIGKILL (the test's or its own), rather than ending by itself. */
  readonly killed: boolean
  readonly epochs: number
  readonly finished: boolean
  readonly stderr: string
}

/** Runs the child once; rejects when it fails other than by SIGKILL, or outlives `timeoutMs`. */
export function runChild(run: Omit<CrashRun, 'crash'>, ending: Ending, timeoutMs = 60_000): Promise<Outcome> {
  const crash: CrashPlan = ending.kind === 'kill' ? { kind: 'none' } : ending
  const child = spawn(process.execPath, [CHILD, JSON.stringify({ ...run, crash })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let epochs = 0
  let finished = false
  let stderr = ''
  let pending = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)))
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop()!
    for (const line of lines) {
      if (line.startsWith('epoch ')) {
        epochs++
        if (ending.kind === 'kill' && epochs === ending.afterEpochs) {
          setTimeout(() => child.kill('SIGKILL'), ending.delayMs)
        }
      } else if (line === 'finished') finished = true
    }
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      const outcome = {
        parallelism: run.parallelism,
        ending,
        killed: signal === 'SIGKILL',
        epochs,
        finished,
        stderr,
      }
      if (signal === 'SIGKILL' || code === 0) resolve(outcome)
      else reject(new Error(`the child exited with ${signal ?? `code ${code}`}:\n${stderr}`))
    })
  })
}

/** Kinds of kill that a schedule must each have brought about at least once. */
export const KILL_KINDS = ['kill', 'snapshot', 'restore'] as const

/**
 * Runs the child with the parallelism and ending of each entry of `runs`, cycling through them, until
 * at least `minKills` runs were killed and every kind of `KILL_KINDS` happened (a run that ends by
 * itself first does not count); then once to its end at `finalParallelism`. Every outcome goes to
 * `outcomes` as it comes, for a failure to show. Throws when 4 × `minKills` runs were not enough.
 */
export async function killRepeatedly(
  run: Omit<CrashRun, 'crash' | 'parallelism'>,
  schedule: {
    readonly runs: readonly { readonly parallelism: number; readonly ending: () => Ending }[]
    readonly finalParallelism: number
    readonly minKills: number
  },
  outcomes: Outcome[],
): Promise<void> {
  const kinds = new Set<string>()
  const killed = () => outcomes.filter((o) => o.killed).length
  for (let i = 0; killed() < schedule.minKills || KILL_KINDS.some((k) => !kinds.has(k)); i++) {
    if (i >= 4 * schedule.minKills)
      throw new Error(`only ${killed()} kills in ${i} runs:\n${describe(outcomes)}`)
    const { parallelism, ending } = schedule.runs[i % schedule.runs.length]
    const outcome = await runChild({ ...run, parallelism }, ending())
    outcomes.push(outcome)
    if (outcome.killed) kinds.add(outcome.ending.kind)
  }
  outcomes.push(await runChild({ ...run, parallelism: schedule.finalParallelism }, { kind: 'none' }))
}

/** Ways to end a run, drawn from a seeded generator so a failing schedule can be replayed. */
export function endings(seed: number): {
  kill: () => Ending
  snapshot: () => Ending
  committed: () => Ending
  restore: () => Ending
} {
  const random = mulberry32(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]
  return {
    kill: () => ({ kind: 'kill', afterEpochs: pick([1, 2, 3, 4]), delayMs: pick([0, 0, 1, 3, 7]) }),
    snapshot: () => ({ kind: 'snapshot', at: pick([1, 2, 3]), delayMs: pick([-1, 0, 0, 1, 2]) }),
    committed: () => ({ kind: 'committed', at: pick([1, 2, 3]) }),
    restore: () => ({ kind: 'restore', delayMs: pick([0, 0, 1]) }),
  }
}

/** Every row the file sink committed: `window start → count`, and the windows written more than once. */
export async function readRows(
  out: string,
): Promise<{ rows: Map<string, number>; duplicates: string[]; staged: string[] }> {
  const rows = new Map<string, number>()
  const duplicates: string[] = []
  const names = await readdir(out)
  for (const name of names.filter((n) => n.startsWith('part-')).sort()) {
    for (const line of (await readFile(join(out, name), 'utf8')).split('\n')) {
      if (line === '') continue
      const row = JSON.parse(line) as { window: { start: string; end: string }; count: number }
      if (rows.has(row.window.start)) duplicates.push(`${row.window.start} (again in ${name})`)
      rows.set(row.window.start, row.count)
    }
  }
  return { rows, duplicates, staged: names.filter((n) => n.endsWith('.tmp')) }
}

/** One line per run, to read a failing schedule from. */
export function describe(outcomes: readonly Outcome[]): string {
  return outcomes
    .map((o, i) => {
      const e = o.ending
      const how =
        e.kind === 'kill'
          ? `killed by the test ${e.delayMs} ms after epoch #${e.afterEpochs}`
          : e.kind === 'none'
            ? 'to the end'
            : `${e.kind} ${JSON.stringify({ ...e, kind: undefined })}`
      return `run ${i}: p=${o.parallelism}, ${how}: ${o.killed ? 'killed' : o.finished ? 'finished' : 'ended'} after ${o.epochs} epochs`
    })
    .join('\n')
}
