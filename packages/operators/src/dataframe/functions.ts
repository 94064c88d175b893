import { ConfigError, parseDuration, sessionWindows, slidingWindows, tumblingWindows } from '@weir/core'
import type { SortKey } from '../sort-limit.js'
import type { WindowColumn } from './steps.js'

/** A window's start and end as they appear in output rows: `{start, end}` of Dates, half-open. */
export interface WindowValue {
  readonly start: Date
  readonly end: Date
}

/**
 * Spark's `window(timeColumn, windowDuration, slideDuration?, startTime?)` for `groupBy`: tumbling
 * without a slide, sliding with one. Durations are Spark's strings ('5 minutes', '1 minute') or ms.
 * Windows start on whole multiples of the slide since the epoch, in UTC, shifted by `startTime`.
 *
 * @example
 * ```ts
 * tweets.withWatermark('creation_time', '1 minute').groupBy(window('creation_time', '5 minutes', '1 minute')).count()
 * ```
 */
export function window<C extends string>(
  column: C,
  windowDuration: string | number,
  slideDuration?: string | number,
  startTime?: string | number,
): WindowColumn<C> {
  const size = parseDuration(windowDuration, 'window duration')
  const offset = startTime === undefined ? 0 : parseDuration(startTime, 'window startTime')
  const assigner =
    slideDuration === undefined
      ? tumblingWindows({ size, offset })
      : slidingWindows({ size, slide: parseDuration(slideDuration, 'window slide duration'), offset })
  return { kind: 'window', column: checkColumn(column), assigner }
}

/**
 * Spark's `session_window(timeColumn, gapDuration)`: a session per key closes after `gap` without data.
 *
 * @example
 * ```ts
 * clicks.withWatermark('ts', '1 minute').groupBy(sessionWindow('ts', '5 minutes'), 'user').count()
 * ```
 */
export function sessionWindow<C extends string>(column: C, gapDuration: string | number): WindowColumn<C> {
  return {
    kind: 'window',
    column: checkColumn(column),
    assigner: sessionWindows({ gap: parseDuration(gapDuration, 'session gap') }),
  }
}

/** Reads a column: `col('retweets')` for aggregators that take a function, `sum(col('retweets'))`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped by default, as Spark's col(): sum(col('x')) needs no type argument
export function col<T = any>(name: string): (row: Record<string, unknown>) => T {
  checkColumn(name)
  return (row) => row[name] as T
}

/** Sorts by a column, ascending (nulls first, as Spark). */
export function asc<T>(column: keyof T & string): SortKey<T> {
  return { by: (row) => row[column], descending: false }
}

/** Sorts by a column, descending (nulls last, as Spark). */
export function desc<T>(column: keyof T & string): SortKey<T> {
  return { by: (row) => row[column], descending: true }
}

export function checkColumn<C extends string>(column: C): C {
  if (typeof column !== 'string' || column.length === 0) {
    throw new ConfigError(
      `column ${JSON.stringify(column)} is not a column name: write its name, e.g. 'creation_time'`,
    )
  }
  return column
}
