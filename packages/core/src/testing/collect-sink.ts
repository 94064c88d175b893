import type { Sink, SinkWriter } from '../io/sink.js'

/** One committed epoch as a collecting sink saw it. */
export interface CollectedEpoch<T> {
  readonly epoch: number
  readonly instance: number
  readonly rows: readonly T[]
}

/**
 * A sink that keeps every row, by epoch and instance, for assertions. `delayMs` makes each write slow
 * (to test backpressure).
 *
 * @example
 * ```ts
 * const out = new CollectSink<{ word: string }>()
 * stream.to(defineSink('out', out))
 * await job.done
 * t.deepEqual(out.rows(), [...])
 * ```
 */
export class CollectSink<T> implements Sink<T> {
  readonly name = 'collect'
  readonly epochs: CollectedEpoch<T>[] = []
  closedWriters = 0

  constructor(private readonly options: { delayMs?: number; onWrite?: (rows: readonly T[]) => void } = {}) {}

  createWriter(context: { instance: number }): SinkWriter<T> {
    const { instance } = context
    const open = new Map<number, T[]>()
    return {
      write: async (rows, epoch) => {
        if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs))
        this.options.onWrite?.(rows)
        if (!open.has(epoch)) open.set(epoch, [])
        open.get(epoch)!.push(...rows)
      },
      commit: (epoch) => {
        this.epochs.push({ epoch, instance, rows: open.get(epoch) ?? [] })
        open.delete(epoch)
      },
      close: () => {
        this.closedWriters++
      },
    }
  }

  /** Every committed row, in epoch order then instance order. */
  rows(): T[] {
    return [...this.epochs]
      .sort((a, b) => a.epoch - b.epoch || a.instance - b.instance)
      .flatMap((e) => e.rows)
  }

  /** The rows of one epoch over all instances. */
  epoch(epoch: number): T[] {
    return this.epochs
      .filter((e) => e.epoch === epoch)
      .sort((a, b) => a.instance - b.instance)
      .flatMap((e) => e.rows)
  }
}
