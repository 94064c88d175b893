import {
  ConfigError,
  DEFAULT_MAX_PARALLELISM,
  FILTERED,
  messageOf,
  StreamGraph,
  WeirError,
  type DataStream,
  type DecodeContext,
  type Key,
  type Sink,
} from '@weir/core'
import type { AggregateRow, OutputMode } from '../aggregate/table.js'
import type { Aggregator } from '../aggregators.js'
import { explode } from '../explode.js'
import { filter } from '../filter.js'
import { keyedAggregate } from '../keyed-aggregate.js'
import { map } from '../map.js'
import { partialAggregate, type Partial } from '../partial-aggregate.js'
import { sink } from '../sink.js'
import { sortLimit, type SortKey } from '../sort-limit.js'
import { source } from '../source.js'
import { windowAssign } from '../window-assign.js'
import type { LogicalPlan, Step } from './steps.js'

export interface PlanOptions {
  readonly sink: Sink<unknown>
  readonly outputMode: OutputMode
  /** Instances of the source, the per-row steps and the aggregation (default 1). */
  readonly parallelism: number
  readonly maxParallelism?: number
  /** A split with no data for this long stops holding the watermark back (ms). */
  readonly idleTimeoutMs?: number
  readonly sinkCapacity?: number
  /** Route records that fail to decode to a `dead-letter` side output of the source (read with `deadLetters`). */
  readonly deadLetterSink?: Sink<unknown>
  /** One or two phases for `groupBy` (default `'auto'`): see `AggPhaseStrategy`. */
  readonly aggPhaseStrategy?: AggPhaseStrategy
}

/**
 * How `groupBy(...).agg(...)` is planned, as Flink's `table.optimizer.agg-phase-strategy`:
 *
 * - `'two-phase'`: a partial aggregate before the hash exchange folds each instance's rows per group (and
 *   window slice) into one accumulator, and only those cross to the aggregate, which merges them (Spark's
 *   `partial_count` → exchange → final `count`). The aggregator must `merge` (count, sum, min, max, avg,
 *   and `agg` of those), and the windows, if any, must be tumbling or sliding.
 * - `'one-phase'`: every row crosses the exchange.
 * - `'auto'` (the default): two phases when they can be and the aggregation has more than one instance
 *   (then rows cross between instances, and threads with `workers`); one phase otherwise.
 *
 * The rows are the same either way (sums of non-integers may differ in the last bits, the additions
 * being done in another order, as in Spark), and a checkpoint taken one way restores the other.
 *
 * @example
 * ```ts
 * words.groupBy('word').count().writeStream({ sink, outputMode: 'update', parallelism: 2, workers: 2 })
 * // explain(): … partial (partial-aggregate) [2] <-chained- explode-1, aggregate (keyed-aggregate) [2] <=hash= partial …
 * words.groupBy('word').count().writeStream({ sink, outputMode: 'update', parallelism: 2, aggPhaseStrategy: 'one-phase' })
 * ```
 */
export type AggPhaseStrategy = 'auto' | 'one-phase' | 'two-phase'

export interface PlannedQuery {
  readonly graph: StreamGraph
  readonly sourceDescriptions: Record<string, string>
  readonly sinkDescription: string
}

export type RowStep = Extract<Step, { kind: 'row' | 'filter' | 'decode' }>

/**
 * Turns a DataFrame's logical plan into a graph, checking Spark's rules first. The leading per-row
 * steps run inside the source (so event time and watermarks come per partition from the shaped row);
 * `groupBy` becomes window assignment, a partial aggregate when it runs in two phases (see
 * `AggPhaseStrategy`), a hash exchange on the grouping key and a keyed aggregate; `orderBy`/`limit` a
 * single sorting instance.
 */
