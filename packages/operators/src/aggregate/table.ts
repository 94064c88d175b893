import {
  ConfigError,
  keyGroupOf,
  preview,
  type Key,
  type StreamRecord,
  type Window,
  type WindowAssigner,
} from '@weir/core'
import type { Aggregator } from '../aggregators.js'

/**
 * The state of a keyed aggregate, behind one interface: `GlobalTable` (no windows), `SlicedTable`
 * (tumbling and sliding windows) and `SessionTable`. A table owns its watermark, decides lateness,
 * freezes windows as they close and purges what no open window needs; the operator around it only
 * moves messages, counts and sorts.
 */
export interface AggregateTable<V, R> {
  /** Adds one record, or says why not (`LATE`, `NO_EVENT_TIME`). Called per record: no allocation on the common path. */
  add(record: StreamRecord<V>): AddOutcome
  /**
   * The watermark rose to `watermark`: windows it closes are frozen now (their rows, if the output mode
   * wants them, wait for the next `flush`), and state that no open window needs is purged.
   */
  advance(watermark: number): void
  /** The rows the output mode emits at a barrier, in no particular order; forgets the epoch's changes. */
  flush(): AggregateRow<R>[]
  /** The watermark the table closes windows by: the restored one, raised by `advance`. */
  readonly watermark: number
  /** State rows held, one per (slice or window or session, key): the `numRowsTotal` counter. */
  readonly size: number
  /** Live state as plain, fresh data per key group (accumulators are immutable, so they are shared). */
  snapshot(maxParallelism: number): Map<number, unknown>
  /** Loads one key group of a snapshot taken by the same kind of table. */
  load(keyGroupState: unknown): void
}

export const ADDED = 0
export const LATE = 1
export const NO_EVENT_TIME = 2
export type AddOutcome = typeof ADDED | typeof LATE | typeof NO_EVENT_TIME

/**
 * When a keyed aggregate emits, and what (Spark's output modes): `append` the rows of windows that closed,
 * once; `update` the rows that changed in the epoch; `complete` the whole result table every epoch.
 */
export type OutputMode = 'append' | 'update' | 'complete'

/** One result row of a keyed aggregate: a key, its window when windowed, and the aggregator's result. */
export interface AggregateRow<R> {
  readonly key: Key
  readonly window?: Window
  readonly value: R
}

export interface TableOptions<V, A, R> {
  readonly aggregator: Aggregator<V, A, R>
  readonly outputMode: OutputMode
  readonly allowedLateness: number
  /** The restored watermark, or -Infinity. */
  readonly watermark: number
}

export interface WindowedTableOptions<V, A, R> extends TableOptions<V, A, R> {
  readonly windows: WindowAssigner
}

/** Builds a row with all three fields, so every row shares one hidden class. */
export function row<R>(key: Key, window: Window | undefined, value: R): AggregateRow<R> {
  return { key, window, value }
}

/**
 * The deterministic order of one barrier's rows: window start, window end, then key (numbers numerically,
 * strings by code unit, keys of different types by type name). Output so never depends on map history.
 */
export function compareRows(a: AggregateRow<unknown>, b: AggregateRow<unknown>): number {
  if (a.window !== undefined && b.window !== undefined) {
    if (a.window.start !== b.window.start) return a.window.start < b.window.start ? -1 : 1
    if (a.window.end !== b.window.end) return a.window.end < b.window.end ? -1 : 1
  }
  return compareKeys(a.key, b.key)
}

export function compareKeys(a: Key, b: Key): number {
  if (a === b) return 0
  const ta = typeName(a)
  const tb = typeName(b)
  if (ta !== tb) return ta < tb ? -1 : 1
  if (a! < b!) return -1
  if (a! > b!) return 1
  // NaN against anything: put NaN last so the order stays total.
  return a !== a ? (b !== b ? 0 : 1) : -1
}

function typeName(key: Key): string {
  return key === null ? 'null' : typeof key
}

/** The one key of every record without a key (a global aggregation): undefined and null are the same. */
export function keyOf(record: StreamRecord<unknown>): Key {
  return record.key ?? null
}

/**
 * Groups snapshot entries by the key group of their key, hashing each distinct key once per snapshot.
 * Each key group's state is `[table, entries]`, `table` naming the kind of table that wrote it (a tuple,
 * not an object: msgpack maps may decode as Maps).
 */
export class KeyGroupWriter<E> {
  private readonly groups = new Map<number, E[]>()
  private readonly groupOfKey = new Map<Key, number>()

  constructor(
    private readonly table: string,
    private readonly maxParallelism: number,
  ) {}

  push(key: Key, entry: E): void {
    let group = this.groupOfKey.get(key)
    if (group === undefined) {
      group = keyGroupOf(key, this.maxParallelism)
      this.groupOfKey.set(key, group)
    }
    let entries = this.groups.get(group)
    if (entries === undefined) this.groups.set(group, (entries = []))
    entries.push(entry)
  }

  finish(): Map<number, unknown> {
    const out = new Map<number, unknown>()
    for (const [group, entries] of this.groups) out.set(group, [this.table, entries])
    return out
  }
}

/** The entries of one key group written by `KeyGroupWriter`, checked to come from the same kind of table. */
export function entriesOf<E>(state: unknown, table: string): readonly E[] {
  if (!Array.isArray(state) || state.length !== 2 || !Array.isArray(state[1])) {
    throw new ConfigError(
      `the checkpoint holds aggregate state this version cannot read (${preview(state, 80)}): start the query with a new checkpoint location`,
    )
  }
  if (state[0] !== table) {
    throw new ConfigError(
      `the checkpoint holds state of a '${String(state[0])}' aggregate but the query now runs a '${table}' one ` +
        `(the windows or the aggregator changed): keep them, or start the query with a new checkpoint location`,
    )
  }
  return state[1] as E[]
}
