#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { ConfigError, messageOf, parseDuration } from '@weir/core'
import { produceTweets, type ProduceTweetsOptions } from '../producer/produce-tweets.js'
import { progressReporter } from './progress-reporter.js'
import { isMain } from './is-main.js'

const USAGE = `weir-produce: replays the bundled tweet corpus into a Kafka topic (the Spark tutorial's producer.py)

usage: weir-produce [options]

  --brokers LIST        bootstrap brokers, host:port[,host:port] (default $KAFKA_BROKERS, else localhost:9092)
  --topic NAME          the topic (default tweets); created by naming it where the brokers allow
  --count N             tweets to send, then stop (default: until Ctrl-C)
  --rate N              tweets per second (default 100; 0: as fast as the brokers take them)
  --late-fraction F     share of tweets stamped up to --max-delay earlier than their place (default 0.02)
  --max-delay DURATION  how much earlier at most, e.g. '10 minutes' or 600000 (default '10 minutes')
  --seed N              decides texts and lateness (default 42): same seed and --start, same records
  --start TIME          event time of the first tweet: ISO-8601 or ms since the epoch (default: now)
  -h, --help

Each record: key = the tweet's number, value = {"creation_time": ISO-8601, "tweet_text": ...};
tweet n is stamped start + n * 1000 / rate ms (10 ms apart with --rate 0), save the late ones.`

export interface ProduceIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  /** Whether err is a terminal (progress rewrites one line) or not (a line every few seconds). */
  readonly isTTY: boolean
  /** Aborted when the user asks to stop (Ctrl-C). */
  readonly signal?: AbortSignal
  readonly env?: Readonly<Record<string, string | undefined>>
}

/** Runs `weir-produce` with these arguments; resolves to the exit code (2: bad usage). */
export async function main(argv: readonly string[], io: ProduceIo = defaultIo()): Promise<number> {
  let options: ProduceTweetsOptions
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        brokers: { type: 'string' },
        topic: { type: 'string', default: 'tweets' },
        count: { type: 'string' },
        rate: { type: 'string', default: '100' },
        'late-fraction': { type: 'string', default: '0.02' },
        'max-delay': { type: 'string', default: '10 minutes' },
        seed: { type: 'string', default: '42' },
        start: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    })
    if (values.help) {
      io.out(`${USAGE}\n`)
      return 0
    }
    const env = io.env ?? process.env
    options = {
      brokers: values.brokers ?? env.KAFKA_BROKERS ?? 'localhost:9092',
      topic: values.topic,
      count: values.count === undefined ? undefined : number(values.count, '--count', { whole: true }),
      rate: number(values.rate, '--rate'),
      lateFraction: number(values['late-fraction'], '--late-fraction'),
      maxDelayMs: parseDuration(
        /^\d+$/.test(values['max-delay']) ? Number(values['max-delay']) : values['max-delay'],
        '--max-delay',
      ),
      seed: number(values.seed, '--seed', { whole: true }),
      start: values.start === undefined ? undefined : time(values.start),
      signal: io.signal,
      log: ({ level, message }) => {
        if (level === 'error' || level === 'warn') io.err(`weir-produce: ${message}\n`)
      },
    }
  } catch (error) {
    io.err(`weir-produce: ${messageOf(error)}\n\n${USAGE}\n`)
    return 2
  }
  const progress = progressReporter({
    label: `tweets to '${options.topic}'`,
    unit: 'tweets',
    ...(options.count === undefined ? {} : { total: options.count }),
    write: io.err,
    isTTY: io.isTTY,
    alwaysSummarize: true,
  })
  try {
    await produceTweets({ ...options, onProgress: (p) => progress.update(p.sent) })
    progress.finish()
    return 0
  } catch (error) {
    io.err(`\nweir-produce: ${messageOf(error)}\n`)
    return error instanceof ConfigError ? 2 : 1
  }
}

function number(text: string, flag: string, options: { whole?: boolean } = {}): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || (options.whole && !Number.isSafeInteger(value))) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)} is not a${options.whole ? ' whole' : ''} number`)
  }
  return value
}

function time(text: string): number {
  const value = /^-?\d+$/.test(text) ? Number(text) : Date.parse(text)
  if (!Number.isFinite(value))
    throw new ConfigError(
      `--start ${JSON.stringify(text)} is not a time: write e.g. 2026-11-24T10:00:00Z or 1795514400000`,
    )
  return value
}

function defaultIo(): ProduceIo {
  const stop = new AbortController()
  process.once('SIGINT', () => stop.abort())
  process.once('SIGTERM', () => stop.abort())
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
    signal: stop.signal,
  }
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`weir-produce: ${messageOf(error)}`)
      process.exit(1)
    },
  )
}
