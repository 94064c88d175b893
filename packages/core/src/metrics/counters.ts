/**
 * Named counters of one operator instance. Updated per batch, never per record, so they can stay on.
 *
 * @example
 * ```ts
 * ctx.counters.add('numRowsDroppedByWatermark', late.length)
 * ```
 */
export class Counters {
  private readonly values = new Map<string, number>()

  add(name: string, amount = 1): void {
    if (amount !== 0) this.values.set(name, (this.values.get(name) ?? 0) + amount)
  }

  set(name: string, value: number): void {
    this.values.set(name, value)
  }

  get(name: string): number {
    return this.values.get(name) ?? 0
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.values)
  }
}
