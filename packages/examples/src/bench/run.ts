#!/usr/bin/env node
// weir's benchmark: `npm run bench` (full, >= 2M records, a few minutes) or `npm run bench -- --quick`
// (under a minute). Options: --records N, --rounds N, --batch N (lines a source polls at a time, default
// 1000), --only wordcount,sliding,tumbling,heap.
//
// Every contender reads the same array of JSON lines, made before any timing. Runs are interleaved
// (A, B, C, A, B, C, ...) so that a noisy machine slows all of them alike; figures are medians. Results
// are checked equal across contenders before any figure is printed. The last line of stdout is one JSON
// object: {"wordcountVsLoop": r1, "slidingVsTumbling": r2, "vsRxjsPerRecord": r3}.
import { spawnSync } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { slidingWindows, tumblingWindows, type WindowAssigner } from '@weir/core'
import {
  loopWindowCount,
  loopWordCount,
  rxjsWindowCount,
  rxjsWordCount,
  type WindowCounts,
  type WindowQuery,
  type WordCounts,
} from './baselines.js'
import { loadTexts, replay } from './corpus.js'
import { heapRun, type HeapRun } from './heap.js'
import { arraySource, DEFAULT_RUN, weirWindowCount, weirWordCount, type WeirRunOptions } from './weir.js'

// A full GC before every run and every heap sample needs --expose-gc: run again with it.
if (typeof globalThis.gc !== 'function') {
  const script = fileURLToPath(import.meta.url)
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, script, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  )
  process.exit(child.status ?? 1)
}

const QUERIES = ['wordcount', 'sliding', 'tumbling', 'heap'] as const
type Query = (typeof QUERIES)[number]

interface Settings {
  readonly quick: boolean
  readonly records: number
  readonly rounds: number
  readonly only: ReadonlySet<Query>
  readonly heapRecords: number
  readonly run: WeirRunOptions
}

const FIVE_MINUTES = 300_000
const DELAY = 60_000

function parseArgs(argv: readonly string[]): Settings {
  let quick = false
  let records: number | undefined
  let rounds: number | undefined
  let batchSize = DEFAULT_RUN.batchSize
  let only: Set<Query> = new Set(QUERIES)
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined) fail(`${arg} needs a value`)
      return v
    }
    if (arg === '--quick') quick = true
    else if (arg === '--records') records = wholeNumber(value(), arg)
    else if (arg === '--rounds') rounds = wholeNumber(value(), arg)
    else if (arg === '--batch') batchSize = wholeNumber(value(), arg)
    else if (arg === '--only') {
      const names = value().split(',')
      for (const name of names) {
        if (!(QUERIES as readonly string[]).includes(name))
          fail(`--only ${name}: use one or more of ${QUERIES.join(', ')}`)
      }
      only = new Set(names as Query[])
    } else
      fail(
        `unknown option ${arg}: use --quick, --records N, --rounds N, --batch N, --only ${QUERIES.join(',')}`,
      )
  }
  records ??= quick ? 200_000 : 2_000_000
  return {
    quick,
    records,
    rounds: rounds ?? (quick ? 3 : 5),
    only,
    heapRecords: quick ? 100_000 : 400_000,
    run: { ...DEFAULT_RUN, batchSize },
  }
}

function wholeNumber(text: string, option: string): number {
  const n = Number(text.replaceAll('_', ''))
  if (!Number.isSafeInteger(n) || n < 1) fail(`${option} ${text}: write a whole number >= 1, e.g. 2000000`)
  return n
}

function fail(message: string): never {
  console.error(`bench: ${message}`)
  process.exit(2)
}

/** Progress goes to stderr: stdout carries the figures and, last, the JSON line. */
function note(message: string): void {
  process.stderr.write(`${message}\n`)
}

interface Contender {
  readonly query: Query
  readonly name: 'loop' | 'rxjs' | 'weir'
  run(lines: readonly string[]): Promise<WordCounts | WindowCounts>
}