export function planQuery(plan: LogicalPlan, options: PlanOptions): PlannedQuery {
  const { steps } = plan
  checkRules(steps, options.outputMode)
  const strategy = options.aggPhaseStrategy ?? 'auto'
  if (strategy !== 'auto' && strategy !== 'one-phase' && strategy !== 'two-phase') {
    throw new ConfigError(
      `aggPhaseStrategy ${JSON.stringify(strategy)} is not one of 'auto', 'one-phase', 'two-phase'`,
    )
  }
  const { rowSteps, rest } = leadingSteps(steps)
  const eventTime = eventTimeColumn(steps)

  const graph = new StreamGraph({
    parallelism: options.parallelism,
    maxParallelism: options.maxParallelism ?? DEFAULT_MAX_PARALLELISM,
  })
  const watermark = steps.find((s) => s.kind === 'watermark')
  const sourceSpec = source<unknown>('source', plan.source, {
    decode: rowSteps.length > 0 ? fuse(rowSteps) : undefined,
    timestamp: eventTime === undefined ? undefined : timestampOf(eventTime),
    watermark:
      watermark?.kind === 'watermark'
        ? { delay: watermark.delayMs, idleTimeout: options.idleTimeoutMs }
        : undefined,
  })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the row type changes at every step; DataFrame<T> checked it as the query was written
  let stream: DataStream<any> = graph.from(
    options.deadLetterSink ? { ...sourceSpec, sideOutputs: ['dead-letter'] } : sourceSpec,
  )
  if (options.deadLetterSink)
    stream.sideOutput('dead-letter').to(sink('dead-letters', options.deadLetterSink))

  let n = 0
  const id = (name: string) => `${name}-${++n}`
  for (let i = 0; i < rest.length; i++) {
    const step = rest[i]
    switch (step.kind) {
      case 'row':
        stream = stream.via(map(id('map'), step.fn))
        break
      case 'filter':
        stream = stream.via(filter(id('filter'), step.fn))
        break
      case 'decode':
        throw new ConfigError(`${step.name} must come right after readStream(), before explode or groupBy`)
      case 'explode':
        stream = stream.via(explode(id('explode'), explodeRows(step)))
        break
      case 'watermark':
        break
      case 'aggregate':
        stream = aggregateStages(stream, step, options, inTwoPhases(step, options))
        break
      case 'orderBy':
      case 'limit': {
        const orderBy: SortKey<unknown>[] = []
        let limit: number | undefined
        for (; i < rest.length && (rest[i].kind === 'orderBy' || rest[i].kind === 'limit'); i++) {
          const s = rest[i]
          if (s.kind === 'orderBy') orderBy.push(...s.keys)
          else if (s.kind === 'limit') limit = Math.min(limit ?? Infinity, s.n)
        }
        i--
        stream = stream.rebalance().via(sortLimit('sort', { orderBy, limit }), { parallelism: 1 })
        break
      }
    }
  }
  const sorted = rest.some((s) => s.kind === 'orderBy' || s.kind === 'limit')
  stream.to(sink('sink', options.sink, { capacity: options.sinkCapacity }), sorted ? { parallelism: 1 } : {})
  const described = (plan.source as { description?: string }).description ?? plan.source.name
  return {
    graph,
    sourceDescriptions: { source: described },
    sinkDescription: (options.sink as { description?: string }).description ?? options.sink.name,
  }
}

/**
 * `groupBy(...).agg(...)` as operators: window assignment, the partial aggregate when in two phases,
 * the hash exchange on the grouping key, the keyed aggregate and the projection to output columns.
 */
export function aggregateStages(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows of any shape: DataFrame<T> checked them
  input: DataStream<any>,
  step: Extract<Step, { kind: 'aggregate' }>,
  options: Pick<PlanOptions, 'outputMode'>,
  twoPhase: boolean,
): DataStream<Record<string, unknown>> {
  let stream = input
  const windows = step.window?.assigner
  if (windows) stream = stream.via(windowAssign('window', windows))
  const keyOf = groupKey(step.keys)
  stream = twoPhase
    ? stream
        .via(
          partialAggregate('partial', {
            key: keyOf,
            aggregator: step.aggregator as Aggregator<Record<string, unknown>, unknown, unknown>,
            windows,
          }),
        )
        .keyBy(([key]: Partial<unknown>) => key)
    : stream.keyBy(keyOf)
  return stream
    .via(
      keyedAggregate('aggregate', {
        aggregator: step.aggregator,
        outputMode: options.outputMode,
        windows,
        input: twoPhase ? 'partials' : 'values',
      }),
    )
    .via(map('project', resultRow(step)))
}

