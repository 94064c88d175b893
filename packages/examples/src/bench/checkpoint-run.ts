#!/usr/bin/env node
// The checkpoint benchmark: `node packages/examples/dist/src/bench/checkpoint-run.js` (1M keys, runs of
// 10 s, three rounds: about 70 s) or `... --quick` (200k keys, 3 s, one round). Options: --keys N (the
// large state), --seconds N (each run), --hot N (the keys counted after the load), --rounds N. Prints a
// table, then one JSON line with every figure.
import { cpus } from 'node:os'
import { checkpointBenchmark, DEFAULT_CHECKPOINT_BENCH, type CheckpointBenchOptions } from './checkpoint.js'
import { isMain } from '../cli/is-main.js'

export function parseCheckpointArgs(argv: readonly string[]): CheckpointBenchOptions {
  let options: CheckpointBenchOptions = { ...DEFAULT_CHECKPOINT_BENCH }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      const n = Number(argv[++i])
      if (!Number.isSafeInteger(n) || n < 1)
        throw new Error(`${arg} needs a whole number >= 1, e.g. ${arg} 1000000`)
      return n
    }
    if (arg === '--quick') options = { ...options, stateKeys: 200_000, seconds: 3, rounds: 1 }
    else if (arg === '--keys') options = { ...options, stateKeys: value() }
    else if (arg === '--seconds') options = { ...options, seconds: value() }
    else if (arg === '--hot') options = { ...options, hotKeys: value() }
    else if (arg === '--rounds') options = { ...options, rounds: value() }
    else throw new Error(`unknown option ${arg}: use --quick, --keys N, --seconds N, --hot N, --rounds N`)
  }
  return options
}

async function main(argv: readonly string[]): Promise<void> {
  const options = parseCheckpointArgs(argv)
  const { stateKeys, seconds, hotKeys, rounds } = options
  process.stderr.write(
    `checkpoint benchmark: ${stateKeys.toLocaleString('en')} keys loaded, then records over ` +
      `${hotKeys.toLocaleString('en')} keys, ${seconds} s a run; an epoch every second; ${rounds} round(s); ` +
      `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n`,
  )
  const report = await checkpointBenchmark(options)
  const { withoutCheckpoints: off, withCheckpoints: on, snapshot, copy, restore } = report
  const ms = (n: number) => `${n.toFixed(0)} ms`
  const mb = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MiB`
  const rate = (n: number) => `${Math.round(n).toLocaleString('en')} records/s`
  const lines = [
    ['throughput, no checkpoint', rate(off.recordsPerSecond)],
    [
      'throughput, a LevelDB snapshot every second',
      `${rate(on.recordsPerSecond)} (${(report.throughputRatio * 100).toFixed(0)}%)`,
    ],
    ['longest event-loop stall, no checkpoint', ms(off.maxEventLoopDelayMs)],
    ['longest event-loop stall, with checkpoints', ms(on.maxEventLoopDelayMs)],
    [`snapshot of ${stateKeys.toLocaleString('en')} keys at the barrier (sync)`, ms(snapshot.barrierMs)],
    ['  encoding at commit (sync)', ms(snapshot.encodeMs)],
    ['  LevelDB write and pruning (async)', ms(snapshot.writeMs)],
    ['  encoded size', mb(snapshot.stateBytes)],
    ['  deep copy of the same state instead (structuredClone)', ms(copy.deepCopyMs)],
    ['restore: read, check and decode the newest epoch', ms(restore.readMs)],
    ['restore: Job.start with the checkpoint (read + load)', ms(restore.startMs)],
    ['LevelDB directory on disk (3 epochs kept)', mb(restore.diskBytes)],
  ]
  const width = Math.max(...lines.map(([label]) => label.length))
  for (const [label, figure] of lines) process.stdout.write(`${label.padEnd(width)}  ${figure}\n`)
  process.stdout.write(
    JSON.stringify({
      stateKeys,
      recordsPerSecondWithout: Math.round(off.recordsPerSecond),
      recordsPerSecondWith: Math.round(on.recordsPerSecond),
      throughputRatio: Number(report.throughputRatio.toFixed(3)),
      rounds: report.rounds,
      maxStallMsWithout: Math.round(off.maxEventLoopDelayMs),
      maxStallMsWith: Math.round(on.maxEventLoopDelayMs),
      barrierMs: Math.round(snapshot.barrierMs),
      encodeMs: Math.round(snapshot.encodeMs),
      writeMs: Math.round(snapshot.writeMs),
      stateBytes: snapshot.stateBytes,
      deepCopyMs: Math.round(copy.deepCopyMs),
      restoreReadMs: Math.round(restore.readMs),
      restoreStartMs: Math.round(restore.startMs),
      diskBytes: restore.diskBytes,
    }) + '\n',
  )
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`checkpoint benchmark: ${(error as Error).message}\n`)
    process.exit(1)
  })
}
