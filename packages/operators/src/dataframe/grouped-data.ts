import { ConfigError } from '@weir/core'
import { combine, count, type Aggregator } from '../aggregators.js'
import { DataFrame, type Simplify } from './data-frame.js'
import type { WindowValue } from './functions.js'
import type { LogicalPlan, WindowColumn } from './steps.js'

/** The grouping columns of a result row: the window (if any), then the key columns. */
export type GroupRow<T, K extends keyof T, W extends boolean> = Simplify<
  (W extends true ? { window: WindowValue } : unknown) & Pick<T, K>
>

/**
 * Rows grouped by keys (and a window), waiting for an aggregation: Spark's `RelationalGroupedDataset`.
 *
 * @example
 * ```ts
 * tweets.groupBy(window('creation_time', '5 minutes')).agg({ tweets: count(), longest: max(col('length')) })
 * ```
 */
export class GroupedData<T, G> {
  /** @internal */
  constructor(
    private readonly plan: LogicalPlan,
    private readonly keys: readonly string[],
    private readonly window: WindowColumn | undefined,
  ) {}

  /** Counts the rows of each group: a `count` column. */
  count(): DataFrame<Simplify<G & { count: number }>> {
    return this.aggregate(count(), (n: number) => ({ count: n }))
  }

  /** Several aggregations at once, each an output column: `agg({ n: count(), total: sum(col('x')) })`. */
  agg<S extends Record<string, Aggregator<T, unknown, unknown>>>(
    aggregations: S,
  ): DataFrame<Simplify<G & { [K in keyof S]: S[K] extends Aggregator<T, unknown, infer R> ? R : never }>> {
    const names = Object.keys(aggregations)
    if (names.length === 0)
      throw new ConfigError(`agg() needs at least one aggregation, e.g. agg({ n: count() })`)
    for (const name of names) {
      if (this.keys.includes(name) || (this.window && name === 'window')) {
        throw new ConfigError(`agg column '${name}' has the name of a grouping column: give it another name`)
      }
    }
    return this.aggregate(combine(aggregations), (result: Record<string, unknown>) => result)
  }

  private aggregate<O, R>(
    aggregator: Aggregator<T, unknown, R>,
    resultColumns: (result: R) => Record<string, unknown>,
  ): DataFrame<O> {
    if (this.plan.steps.some((s) => s.kind === 'aggregate')) {
      throw new ConfigError(
        'Multiple streaming aggregations are not supported on streaming DataFrames (as in Spark): aggregate once, or write the first result to a topic and read it in a second query',
      )
    }
    return new DataFrame<T>(this.plan).with<O>({
      kind: 'aggregate',
      keys: this.keys,
      window: this.window,
      aggregator,
      resultColumns,
    })
  }
}
