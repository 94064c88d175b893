#!/usr/bin/env node
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  ConfigError,
  isWeirWorker,
  parseDuration,
  StreamingQueryManager,
  type ScaleOut,
  type Sink,
  type Source,
  type StreamingQuery,
  type StreamingQueryProgress,
} from '@weir/core'
import { consoleSink, embeddedTweets, fileSink, fileSource } from '@weir/connectors'
import { startDashboard, type Dashboard } from '@weir/dashboard'
import type { OutputMode, TriggerOption } from '@weir/operators'
import { tweets, watermarkedCounts, windowedCounts, wordCounts } from '../tutorial/queries.js'
import { countInputLines } from './input-lines.js'
import { isMain } from './is-main.js'
import { progressReporter } from './progress-reporter.js'

const USAGE = `weir-tweets: the Spark Structured Streaming tweet tutorial, in weir

usage: weir-tweets [options]

  --source embedded|file:PATH|kafka   where tweets come from (default embedded: the bundled corpus,
                                      replayed with event times, some out of order, some late)
  --brokers LIST --topic NAME          Kafka (with --source kafka); default brokers: $KAFKA_BROKERS
  --starting-offsets latest|earliest   Kafka starting offsets (default latest, as the tutorial)
  --query wordcount|windowed|watermarked|all   one, a comma list, or all (default all)
  --window DURATION --slide DURATION   the sliding window (default '5 minutes', '1 minute')
  --watermark DURATION                 how late a tweet may be (default '1 minute')
  --output-mode append|update|complete default: complete for wordcount and windowed, update for watermarked
  --trigger SPEC                       '5 seconds' (processing time), availableNow, continuous (default '5 seconds')
  --sink console|jsonl:PATH            console tables (default), or JSON lines under PATH/<query>/
  --parallelism N                      instances of the source and the aggregation (default: --workers)
  --workers N                          threads to run each query on: this one and N-1 worker threads (default 1)
  --max-files-per-trigger N            with --source file: a directory read N files per epoch
  --checkpoint DIR                     checkpoint location: DIR/<query>/ (restart resumes there)
  --scale-out                          run as one process of each query over Kafka (with --source kafka
                                       and a --checkpoint every process sees): start the same command
                                       in more processes and they share the work (not wordcount: it
                                       sorts the whole table in one place)
  --duration DURATION                  stop after this long (default: run until Ctrl-C or the end)
  --rate N --speedup N --seed N        embedded source: tweets per second, event-time speed, seed
  --num-rows N --no-truncate           console: rows shown per batch, full cell contents
  --progress                           print one line of progress per epoch to stderr
  --dashboard [PORT]                   serve a live dashboard at http://127.0.0.1:PORT/ (default 4040)
  --dashboard-host HOST                listen beyond this machine (opt-in: the dashboard has no login)
  -h, --help

With --trigger availableNow it reads what is there, processes it, and exits 0; reading files, it
shows a progress bar on stderr (plain lines every few seconds when stderr is not a terminal).`

const QUERIES = ['wordcount', 'windowed', 'watermarked'] as const
type QueryName = (typeof QUERIES)[number]
const NAMES: Record<QueryName, string> = {
  wordcount: 'word_counts',
  windowed: 'windowed_counts',
  watermarked: 'watermarked_counts',
}

export interface CliIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  /** Resolves when the user asks to stop (Ctrl-C); the default listens to SIGINT and SIGTERM. */
  readonly interrupted?: Promise<void>
  /** Whether `err` writes to a terminal (a progress bar then), and its width. Default: not one. */
  readonly errTerminal?: { readonly columns: number }
}

/** The dashboard's port when `--dashboard` comes without one. */
const DASHBOARD_PORT = 4040

