import { inspect } from 'node:util'
import { defineSink, defineSource, Job, StreamGraph } from '@weir/core'
import { CollectSink, listSource } from '@weir/core/testing'
import test from 'ava'
import { kafkaSink, kafkaSource, redactKafkaOptions } from '../../src/index.js'
import { captureLog, unique, within } from './helpers.js'
import { useKafka } from './mock-cluster.js'

const kafka = useKafka()

const PASSWORD = 'pa55-W0RD-never-shown'
const USERNAME = 'user-never-shown'
const KEY = '-----BEGIN PRIVATE KEY-----key-never-shown'
const PASSPHRASE = 'passphrase-never-shown'
const SECRETS = [PASSWORD, USERNAME, KEY, PASSPHRASE]

const sasl = { mechanism: 'plain', username: USERNAME, password: PASSWORD } as const
const ssl = { key: KEY, passphrase: PASSPHRASE, rejectUnauthorized: false }
const FAST = {
  connectionTimeout: 1000,
  retry: { retries: 1, initialRetryTime: 50 },
  logLevel: 'debug',
} as const

/** Everything a failure shows: message, stack, causes, and how Node prints the error. */
function shown(error: unknown): string {
  const parts: string[] = [inspect(error, { depth: 10 })]
  for (let e: unknown = error; e instanceof Error; e = e.cause)
    parts.push(e.message, e.stack ?? '', JSON.stringify(e))
  return parts.join('\n')
}

function assertNoSecret(
  t: { false(value: boolean, message?: string): void },
  text: string,
  where: string,
): void {
  for (const secret of SECRETS) t.false(text.includes(secret), `${where} shows a secret`)
}

test('redactKafkaOptions hides SASL credentials and the TLS key, passphrase and PFX', (t) => {
  t.deepEqual(
    redactKafkaOptions({
      brokers: 'b:9092',
      sasl,
      ssl: { ...ssl, ca: 'CA', pfx: 'PFX' },
      log: () => undefined,
    }),
    {
      brokers: 'b:9092',
      sasl: { mechanism: 'plain', username: '[redacted]', password: '[redacted]' },
      ssl: {
        key: '[redacted]',
        passphrase: '[redacted]',
        rejectUnauthorized: false,
        ca: 'CA',
        pfx: '[redacted]',
      },
      log: '[function]',
    },
  )
})

test('a configuration error does not echo the secrets', (t) => {
  const error = t.throws(() =>
    kafkaSource({
      brokers: 'b:9092',
      subscribe: ['t'],
      sasl,
      ssl,
      startingOffsets: 'sometime',
      log: captureLog().log,
    }),
  )
  t.regex(error.message, /startingOffsets "sometime" is not 'earliest', 'latest' or per partition/)
  assertNoSecret(t, shown(error), 'the error')
  const typo = t.throws(() =>
    kafkaSource({ brokers: 'b:9092', subscribe: ['t'], sasl, ssl, sasI: sasl } as never),
  )
  t.regex(typo.message, /unknown option 'sasI'/)
  assertNoSecret(t, shown(typo), 'the error')
})

for (const [what, secure] of [
  ['SASL', { sasl }],
  ['TLS', { ssl }],
] as const) {
  kafka.test(
    `${what} secrets appear in no log line and no error of a source or a sink that fails to connect`,
    async (t) => {
      const { log, lines } = captureLog()
      const topic = unique('secret')
      const source = kafkaSource({ brokers: kafka.brokers(), subscribe: [topic], log, ...FAST, ...secure })
      assertNoSecret(t, `${source.description} ${inspect(source, { depth: 10 })}`, 'the source')
      const reading = new StreamGraph()
      reading.from(defineSource('kafka', source)).to(defineSink('out', new CollectSink()))
      const sourceError = await within(t.throwsAsync(Job.start(reading)), 20_000, 'the source to fail')
      t.regex(sourceError.message, /could not read the topics' partitions and offsets/)

      const writing = new StreamGraph()
      const sink = kafkaSink({ brokers: kafka.brokers(), topic, log, ...FAST, ...secure })
      writing.from(defineSource('rows', listSource([{ n: 1 }]))).to(defineSink('kafka', sink))
      const sinkError = await within(t.throwsAsync(Job.start(writing)), 20_000, 'the sink to fail')
      t.regex(
        sinkError.message,
        new RegExp(`kafka sink 'kafka' #0 \\(topic '${topic}' on .*\\): could not connect`),
      )

      t.true(lines.length > 0, 'kafkajs logged at debug level')
      assertNoSecret(t, lines.map((l) => l.message).join('\n'), 'a log line')
      assertNoSecret(t, shown(sourceError), 'the source error')
      assertNoSecret(t, shown(sinkError), 'the sink error')
    },
  )
}