function contenders(only: ReadonlySet<Query>, run: WeirRunOptions): Contender[] {
  const batch = run.batchSize
  const sliding = slidingWindows({ size: FIVE_MINUTES, slide: 60_000 })
  const tumbling = tumblingWindows({ size: FIVE_MINUTES })
  const query = (w: WindowAssigner): WindowQuery => ({
    size: w.size,
    slide: w.slide,
    delay: DELAY,
    batchSize: batch,
  })
  const weirWindows = (w: WindowAssigner) => (lines: readonly string[]) =>
    weirWindowCount(arraySource(lines, batch), { windows: w, delay: DELAY, ...run })
  const all: Contender[] = [
    { query: 'wordcount', name: 'loop', run: (lines) => Promise.resolve(loopWordCount(lines)) },
    { query: 'wordcount', name: 'rxjs', run: (lines) => rxjsWordCount(lines) },
    { query: 'wordcount', name: 'weir', run: (lines) => weirWordCount(arraySource(lines, batch), run) },
    {
      query: 'sliding',
      name: 'loop',
      run: (lines) => Promise.resolve(loopWindowCount(lines, query(sliding))),
    },
    { query: 'sliding', name: 'rxjs', run: (lines) => rxjsWindowCount(lines, query(sliding)) },
    { query: 'sliding', name: 'weir', run: weirWindows(sliding) },
    {
      query: 'tumbling',
      name: 'loop',
      run: (lines) => Promise.resolve(loopWindowCount(lines, query(tumbling))),
    },
    { query: 'tumbling', name: 'weir', run: weirWindows(tumbling) },
  ]
  return all.filter((c) => only.has(c.query))
}

/** Throws, naming the first differences, unless every contender of a query computed the same result. */
function checkSame(query: Query, results: ReadonlyMap<string, WordCounts | WindowCounts>): void {
  const [[firstName, first], ...rest] = [...results]
  for (const [name, other] of rest) {
    const problems =
      query === 'wordcount'
        ? diffCounts(first as WordCounts, other as WordCounts)
        : diffWindows(first as WindowCounts, other as WindowCounts)
    if (problems.length > 0) {
      throw new Error(
        `${query}: ${name} and ${firstName} computed different results:\n  ${problems.slice(0, 10).join('\n  ')}`,
      )
    }
  }
}

function diffCounts<K>(a: ReadonlyMap<K, number>, b: ReadonlyMap<K, number>): string[] {
  const problems: string[] = []
  if (a.size !== b.size) problems.push(`${a.size} keys against ${b.size}`)
  for (const [k, n] of a) if (b.get(k) !== n) problems.push(`${JSON.stringify(k)}: ${n} against ${b.get(k)}`)
  for (const [k, n] of b) if (!a.has(k)) problems.push(`${JSON.stringify(k)}: missing against ${n}`)
  return problems
}

