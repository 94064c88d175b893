import type { Source, SourceBatch, SourceReader } from '../io/source.js'

/**
 * An unbounded source the test (or an embedding app) pushes into: `push(split, values)` makes one polled
 * batch. Each instance owns the splits named for it (`instanceOf`, default: by hash of the name).
 * `poll()` waits up to `pollTimeoutMs` for data, then answers `'idle'`; after `close()` it answers `'end'`.
 *
 * @example
 * ```ts
 * const queue = new QueueSource<string>(['p0', 'p1'])
 * queue.push('p0', ['hello'])
 * ```
 */
export class QueueSource<T> implements Source<T> {
  readonly name = 'queue'
  readonly bounded: boolean
  private readonly queues = new Map<string, T[][]>()
  private waiters: (() => void)[] = []
  private closed = false
  private readonly pollTimeoutMs: number

  constructor(
    readonly splitNames: readonly string[],
    options: { bounded?: boolean; pollTimeoutMs?: number } = {},
  ) {
    this.bounded = options.bounded ?? false
    this.pollTimeoutMs = options.pollTimeoutMs ?? 10
    for (const s of splitNames) this.queues.set(s, [])
  }

  push(split: string, values: readonly T[]): void {
    const queue = this.queues.get(split)
    if (!queue) throw new Error(`no split '${split}' in this QueueSource`)
    queue.push([...values])
    this.wake()
  }

  /** No more data: readers answer `'end'` once their splits are drained. */
  close(): void {
    this.closed = true
    this.wake()
  }

  createReader(context: Parameters<Source<T>['createReader']>[0]): SourceReader<T> {
    const owned = this.splitNames.filter((_, i) => i % context.parallelism === context.instance)
    const positions = new Map(owned.map((s) => [s, (context.restored.get(s) as number | undefined) ?? 0]))
    return {
      poll: async (): Promise<SourceBatch<T> | 'idle' | 'end'> => {
        for (let attempt = 0; attempt < 2; attempt++) {
          for (const split of owned) {
            const values = this.queues.get(split)!.shift()
            if (values) {
              const position = positions.get(split)! + values.length
              positions.set(split, position)
              return { split, values, position }
            }
          }
          if (this.closed) return 'end'
          if (attempt === 0) await this.waitForData()
        }
        return 'idle'
      },
      splits: () => owned,
      close: () => Promise.resolve(),
    }
  }

  private waitForData(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pollTimeoutMs)
      const waiters = this.waiters
      function done() {
        clearTimeout(timer)
        resolve()
      }
      waiters.push(done)
    })
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}
