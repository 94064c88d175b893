import { ConfigError } from '../errors.js'
import type { Sink } from '../io/sink.js'
import type { Source } from '../io/source.js'
import type { Counters } from '../metrics/counters.js'
import { checkId, type TransformSpec } from './operator.js'
import { DEAD_LETTER } from './record-function.js'

/** How a source's records are decoded, get their event time, and how its splits make watermarks. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a spec erases what its source reads: defineSource checked decode against Source<R>
export interface EventTimeOptions<T, R = any> {
  /**
   * Turns what the connector read (a line, a Kafka value) into the record's value, inside the source
   * instance, so the event time can come from the decoded value and watermarks stay per split. It
   * returns `undefined` to drop a record it rejects (counted: `numRowsDroppedByDecode`), after handing
   * it to `context.deadLetter` if it should be kept; a throw fails the query with an error naming the
   * source and the record. Spark's `from_json` modes are built on it.
   */
  readonly decode?: (raw: R, context: DecodeContext) => T | undefined | typeof FILTERED
  /** The event time of a value in ms, or null when it has none (such a record is in no window). */
  readonly timestamp?: (value: T) => number | null
  /**
   * Bounded out-of-orderness per split: `watermark = maxEventTimeSeen - delay`, emitted after each
   * polled batch. Without it the source emits no watermark (until a bounded source ends: +∞).
   */
  readonly watermark?: {
    readonly delay: number
    /** A split with no data for this long goes idle and stops holding the watermark back. */
    readonly idleTimeout?: number
  }
}

/**
 * What `decode` returns for a record the query filters out on purpose (a `filter` fused into the
 * source): skipped and counted as `numRowsFiltered`, not as a rejection.
 */
export const FILTERED: unique symbol = Symbol('weir.filtered')

/** What a source's `decode` may use besides the raw value. */
export interface DecodeContext {
  /** The source instance's counters (e.g. `numMalformedRecords`); add per record is fine here. */
  readonly counters: Counters
  /**
   * Keeps a rejected record with its reason: it goes to the source's `dead-letter` side output when the
   * source was defined with `deadLetters: true`, and is counted (`numDeadLetters`) either way.
   */
  deadLetter(raw: unknown, reason: string): void
}

/** A node that reads a `Source`. */
export interface SourceSpec<T = unknown> extends EventTimeOptions<T> {
  readonly kind: 'source'
  readonly id: string
  readonly name: string
  /** Reads raw values; `decode` (when set) turns them into `T`. */
  readonly source: Source<unknown>
  /** `['dead-letter']` when the source routes rejected records to a side output. */
  readonly sideOutputs: readonly string[]
}

/** A node that writes to a `Sink`: the end of a branch. */
export interface SinkSpec<T = unknown> {
  readonly kind: 'sink'
  readonly id: string
  readonly name: string
  readonly sink: Sink<T>
  /** Rows (not epochs) that may wait for the sink before the sources are held back. Default 10,000. */
  readonly capacity: number
  /** The rows' field names in order, when known: handed to the sink's writers (`SinkWriterContext.columns`). */
  readonly columns?: readonly string[]
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a graph holds specs of every record type; DataStream<T> checked them as it was built
export type NodeSpec = SourceSpec<any> | TransformSpec<any, any> | SinkSpec<any>

export function defineSource<R, T = R>(
  id: string,
  source: Source<R>,
  options: EventTimeOptions<T, R> & { deadLetters?: boolean } = {},
): SourceSpec<T> {
  checkId(id, 'source')
  const { watermark } = options
  if (watermark !== undefined) {
    if (!Number.isFinite(watermark.delay) || watermark.delay < 0) {
      throw new ConfigError(
        `source '${id}': watermark delay ${watermark.delay} must be a duration >= 0 in ms, e.g. 60000`,
      )
    }
    if (watermark.idleTimeout !== undefined && !(watermark.idleTimeout > 0)) {
      throw new ConfigError(`source '${id}': idleTimeout ${watermark.idleTimeout} must be > 0 ms, e.g. 30000`)
    }
  }
  const { deadLetters, ...eventTime } = options
  return {
    kind: 'source',
    id,
    name: source.name,
    source,
    sideOutputs: deadLetters ? [DEAD_LETTER] : [],
    ...eventTime,
  }
}

export function defineSink<T>(
  id: string,
  sink: Sink<T>,
  options: { capacity?: number; columns?: readonly string[] } = {},
): SinkSpec<T> {
  checkId(id, 'sink')
  const capacity = options.capacity ?? 10_000
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new ConfigError(
      `sink '${id}': capacity ${capacity} must be a whole number of rows >= 1, e.g. 10000`,
    )
  }
  const { columns } = options
  return { kind: 'sink', id, name: sink.name, sink, capacity, ...(columns === undefined ? {} : { columns }) }
}
