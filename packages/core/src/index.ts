export {
  WeirError,
  ConfigError,
  OperatorError,
  ProtocolError,
  assertNever,
  messageOf,
  preview,
} from './errors.js'
export {
  type StreamRecord,
  type Window,
  type Message,
  type DataMessage,
  type WatermarkMessage,
  type BarrierMessage,
  type IdleMessage,
  type EndMessage,
  IDLE,
  END,
  data,
  watermark,
  barrier,
  record,
} from './messages/messages.js'
export {
  type Key,
  DEFAULT_MAX_PARALLELISM,
  hashKey,
  keyGroupOf,
  keyGroupRange,
  instanceForKeyGroup,
  instanceForKey,
  checkKey,
} from './keys/key-groups.js'
export { type Clock, systemClock, ManualClock } from './time/clock.js'
export { parseDuration, formatDuration } from './time/duration.js'
export { type WindowAssigner, tumblingWindows, slidingWindows, sessionWindows } from './time/windows.js'
export { BoundedOutOfOrderness } from './time/watermark-generator.js'
export { WatermarkValve, type ValveOutput } from './time/watermark-valve.js'
export {
  defineOperator,
  type TransformSpec,
  type OperatorLogic,
  type OperatorContext,
  type Output,
  type OperatorSnapshot,
  type Resume,
} from './graph/operator.js'
export {
  defineSource,
  defineSink,
  FILTERED,
  type SourceSpec,
  type SinkSpec,
  type NodeSpec,
  type EventTimeOptions,
  type DecodeContext,
} from './graph/specs.js'
export {
  StreamGraph,
  DataStream,
  MAIN_OUTPUT,
  type Partitioner,
  type GraphNode,
  type GraphEdge,
} from './graph/stream-graph.js'
export {
  buildPhysicalPlan,
  describePlan,
  gateChannels,
  type PhysicalPlan,
  type PhysicalNode,
} from './graph/physical-plan.js'
export type { Source, SourceReader, SourceReaderContext, SourceBatch } from './io/source.js'
export type { Sink, SinkWriter, SinkWriterContext } from './io/sink.js'
export { Counters } from './metrics/counters.js'
export { graphView } from './metrics/job-snapshot.js'
export type {
  JobMetrics,
  InstanceMetrics,
  SplitMetrics,
  EpochsMetrics,
  EpochSummary,
  PhysicalGraphView,
} from './metrics/job-metrics.js'
export {
  METRIC_DEFINITIONS,
  BAD_RECORD_COUNTERS,
  metricFamilies,
  formatPrometheus,
  type MetricFamily,
  type MetricSample,
  type QueryLabels,
} from './metrics/prometheus.js'
export { Job, type JobOptions, type JobState } from './runtime/job.js'
export { isWeirWorker } from './runtime/worker-threads.js'
export type { Trigger } from './runtime/trigger.js'
export type { EpochReport, SourceEpochReport } from './runtime/coordinator.js'
export type { SourceEpochInfo } from './runtime/source-instance.js'
export { InputGate } from './runtime/input-gate.js'
export { BarrierAligner } from './runtime/barrier-aligner.js'
export type { Emitter } from './runtime/emitter.js'
export type { Checkpoint, CommitStats, NodeCheckpoint, StateBackend } from './state/checkpoint.js'
export { MemoryStateBackend } from './state/memory-state-backend.js'
export { encodeSnapshot, decodeSnapshot } from './state/snapshot-codec.js'
export { eachRecord, DEAD_LETTER, type OnError, type DeadLetter } from './graph/record-function.js'
export {
  StreamingQuery,
  StreamingQueryException,
  type StreamingQueryStatus,
  type QueryMetrics,
} from './query/streaming-query.js'
export {
  StreamingQueryManager,
  streams,
  type StreamingQueryListener,
  type StartQueryOptions,
} from './query/manager.js'
export {
  buildProgress,
  type StreamingQueryProgress,
  type StateOperatorProgress,
  type SourceProgress,
} from './query/progress.js'
export { resolveQueryId } from './query/checkpoint-location.js'
export type { QueryExecution } from './query/execution.js'
export type { ExchangeRow, ScaleOut, ScaleOutContext, SplitQuery } from './query/scale-out.js'
export {
  LevelStateBackend,
  CHECKPOINT_FORMAT_VERSION,
  type EpochMetadata,
  type CheckpointProblem,
} from './state/level-state-backend.js'
export { resumeFrom } from './state/resume.js'
