import { ConfigError, type Resume, type WindowAssigner } from '@weir/core'
import type { KeyedAggregateOptions } from '../keyed-aggregate.js'

const OPTIONS = new Set(['aggregator', 'outputMode', 'windows', 'allowedLateness', 'lateOutput', 'input'])

/**
 * Checks a keyed aggregate's options when the query is built, with Spark's rules: `append` needs windows,
 * session windows need a mergeable aggregator and do not support `update`. Throws a ConfigError that
 * says what to write instead.
 *
 * @example
 * ```ts
 * checkAggregateOptions('counts', { aggregator: count(), outputMode: 'append' }, 0)
 * // ConfigError: keyed aggregate 'counts': append output mode needs windows and a watermark …
 * ```
 */
export function checkAggregateOptions<V, A, R>(
  id: string,
  options: KeyedAggregateOptions<V, A, R>,
  allowedLateness: number,
): void {
  const where = `keyed aggregate '${id}'`
  for (const name of Object.keys(options ?? {})) {
    if (!OPTIONS.has(name)) {
      throw new ConfigError(`${where}: unknown option '${name}': use ${[...OPTIONS].join(', ')}`)
    }
  }
  const { aggregator, outputMode, windows } = options
  if (
    typeof aggregator?.init !== 'function' ||
    typeof aggregator.add !== 'function' ||
    typeof aggregator.result !== 'function'
  ) {
    throw new ConfigError(
      `${where}: aggregator is not an aggregator: use count(), sum(fn), min(fn), max(fn), avg(fn), combine({...}) or an object with init, add and result`,
    )
  }
  if (aggregator.init() === undefined) {
    throw new ConfigError(
      `${where}: aggregator '${aggregator.name}' has init() returning undefined: return e.g. 0, null or {}`,
    )
  }
  if (outputMode !== 'append' && outputMode !== 'update' && outputMode !== 'complete') {
    throw new ConfigError(
      `${where}: output mode ${JSON.stringify(outputMode)} is not one of 'append', 'update', 'complete'`,
    )
  }
  if (!Number.isSafeInteger(allowedLateness) || allowedLateness < 0) {
    throw new ConfigError(
      `${where}: allowedLateness ${String(allowedLateness)} is not a whole number of ms >= 0: write e.g. 0 or 60000`,
    )
  }
  const input = options.input ?? 'values'
  if (input !== 'values' && input !== 'partials') {
    throw new ConfigError(`${where}: input ${JSON.stringify(input)} is not one of 'values', 'partials'`)
  }
  if (input === 'partials') {
    if (typeof aggregator.merge !== 'function') {
      throw new ConfigError(
        `${where}: input 'partials' needs a mergeable aggregator (one with merge), to merge the partial accumulators: ` +
          `use count(), sum, min, max, avg or combine of those, or input 'values'`,
      )
    }
    if (windows?.kind === 'session') {
      throw new ConfigError(
        `${where}: input 'partials' does not go with session windows (a session is known only once its records meet): use input 'values'`,
      )
    }
    if (options.lateOutput) {
      throw new ConfigError(
        `${where}: lateOutput needs the late records themselves, and input 'partials' has only their accumulators: use input 'values'`,
      )
    }
  }
  if (windows === undefined) {
    if (outputMode === 'append') {
      throw new ConfigError(
        `${where}: append output mode needs windows and a watermark on a keyed aggregation: use update or complete, or group by a window`,
      )
    }
    if (options.lateOutput) {
      throw new ConfigError(
        `${where}: lateOutput needs windows (without them no record is ever late): remove lateOutput or group by a window`,
      )
    }
    return
  }
  if (windows.kind === 'session') {
    if (typeof aggregator.merge !== 'function') {
      throw new ConfigError(
        `${where}: session windows need a mergeable aggregator (one with merge), since sessions merge as records join them: ` +
          `use count(), sum, min, max, avg or combine of those, or give '${aggregator.name}' a merge(a, b)`,
      )
    }
    if (outputMode === 'update') {
      throw new ConfigError(
        `${where}: update output mode is not supported with session windows, as in Spark (a merged session cannot retract the rows of its parts): ` +
          `use append (a row per session once it closes) or complete`,
      )
    }
  }
}

/**
 * The watermark every restored instance starts from: the highest any old instance had reached. Refuses a
 * checkpoint taken with other windows, whose slices would not line up.
 *
 * @example
 * ```ts
 * restoredWatermark('counts', { epoch: 3, keyGroups: new Map(), union: [{ watermark: 10 }, { watermark: 12 }] }, undefined)  // 12
 * ```
 */
export function restoredWatermark(
  id: string,
  resume: Resume | undefined,
  windows: WindowAssigner | undefined,
): number {
  let watermark = -Infinity
  const described = windows?.describe() ?? null
  for (const entry of resume?.union ?? []) {
    const state = entry as { watermark?: unknown; windows?: unknown } | null
    if (typeof state?.watermark === 'number' && state.watermark > watermark) watermark = state.watermark
    if (state?.windows !== undefined && state.windows !== described) {
      throw new ConfigError(
        `keyed aggregate '${id}': the checkpoint was taken with windows ${typeof state.windows === 'string' ? state.windows : 'none'} but the query now has ` +
          `${described ?? 'none'}: keep the windows, or start the query with a new checkpoint location`,
      )
    }
  }
  return watermark
}
