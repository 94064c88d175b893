#!/usr/bin/env node
import { main } from './cli/weir-tweets.js'
import { isMain } from './cli/is-main.js'

/**
 * `npm start`: the tutorial on the embedded source, no Kafka needed. Tweets from the bundled corpus are
 * replayed at 300 a second with event time running 60× faster than the wall clock, some out of order and
 * some late, so within seconds windows close, late tweets are dropped and old windows leave memory.
 * Word counts are printed whole every epoch (complete mode, top 10); windowed counts with the 1 minute
 * watermark as they change (update mode). It stops by itself after 30 seconds, or on Ctrl-C.
 */
export const DEMO_ARGS = [
  '--source',
  'embedded',
  '--query',
  'wordcount,watermarked',
  '--rate',
  '300',
  '--speedup',
  '60',
  '--trigger',
  '5 seconds',
  '--num-rows',
  '10',
  '--duration',
  '30 seconds',
  '--progress',
]

const INTRO = `weir demo: the Spark Structured Streaming tweet tutorial, in TypeScript.
Tweets replayed from the bundled corpus, event time running 60x faster than the clock, a few late.
Two queries: word counts (complete mode, top 10) and tweets per 5-minute window sliding every minute,
with a 1 minute watermark (update mode). One line of progress per epoch on stderr. Ctrl-C stops it.

`

if (isMain(import.meta.url)) {
  process.stdout.write(INTRO)
  // Flags given to `npm start -- ...` come after the demo's, so they win (e.g. --duration, --dashboard).
  const args = [...DEMO_ARGS, ...process.argv.slice(2)]
  main(args).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`weir demo: ${(error as Error).message}`)
      process.exit(1)
    },
  )
}
