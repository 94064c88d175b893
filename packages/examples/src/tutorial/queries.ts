import {
  desc,
  readStream,
  string,
  struct,
  timestamp,
  window,
  type DataFrame,
  type ParseMode,
  type RowOf,
} from '@weir/operators'
import type { Source } from '@weir/core'

/**
 * The tutorial's schema: `StructType([StructField('creation_time', TimestampType()),
 * StructField('tweet_text', StringType())])`.
 */
export const tweetSchema = struct({ creation_time: timestamp(), tweet_text: string() })
export type Tweet = RowOf<typeof tweetSchema>

/** `from_json(col('value').cast('string'), schema)`: tweets as rows, malformed ones kept as the mode says. */
export function tweets(source: Source<unknown>, mode: ParseMode = 'permissive'): DataFrame<Tweet> {
  return readStream(source).parse(tweetSchema, { mode })
}

/**
 * Query 1: `select(explode(split(col('tweet_text'), ' ')).alias('word')).groupBy('word').count()`, sorted
 * by count: the whole table every epoch (complete output mode).
 */
export function wordCounts(input: DataFrame<Tweet>) {
  return input
    .explode('word', (tweet) => tweet.tweet_text?.split(' '))
    .groupBy('word')
    .count()
    .orderBy(desc('count'), 'word')
}

export interface WindowOptions {
  readonly window: string | number
  readonly slide: string | number
}

/** Query 2: `groupBy(window(col('creation_time'), '5 minutes', '1 minute')).count()`. */
export function windowedCounts(
  input: DataFrame<Tweet>,
  options: WindowOptions = { window: '5 minutes', slide: '1 minute' },
) {
  return input.groupBy(window('creation_time', options.window, options.slide)).count()
}

/**
 * Query 3: query 2 behind `withWatermark('creation_time', '1 minute')`: tweets more than a minute later
 * than the latest one seen are dropped, and windows the watermark has passed leave memory.
 */
export function watermarkedCounts(
  input: DataFrame<Tweet>,
  options: WindowOptions & { readonly watermark: string | number } = {
    window: '5 minutes',
    slide: '1 minute',
    watermark: '1 minute',
  },
) {
  return input
    .withWatermark('creation_time', options.watermark)
    .groupBy(window('creation_time', options.window, options.slide))
    .count()
}
