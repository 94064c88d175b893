import {
  Job,
  StreamGraph,
  type Sink,
  type Source,
  type SourceBatch,
  type Trigger,
  type WindowAssigner,
} from '@weir/core'
import {
  count,
  explode,
  keyedAggregate,
  sink,
  source,
  windowAssign,
  type AggregateRow,
} from '@weir/operators'
import type { WindowCounts, WordCounts } from './baselines.js'
import type { Tweet } from './corpus.js'

/** How the bench runs a weir job: the trigger of its epochs and the size of a polled batch. */
export interface WeirRunOptions {
  readonly trigger: Trigger
  readonly batchSize: number
}

export const DEFAULT_RUN: WeirRunOptions = {
  trigger: { kind: 'processingTime', intervalMs: 1000 },
  batchSize: 1000,
}

/**
 * A bounded source of JSON lines, one split, `batchSize` lines a poll, taken from `take(from, n)`: an
 * array's slice, or lines made on the fly for runs too long to hold in memory. `onBatch` sees the
 * position after each batch (the heap test samples memory there).
 *
 * Each poll first yields to the event loop, as a connector that awaits I/O does. A reader whose `poll`
 * only returns resolved promises never lets a timer run, so the trigger's epochs would not end until the
 * input is read to its end.
 */
export function linesSource(options: {
  total: number
  take: (from: number, n: number) => readonly string[]
  batchSize: number
  onBatch?: (position: number) => void
}): Source<string> {
  const { total, take, batchSize, onBatch } = options
  return {
    name: 'bench-lines',
    bounded: true,
    createReader(context) {
      let next = (context.restored.get('0') as number | undefined) ?? 0
      return {
        async poll(): Promise<SourceBatch<string> | 'end'> {
          await new Promise<void>((resolve) => setImmediate(resolve))
          if (next >= total) return 'end'
          const values = take(next, Math.min(batchSize, total - next))
          next += values.length
          onBatch?.(next)
          return { split: '0', values, position: next, splitEnded: next >= total }
        },
        splits: () => ['0'],
        close: () => Promise.resolve(),
      }
    },
  }
}

/** A source over an array of lines made before timing. */
export function arraySource(lines: readonly string[], batchSize: number): Source<string> {
  return linesSource({ total: lines.length, take: (from, n) => lines.slice(from, from + n), batchSize })
}

/** Keeps the rows of the last committed epoch: the result table of a complete-mode query. */
export class LastTable<T> implements Sink<T> {
  readonly name = 'last-table'
  rows: T[] = []
  epochs = 0

  createWriter() {
    let pending: T[] = []
    return {
      write: (rows: readonly T[]) => {
        for (let i = 0; i < rows.length; i++) pending.push(rows[i])
      },
      commit: () => {
        this.rows = pending
        pending = []
        this.epochs++
      },
      close: () => undefined,
    }
  }
}

/** Keeps every window row of an append-mode query: each window once, final. */
export class WindowRows implements Sink<AggregateRow<number>> {
  readonly name = 'window-rows'
  readonly counts = new Map<number, number>()
  /** Windows emitted twice: append mode must never do it. */
  duplicates = 0
  epochs = 0

  createWriter() {
    return {
      write: (rows: readonly AggregateRow<number>[]) => {
        for (const row of rows) {
          const start = row.window!.start
          if (this.counts.has(start)) this.duplicates++
          this.counts.set(start, row.value)
        }
      },
      commit: () => {
        this.epochs++
      },
      close: () => undefined,
    }
  }
}

/** Counts the rows and sums the counts of a long run, keeping nothing, so the sink holds no memory. */
export class RowTally implements Sink<AggregateRow<number>> {
  readonly name = 'row-tally'
  rows = 0
  total = 0
  epochs = 0

  createWriter() {
    return {
      write: (rows: readonly AggregateRow<number>[]) => {
        this.rows += rows.length
        for (const row of rows) this.total += row.value
      },
      commit: () => {
        this.epochs++
      },
      close: () => undefined,
    }
  }
}

const decodeTweet = (line: string): Tweet => JSON.parse(line) as Tweet
const eventTime = (tweet: Tweet): number => Date.parse(tweet.creation_time)

/**
 * Word count as a weir graph: lines → JSON → `explode(split(text, ' '))` → keyBy(word) → count, complete
 * mode; the result is the table of the last epoch.
 */
export async function weirWordCount(
  input: Source<string>,
  options: WeirRunOptions = DEFAULT_RUN,
): Promise<WordCounts> {
  const table = new LastTable<AggregateRow<number>>()
  const graph = new StreamGraph()
  graph
    .from(source('tweets', input, { decode: decodeTweet }))
    .via(explode('words', (tweet: Tweet) => tweet.tweet_text?.split(' ')))
    .keyBy((word) => word)
    .via(keyedAggregate('counts', { aggregator: count<string>(), outputMode: 'complete' }))
    .to(sink('table', table, { capacity: 1_000_000 }))
  const job = await Job.start(graph, { trigger: options.trigger })
  await job.done
  return new Map(table.rows.map((row) => [row.key as string, row.value]))
}

/** The window count's graph, and what its run leaves behind. */
export interface WindowJob<S> {
  readonly graph: StreamGraph
  readonly out: S
}

/**
 * The watermarked window count as a weir graph: lines → JSON with event time (`creation_time`,
 * watermark `delay` behind the latest) → window slices → one global key → count, append mode (each
 * window once, when the watermark closes it).
 */
export function windowCountGraph<S extends Sink<AggregateRow<number>>>(
  input: Source<string>,
  options: { windows: WindowAssigner; delay: number; out: S },
): WindowJob<S> {
  const graph = new StreamGraph()
  graph
    .from(
      source('tweets', input, {
        decode: decodeTweet,
        timestamp: eventTime,
        watermark: { delay: options.delay },
      }),
    )
    .via(windowAssign('windows', options.windows))
    .keyBy(() => null)
    .via(
      keyedAggregate('counts', {
        aggregator: count<Tweet>(),
        outputMode: 'append',
        windows: options.windows,
      }),
    )
    .to(sink('rows', options.out))
  return { graph, out: options.out }
}

export async function weirWindowCount(
  input: Source<string>,
  options: { windows: WindowAssigner; delay: number } & WeirRunOptions,
): Promise<WindowCounts> {
  const { graph, out } = windowCountGraph(input, { ...options, out: new WindowRows() })
  const job = await Job.start(graph, { trigger: options.trigger })
  await job.done
  if (out.duplicates > 0) throw new Error(`append mode emitted ${out.duplicates} windows more than once`)
  const dropped = job.counters()['counts#0']?.numRowsDroppedByWatermark ?? 0
  return { counts: out.counts, dropped }
}