/** The rows `explode` makes of one row: a copy per value, the value in `column`; null for none. */
export function explodeRows(
  step: Extract<Step, { kind: 'explode' }>,
): (row: Record<string, unknown>) => Record<string, unknown>[] | null {
  const { column, fn } = step
  return (row) => {
    const values = fn(row)
    if (values == null) return null
    const rows: Record<string, unknown>[] = []
    if (column === '__proto__' || Object.hasOwn(row, '__proto__')) {
      // Object.assign would set the prototype instead of copying the field.
      for (const value of values) rows.push({ ...row, [column]: value })
    } else {
      // Object.assign copies a row several times faster than a spread does (Node 20), and this is per word.
      for (const value of values) rows.push(Object.assign({}, row, { [column]: value }))
    }
    return rows
  }
}

/** Whether `groupBy` runs in two phases: what the strategy asks, where the aggregator and windows allow it. */
function inTwoPhases(step: Extract<Step, { kind: 'aggregate' }>, options: PlanOptions): boolean {
  const strategy = options.aggPhaseStrategy ?? 'auto'
  if (strategy === 'one-phase') return false
  const why =
    typeof step.aggregator.merge !== 'function'
      ? `aggregator '${step.aggregator.name}' has no merge(a, b) to combine partial accumulators`
      : step.window?.assigner.kind === 'session'
        ? 'session windows are known only once their rows meet'
        : undefined
  if (strategy === 'two-phase' && why !== undefined) {
    throw new ConfigError(
      `aggPhaseStrategy 'two-phase' cannot be followed: ${why}. Use 'auto' or 'one-phase', or an aggregator with merge`,
    )
  }
  return why === undefined && (strategy === 'two-phase' || options.parallelism > 1)
}

/**
 * The leading per-row steps (run in the source's decode, so event times and watermarks come per
 * source partition from the shaped row), and the steps after them.
 */
export function leadingSteps(steps: readonly Step[]): {
  readonly rowSteps: readonly RowStep[]
  readonly rest: readonly Step[]
} {
  const end = steps.findIndex((s) => !isFusable(s))
  const prefix = steps.slice(0, end === -1 ? steps.length : end)
  return {
    rowSteps: prefix.filter((s): s is RowStep => s.kind !== 'watermark'),
    rest: steps.slice(prefix.length),
  }
}

function isFusable(step: Step): boolean {
  return step.kind === 'row' || step.kind === 'filter' || step.kind === 'decode' || step.kind === 'watermark'
}

/** Runs the leading per-row steps in the source, as one decode. */
export function fuse(steps: readonly RowStep[]): (raw: unknown, context: DecodeContext) => unknown {
  return (raw, context) => {
    let value: unknown = raw
    for (const step of steps) {
      try {
        if (step.kind === 'decode') {
          value = step.fn(value, context)
          if (value === undefined || value === FILTERED) return value
        } else if (step.kind === 'row') {
          value = step.fn(value)
        } else if (!step.fn(value)) {
          return FILTERED
        }
      } catch (cause) {
        if (cause instanceof WeirError) throw cause
        throw new WeirError(
          'user-function-failed',
          `${step.kind === 'filter' ? 'filter' : step.name} threw: ${messageOf(cause)}`,
          { cause },
        )
      }
    }
    return value
  }
}

export function eventTimeColumn(steps: readonly Step[]): string | undefined {
  const watermark = steps.find((s) => s.kind === 'watermark')
  const aggregate = steps.find((s) => s.kind === 'aggregate')
  const windowColumn = aggregate?.kind === 'aggregate' ? aggregate.window?.column : undefined
  const watermarkColumn = watermark?.kind === 'watermark' ? watermark.column : undefined
  if (watermarkColumn && windowColumn && watermarkColumn !== windowColumn) {
    throw new ConfigError(
      `the watermark is on '${watermarkColumn}' but the window is on '${windowColumn}': ` +
        `put withWatermark and window on the same event-time column`,
    )
  }
  return watermarkColumn ?? windowColumn
}

