/** Where one sink instance's writer sends its rows and commits. */
export interface EpochPart<T> {
  readonly write: (rows: readonly T[], epoch: number) => void
  /** Returns what `whole` returned when this commit completed the epoch. */
  readonly commit: (epoch: number) => void | Promise<void>
}

/**
 * Joins the parts of an epoch that the parallel instances of one sink write, and hands the whole epoch
 * (rows in instance order) to `whole` once every instance has committed it: a sink that shows or
 * stores one table (console, memory) then sees each epoch once, whatever the parallelism.
 *
 * Writers created again for an instance that already has one belong to a new run of the query (a
 * restart after a failure): parts of epochs the old run left half-committed are dropped, and the old
 * writers are ignored from then on.
 */
export class EpochParts<T> {
  private run = 0
  private parallelism = 0
  private readonly attached = new Set<number>()
  private readonly pending = new Map<number, { parts: T[][]; commits: number }>()

  constructor(private readonly whole: (epoch: number, rows: T[]) => void | Promise<void>) {}

  attach(context: { readonly instance: number; readonly parallelism: number }): EpochPart<T> {
    const { instance, parallelism } = context
    if (this.attached.has(instance) || parallelism !== this.parallelism) {
      this.run++
      this.parallelism = parallelism
      this.attached.clear()
      this.pending.clear()
    }
    this.attached.add(instance)
    const run = this.run
    const entry = (epoch: number) => {
      let found = this.pending.get(epoch)
      if (!found) {
        found = { parts: Array.from({ length: parallelism }, () => []), commits: 0 }
        this.pending.set(epoch, found)
      }
      return found
    }
    return {
      write: (rows, epoch) => {
        if (run !== this.run) return
        const part = entry(epoch).parts[instance]
        for (const row of rows) part.push(row)
      },
      commit: (epoch) => {
        if (run !== this.run) return
        const found = entry(epoch)
        if (++found.commits < parallelism) return
        this.pending.delete(epoch)
        return this.whole(epoch, found.parts.flat())
      },
    }
  }
}
