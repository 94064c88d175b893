import type { ConsumerConfig, IHeaders, ProducerConfig, ProducerRecord } from 'kafkajs'

/**
 * The few methods of a Kafka client that weir calls: kafkajs's `Kafka` satisfies it, and so can a
 * wrapper (to count, to trace) or another client with the same shapes. Passing one as the `kafka`
 * option of `kafkaSource`/`kafkaSink` makes weir use it instead of building its own from `brokers`.
 *
 * @example
 * ```ts
 * import { Kafka } from 'kafkajs'
 * const kafka: KafkaClient = new Kafka({ brokers: ['localhost:9092'], clientId: 'my-app' })
 * readStream(kafkaSource({ kafka, subscribe: ['tweets'] }))
 * ```
 */
export interface KafkaClient {
  consumer(config: ConsumerConfig): KafkaConsumer
  producer(config?: ProducerConfig): KafkaProducer
  admin(): KafkaAdmin
}

/** One record as a consumer hands it over in a batch (kafkajs's `KafkaMessage`). */
export interface KafkaMessageLike {
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** CreateTime or LogAppendTime, ms since the epoch, as a string. */
  readonly timestamp: string
  readonly headers?: IHeaders
}

/** The records of one partition fetched at once (kafkajs's `Batch`). */
export interface KafkaBatchLike {
  readonly topic: string
  readonly partition: number
  readonly messages: readonly KafkaMessageLike[]
  /** The partition's log end when it was fetched. */
  readonly highWatermark: string
  /** The batch's last offset, control records included: where the partition goes on after it. */
  lastOffset(): string
}

export interface TopicPartitions {
  readonly topic: string
  readonly partitions: number[]
}

/** What the consumer tells its listeners; weir listens to these two. */
export interface KafkaConsumerEvents {
  readonly GROUP_JOIN: 'consumer.group_join'
  readonly CRASH: 'consumer.crash'
}

export interface GroupJoinPayload {
  /** The partitions this member got, by topic. */
  readonly memberAssignment: Readonly<Record<string, readonly number[]>>
}

export interface CrashPayload {
  readonly error: Error
  /** Whether the consumer restarts itself after this crash. */
  readonly restart: boolean
}

export interface KafkaConsumer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  subscribe(subscription: { topics: string[]; fromBeginning?: boolean }): Promise<void>
  run(config: {
    autoCommit?: boolean
    eachBatchAutoResolve?: boolean
    partitionsConsumedConcurrently?: number
    eachBatch: (payload: { batch: KafkaBatchLike }) => Promise<void>
  }): Promise<void>
  /** Where the partition's next fetch starts; only valid once `run` has been called. */
  seek(position: { topic: string; partition: number; offset: string }): void
  pause(partitions: TopicPartitions[]): void
  resume(partitions: TopicPartitions[]): void
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>
  on(
    event: KafkaConsumerEvents[keyof KafkaConsumerEvents],
    listener: (event: { payload: unknown }) => void,
  ): () => void
  readonly events: KafkaConsumerEvents
}

export interface KafkaProducer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  send(record: ProducerRecord): Promise<unknown>
}

/** Low and high offsets of one partition: the log holds `[low, high)`. */
export interface PartitionOffsets {
  readonly partition: number
  readonly low: string
  readonly high: string
}

export interface KafkaAdmin {
  connect(): Promise<void>
  disconnect(): Promise<void>
  listTopics(): Promise<string[]>
  /** Metadata of the named topics; naming a topic creates it where the brokers auto-create topics. */
  fetchTopicMetadata(options: {
    topics: string[]
  }): Promise<{ topics: { name: string; partitions: { partitionId: number }[] }[] }>
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>
}
