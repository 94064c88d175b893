import type { Source, SourceBatch, SourceReader } from '@weir/core'

/**
 * Wraps a source so that a test decides when each polled batch is read: `step()` lets exactly one poll
 * of the wrapped reader through, and the next poll answers `'idle'`, which is what `processAllAvailable`
 * waits for. So with `fileSource(dir, { maxFilesPerTrigger: 1 })`, the `manual` trigger and
 * `step(); await query.processAllAvailable()`, epoch i is file i and nothing else, every run.
 *
 * `availableNow` does not give that (it ends epochs as soon as the previous one is done, however far the
 * source has read), and the test decides here when a file is there to be read at all. Commits go through
 * to the wrapped reader, so its `maxFilesPerTrigger` budget frees as epochs commit. `release()` lets the
 * reader go idle for good, so the query can stop.
 *
 * @example
 * ```ts
 * const files = new SteppedSource(fileSource(dir, { maxFilesPerTrigger: 1 }))
 * files.step()
 * await query.processAllAvailable() // epoch 0: the first file
 * ```
 */
export class SteppedSource<T> implements Source<T> {
  readonly name: string
  readonly bounded = false
  private permits = 0
  private released = false
  private wake: (() => void) | undefined

  constructor(private readonly inner: Source<T>) {
    this.name = inner.name
  }

  /** Lets the next poll of the wrapped reader through. */
  step(): void {
    this.permits++
    this.wake?.()
  }

  /** No more steps: polls answer `'idle'` from now on. */
  release(): void {
    this.released = true
    this.wake?.()
  }

  async createReader(context: Parameters<Source<T>['createReader']>[0]): Promise<SourceReader<T>> {
    const reader = await this.inner.createReader(context)
    let idleOwed = false
    return {
      poll: async (): Promise<SourceBatch<T> | 'idle' | 'end'> => {
        if (idleOwed) {
          idleOwed = false
          return 'idle'
        }
        while (this.permits === 0 && !this.released)
          await new Promise<void>((resolve) => (this.wake = resolve))
        this.wake = undefined
        if (this.permits === 0) {
          await new Promise((resolve) => setTimeout(resolve, 5))
          return 'idle'
        }
        this.permits--
        idleOwed = true
        return reader.poll()
      },
      splits: () => reader.splits(),
      ...(reader.commit ? { commit: reader.commit.bind(reader) } : {}),
      close: async () => {
        this.release()
        await reader.close()
      },
    }
  }
}
