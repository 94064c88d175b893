// The reference the scale-out test compares against: the tutorial's query 3 (DataFrame API) over a
// file of the same tweets, on WORKERS threads (parallelism = WORKERS). Each committed epoch's rows are
// written to stdout as JSON lines `[windowStartMs, count]`, in commit order, from whichever thread runs
// the sink instance (written synchronously to fd 1, so a worker's lines are not lost at exit); the last
// line of a window is its count. With WORKERS >= 2 this file also runs in each worker thread, and joins.
//   node reference-entry.js FILE WORKERS
import { writeSync } from 'node:fs'
import { StreamingQueryManager, type Sink } from '@weir/core'
import { fileSource } from '@weir/connectors'
import { tweets, watermarkedCounts } from '../../src/tutorial/queries.js'

const [file = '', workersArg = '1'] = process.argv.slice(2)
const workers = Number(workersArg)
type Row = { readonly window: { readonly start: Date }; readonly count: number }
const lines: Sink<Row> = {
  name: 'json-lines',
  createWriter: () => {
    const pending = new Map<number, string[]>()
    return {
      write: (rows, epoch) => {
        const epochLines = pending.get(epoch) ?? []
        for (const r of rows) epochLines.push(JSON.stringify([r.window.start.getTime(), r.count]))
        pending.set(epoch, epochLines)
      },
      commit: (epoch) => {
        for (const line of pending.get(epoch) ?? []) writeSync(1, `${line}\n`)
        pending.delete(epoch)
      },
      close: () => undefined,
    }
  },
}
const query = await watermarkedCounts(tweets(fileSource(file, { batchSize: 100 })))
  .writeStream({
    sink: lines,
    outputMode: 'update',
    trigger: { availableNow: true },
    parallelism: workers,
    workers,
    manager: new StreamingQueryManager(),
  })
  .start()
await query.awaitTermination(60_000)