export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({
      args: withDashboardPort(argv),
      options: {
        source: { type: 'string', default: 'embedded' },
        brokers: { type: 'string' },
        topic: { type: 'string', default: 'tweets' },
        'starting-offsets': { type: 'string', default: 'latest' },
        query: { type: 'string', default: 'all' },
        window: { type: 'string', default: '5 minutes' },
        slide: { type: 'string', default: '1 minute' },
        watermark: { type: 'string', default: '1 minute' },
        'output-mode': { type: 'string' },
        trigger: { type: 'string', default: '5 seconds' },
        sink: { type: 'string', default: 'console' },
        parallelism: { type: 'string' },
        workers: { type: 'string', default: '1' },
        'max-files-per-trigger': { type: 'string' },
        checkpoint: { type: 'string' },
        'scale-out': { type: 'boolean', default: false },
        duration: { type: 'string' },
        rate: { type: 'string' },
        speedup: { type: 'string' },
        seed: { type: 'string' },
        'num-rows': { type: 'string', default: '20' },
        'no-truncate': { type: 'boolean', default: false },
        progress: { type: 'boolean', default: false },
        dashboard: { type: 'string' },
        'dashboard-host': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (error) {
    io.err(`weir-tweets: ${(error as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  if (values.help) {
    io.out(USAGE + '\n')
    return 0
  }
  const queries: StreamingQuery[] = []
  let dashboard: Dashboard | undefined
  try {
    const selected: QueryName[] =
      values.query === 'all' ? [...QUERIES] : values.query.split(',').map(checkQuery)
    const trigger = parseTrigger(values.trigger)
    const workers = wholeNumber(values.workers, '--workers')
    const parallelism =
      values.parallelism === undefined ? workers : wholeNumber(values.parallelism, '--parallelism')
    const placement = values['scale-out']
      ? await scaleOutPlacement(values, workers, parallelism)
      : { parallelism, workers }
    // A worker thread runs this program again to join the queries: what is done once (progress, the
    // dashboard, error lines) stays in the main thread.
    const inWorker = isWeirWorker()
    const duration = values.duration === undefined ? undefined : parseDuration(values.duration, '--duration')
    const start = Date.now()
    const manager = new StreamingQueryManager()
    // Every query is built (its durations checked) before any starts.
    const writers = []
    for (const name of selected) {
      const source = await makeSource(values, start)
      const input = tweets(source)
      const outputMode = (values['output-mode'] ??
        (name === 'watermarked' ? 'update' : 'complete')) as OutputMode
      const windows = { window: values.window, slide: values.slide }
      const frame =
        name === 'wordcount'
          ? wordCounts(input)
          : name === 'windowed'
            ? windowedCounts(input, windows)
            : watermarkedCounts(input, { ...windows, watermark: values.watermark })
      writers.push(
        frame.writeStream({
          sink: makeSink(values, NAMES[name], io, selected.length > 1),
          outputMode,
          trigger,
          queryName: NAMES[name],
          checkpointLocation:
            values.checkpoint === undefined ? undefined : join(values.checkpoint, NAMES[name]),
          ...placement,
          manager,
        }),
      )
    }
    if (values.progress && !inWorker) {
      manager.addListener({ onQueryProgress: ({ progress }) => io.err(progressLine(progress) + '\n') })
    }
    if (!inWorker && (values.dashboard !== undefined || values['dashboard-host'] !== undefined)) {
      const port = values.dashboard === undefined ? DASHBOARD_PORT : Number(values.dashboard)
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new ConfigError(`--dashboard ${values.dashboard} is not a port: write a number such as 4040`)
      }
      dashboard = await startDashboard({
        manager,
        port,
        host: values['dashboard-host'] ?? '127.0.0.1',
        warn: (message) => io.err(`weir-tweets: warning: ${message}\n`),
      })
      io.err(`weir-tweets: dashboard at ${dashboard.url}\n`)
    }
    const finishProgress =
      'availableNow' in trigger && String(values.source).startsWith('file:') && !inWorker
        ? await showReadProgress(manager, String(values.source).slice('file:'.length), selected.length, io)
        : undefined
    for (const writer of writers) queries.push(await writer.start())
    const stopAll = async () => {
      await Promise.all(queries.map((q) => q.stop()))
    }
    const timer = duration === undefined ? undefined : setTimeout(() => void stopAll(), duration)
    void io.interrupted?.then(stopAll)
    const results = await Promise.allSettled(queries.map((q) => q.awaitTermination()))
    clearTimeout(timer)
    finishProgress?.()
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) {
      if (inWorker) return 1
      io.err(`weir-tweets: ${(failed.reason as Error).message}\n`)
      return 1
    }
    return 0
  } catch (error) {
    // The queries started before one failed to start must not outlive main.
    await Promise.allSettled(queries.map((q) => q.stop()))
    io.err(`weir-tweets: ${(error as Error).message}\n`)
    return error instanceof ConfigError ? 2 : 1
  } finally {
    await dashboard?.close()
  }
}

/** `--dashboard` may come without a port: then it is the default one. */
function withDashboardPort(argv: readonly string[]): string[] {
  const args: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1]
    if (argv[i] === '--dashboard' && (next === undefined || !/^\d+$/.test(next)))
      args.push(`--dashboard=${DASHBOARD_PORT}`)
    else args.push(argv[i])
  }
  return args
}

/**
 * A progress bar (plain lines when stderr is not a terminal) of the rows the queries read from files
 * with availableNow: its total is the files' non-blank lines, once per query. Returns what ends it.
 */
async function showReadProgress(
  manager: StreamingQueryManager,
  path: string,
  queries: number,
  io: CliIo,
): Promise<(() => void) | undefined> {
  let files: number
  let lines: number
  try {
    ;({ files, lines } = await countInputLines(path))
  } catch {
    return undefined // No such input: the file source says so, in its own words, when the query starts.
  }
  const progress = progressReporter({
    label: `reading ${files} file${files === 1 ? '' : 's'}${queries > 1 ? ` × ${queries} queries` : ''}`,
    unit: 'rows',
    total: lines * queries,
    write: io.err,
    isTTY: io.errTerminal !== undefined,
    columns: io.errTerminal?.columns ?? 80,
  })
  let read = 0
  const stop = manager.addListener({
    onQueryProgress: ({ progress: p }) => {
      read += p.numInputRows
      progress.update(read)
    },
  })
  return () => {
    stop()
    progress.finish()
  }
}

async function makeSource(
  values: Record<string, string | boolean | undefined>,
  start: number,
): Promise<Source<unknown>> {
  const spec = String(values.source)
  if (spec === 'embedded') {
    return embeddedTweets({
      start,
      rate: optionalNumber(values.rate, '--rate') ?? 200,
      speedup: optionalNumber(values.speedup, '--speedup') ?? 1,
      seed: optionalNumber(values.seed, '--seed') ?? 42,
    })
  }
  if (spec.startsWith('file:')) {
    const maxFiles = optionalNumber(values['max-files-per-trigger'], '--max-files-per-trigger')
    return fileSource(
      spec.slice('file:'.length),
      maxFiles === undefined ? {} : { maxFilesPerTrigger: maxFiles },
    )
  }
  if (spec === 'kafka') {
    const brokers = String(values.brokers ?? process.env.KAFKA_BROKERS ?? '')
    if (!brokers)
      throw new ConfigError('--source kafka needs --brokers host:port[,host:port] (or KAFKA_BROKERS)')
    const connectors = (await import('@weir/connectors')) as Record<string, unknown>
    const kafkaSource = connectors.kafkaSource as
      ((options: Record<string, unknown>) => Source<unknown>) | undefined
    if (!kafkaSource) throw new ConfigError('this build of @weir/connectors has no Kafka source')
    return kafkaSource({
      brokers: brokers.split(','),
      subscribe: [String(values.topic)],
      startingOffsets: String(values['starting-offsets']),
    })
  }
  throw new ConfigError(`--source ${spec} is not a source: write embedded, file:PATH or kafka`)
}

/** `--scale-out`: this process is one of the query's, over Kafka (see docs/scale-out.md). */
async function scaleOutPlacement(
  values: Record<string, string | boolean | undefined>,
  workers: number,
  parallelism: number,
): Promise<{ readonly scaleOut: ScaleOut }> {
  if (values.source !== 'kafka')
    throw new ConfigError('--scale-out shares a Kafka topic among processes: add --source kafka')
  if (values.checkpoint === undefined) {
    throw new ConfigError(
      '--scale-out needs --checkpoint DIR on a directory every process sees: the query id and the state of its partitions live there',
    )
  }
  if (workers !== 1 || parallelism !== 1)
    throw new ConfigError(
      '--scale-out runs one of each instance per process: start more processes instead of --workers or --parallelism',
    )
  const connectors = (await import('@weir/connectors')) as Record<string, unknown>
  const kafkaScaleOut = connectors.kafkaScaleOut as (() => ScaleOut) | undefined
  if (!kafkaScaleOut) throw new ConfigError('this build of @weir/connectors has no Kafka scale-out')
  return { scaleOut: kafkaScaleOut() }
}

function makeSink(
  values: Record<string, string | boolean | undefined>,
  queryName: string,
  io: CliIo,
  label: boolean,
): Sink<unknown> {
  const spec = String(values.sink)
  if (spec === 'console') {
    return consoleSink({
      numRows: wholeNumber(String(values['num-rows']), '--num-rows'),
      truncate: !values['no-truncate'],
      // With several queries on one console, say whose batch each table is.
      write: label ? (text) => io.out(`${queryName}\n${text}`) : io.out,
    })
  }
  if (spec.startsWith('jsonl:')) return fileSink(join(spec.slice('jsonl:'.length), queryName))
  throw new ConfigError(`--sink ${spec} is not a sink: write console or jsonl:PATH`)
}

export function parseTrigger(spec: string): TriggerOption {
  if (spec === 'availableNow') return { availableNow: true }
  if (spec === 'continuous') return { continuous: '1 second' }
  const interval = spec.startsWith('processingTime:') ? spec.slice('processingTime:'.length) : spec
  try {
    return { processingTime: parseDuration(interval, '--trigger') }
  } catch {
    throw new ConfigError(
      `--trigger ${spec} is not a trigger: write an interval ('5 seconds'), availableNow or continuous`,
    )
  }
}

function checkQuery(query: string | undefined): QueryName {
  if (QUERIES.includes(query as QueryName)) return query as QueryName
  throw new ConfigError(`--query ${query} is not a query: write wordcount, windowed, watermarked or all`)
}

function wholeNumber(text: string, what: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${what} ${text} is not a whole number >= 1, e.g. ${what} 2`)
  return n
}

function optionalNumber(text: string | boolean | undefined, what: string): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${what} ${String(text)} is not a number >= 0`)
  return n
}

/** One line per epoch: `word_counts batch 3: 1200 rows in (240/s), watermark 10:04:00, 3 late, state 12 rows`. */
export function progressLine(p: StreamingQueryProgress): string {
  const state = p.stateOperators[0]
  const parts = [
    `${p.name ?? p.id} batch ${p.batchId}: ${p.numInputRows} rows in (${p.inputRowsPerSecond}/s)`,
  ]
  if (p.eventTime.watermark)
    parts.push(
      `watermark ${p.eventTime.watermark.slice(11, 19)}`,
      `${state?.numRowsDroppedByWatermark ?? 0} late dropped`,
    )
  if (state) parts.push(`state ${state.numRowsTotal} rows`)
  const rejected = Object.entries(p.rejectedRows).filter(([k]) => k !== 'numRowsDroppedByWatermark')
  if (rejected.length) parts.push(rejected.map(([k, v]) => `${k} ${v}`).join(', '))
  return parts.join(', ')
}

function defaultIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    ...(process.stderr.isTTY ? { errTerminal: { columns: process.stderr.columns || 80 } } : {}),
    interrupted: new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve())
      process.once('SIGTERM', () => resolve())
    }),
  }
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`weir-tweets: ${(error as Error).message}`)
      process.exit(1)
    },
  )
}
