// Helpers for keyed-aggregate tests: records and rows, a seeded PRNG, scripted runs through the operator
// harness (at any parallelism, with a snapshot/restore in the middle), and an independent brute-force model.
import type { ExecutionContext } from 'ava'
import {
  barrier,
  END,
  instanceForKey,
  watermark,
  type Key,
  type Message,
  type StreamRecord,
  type TransformSpec,
  type Window,
  type WindowAssigner,
} from '@weir/core'
import { OperatorHarness } from '@weir/core/testing'

import { compareRows, type AggregateRow } from '../../src/aggregate/table.js'

export type Row = AggregateRow<unknown>
export type OutRecord = StreamRecord<Row>

/** An input record as window assignment leaves it: `window` is the record's slice. */
export function rec<V>(
  assigner: WindowAssigner | undefined,
  key: Key,
  t: number | null,
  value: V,
): StreamRecord<V> {
  return {
    value,
    timestamp: t,
    key,
    window: t === null || assigner === undefined ? undefined : assigner.sliceOf(t),
  }
}

/** An output record of a windowed aggregate. */
export function out(key: Key, window: Window, value: unknown): OutRecord {
  return {
    value: { key, window: { start: window.start, end: window.end }, value },
    timestamp: window.end - 1,
    key,
    window: undefined,
  }
}

/** An output record of an aggregate without windows. */
export function globalOut(key: Key, value: unknown): OutRecord {
  return { value: { key, window: undefined, value }, timestamp: null, key, window: undefined }
}

export function w(start: number, end: number): Window {
  return { start, end }
}

/** mulberry32: a small seeded PRNG, so random tests are reproducible by seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

export type Step<V> =
  | { readonly records: readonly StreamRecord<V>[] }
  | { readonly watermark: number }
  | { readonly barrier: number; readonly checkpoint?: boolean }
  | { readonly end: true }

/** What a run produced: the rows of each barrier (and of End), late records, and counters summed over instances. */
export interface RunResult {
  readonly emissions: OutRecord[][]
  readonly late: StreamRecord[]
  readonly counters: Record<string, number>
}

const MAX_PARALLELISM = 128

/**
 * Runs steps through `parallelism` harnesses, records routed by key as a hash exchange does, control
 * messages to every instance. Asserts that each instance emits nothing but what is expected: no rows
 * outside barriers and End, at most one batch per barrier, then the forwarded control message.
 */
export function drive<V>(
  t: ExecutionContext,
  harnesses: readonly OperatorHarness<V, Row>[],
  steps: readonly Step<V>[],
  result: { emissions: OutRecord[][]; late: StreamRecord[] },
): void {
  const p = harnesses.length
  for (const step of steps) {
    if ('records' in step) {
      const parts = harnesses.map((): StreamRecord<V>[] => [])
      for (const r of step.records) parts[p === 1 ? 0 : instanceForKey(r.key, MAX_PARALLELISM, p)].push(r)
      harnesses.forEach((h, i) => {
        if (parts[i].length > 0) h.processRecords(parts[i])
        t.deepEqual(h.takeOutput(), [], 'records alone emit nothing')
      })
    } else if ('watermark' in step) {
      for (const h of harnesses) {
        const forwarded: boolean = step.watermark > h.watermark
        h.processWatermark(step.watermark)
        t.deepEqual(h.takeOutput(), forwarded ? [watermark(step.watermark)] : [], 'a watermark emits no rows')
      }
    } else {
      const control: Message =
        'end' in step ? END : barrier(step.barrier, { checkpoint: step.checkpoint ?? true })
      const rows: OutRecord[] = []
      for (const h of harnesses) {
        h.process(control)
        const messages = h.takeOutput()
        t.deepEqual(messages.at(-1), control)
        t.true(messages.length <= 2, 'one batch at most, then the control message')
        if (messages.length === 2) {
          const batch = messages[0]
          if (batch.kind !== 'data') return t.fail(`expected a batch of rows, got ${batch.kind}`)
          t.true(batch.records.length > 0, 'no empty batch')
          rows.push(...batch.records)
        }
      }
      if (p > 1) rows.sort((a, b) => compareRows(a.value, b.value))
      result.emissions.push(rows)
    }
    for (const h of harnesses)
      result.late.push(...h.takeSideOutput('late').flatMap((m) => (m.kind === 'data' ? m.records : [])))
  }
}

