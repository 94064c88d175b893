// Scale-out across processes: a keyed exchange through a repartition topic (see docs/scale-out.md).
export { repartitionRows, type RepartitionRowsOptions } from './repartition-rows.js'
export { repartitionSink, type RepartitionSinkOptions } from './repartition-sink.js'
export {
  decodeRepartitioned,
  repartitionSource,
  type RepartitionData,
  type RepartitionInput,
  type RepartitionRejected,
  type RepartitionFeed,
  type RepartitionPosition,
  type RepartitionWriterPosition,
} from './repartition-source.js'
export { RepartitionTasks, type RepartitionTasksOptions } from './repartition-tasks.js'
export {
  isReleased,
  partitionCheckpoints,
  readPartitionCheckpoint,
  releasePartition,
  type PartitionCheckpointsOptions,
} from './partition-checkpoints.js'
export { partitionOfKey, type RepartitionRow, type RepartitionMessage } from './repartition-record.js'
export { kafkaScaleOut, type KafkaScaleOutOptions } from './kafka-scale-out.js'
export { ScaledOutExecution, type DownstreamHalf } from './scaled-out-execution.js'
