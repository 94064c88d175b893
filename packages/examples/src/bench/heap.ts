import { Job, type Trigger, type WindowAssigner } from '@weir/core'
import { replayLines } from './corpus.js'
import { linesSource, RowTally, windowCountGraph } from './weir.js'

/** One memory sample of a long run, taken after a full GC between two polled batches. */
export interface HeapSample {
  /** Records polled so far. */
  readonly position: number
  readonly heapUsed: number
  /** State rows of the aggregate (`numRowsTotal`) when the sample was taken. */
  readonly stateRows: number | undefined
}

export interface HeapRun {
  readonly records: number
  readonly seconds: number
  readonly epochs: number
  readonly samples: readonly HeapSample[]
  /** Rows the sink received and the sum of their counts (a check that the run did its work). */
  readonly rows: number
  readonly counted: number
}

export interface HeapRunOptions {
  readonly texts: readonly string[]
  readonly records: number
  readonly windows: WindowAssigner
  readonly delay: number
  readonly batchSize: number
  readonly trigger: Trigger
  /** Fractions of the run at which to sample, e.g. 0.1, 0.5, 0.55, …, 1. */
  readonly at: readonly number[]
}

/**
 * Runs the watermarked window count over lines made on the fly (so the input is not on the heap) and
 * samples the heap at the given fractions of the run, each after `global.gc()` when it is exposed.
 */
export async function heapRun(options: HeapRunOptions): Promise<HeapRun> {
  const lines = replayLines(options.texts, { records: options.records })
  const points = [...options.at]
    .sort((a, b) => a - b)
    .map((f) => Math.max(1, Math.round(f * options.records)))
  const samples: HeapSample[] = []
  // Set once the job has started; the first polls may come before.
  const running: { job?: Job } = {}
  const input = linesSource({
    total: options.records,
    batchSize: options.batchSize,
    take: (_from, n) => {
      const batch: string[] = []
      for (let i = 0; i < n; i++) batch.push(lines.next().value as string)
      return batch
    },
    onBatch: (position) => {
      while (points.length > 0 && position >= points[0]) {
        points.shift()
        globalThis.gc?.()
        const stateRows = running.job?.counters()['counts#0']?.numRowsTotal
        samples.push({ position, heapUsed: process.memoryUsage().heapUsed, stateRows })
      }
    },
  })
  const { graph, out } = windowCountGraph(input, {
    windows: options.windows,
    delay: options.delay,
    out: new RowTally(),
  })
  const started = performance.now()
  const job = (running.job = await Job.start(graph, { trigger: options.trigger }))
  await job.done
  const seconds = (performance.now() - started) / 1000
  return {
    records: options.records,
    seconds,
    epochs: out.epochs,
    samples,
    rows: out.rows,
    counted: out.total,
  }
}