function counters(harnesses: readonly OperatorHarness<unknown, Row>[]): Record<string, number> {
  const total: Record<string, number> = {}
  for (const h of harnesses) {
    for (const [name, value] of Object.entries(h.counters.toJSON())) {
      if (name === 'numRowsTotal' || name.startsWith('records') || name.startsWith('batches')) continue
      total[name] = (total[name] ?? 0) + value
    }
  }
  return total
}

/** An uninterrupted run at parallelism 1. */
export function runStraight<V>(
  t: ExecutionContext,
  spec: TransformSpec<V, Row>,
  steps: readonly Step<V>[],
): RunResult {
  const h = OperatorHarness.open(spec)
  const result = { emissions: [] as OutRecord[][], late: [] as StreamRecord[] }
  drive(t, [h], steps, result)
  return { ...result, counters: counters([h as OperatorHarness<unknown, Row>]) }
}

/**
 * A run at parallelism `before` up to and including the checkpoint barrier `steps[cut]`, then a restore
 * of every instance's snapshot (through the real codec) into `after` fresh instances that run the rest.
 */
export function runRestored<V>(
  t: ExecutionContext,
  spec: TransformSpec<V, Row>,
  steps: readonly Step<V>[],
  options: { cut: number; before: number; after: number },
): RunResult {
  const cutStep = steps[options.cut]
  if (!cutStep || !('barrier' in cutStep) || cutStep.checkpoint === false)
    throw new Error(`step ${options.cut} is no checkpoint barrier`)
  const result = { emissions: [] as OutRecord[][], late: [] as StreamRecord[] }
  const first = range(options.before).map((instance) =>
    OperatorHarness.open(spec, { instance, parallelism: options.before, maxParallelism: MAX_PARALLELISM }),
  )
  drive(t, first, steps.slice(0, options.cut + 1), result)
  const snapshots = first.map((h) => h.snapshotBytes())
  const second = range(options.after).map((instance) =>
    OperatorHarness.restore(spec, snapshots, {
      instance,
      parallelism: options.after,
      maxParallelism: MAX_PARALLELISM,
      epoch: cutStep.barrier,
    }),
  )
  drive(t, second, steps.slice(options.cut + 1), result)
  const all = [...first, ...second] as OperatorHarness<unknown, Row>[]
  return { ...result, counters: counters(all) }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

/** Late records in a canonical order, to compare runs whose instances interleave them differently. */
export function sortedLate(late: readonly StreamRecord[]): string[] {
  return late.map((r) => JSON.stringify([r.key, r.timestamp, r.value])).sort()
}

/**
 * A brute-force count over sliding windows, written from DESIGN 4 alone: each record goes to every
 * window that contains it and is open when it arrives (`end + allowedLateness > watermark`); a record
 * with no open window is late. It keeps one counter per (window, key), never slices.
 */
export class BruteForceCount {
  private readonly counts = new Map<string, { window: Window; key: Key; count: number }>()
  private changed = new Set<string>()
  private closed: Row[] = []
  private watermark = -Infinity
  readonly emissions: OutRecord[][] = []
  readonly late: StreamRecord[] = []
  noEventTime = 0

  constructor(
    private readonly size: number,
    private readonly slide: number,
    private readonly allowedLateness: number,
    private readonly mode: 'append' | 'update' | 'complete',
  ) {}

  run(steps: readonly Step<unknown>[]): this {
    for (const step of steps) {
      if ('records' in step) for (const r of step.records) this.record(r)
      else if ('watermark' in step) this.advance(step.watermark)
      else if ('barrier' in step) this.emit()
      // End emits nothing: the last barrier came before it.
      else this.emissions.push([])
    }
    return this
  }

  private isOpen(window: Window): boolean {
    return this.mode === 'complete' || window.end + this.allowedLateness > this.watermark
  }

  private record(r: StreamRecord): void {
    if (r.timestamp === null) {
      this.noEventTime++
      return
    }
    const t = r.timestamp
    const windows: Window[] = []
    for (
      let start = t - (((t % this.slide) + this.slide) % this.slide);
      start > t - this.size;
      start -= this.slide
    ) {
      windows.push({ start, end: start + this.size })
    }
    const open = windows.filter((window) => this.isOpen(window))
    if (open.length === 0) {
      this.late.push(r)
      return
    }
    for (const window of open) {
      const id = JSON.stringify([window.start, typeof r.key, r.key])
      const entry = this.counts.get(id) ?? { window, key: r.key ?? null, count: 0 }
      entry.count++
      this.counts.set(id, entry)
      this.changed.add(id)
    }
  }

  private advance(time: number): void {
    if (time <= this.watermark) return
    const previous = this.watermark
    this.watermark = time
    if (this.mode === 'complete') return
    for (const { window, key, count } of this.counts.values()) {
      const closesAt = window.end + this.allowedLateness
      if (closesAt > previous && closesAt <= time) this.closed.push({ key, window, value: count })
    }
  }

  private emit(): void {
    let rows: Row[]
    if (this.mode === 'append') rows = this.closed
    else if (this.mode === 'update') rows = [...this.changed].map((id) => this.rowOf(id))
    else rows = [...this.counts.keys()].map((id) => this.rowOf(id))
    this.closed = []
    this.changed = new Set()
    this.emissions.push(rows.sort(compareRows).map((r) => out(r.key, r.window!, r.value)))
  }

  private rowOf(id: string): Row {
    const { window, key, count } = this.counts.get(id)!
    return { key, window, value: count }
  }
}

/**
 * A random stream: batches of records around a moving front of event time (some ahead, some behind,
 * some far behind so they are late, a few without event time), watermarks that trail the front and
 * only rise, and barriers (most of them checkpoints), ending with a +∞ watermark, a barrier and End.
 */
export function randomSteps(
  seed: number,
  options: { assigner: WindowAssigner; unit: number; keys: readonly Key[]; steps: number },
): Step<{ n: number }>[] {
  const random = prng(seed)
  const { assigner, unit, keys } = options
  const steps: Step<{ n: number }>[] = []
  let front = 0
  let lastWatermark = -Infinity
  let epoch = 0
  let n = 0
  for (let i = 0; i < options.steps; i++) {
    const dice = random()
    if (dice < 0.55) {
      const records: StreamRecord<{ n: number }>[] = []
      const count = 1 + Math.floor(random() * 8)
      for (let j = 0; j < count; j++) {
        const key = keys[Math.floor(random() * keys.length)]!
        const kind = random()
        let t: number | null
        if (kind < 0.03) t = null
        else if (kind < 0.75) t = front + Math.floor((random() - 0.3) * 2 * unit)
        else t = front - Math.floor(random() * 10 * unit)
        if (t !== null) front = Math.max(front, t)
        records.push(rec(assigner, key, t, { n: n++ }))
      }
      steps.push({ records })
    } else if (dice < 0.8) {
      const next = front - unit
      if (next > lastWatermark) steps.push({ watermark: (lastWatermark = next) })
    } else {
      steps.push({ barrier: epoch++, checkpoint: random() < 0.7 })
    }
  }
  // A bounded input ends as a bounded source ends it: a +∞ watermark, the last barrier, End.
  steps.push(
    { barrier: epoch++, checkpoint: true },
    { watermark: Infinity },
    { barrier: epoch++, checkpoint: true },
    { end: true },
  )
  return steps
}

/** The indexes of the checkpoint barriers of a run, the last one (just before End) left out. */
export function checkpointIndexes(steps: readonly Step<unknown>[]): number[] {
  const indexes: number[] = []
  steps.forEach((s, i) => {
    if ('barrier' in s && s.checkpoint !== false && i < steps.length - 2) indexes.push(i)
  })
  return indexes
}
