import type { Source, SourceBatch, SourceReader } from '../io/source.js'

/**
 * A bounded source over arrays, one array per split, read `batchSize` values at a time. Splits are
 * dealt to instances round-robin; positions are indexes, so a restore resumes exactly.
 *
 * @example
 * ```ts
 * graph.from(defineSource('nums', listSource({ a: [1, 2], b: [3] }, { batchSize: 1 })))
 * ```
 */
export function listSource<T>(values: readonly T[], options?: { batchSize?: number }): Source<T>
export function listSource<T>(
  splits: Readonly<Record<string, readonly T[]>>,
  options?: { batchSize?: number },
): Source<T>
export function listSource<T>(
  splits: Readonly<Record<string, readonly T[]>> | readonly T[],
  options: { batchSize?: number } = {},
): Source<T> {
  const bySplit = (Array.isArray(splits) ? { '0': splits } : splits) as Readonly<Record<string, readonly T[]>>
  const batchSize = options.batchSize ?? 1000
  const names = Object.keys(bySplit)
  return {
    name: 'list',
    bounded: true,
    createReader(context): SourceReader<T> {
      const owned = names.filter((_, i) => i % context.parallelism === context.instance)
      const next = new Map(owned.map((s) => [s, (context.restored.get(s) as number | undefined) ?? 0]))
      let turn = 0
      return {
        poll(): Promise<SourceBatch<T> | 'end'> {
          const open = owned.filter((s) => next.get(s)! < bySplit[s].length)
          if (open.length === 0) return Promise.resolve('end')
          const split = open[turn++ % open.length]
          const from = next.get(split)!
          const values = bySplit[split].slice(from, from + batchSize)
          next.set(split, from + values.length)
          return Promise.resolve({
            split,
            values,
            position: from + values.length,
            splitEnded: from + values.length >= bySplit[split].length,
          })
        },
        splits: () => owned,
        async close() {},
      }
    },
  }
}