/** The event time of a row: a Date or epoch ms in `column`; anything else is no event time (null). */
export function timestampOf(column: string): (row: unknown) => number | null {
  return (row) => {
    const value = (row as Record<string, unknown> | null)?.[column]
    if (value instanceof Date) {
      const t = value.getTime()
      return Number.isNaN(t) ? null : t
    }
    return typeof value === 'number' && Number.isFinite(value) ? value : null
  }
}

/** The hash key of a group: the column's value (Dates as ms), or a JSON array of several. */
export function groupKey(keys: readonly string[]): (row: Record<string, unknown>) => Key {
  if (keys.length === 0) return () => null
  if (keys.length === 1) {
    const [k] = keys as [string]
    return (row) => keyValue(row[k])
  }
  return (row) => JSON.stringify(keys.map((k) => keyValue(row[k])))
}

function keyValue(value: unknown): Key {
  if (value === undefined || value === null) return null
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'object') return JSON.stringify(value)
  return value as Key
}

export function resultRow(
  step: Extract<Step, { kind: 'aggregate' }>,
): (row: AggregateRow<unknown>) => Record<string, unknown> {
  const { keys, window, resultColumns } = step
  return (row) => {
    const out: Record<string, unknown> = {}
    if (window && row.window)
      out.window = { start: new Date(row.window.start), end: new Date(row.window.end) }
    if (keys.length === 1) out[keys[0]] = row.key
    else if (keys.length > 1) {
      const values = JSON.parse(row.key as string) as unknown[]
      keys.forEach((k, i) => (out[k] = values[i]))
    }
    return Object.assign(out, resultColumns(row.value))
  }
}

/** Spark's output-mode rules, with Spark's reasons and what to write instead. */
export function checkRules(steps: readonly Step[], outputMode: OutputMode): void {
  if (outputMode !== 'append' && outputMode !== 'update' && outputMode !== 'complete') {
    throw new ConfigError(
      `outputMode ${JSON.stringify(outputMode)} is not one of 'append', 'update', 'complete'`,
    )
  }
  const aggregate = steps.findIndex((s) => s.kind === 'aggregate')
  const watermark = steps.findIndex((s) => s.kind === 'watermark')
  const sortIndex = steps.findIndex((s) => s.kind === 'orderBy' || s.kind === 'limit')
  if (aggregate === -1) {
    if (outputMode === 'complete') {
      throw new ConfigError(
        'Complete output mode not supported when there are no streaming aggregations on streaming DataFrames: use outputMode append, or add a groupBy(...).count()',
      )
    }
  } else {
    const agg = steps[aggregate] as Extract<Step, { kind: 'aggregate' }>
    if (outputMode === 'append' && (watermark === -1 || !agg.window)) {
      throw new ConfigError(
        'Append output mode not supported when there are streaming aggregations on streaming DataFrames without watermark: ' +
          `add withWatermark('<time column>', '1 minute') and group by window('<time column>', ...), or use outputMode update or complete`,
      )
    }
    if (watermark > aggregate) {
      throw new ConfigError(
        `withWatermark must come before groupBy: the watermark decides which rows the aggregation takes`,
      )
    }
    for (const step of steps.slice(aggregate + 1)) {
      if (step.kind !== 'orderBy' && step.kind !== 'limit') {
        throw new ConfigError(
          `after an aggregation only orderBy and limit can follow in a streaming query (found ${step.kind})`,
        )
      }
    }
  }
  if (sortIndex !== -1) {
    const kind = steps[sortIndex].kind
    if (aggregate === -1 || sortIndex < aggregate || outputMode !== 'complete') {
      throw new ConfigError(
        `${kind === 'orderBy' ? 'Sorting' : 'limit'} is not supported on streaming DataFrames, unless it is on an aggregated DataFrame in Complete output mode: ` +
          `aggregate first and use outputMode complete`,
      )
    }
  }
}
