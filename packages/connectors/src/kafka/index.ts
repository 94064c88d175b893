// The Kafka connectors: the public names of this folder.
export { kafkaSource, type KafkaSource, type KafkaSourceOptions } from './kafka-source.js'
export { kafkaSink, type KafkaSinkOptions, QUERY_ID_HEADER, EPOCH_HEADER } from './kafka-sink.js'
export type { KafkaRecord, KafkaHeader } from './kafka-record.js'
export {
  kafkaClient,
  redactKafkaOptions,
  type KafkaConnectionOptions,
  type KafkaLog,
  type KafkaLogEntry,
  type KafkaLogLevel,
} from './connection.js'
export type {
  KafkaClient,
  KafkaConsumer,
  KafkaProducer,
  KafkaAdmin,
  KafkaBatchLike,
  KafkaMessageLike,
  PartitionOffsets,
} from './client.js'
export { partitionsOfInstance, type TopicPartition } from './partitions.js'
export type { OffsetsOption } from './offsets.js'
export {
  startKafkaMockCluster,
  kcatAvailable,
  mockSafeAssigner,
  type KafkaMockCluster,
} from './mock-cluster.js'
export * from './repartition/index.js'
