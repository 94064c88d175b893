import type { Key, StreamRecord, Window, WindowAssigner } from '@weir/core'
import type { Aggregator } from '../aggregators.js'
import {
  ADDED,
  entriesOf,
  keyOf,
  KeyGroupWriter,
  LATE,
  NO_EVENT_TIME,
  row,
  type AddOutcome,
  type AggregateRow,
  type AggregateTable,
  type OutputMode,
  type WindowedTableOptions,
} from './table.js'

/** A unit of state: a slice (pane) of windows, or a whole window in the per-window fallback. */
interface Unit<A> {
  readonly start: number
  readonly end: number
  readonly accs: Map<Key, A>
  /** Keys changed since the last flush (update mode only), or null when none did. */
  changed: Set<Key> | null
}

type Entry<A> = [start: number, end: number, key: Key, acc: A]

/**
 * The state of an aggregation over tumbling or sliding windows.
 *
 * State is kept per **slice** and key: a slice is the stretch of event time whose points all lie in the
 * same windows (`WindowAssigner.sliceOf`, gcd(size, slide) long). A record updates one accumulator, its
 * slice's, however many windows overlap; a window's value is the `merge` of its slices' accumulators,
 * computed only when the window's row is emitted or frozen. Without `merge` (and only for sliding windows,
 * since a tumbling window is its own single slice) the table falls back to one unit per window, adding
 * each record to every open window that contains it.
 *
 * A window is closed once `watermark >= end + allowedLateness`. In `advance` each window that closes is
 * frozen: its rows are computed from the slices as they are then (append: every key; update: the keys
 * changed in the epoch) and wait for the next flush, so records that later land in a shared slice never
 * change it. A slice is purged once the last window containing it closed. Complete mode never closes.
 *
 * @example
 * ```ts
 * const table = new SlicedTable({ aggregator: count(), outputMode: 'append', allowedLateness: 0,
 *   watermark: -Infinity, windows: slidingWindows({ size: 10, slide: 5 }) })
 * table.add({ value: 'x', timestamp: 7, key: 'a', window: { start: 5, end: 10 } })
 * table.advance(10)  // closes [0, 10)
 * table.flush()      // [{ key: 'a', window: { start: 0, end: 10 }, value: 1 }]
 * ```
 */
export class SlicedTable<V, A, R> implements AggregateTable<V, R> {
  private readonly units = new Map<number, Unit<A>>()
  /** Units with a non-null `changed`, in update mode. */
  private changedUnits: Unit<A>[] = []
  /** Rows of windows frozen since the last flush. */
  private pending: AggregateRow<R>[] = []
  /** The unit the last record went to: consecutive records mostly share one. */
  private last: Unit<A> | undefined
  private rows = 0
  private readonly aggregator: Aggregator<V, A, R>
  private readonly assigner: WindowAssigner
  private readonly lateness: number
  private readonly mode: OutputMode
  /** Whether units are whole windows (no `merge`), not slices. */
  private readonly perWindow: boolean
  watermark: number

  constructor(options: WindowedTableOptions<V, A, R>) {
    this.aggregator = options.aggregator
    this.assigner = options.windows
    this.lateness = options.allowedLateness
    this.mode = options.outputMode
    this.watermark = options.watermark
    this.perWindow = options.windows.kind === 'sliding' && typeof options.aggregator.merge !== 'function'
  }

  get size(): number {
    return this.rows
  }

  add(record: StreamRecord<V>): AddOutcome {
    let slice = record.window
    if (slice === undefined) {
      if (record.timestamp === null) return NO_EVENT_TIME
      slice = this.assigner.sliceOf(record.timestamp)
    }
    const lastEnd = this.assigner.lastEnd(slice.start)
    const complete = this.mode === 'complete'
    if (!complete && lastEnd + this.lateness <= this.watermark) return LATE
    const key = keyOf(record)
    if (!this.perWindow) {
      let unit = this.last
      if (unit === undefined || unit.start !== slice.start)
        this.last = unit = this.unitAt(slice.start, slice.end)
      this.addTo(unit, key, record.value)
      return ADDED
    }
    const { size, slide } = this.assigner
    // The windows containing the slice, latest first: once one is closed, every earlier one is too.
    for (let start = lastEnd - size; start > slice.start - size; start -= slide) {
      if (!complete && start + size + this.lateness <= this.watermark) break
      this.addTo(this.unitAt(start, start + size), key, record.value)
    }
    return ADDED
  }

  advance(watermark: number): void {
    if (watermark <= this.watermark) return
    const previous = this.watermark
    this.watermark = watermark
    if (this.mode === 'complete') return
    const lateness = this.lateness
    const closing = new Map<number, Window>()
    for (const unit of this.units.values()) {
      // Every window of a unit ends at or after the unit's end.
      if (unit.end + lateness > watermark) continue
      for (const w of this.windowsOf(unit)) {
        const closesAt = w.end + lateness
        if (closesAt <= watermark && closesAt > previous) closing.set(w.start, w)
      }
    }
    for (const w of closing.values()) this.freeze(w)
    for (const unit of this.units.values()) {
      if (this.lastEndOf(unit) + lateness <= watermark) {
        this.rows -= unit.accs.size
        this.units.delete(unit.start)
      }
    }
    this.last = undefined
  }

