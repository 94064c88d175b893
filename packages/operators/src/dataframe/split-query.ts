import {
  ConfigError,
  DEFAULT_MAX_PARALLELISM,
  messageOf,
  StreamGraph,
  WeirError,
  type ExchangeRow,
  type Key,
  type Sink,
  type SplitQuery,
} from '@weir/core'
import type { AggregateRow, OutputMode } from '../aggregate/table.js'
import { sink } from '../sink.js'
import { source } from '../source.js'
import { filter } from '../filter.js'
import { keyedAggregate } from '../keyed-aggregate.js'
import { map } from '../map.js'
import { windowAssign } from '../window-assign.js'
import {
  checkRules,
  eventTimeColumn,
  explodeRows,
  fuse,
  groupKey,
  leadingSteps,
  resultRow,
  timestampOf,
} from './plan-query.js'
import type { LogicalPlan, Step } from './steps.js'

export interface SplitOptions {
  readonly sink: Sink<unknown>
  readonly outputMode: OutputMode
  readonly maxParallelism?: number
  readonly deadLetterSink?: Sink<unknown>
  readonly idleTimeoutMs?: number
}

/**
 * Cuts a DataFrame's logical plan at its keyed exchange (see `SplitQuery`), checking Spark's rules and
 * what a query over processes cannot do: a global `orderBy`/`limit` (every process writes its own
 * keys' rows).
 */
export function splitQuery(plan: LogicalPlan, options: SplitOptions): SplitQuery {
  const { steps } = plan
  checkRules(steps, options.outputMode)
  const sort = steps.find((s) => s.kind === 'orderBy' || s.kind === 'limit')
  if (sort) {
    throw new ConfigError(
      `${sort.kind} orders the whole result in one place, but a query scaled out over processes writes ` +
        `each process's groups from that process: leave out scaleOut, or sort where the rows are read`,
    )
  }
  const { rowSteps, rest } = leadingSteps(steps)
  const watermark = steps.find((s) => s.kind === 'watermark')
  const eventTime = eventTimeColumn(steps)
  const aggregate = rest.find((s) => s.kind === 'aggregate')
  const perRow = rest.filter((s) => s.kind !== 'aggregate' && s.kind !== 'watermark')
  const maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM
  return {
    source: plan.source,
    sourceDescription: (plan.source as { description?: string }).description ?? plan.source.name,
    sinkDescription: (options.sink as { description?: string }).description ?? options.sink.name,
    decode: rowSteps.length > 0 ? fuse(rowSteps) : undefined,
    timestamp: eventTime === undefined ? undefined : timestampOf(eventTime),
    watermarkDelayMs: watermark?.kind === 'watermark' ? watermark.delayMs : undefined,
    deadLetterSink: options.deadLetterSink,
    idleTimeoutMs: options.idleTimeoutMs,
    maxParallelism,
    sink: options.sink,
    rowsOf: rowsOf(perRow),
    exchange: aggregate === undefined ? undefined : exchangeOf(aggregate, options, maxParallelism),
  }
}

/**
 * The exchange of `groupBy` and what comes behind it. Windows that are known from a row alone
 * (tumbling, sliding) are expanded before the exchange, each copy keyed by group and window start, so
 * the windows of one group (all of them, when grouping by window only) spread over partitions; the
 * aggregate behind keeps, of each key, the row of the key's own window. Session windows are found only
 * where a group's rows meet: their exchange key is the group alone.
 */
function exchangeOf(
  step: Extract<Step, { kind: 'aggregate' }>,
  options: SplitOptions,
  maxParallelism: number,
): NonNullable<SplitQuery['exchange']> {
  const keyOf = groupKey(step.keys) as (row: unknown) => Key
  const windows = step.window?.assigner
  const expand = windows !== undefined && windows.kind !== 'session'
  return {
    operatorId: 'aggregate',
    route: expand
      ? (row, t) => (t === null ? [] : windows.assign(t).map((w) => JSON.stringify([keyOf(row), w.start])))
      : (row) => [keyOf(row)],
    downstream: (exchangeSource, decode) => {
      const graph = new StreamGraph({ parallelism: 1, maxParallelism })
      // The batches carry each row's event time (taken upstream) and the exchange's watermark.
      let rows = graph
        .from(source('exchange', exchangeSource, { decode, watermark: { delay: 0 } }))
        .keyBy((r: ExchangeRow) => r.key)
        .via(map('rows', (r: ExchangeRow) => r.value))
      if (windows) rows = rows.via(windowAssign('window', windows))
      let results = rows.via(
        keyedAggregate('aggregate', {
          aggregator: step.aggregator,
          outputMode: options.outputMode,
          windows,
          input: 'values',
        }),
      )
      if (expand) {
        // Key [group, start] holds every row of window [start, …) only: its other windows are partial.
        results = results
          .via(
            filter('own-window', (row: AggregateRow<unknown>) => {
              const [, start] = JSON.parse(row.key as string) as [Key, number]
              return row.window?.start === start
            }),
          )
          .via(
            map('group', (row: AggregateRow<unknown>) => ({
              ...row,
              key: (JSON.parse(row.key as string) as [Key, number])[0],
            })),
          )
      }
      results.via(map('project', resultRow(step))).to(sink('sink', options.sink))
      return graph
    },
  }
}

/** The per-row steps between the source and the exchange, as one function from a row to its rows. */
function rowsOf(steps: readonly Step[]): (row: unknown) => readonly unknown[] {
  const fns = steps.map((step): ((row: unknown) => readonly unknown[]) => {
    switch (step.kind) {
      case 'row':
        return guarded(step.name, (row) => [step.fn(row)])
      case 'filter':
        return guarded('filter', (row) => (step.fn(row) ? [row] : []))
      case 'explode': {
        const rows = explodeRows(step)
        return guarded('explode', (row) => rows(row as Record<string, unknown>) ?? [])
      }
      case 'decode':
        throw new ConfigError(`${step.name} must come right after readStream(), before explode or groupBy`)
      default:
        throw new ConfigError(`${step.kind} cannot come before groupBy`)
    }
  })
  if (fns.length === 0) return (row) => [row]
  return (row) => {
    let rows: readonly unknown[] = [row]
    for (const fn of fns) rows = rows.flatMap(fn)
    return rows
  }
}

/** A user's function failing as the operator running it would fail. */
function guarded(
  name: string,
  fn: (row: unknown) => readonly unknown[],
): (row: unknown) => readonly unknown[] {
  return (row) => {
    try {
      return fn(row)
    } catch (cause) {
      if (cause instanceof WeirError) throw cause
      throw new WeirError('user-function-failed', `${name} threw: ${messageOf(cause)}`, { cause })
    }
  }
}
