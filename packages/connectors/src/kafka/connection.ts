import type { ConnectionOptions } from 'node:tls'
import { ConfigError } from '@weir/core'
import {
  Kafka,
  Partitioners,
  type KafkaConfig,
  type Mechanism,
  type RetryOptions,
  type SASLOptions,
} from 'kafkajs'
import type { KafkaClient } from './client.js'

export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug'

/** One line weir (or kafkajs through weir) wants to log. Secrets never reach it. */
export interface KafkaLogEntry {
  readonly level: KafkaLogLevel
  readonly message: string
}

/** Where a Kafka connector's log lines go. Default: warnings and errors to stderr. */
export type KafkaLog = (entry: KafkaLogEntry) => void

/** How to reach Kafka: common to `kafkaSource`, `kafkaSink` and `kafkaClient`. */
export interface KafkaConnectionOptions {
  /** Bootstrap brokers: `['host:9092', ...]` or `'host:9092,host2:9092'`. Required unless `kafka` is given. */
  readonly brokers?: string | readonly string[]
  /** A client to use instead of building one (a kafkajs `Kafka`, or anything with the `KafkaClient` methods). */
  readonly kafka?: KafkaClient
  /** Default `weir`. */
  readonly clientId?: string
  /** TLS: `true`, or Node's `tls.connect` options (`ca`, `cert`, `key`, `passphrase`...). Never logged. */
  readonly ssl?: boolean | ConnectionOptions
  /** SASL (`{ mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', username, password }`...). Never logged. */
  readonly sasl?: SASLOptions | Mechanism
  /** kafkajs timeouts in ms. */
  readonly connectionTimeout?: number
  readonly authenticationTimeout?: number
  readonly requestTimeout?: number
  /** kafkajs's retry of one request (`retries`, `initialRetryTime`, `maxRetryTime`...). */
  readonly retry?: RetryOptions
  /** kafkajs's own log lines at or above this level go to `log`. Default `warn`. */
  readonly logLevel?: KafkaLogLevel | 'nothing'
  /** Where log lines go. Default: `warn` and `error` lines to stderr. */
  readonly log?: KafkaLog
}

export const CONNECTION_OPTIONS = [
  'brokers',
  'kafka',
  'clientId',
  'ssl',
  'sasl',
  'connectionTimeout',
  'authenticationTimeout',
  'requestTimeout',
  'retry',
  'logLevel',
  'log',
] as const

/** A client, and how to name it in messages (the brokers, never a credential). */
export interface KafkaConnection {
  readonly client: KafkaClient
  readonly brokers: string
  readonly log: KafkaLog
}

export const defaultKafkaLog: KafkaLog = ({ level, message }) => {
  if (level === 'error' || level === 'warn') process.stderr.write(`weir kafka ${level}: ${message}\n`)
}

const LOG_LEVELS = { nothing: 0, error: 1, warn: 2, info: 4, debug: 5 } as const

/**
 * A kafkajs client built from connection options, with kafkajs's log lines routed to `log`, for apps
 * and tools (the tweet producer) that talk to Kafka beside a query. `kafkaSource` and `kafkaSink` take
 * the same options.
 *
 * @example
 * ```ts
 * const kafka = kafkaClient({ brokers: 'localhost:9092' })
 * const producer = kafka.producer()
 * ```
 */
export function kafkaClient(options: KafkaConnectionOptions): KafkaClient {
  return openConnection('kafkaClient', options).client
}