function diffWindows(a: WindowCounts, b: WindowCounts): string[] {
  const problems = diffCounts(a.counts, b.counts)
  if (a.dropped !== b.dropped) problems.push(`${a.dropped} late rows dropped against ${b.dropped}`)
  return problems
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

const round2 = (x: number) => Math.round(x * 100) / 100
const perSecond = (n: number) => `${(n / 1e6).toFixed(3)} M/s`
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`

/** Wall time, and the process's CPU time (user + system): less disturbed by other tenants of the machine. */
async function timed<T>(run: () => Promise<T>): Promise<{ result: T; seconds: number; cpu: number }> {
  globalThis.gc?.()
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const result = await run()
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  return { result, seconds, cpu: (cpu.user + cpu.system) / 1e6 }
}

async function throughput(settings: Settings, texts: readonly string[]) {
  const list = contenders(settings.only, settings.run)
  if (list.length === 0) return undefined
  note(`making ${settings.records.toLocaleString('en')} lines...`)
  const lines = replay(texts, { records: settings.records })
  const warm = lines.slice(0, Math.min(lines.length, 50_000))
  note('warming up every contender on 50k lines...')
  for (const c of list) await c.run(warm)

  const seconds = new Map<Contender, number[]>(list.map((c) => [c, []]))
  const cpuSeconds = new Map<Contender, number[]>(list.map((c) => [c, []]))
  const results = new Map<Query, Map<string, WordCounts | WindowCounts>>()
  for (let round = 0; round < settings.rounds; round++) {
    const line: string[] = []
    for (const c of list) {
      const { result, seconds: s, cpu } = await timed(() => c.run(lines))
      seconds.get(c)!.push(s)
      cpuSeconds.get(c)!.push(cpu)
      line.push(`${c.query}/${c.name} ${s.toFixed(2)}s`)
      if (round === 0) {
        const byName = results.get(c.query) ?? new Map<string, WordCounts | WindowCounts>()
        byName.set(c.name, result)
        results.set(c.query, byName)
      }
    }
    note(`round ${round + 1}/${settings.rounds}: ${line.join(', ')}`)
    if (round === 0) {
      for (const [query, byName] of results) checkSame(query, byName)
      note('results: every contender computed the same result')
    }
  }
  const describe = new Map<string, { rps: number; seconds: number; runs: number[]; cpu: number }>()
  for (const c of list) {
    const runs = seconds.get(c)!
    const cpu = median(cpuSeconds.get(c)!)
    describe.set(`${c.query}/${c.name}`, {
      rps: lines.length / median(runs),
      seconds: median(runs),
      runs,
      cpu,
    })
  }
  const sizes = new Map<Query, string>()
  for (const [query, byName] of results) {
    const r = byName.values().next().value!
    sizes.set(
      query,
      r instanceof Map
        ? `${r.size} distinct words`
        : `${r.counts.size} windows, ${r.dropped} late rows dropped`,
    )
  }
  return { records: lines.length, figures: describe, sizes }
}

interface HeapFigures {
  readonly short: HeapRun
  readonly long: HeapRun
  readonly atTenth: number
  readonly atEnd: number
  readonly secondHalf: readonly number[]
  readonly stateRowsAtEnd: number | undefined
}

async function heap(settings: Settings, texts: readonly string[]): Promise<HeapFigures | undefined> {
  if (!settings.only.has('heap')) return undefined
  const common = {
    texts,
    windows: slidingWindows({ size: FIVE_MINUTES, slide: 60_000 }),
    delay: DELAY,
    batchSize: settings.run.batchSize,
    // Short epochs: many barriers, so that anything kept per epoch shows.
    trigger: { kind: 'processingTime', intervalMs: 100 } as const,
  }
  const n = settings.heapRecords
  note(`heap: sliding count over ${n.toLocaleString('en')} records, then ${(10 * n).toLocaleString('en')}...`)
  const short = await heapRun({ ...common, records: n, at: [1] })
  const halves = Array.from({ length: 11 }, (_, i) => 0.5 + i * 0.05)
  const long = await heapRun({ ...common, records: 10 * n, at: [0.1, ...halves] })
  const atTenth = long.samples[0].heapUsed
  const last = long.samples[long.samples.length - 1]
  return {
    short,
    long,
    atTenth,
    atEnd: last.heapUsed,
    secondHalf: long.samples.slice(1).map((s) => s.heapUsed),
    stateRowsAtEnd: last.stateRows,
  }
}

async function main(): Promise<void> {
  const settings = parseArgs(process.argv.slice(2))
  const started = performance.now()
  const texts = loadTexts()
  const cpu = cpus()
  console.log(`# weir bench ${settings.quick ? '(quick)' : '(full)'}`)
  console.log(
    `node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown cpu'}, ${mb(totalmem())} RAM; ` +
      `corpus of ${texts.length} texts replayed to ${settings.records.toLocaleString('en')} records, ` +
      `${settings.run.batchSize} lines a poll, ${settings.rounds} interleaved rounds, medians`,
  )
  const t = await throughput(settings, texts)
  const h = await heap(settings, texts)

  /** Throughput of a over b (wall medians), and the same from CPU-time medians. */
  const ratio = (a: string, b: string) => {
    const x = t?.figures.get(a)
    const y = t?.figures.get(b)
    return x && y ? { wall: x.rps / y.rps, cpu: y.cpu / x.cpu } : undefined
  }
  const wordcountVsLoop = ratio('wordcount/weir', 'wordcount/loop')
  const tumblingOverSliding = ratio('tumbling/weir', 'sliding/weir')
  const vsRxjsPerRecord = ratio('wordcount/weir', 'wordcount/rxjs')

  if (t) {
    console.log('')
    console.log(
      '| query | contender | records/s (median) | wall s (median) | CPU s (median) | wall s of each round |',
    )
    console.log('|---|---|---:|---:|---:|---|')
    for (const [name, f] of t.figures) {
      const [query, who] = name.split('/')
      const runs = f.runs.map((s) => s.toFixed(2)).join(' ')
      console.log(
        `| ${query} | ${who} | ${perSecond(f.rps)} | ${f.seconds.toFixed(2)} | ${f.cpu.toFixed(2)} | ${runs} |`,
      )
    }
    console.log('')
    for (const [query, size] of t.sizes)
      console.log(`${query}: ${size}; every contender computed the same result`)
  }
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED')
  const x = (r: number) => `${r.toFixed(2)}x`
  const rows: string[] = []
  const target = (
    name: string,
    r: { wall: number; cpu: number } | undefined,
    ok: ((v: number) => boolean) | undefined,
  ) => {
    if (r) rows.push(`| ${name} | ${x(r.wall)} | ${x(r.cpu)} | ${ok ? verdict(ok(r.wall)) : '-'} |`)
  }
  target('word count >= 0.7x the hand-written loop', wordcountVsLoop, (v) => v >= 0.7)
  target('sliding 5 min/1 min <= 1.3x the cost of tumbling 5 min', tumblingOverSliding, (v) => v <= 1.3)
  target('word count >= 5x the per-record RxJS pipeline', vsRxjsPerRecord, (v) => v >= 5)
  target(
    '(sliding count against the per-record RxJS pipeline)',
    ratio('sliding/weir', 'sliding/rxjs'),
    (v) => v >= 5,
  )
  target('(sliding count against the hand-written loop)', ratio('sliding/weir', 'sliding/loop'), undefined)
  target('(tumbling count against the hand-written loop)', ratio('tumbling/weir', 'tumbling/loop'), undefined)
  target("(the loop's own sliding/tumbling cost)", ratio('tumbling/loop', 'sliding/loop'), undefined)
  target(
    '(the hand-written loop against the per-record RxJS pipeline, word count)',
    ratio('wordcount/loop', 'wordcount/rxjs'),
    undefined,
  )
  if (h) {
    const heapRatio = h.atEnd / h.atTenth
    const spread = Math.max(...h.secondHalf.map((v) => Math.abs(v / h.atTenth - 1)))
    rows.push(
      `| heap flat (+-10 %) over a 10x longer watermarked run: end / at 1/10 | ${x(heapRatio)} | | ${verdict(Math.abs(heapRatio - 1) <= 0.1)} |`,
    )
    rows.push(
      `| (largest deviation from the 1/10 sample over the second half) | ${(spread * 100).toFixed(1)} % | | ${verdict(spread <= 0.1)} |`,
    )
  }
  console.log('')
  console.log('| target | figure (wall medians) | from CPU-time medians | verdict |')
  console.log('|---|---:|---:|---|')
  for (const row of rows) console.log(row)
  if (h) {
    const hours = (h.long.records * 10) / 3_600_000
    console.log('')
    console.log(
      `heap, sliding count: ${h.short.records.toLocaleString('en')} records: ${mb(h.short.samples[0].heapUsed)} at the end; ` +
        `${h.long.records.toLocaleString('en')} records (${hours.toFixed(1)} h of event time, ${h.long.epochs} epochs, ` +
        `${h.long.seconds.toFixed(1)} s): ${mb(h.atTenth)} at 1/10, ${mb(h.atEnd)} at the end; ` +
        `second half ${h.secondHalf.map(mb).join(', ')}; state rows at the end: ${h.stateRowsAtEnd ?? 'n/a'}; ` +
        `${h.long.rows} window rows emitted`,
    )
  }
  if (!settings.quick && settings.only.size === QUERIES.length) runCompanions()
  console.log('')
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`)
  const json = (r: { wall: number } | undefined) => (r === undefined ? null : round2(r.wall))
  console.log(
    JSON.stringify({
      wordcountVsLoop: json(wordcountVsLoop),
      slidingVsTumbling: json(tumblingOverSliding),
      vsRxjsPerRecord: json(vsRxjsPerRecord),
    }),
  )
}

/**
 * The other issues' benchmarks, run in the full bench after the throughput targets, each in its own
 * process (so one's heap does not disturb another's): metrics on vs off, checkpoint cost, worker threads.
 * Their tables go to stdout before the closing JSON line.
 */
function runCompanions(): void {
  const here = dirname(fileURLToPath(import.meta.url))
  const companions: [string, string[]][] = [
    ['metrics on vs off', ['--expose-gc', join(here, 'metrics.js'), '--records', '300000', '--rounds', '5']],
    ['checkpoint cost', ['--expose-gc', join(here, 'checkpoint-run.js'), '--quick']],
    [
      'word count (hand-built graph and DataFrame) on 1 thread and 2 worker threads',
      [join(here, 'workers.js'), '--records', '1000000', '--rounds', '3'],
    ],
  ]
  for (const [what, args] of companions) {
    console.log(
      `\n## ${what}: node ${args.map((a) => a.replace(here + '/', 'packages/examples/dist/src/bench/')).join(' ')}\n`,
    )
    const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] })
    if (result.status !== 0) console.log(`(${what}: exited with ${result.status ?? result.signal})`)
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exit(1)
})