  flush(): AggregateRow<R>[] {
    const rows = this.pending
    this.pending = []
    if (this.mode === 'update') {
      const open = new Map<number, { window: Window; keys: Set<Key> }>()
      for (const unit of this.changedUnits) {
        const changed = unit.changed!
        unit.changed = null
        // A purged unit's windows all closed after its change, and were frozen with it.
        if (this.units.get(unit.start) !== unit) continue
        for (const w of this.windowsOf(unit)) {
          if (w.end + this.lateness <= this.watermark) continue
          let entry = open.get(w.start)
          if (entry === undefined) open.set(w.start, (entry = { window: w, keys: new Set() }))
          for (const key of changed) entry.keys.add(key)
        }
      }
      this.changedUnits = []
      for (const { window, keys } of open.values()) this.rowsOf(window, keys, rows)
    } else if (this.mode === 'complete') {
      const windows = new Map<number, Window>()
      for (const unit of this.units.values()) for (const w of this.windowsOf(unit)) windows.set(w.start, w)
      for (const w of windows.values()) this.rowsOf(w, undefined, rows)
    }
    return rows
  }

  snapshot(maxParallelism: number): Map<number, unknown> {
    const writer = new KeyGroupWriter<Entry<A>>(this.perWindow ? 'windows' : 'slices', maxParallelism)
    for (const unit of this.units.values()) {
      for (const [key, acc] of unit.accs) writer.push(key, [unit.start, unit.end, key, acc])
    }
    return writer.finish()
  }

  load(keyGroupState: unknown): void {
    for (const [start, end, key, acc] of entriesOf<Entry<A>>(
      keyGroupState,
      this.perWindow ? 'windows' : 'slices',
    )) {
      const unit = this.unitAt(start, end)
      if (!unit.accs.has(key)) this.rows++
      unit.accs.set(key, acc)
    }
  }

  /** Computes the rows of window w now: for `keys` only, or every key with state in it. */
  private freeze(w: Window): void {
    if (this.mode === 'append') return this.rowsOf(w, undefined, this.pending)
    const keys = new Set<Key>()
    for (const start of this.unitStartsOf(w)) {
      const changed = this.units.get(start)?.changed
      if (changed) for (const key of changed) keys.add(key)
    }
    if (keys.size > 0) this.rowsOf(w, keys, this.pending)
  }

  private rowsOf(w: Window, keys: ReadonlySet<Key> | undefined, out: AggregateRow<R>[]): void {
    const merged = new Map<Key, A>()
    for (const start of this.unitStartsOf(w)) {
      const unit = this.units.get(start)
      if (unit === undefined) continue
      if (keys === undefined) {
        for (const [key, acc] of unit.accs) this.fold(merged, key, acc)
      } else {
        for (const key of keys) {
          const acc = unit.accs.get(key)
          if (acc !== undefined) this.fold(merged, key, acc)
        }
      }
    }
    const window: Window = { start: w.start, end: w.end }
    for (const [key, acc] of merged) out.push(row(key, window, this.aggregator.result(acc)))
  }

  private fold(merged: Map<Key, A>, key: Key, acc: A): void {
    const sofar = merged.get(key)
    // A window of one unit (tumbling, or the per-window fallback) never needs merge.
    merged.set(key, sofar === undefined ? acc : this.aggregator.merge!(sofar, acc))
  }

  private addTo(unit: Unit<A>, key: Key, value: V): void {
    const acc = unit.accs.get(key)
    if (acc === undefined) {
      this.rows++
      unit.accs.set(key, this.aggregator.add(this.aggregator.init(), value))
    } else {
      unit.accs.set(key, this.aggregator.add(acc, value))
    }
    if (this.mode === 'update') {
      if (unit.changed === null) {
        unit.changed = new Set()
        this.changedUnits.push(unit)
      }
      unit.changed.add(key)
    }
  }

  private unitAt(start: number, end: number): Unit<A> {
    let unit = this.units.get(start)
    if (unit === undefined) this.units.set(start, (unit = { start, end, accs: new Map(), changed: null }))
    return unit
  }

  private windowsOf(unit: Unit<A>): Window[] {
    return this.perWindow ? [{ start: unit.start, end: unit.end }] : this.assigner.windowsOfSlice(unit)
  }

  private unitStartsOf(w: Window): number[] {
    return this.perWindow ? [w.start] : this.assigner.slicesOfWindow(w)
  }

  private lastEndOf(unit: Unit<A>): number {
    return this.perWindow ? unit.end : this.assigner.lastEnd(unit.start)
  }
}
