import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StreamingQueryManager, type StreamingQuery } from '@weir/core'
import { embeddedTweets, MemorySink } from '@weir/connectors'
import { readStream, string, struct, timestamp, window } from '@weir/operators'

const tweetSchema = struct({ creation_time: timestamp(), tweet_text: string() })

/**
 * The tutorial's watermarked window count, running on the embedded tweets (two partitions, two
 * instances, checkpointed so its state has a size): what the dashboard tests look at. Its event time
 * runs `speedup` times faster than wall time, so its watermark visibly moves within a second.
 */
export async function startWatermarkedCounts(options: { speedup?: number; name?: string } = {}): Promise<{
  manager: StreamingQueryManager
  query: StreamingQuery
  stop(): Promise<void>
}> {
  const checkpoint = await mkdtemp(join(tmpdir(), 'weir-dashboard-'))
  const manager = new StreamingQueryManager()
  const query = await readStream(
    embeddedTweets({ rate: 2000, partitions: 2, speedup: options.speedup ?? 20 }),
  )
    .parse(tweetSchema)
    .withWatermark('creation_time', '1 minute')
    .groupBy(window('creation_time', '5 minutes', '1 minute'))
    .count()
    .writeStream({
      sink: new MemorySink<{ window: unknown; count: number }>({
        outputMode: 'update',
        key: (row) => JSON.stringify(row.window),
      }),
      outputMode: 'update',
      trigger: { processingTime: '250 milliseconds' },
      queryName: options.name ?? 'watermarked_counts',
      checkpointLocation: checkpoint,
      parallelism: 2,
      manager,
    })
    .start()
  return {
    manager,
    query,
    async stop() {
      await query.stop()
      await rm(checkpoint, { recursive: true, force: true })
    },
  }
}
