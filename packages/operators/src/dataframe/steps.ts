/* eslint-disable @typescript-eslint/no-explicit-any -- steps hold user functions with their row types erased: DataFrame<T> checks them as the query is written */
import type { Source, WindowAssigner } from '@weir/core'
import type { Aggregator } from '../aggregators.js'
import type { SortKey } from '../sort-limit.js'

/** A window expression of `groupBy`: which column holds the event time, and the windows. */
export interface WindowColumn<C extends string = string> {
  readonly kind: 'window'
  readonly column: C
  readonly assigner: WindowAssigner
}

/**
 * The logical plan of a DataFrame: where it reads, and the steps in order. Row-wise steps (`row`,
 * `filter`) right after the source are fused into the source's decode, so event times and watermarks
 * are taken per source partition from the row as the query shaped it.
 */
export type Step =
  | { readonly kind: 'row'; readonly name: string; readonly fn: (row: any) => any }
  | { readonly kind: 'filter'; readonly fn: (row: any) => boolean }
  | { readonly kind: 'decode'; readonly name: string; readonly fn: (raw: any, context: any) => any }
  | {
      readonly kind: 'explode'
      readonly column: string
      readonly fn: (row: any) => Iterable<unknown> | null | undefined
    }
  | { readonly kind: 'watermark'; readonly column: string; readonly delayMs: number }
  | {
      readonly kind: 'aggregate'
      readonly keys: readonly string[]
      readonly window: WindowColumn | undefined
      readonly aggregator: Aggregator<any, any, any>
      /** How the aggregator's result becomes output columns: `count` → `{ count: n }`. */
      readonly resultColumns: (result: any) => Record<string, unknown>
    }
  | { readonly kind: 'orderBy'; readonly keys: readonly SortKey<any>[] }
  | { readonly kind: 'limit'; readonly n: number }

export interface LogicalPlan {
  readonly source: Source<unknown>
  readonly steps: readonly Step[]
}
