/**
 * Holds sources back while any bounded queue of the job is full. RxJS pushes and has no backpressure
 * of its own; inside a chain work is synchronous, so only asynchronous boundaries (a sink awaiting
 * I/O, a snapshot write, an exchange across threads) queue, and each one reports here when it is full.
 * A source awaits `whenClear()` before it polls again.
 */
export class Backpressure {
  private readonly full = new Set<object>()
  private waiters: (() => void)[] = []

  /** Marks a queue as full or not. */
  set(queue: object, isFull: boolean): void {
    if (isFull) {
      this.full.add(queue)
    } else if (this.full.delete(queue) && this.full.size === 0) {
      const waiters = this.waiters
      this.waiters = []
      for (const wake of waiters) wake()
    }
  }

  get pressured(): boolean {
    return this.full.size > 0
  }

  /** Resolves once no queue is full; `undefined` (no await needed) when none is now. */
  whenClear(): Promise<void> | undefined {
    if (this.full.size === 0) return undefined
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Wakes every waiter, e.g. when the job stops. */
  releaseAll(): void {
    this.full.clear()
    this.set(this, false)
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}