/** Checks the connection options and builds (or takes) the client. */
export function openConnection(connector: string, options: KafkaConnectionOptions): KafkaConnection {
  const log = options.log ?? defaultKafkaLog
  if (options.log !== undefined && typeof options.log !== 'function') {
    throw new ConfigError(
      `${connector}: log must be a function of { level, message }, e.g. log: (e) => console.log(e.message)`,
    )
  }
  if (options.kafka !== undefined) {
    const kafka = options.kafka as Partial<KafkaClient> | null
    if (
      typeof kafka?.consumer !== 'function' ||
      typeof kafka.producer !== 'function' ||
      typeof kafka.admin !== 'function'
    ) {
      throw new ConfigError(
        `${connector}: kafka must be a client with consumer(), producer() and admin(), e.g. new Kafka({ brokers })`,
      )
    }
    const brokers =
      options.brokers === undefined ? 'the given client' : brokerList(connector, options.brokers).join(',')
    return { client: options.kafka, brokers, log }
  }
  if (options.brokers === undefined) {
    throw new ConfigError(
      `${connector}: say where Kafka is: brokers: ['localhost:9092'], or pass a client as kafka`,
    )
  }
  const brokers = brokerList(connector, options.brokers)
  const level = options.logLevel ?? 'warn'
  if (!(level in LOG_LEVELS)) {
    throw new ConfigError(
      `${connector}: logLevel '${String(level)}' is not one of ${Object.keys(LOG_LEVELS).join(', ')}`,
    )
  }
  const config: KafkaConfig = {
    brokers,
    clientId: options.clientId ?? 'weir',
    logLevel: LOG_LEVELS[level],
    logCreator: () => (entry) =>
      log({ level: levelOf(entry.level), message: `kafkajs ${entry.namespace}: ${describeLog(entry.log)}` }),
  }
  for (const name of [
    'ssl',
    'sasl',
    'connectionTimeout',
    'authenticationTimeout',
    'requestTimeout',
    'retry',
  ] as const) {
    if (options[name] !== undefined) Object.assign(config, { [name]: options[name] })
  }
  const kafka = new Kafka(config)
  const client: KafkaClient = {
    consumer: (consumerConfig) => kafka.consumer(consumerConfig),
    // Java's partitioner (murmur2 of the key), which kafkajs 2 uses anyway, named so kafkajs does not warn about it.
    producer: (producerConfig) =>
      kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...producerConfig }),
    admin: () => kafka.admin(),
  }
  return { client, brokers: brokers.join(','), log }
}

function brokerList(connector: string, brokers: string | readonly string[]): string[] {
  const list = (typeof brokers === 'string' ? brokers.split(',') : [...brokers])
    .map((b) => String(b).trim())
    .filter(Boolean)
  if (list.length === 0 || list.some((b) => !/^[^\s:]+:\d+$/.test(b))) {
    throw new ConfigError(
      `${connector}: brokers ${JSON.stringify(brokers)} must be host:port entries, e.g. ['localhost:9092']`,
    )
  }
  return list
}

function levelOf(level: number): KafkaLogLevel {
  return level <= 1 ? 'error' : level === 2 ? 'warn' : level === 4 ? 'info' : 'debug'
}

/** kafkajs's message and the fields that help (error, topic, partition, group), never the whole entry. */
function describeLog(entry: { message: string; [field: string]: unknown }): string {
  const parts = [entry.message]
  for (const field of ['error', 'topic', 'partition', 'groupId', 'broker'] as const) {
    const value = entry[field]
    if (typeof value === 'string' || typeof value === 'number') parts.push(`${field}=${value}`)
  }
  return parts.join(' ')
}

const SECRET = '[redacted]'

/**
 * Options as they may be shown (in a log line, an error, a description): SASL credentials and the TLS
 * private key, passphrase and PFX are replaced by `[redacted]`, a client by `[client]`, functions by
 * `[function]`.
 *
 * @example
 * ```ts
 * redactKafkaOptions({ brokers: 'b:9092', sasl: { mechanism: 'plain', username: 'u', password: 'p' } })
 * // { brokers: 'b:9092', sasl: { mechanism: 'plain', username: '[redacted]', password: '[redacted]' } }
 * ```
 */
export function redactKafkaOptions(options: object): Record<string, unknown> {
  const shown: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(options) as [string, unknown][]) {
    if (name === 'sasl' && value !== null && typeof value === 'object') {
      const sasl: Record<string, unknown> = {}
      for (const field of Object.keys(value)) {
        const mechanism = (value as { mechanism?: unknown }).mechanism
        sasl[field] = field === 'mechanism' && typeof mechanism === 'string' ? mechanism : SECRET
      }
      shown[name] = sasl
    } else if (name === 'sasl' && value !== undefined) {
      shown[name] = SECRET
    } else if (name === 'ssl' && value !== null && typeof value === 'object') {
      const ssl: Record<string, unknown> = {}
      for (const [field, inner] of Object.entries(value) as [string, unknown][]) {
        ssl[field] = ['key', 'passphrase', 'pfx'].includes(field)
          ? SECRET
          : typeof inner === 'function'
            ? '[function]'
            : inner
      }
      shown[name] = ssl
    } else if (name === 'kafka') {
      shown[name] = '[client]'
    } else if (typeof value === 'function') {
      shown[name] = '[function]'
    } else {
      shown[name] = value
    }
  }
  return shown
}
