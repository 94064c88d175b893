export { source } from './source.js'
export { map } from './map.js'
export { filter } from './filter.js'
export { explode } from './explode.js'
export { windowAssign, NO_EVENT_TIME } from './window-assign.js'
export { sortLimit, type SortKey } from './sort-limit.js'
export { sink } from './sink.js'
export {
  keyedAggregate,
  type KeyedAggregateOptions,
  type AggregateRow,
  type OutputMode,
} from './keyed-aggregate.js'
export { count, sum, min, max, avg, combine, type Aggregator, type Maybe } from './aggregators.js'
export { partialAggregate, type Partial, type PartialAggregateOptions } from './partial-aggregate.js'
export * from './dataframe/index.js'
export {
  string,
  long,
  integer,
  double,
  boolean,
  timestamp,
  struct,
  array,
  type DataType,
  type StringType,
  type LongType,
  type IntegerType,
  type DoubleType,
  type BooleanType,
  type TimestampType,
  type StructType,
  type StructFields,
  type ArrayType,
  type TypeOptions,
  type RowOf,
  type ValueOf,
  type PresentValueOf,
  type FieldsOf,
} from './schema/types.js'
export { fieldNames, describeSchema } from './schema/describe-schema.js'
export { parseTimestamp } from './schema/timestamp.js'
export {
  jsonParser,
  type JsonParser,
  type JsonParserOptions,
  type ParseMode,
  type ParsedRow,
  type PermissiveRow,
} from './schema/json-parser.js'
export { parse } from './parse.js'
