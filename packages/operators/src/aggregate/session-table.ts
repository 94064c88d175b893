import type { Key, StreamRecord, WindowAssigner } from '@weir/core'
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
  type WindowedTableOptions,
} from './table.js'

interface Session<A> {
  start: number
  end: number
  acc: A
}

type Entry<A> = [key: Key, start: number, end: number, acc: A]

/**
 * The state of an aggregation over session windows: per key, the open sessions, sorted, disjoint and
 * not touching. A record at t brings the proto-window `[t, t + gap)` (its `record.window`); it merges with
 * every open session of its key that it overlaps or touches (as Spark and Flink merge `[0, 10)` and
 * `[10, 20)`), which needs the aggregator's `merge`. A record that merges with no open session and whose
 * proto-window is already closed (`t + gap + allowedLateness <= watermark`) is late.
 *
 * A session closes once `watermark >= end + allowedLateness`: its row is frozen for the next flush
 * (append) and it leaves the state; a later record that overlaps it starts a new session. Complete mode
 * closes nothing. Update mode is not supported (see `keyedAggregate`).
 *
 * @example
 * ```ts
 * const table = new SessionTable({ aggregator: count(), outputMode: 'append', allowedLateness: 0,
 *   watermark: -Infinity, windows: sessionWindows({ gap: 10 }) })
 * table.add({ value: 'x', timestamp: 0, key: 'a', window: { start: 0, end: 10 } })
 * table.add({ value: 'y', timestamp: 5, key: 'a', window: { start: 5, end: 15 } })
 * table.advance(15)
 * table.flush()  // [{ key: 'a', window: { start: 0, end: 15 }, value: 2 }]
 * ```
 */
export class SessionTable<V, A, R> implements AggregateTable<V, R> {
  private readonly sessions = new Map<Key, Session<A>[]>()
  private pending: AggregateRow<R>[] = []
  private count = 0
  /** At most the least end of any session: `advance` skips its scan while nothing can close. */
  private minEnd = Infinity
  private readonly aggregator: Aggregator<V, A, R>
  private readonly merge: (a: A, b: A) => A
  private readonly assigner: WindowAssigner
  private readonly lateness: number
  private readonly closes: boolean
  watermark: number

  constructor(options: WindowedTableOptions<V, A, R>) {
    const { aggregator } = options
    if (typeof aggregator.merge !== 'function') throw new Error('SessionTable needs an aggregator with merge')
    this.aggregator = aggregator
    this.merge = (a, b) => aggregator.merge!(a, b)
    this.assigner = options.windows
    this.lateness = options.allowedLateness
    this.closes = options.outputMode !== 'complete'
    this.watermark = options.watermark
  }

  get size(): number {
    return this.count
  }

  add(record: StreamRecord<V>): AddOutcome {
    let proto = record.window
    if (proto === undefined) {
      if (record.timestamp === null) return NO_EVENT_TIME
      proto = this.assigner.sliceOf(record.timestamp)
    }
    const key = keyOf(record)
    let list = this.sessions.get(key)
    let first = 0
    let after = 0
    if (list !== undefined) {
      while (first < list.length && list[first].end < proto.start) first++
      after = first
      while (after < list.length && list[after].start <= proto.end) after++
    }
    if (first === after) {
      if (this.closes && proto.end + this.lateness <= this.watermark) return LATE
      const session = {
        start: proto.start,
        end: proto.end,
        acc: this.aggregator.add(this.aggregator.init(), record.value),
      }
      if (list === undefined) this.sessions.set(key, (list = []))
      list.splice(first, 0, session)
      this.count++
      if (session.end < this.minEnd) this.minEnd = session.end
      return ADDED
    }
    // Sessions first..after-1 overlap the proto-window: they become one.
    const merged = list![first]
    let acc = merged.acc
    let end = Math.max(merged.end, proto.end)
    for (let i = first + 1; i < after; i++) {
      acc = this.merge(acc, list![i].acc)
      end = Math.max(end, list![i].end)
    }
    merged.start = Math.min(merged.start, proto.start)
    merged.end = end
    merged.acc = this.aggregator.add(acc, record.value)
    if (after - first > 1) {
      list!.splice(first + 1, after - first - 1)
      this.count -= after - first - 1
    }
    return ADDED
  }

  advance(watermark: number): void {
    if (watermark <= this.watermark) return
    this.watermark = watermark
    if (!this.closes || this.minEnd + this.lateness > watermark) return
    let minEnd = Infinity
    for (const [key, list] of this.sessions) {
      let kept = 0
      for (const session of list) {
        if (session.end + this.lateness <= watermark) {
          this.pending.push(
            row(key, { start: session.start, end: session.end }, this.aggregator.result(session.acc)),
          )
        } else {
          list[kept++] = session
          if (session.end < minEnd) minEnd = session.end
        }
      }
      this.count -= list.length - kept
      list.length = kept
      if (kept === 0) this.sessions.delete(key)
    }
    this.minEnd = minEnd
  }

  flush(): AggregateRow<R>[] {
    const rows = this.pending
    this.pending = []
    if (!this.closes) {
      for (const [key, list] of this.sessions) {
        for (const s of list)
          rows.push(row(key, { start: s.start, end: s.end }, this.aggregator.result(s.acc)))
      }
    }
    return rows
  }

  snapshot(maxParallelism: number): Map<number, unknown> {
    const writer = new KeyGroupWriter<Entry<A>>('sessions', maxParallelism)
    for (const [key, list] of this.sessions)
      for (const s of list) writer.push(key, [key, s.start, s.end, s.acc])
    return writer.finish()
  }

  load(keyGroupState: unknown): void {
    for (const [key, start, end, acc] of entriesOf<Entry<A>>(keyGroupState, 'sessions')) {
      let list = this.sessions.get(key)
      if (list === undefined) this.sessions.set(key, (list = []))
      // Written in order, one key's sessions all in one key group.
      list.push({ start, end, acc })
      this.count++
      if (end < this.minEnd) this.minEnd = end
    }
  }
}
