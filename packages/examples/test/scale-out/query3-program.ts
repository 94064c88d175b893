// The program of the scale-out test: the tutorial's query 3 (DataFrame API), written once, run where
// the command line says. Only the deployment changes, never the query:
//
//   node query3-program.js '{"file": F, "workers": 2}'                      file, on 2 threads
//   node query3-program.js '{"brokers": [...], "topic": T, "checkpointLocation": D}'   one process of
//       the query over a Kafka topic; start it several times and the processes share the work
//
// Each committed epoch's rows go to stdout as JSON lines `{"type": "row", "start": ms, "count": n}`,
// in commit order, from whichever thread runs the sink (written synchronously to fd 1, so a worker's
// lines are not lost at exit); logs as `{"type": "log", ...}`. SIGTERM stops it.
import { writeSync } from 'node:fs'
import { isWeirWorker, StreamingQueryManager, type Sink } from '@weir/core'
import { fileSource, kafkaScaleOut, kafkaSource, mockSafeAssigner } from '@weir/connectors'
import { tweets, watermarkedCounts } from '../../src/tutorial/queries.js'

const config = JSON.parse(process.argv[2] ?? '{}') as {
  file?: string
  workers?: number
  brokers?: string[]
  topic?: string
  checkpointLocation?: string
}
const print = (line: object) => writeSync(1, `${JSON.stringify(line)}\n`)
const log = ({ level, message }: { level: string; message: string }) => {
  if (level !== 'debug') print({ type: 'log', level, message })
}

type Row = { readonly window: { readonly start: Date }; readonly count: number }
const lines: Sink<Row> = {
  name: 'json-lines',
  createWriter: () => {
    const pending = new Map<number, Row[]>()
    return {
      write: (rows, epoch) => void pending.set(epoch, [...(pending.get(epoch) ?? []), ...rows]),
      commit: (epoch) => {
        for (const r of pending.get(epoch) ?? [])
          print({ type: 'row', start: r.window.start.getTime(), count: r.count })
        pending.delete(epoch)
      },
      close: () => undefined,
    }
  },
}

const source =
  config.file !== undefined
    ? fileSource(config.file, { batchSize: 100 })
    : kafkaSource({ brokers: config.brokers, subscribe: [config.topic!], startingOffsets: 'earliest', log })
// The deployment: threads of one process, or one process of many.
const placement =
  config.checkpointLocation !== undefined
    ? {
        checkpointLocation: config.checkpointLocation,
        // The mock cluster fails a follower that syncs after its group's leader: see mockSafeAssigner.
        scaleOut: kafkaScaleOut({
          partitionAssigners: [mockSafeAssigner()],
          sessionTimeout: 6000,
          heartbeatInterval: 1000,
        }),
      }
    : { parallelism: config.workers ?? 1, workers: config.workers ?? 1 }

const query = await watermarkedCounts(tweets(source))
  .writeStream({
    sink: lines,
    outputMode: 'update',
    trigger: config.file !== undefined ? { availableNow: true } : { processingTime: 300 },
    manager: new StreamingQueryManager(),
    ...placement,
  })
  .start()
if (!isWeirWorker()) {
  print({ type: 'started' })
  process.once('SIGTERM', () => void query.stop().finally(() => process.exit(0)))
  query.awaitTermination().then(
    () => process.exit(0),
    (error: unknown) => {
      print({ type: 'failed', message: String(error) })
      process.exit(1)
    },
  )
}
