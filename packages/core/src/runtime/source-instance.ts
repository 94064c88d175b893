import { OperatorError, WeirError } from '../errors.js'
import type { OperatorSnapshot } from '../graph/operator.js'
import { FILTERED, type DecodeContext, type SourceSpec } from '../graph/specs.js'
import type { DeadLetter } from '../graph/record-function.js'
import type { SourceBatch, SourceReader } from '../io/source.js'
import { performance } from 'node:perf_hooks'
import type { BusyTime } from '../metrics/busy-time.js'
import { Counters } from '../metrics/counters.js'
import {
  data,
  END,
  IDLE,
  watermark,
  type BarrierMessage,
  type Message,
  type StreamRecord,
} from '../messages/messages.js'
import type { Clock } from '../time/clock.js'
import { BoundedOutOfOrderness } from '../time/watermark-generator.js'
import type { Backpressure } from './backpressure.js'
import type { Emitter } from './emitter.js'
import type { BarrierListener, InstanceAddress } from './operator-instance.js'

interface SplitState {
  readonly generator: BoundedOutOfOrderness | undefined
  lastActive: number
  idle: boolean
  ended: boolean
  position: unknown
  /** The highest watermark the source supplied for this split (`SourceBatch.watermark`), if it ever did. */
  supplied: number | undefined
}

/** How long a source may poll without giving timers (triggers, idleness) a turn of the event loop. */
const YIELD_EVERY_MS = 10

/** What a source instance read in one epoch, for progress reports. */
export interface SourceEpochInfo {
  /** The instance's watermark when the epoch ended. */
  readonly watermark: number
  /** Whether the instance was idle then (its watermark holds nothing back). */
  readonly idle: boolean
  readonly numInputRows: number
  readonly eventTime:
    { readonly min: number; readonly max: number; readonly sum: number; readonly count: number } | undefined
  readonly startPositions: SourcePositions
  readonly endPositions: SourcePositions
}

export interface SourceInstanceOptions {
  readonly spec: SourceSpec
  readonly instance: number
  readonly reader: SourceReader<unknown>
  /** The main output: the chain behind the source. */
  readonly downstream: Emitter
  /** The `dead-letter` side output, when the source has one. */
  readonly deadLetters?: Emitter
  readonly hooks: SourceInstanceHooks
  readonly backpressure: Backpressure
  readonly clock: Clock
  /** Positions of every split of the source at the restored epoch, whichever instance read them. */
  readonly restored?: ReadonlyMap<string, unknown>
  readonly firstEpoch?: number
  /** The query's watermark at the restored epoch: this instance never emits a lower one. */
  readonly restoredWatermark?: number
  /** Measures busy time (and time held back by backpressure); none: not measured. */
  readonly busyTime?: BusyTime
}

/** Snapshot of a source instance: the position of every split it read, under `union`. */
export type SourcePositions = ReadonlyMap<string, unknown>

export interface SourceInstanceHooks extends BarrierListener {
  /** Every split this instance owns is read (bounded sources, `availableNow`). */
  onFinished(instance: SourceInstance): void
}

/**
 * One parallel instance of a source: polls its reader in a loop, stamps event times, and keeps one
 * watermark generator per split (bounded out-of-orderness, emitted after each polled batch, never
 * backwards). The instance's watermark is the minimum over its non-idle splits. It waits for room
 * (backpressure) before every poll, and emits a barrier between two batches when one is injected.
 */
export class SourceInstance implements InstanceAddress {
  readonly nodeId: string
  readonly instance: number
  readonly counters = new Counters()
  /** Ms spent emitting polled batches, chained downstream excluded (0 when not measured). */
  busyMs = 0
  /** Ms spent waiting for room before polling (0 when not measured). */
  backpressuredMs = 0
  private readonly busyTime: BusyTime | undefined
  private readonly splits = new Map<string, SplitState>()
  private emitted = -Infinity
  private idle = false
  private stopping = false
  private aborted = false
  private finished = false
  private ended = false
  /** Records read since the last barrier, and their event times, for progress. */
  private epochRows = 0
  private epochTimes = { min: Infinity, max: -Infinity, sum: 0, count: 0 }
  private epochStartPositions: SourcePositions = new Map()
  private caughtUpWaiters: (() => void)[] = []
  private watermarkResumed = false
  private epoch: number

  private readonly spec: SourceSpec
  private readonly reader: SourceReader<unknown>
  private readonly downstream: Emitter
  private readonly deadLetters: Emitter | undefined
  private readonly hooks: SourceInstanceHooks
  private readonly backpressure: Backpressure
  private readonly clock: Clock
  private readonly restored: ReadonlyMap<string, unknown>

  constructor(options: SourceInstanceOptions) {
    this.spec = options.spec
    this.instance = options.instance
    this.reader = options.reader
    this.downstream = options.downstream
    this.deadLetters = options.deadLetters
    this.hooks = options.hooks
    this.backpressure = options.backpressure
    this.clock = options.clock
    this.restored = options.restored ?? new Map()
    this.nodeId = options.spec.id
    this.epoch = options.firstEpoch ?? 0
    // After a restore the watermark resumes where the committed epoch left it, never lower.
    this.emitted = options.restoredWatermark ?? -Infinity
    this.epochStartPositions = this.positions()
    this.busyTime = options.busyTime
  }

  get watermark(): number {
    return this.emitted
  }

  get isFinished(): boolean {
    return this.finished
  }

  /** Rows read since the last barrier. */
  get rowsThisEpoch(): number {
    return this.epochRows
  }

  /** What this instance read in the running epoch: rows, event-time range, positions before and now. */
  epochInfo(): SourceEpochInfo {
    const { min, max, sum, count } = this.epochTimes
    return {
      watermark: this.emitted,
      idle: this.idle,
      numInputRows: this.epochRows,
      eventTime: count === 0 ? undefined : { min, max, sum, count },
      startPositions: this.epochStartPositions,
      endPositions: this.positions(),
    }
  }

  /** Polls until stopped or finished. Rejects when the reader fails (`source-failed`) or a chained operator does. */
  async run(): Promise<void> {
    if (Number.isFinite(this.emitted) && !this.watermarkResumed) {
      this.watermarkResumed = true
      this.forward(watermark(this.emitted))
    }
    let turnStarted = performance.now()
    while (!this.stopping && !this.finished) {
      // A reader whose poll resolves at once (data in memory) would keep this loop on microtasks and
      // starve timers: the trigger could not end an epoch. Give the event loop a turn every few ms.
      if (performance.now() - turnStarted > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        turnStarted = performance.now()
        continue
      }
      const wait = this.backpressure.whenClear()
      if (wait) {
        const since = this.busyTime === undefined ? undefined : performance.now()
        await wait
        if (since !== undefined) this.backpressuredMs += performance.now() - since
        continue
      }
      let batch: SourceBatch<unknown> | 'idle' | 'end'
      try {
        batch = await this.reader.poll()
      } catch (cause) {
        throw sourceFailure(this.nodeId, cause)
      }
      // After stop() the batch in hand still goes out, in the last epoch: it has been read.
      if (this.aborted || this.ended) break
      if (batch === 'end') {
        this.finish()
        this.wakeCaughtUp()
      } else if (batch === 'idle') {
        // A reader that holds data back for a later epoch (a per-epoch cap) is waiting, not idle.
        if (!this.throttled) this.checkIdle()
        if (this.reader.splits().length === 0) this.goIdle()
        this.wakeCaughtUp()
      } else {
        const start = this.busyTime?.enter()
        try {
          this.emitBatch(batch)
        } finally {
          if (start !== undefined) this.busyTime!.exit(this, start)
        }
      }
    }
  }

  /** The reader holds data back until an epoch commits (see `SourceReader.throttled`). */
  get throttled(): boolean {
    if (this.finished || this.ended || !this.reader.throttled) return false
    try {
      return this.reader.throttled()
    } catch {
      return false
    }
  }

  /**
   * Resolves the next time the reader says it has nothing more for now (`idle`), or at once when the
   * instance has finished or stopped: everything available when it was called has been emitted.
   */
  caughtUp(): Promise<void> {
    if (this.finished || this.stopping || this.ended) return Promise.resolve()
    return new Promise((resolve) => this.caughtUpWaiters.push(resolve))
  }

  private wakeCaughtUp(): void {
    const waiters = this.caughtUpWaiters
    this.caughtUpWaiters = []
    for (const wake of waiters) wake()
  }

  /** Ends the current epoch here: snapshot the positions, then pass the barrier down. */
  injectBarrier(barrier: BarrierMessage): void {
    if (this.ended) return
    const snapshot: OperatorSnapshot | undefined = barrier.checkpoint
      ? { union: this.positions() }
      : undefined
    const info = this.epochInfo()
    this.epochRows = 0
    this.epochTimes = { min: Infinity, max: -Infinity, sum: 0, count: 0 }
    this.epochStartPositions = info.endPositions
    this.epoch = barrier.epoch + 1
    this.hooks.onBarrier(this, barrier, snapshot, info)
    this.forward(barrier)
  }

  /** Stops polling: the loop ends after the poll in flight, whose batch is still emitted. */
  stop(): void {
    this.stopping = true
    this.wakeCaughtUp()
  }

  /** Stops polling at once (the job failed): the batch of the poll in flight is dropped. */
  abort(): void {
    this.stopping = true
    this.aborted = true
    // processAllAvailable waits on caughtUp: a failed job must not leave it waiting forever.
    this.wakeCaughtUp()
  }

  /** Sends End: nothing more comes from this instance. */
  end(): void {
    if (this.ended) return
    this.ended = true
    this.stopping = true
    this.forward(END)
  }

  /** Control messages go to the main output and to the dead-letter output. */
  private forward(message: Message): void {
    this.downstream.process(message)
    this.deadLetters?.process(message)
  }

  async close(): Promise<void> {
    await this.reader.close()
  }

  /** Epoch `epoch` is committed: tells the reader where its splits stood at the epoch's end. */
  epochCommitted(epoch: number, positions: SourcePositions): void {
    if (!this.reader.commit) return
    try {
      Promise.resolve(this.reader.commit(positions, epoch)).catch(() => undefined)
    } catch {
      // The reader reports its own failures; a commit is never a reason to fail the query.
    }
  }

  /** Where each split this instance reads stands now, and how far behind its end where the reader knows it. */
  splitMetrics(): { split: string; position: unknown; lag?: number }[] {
    let lag: ReadonlyMap<string, number> | undefined
    try {
      lag = this.reader.lag?.()
    } catch {
      // Metrics never fail a query.
    }
    const positions = this.positions()
    const splits = new Set([...this.reader.splits(), ...positions.keys()])
    return [...splits].map((split) => {
      const behind = lag?.get(split)
      return { split, position: positions.get(split), ...(behind === undefined ? {} : { lag: behind }) }
    })
  }

  private positions(): SourcePositions {
    const positions = new Map<string, unknown>()
    // Only the splits this instance owns: a restored position of another instance's split is stale here,
    // and would overwrite that instance's newer one when the snapshots are merged on the next restore.
    for (const split of this.reader.splits()) {
      const position = this.restored.get(split)
      if (position !== undefined) positions.set(split, position)
    }
    for (const [split, state] of this.splits)
      if (state.position !== undefined) positions.set(split, state.position)
    return positions
  }

  private splitState(split: string): SplitState {
    let state = this.splits.get(split)
    if (!state) {
      const delay = this.spec.watermark?.delay
      state = {
        generator: delay === undefined ? undefined : new BoundedOutOfOrderness({ delay }),
        lastActive: this.clock.now(),
        idle: false,
        ended: false,
        position: undefined,
        supplied: undefined,
      }
      this.splits.set(split, state)
    }
    return state
  }

  private emitBatch(batch: SourceBatch<unknown>): void {
    const state = this.splitState(batch.split)
    const { values } = batch
    const extract = this.spec.timestamp
    const decode = this.spec.decode
    const records: StreamRecord[] = []
    const letters: StreamRecord[] = []
    const decodeContext: DecodeContext = {
      counters: this.counters,
      deadLetter: (raw, reason) => {
        const letter: DeadLetter = { operatorId: this.nodeId, epoch: this.epoch, error: reason, value: raw }
        letters.push({ value: letter, timestamp: null, key: undefined, window: undefined })
      },
    }
    let invalidTimes = 0
    let dropped = 0
    let filtered = 0
    const times = this.epochTimes
    for (let i = 0; i < values.length; i++) {
      let value = values[i]
      if (decode) {
        try {
          value = decode(value, decodeContext)
        } catch (cause) {
          throw new OperatorError({ operatorId: this.nodeId, epoch: this.epoch, record: value, cause })
        }
        if (value === undefined) {
          dropped++
          continue
        }
        if (value === FILTERED) {
          filtered++
          continue
        }
      }
      let t: number | null
      if (extract) {
        try {
          t = extract(value)
        } catch {
          t = null
        }
      } else {
        t = batch.timestamps?.[i] ?? null
      }
      if (t !== null && !Number.isFinite(t)) t = null
      if (t === null) invalidTimes++
      else {
        state.generator?.observe(t)
        if (t < times.min) times.min = t
        if (t > times.max) times.max = t
        times.sum += t
        times.count++
      }
      records.push({ value, timestamp: t, key: undefined, window: undefined })
    }
    state.position = batch.position
    // A supplied -∞ counts too: it says "hold back", and must not leave the split to its generator.
    if (batch.watermark !== undefined) state.supplied = Math.max(state.supplied ?? -Infinity, batch.watermark)
    state.lastActive = this.clock.now()
    const wasIdle = state.idle
    state.idle = false
    this.counters.add('recordsRead', values.length)
    this.counters.add('recordsOut', records.length)
    this.counters.add('batchesOut')
    // A query with no event time (no extractor, no source timestamps) has no rows without one.
    if (invalidTimes > 0 && (extract || batch.timestamps))
      this.counters.add('numRowsWithoutEventTime', invalidTimes)
    if (dropped > 0) this.counters.add('numRowsDroppedByDecode', dropped)
    if (filtered > 0) this.counters.add('numRowsFiltered', filtered)
    if (letters.length > 0) {
      this.counters.add('numDeadLetters', letters.length)
      this.deadLetters?.process(data(letters))
    }
    this.epochRows += values.length
    if (records.length > 0) {
      if (this.idle) this.idle = false
      this.downstream.process(data(records))
    }
    if (batch.splitEnded) {
      // An unbounded source stopped by availableNow: its last batch still moves the watermark, as every batch does.
      if (!this.spec.source.bounded && state.generator) this.advance()
      state.ended = true
    }
    if (wasIdle || state.generator || batch.splitEnded) this.advance()
    this.checkIdle()
  }

  /** Emits the minimum over active splits' watermarks when it rises, or Idle when every split is idle. */
  private advance(): void {
    if (!this.spec.watermark) return
    // A split the reader owns and has not read from yet holds the minimum at -∞ until it goes idle.
    for (const split of this.reader.splits()) this.splitState(split)
    let min = Infinity
    let active = 0
    for (const state of this.splits.values()) {
      if (state.idle || state.ended) continue
      active++
      const current = state.supplied ?? state.generator!.current
      if (current < min) min = current
    }
    if (active === 0) {
      if (!this.idle && this.splits.size > 0 && [...this.splits.values()].some((s) => !s.ended)) {
        this.idle = true
        this.forward(IDLE)
      }
      return
    }
    if (min > this.emitted) {
      this.emitted = min
      this.idle = false
      this.forward(watermark(min))
    }
  }

  private checkIdle(): void {
    const timeout = this.spec.watermark?.idleTimeout
    if (timeout === undefined) return
    const now = this.clock.now()
    let changed = false
    for (const split of this.reader.splits()) this.splitState(split)
    for (const state of this.splits.values()) {
      if (!state.idle && !state.ended && now - state.lastActive >= timeout) {
        state.idle = true
        changed = true
      }
    }
    if (changed) this.advance()
  }

  /** An instance with nothing to read must not hold the watermark of the others back. */
  private goIdle(): void {
    if (this.idle || this.ended) return
    this.idle = true
    this.forward(IDLE)
  }

  private finish(): void {
    this.finished = true
    // An unbounded source read up to its end (availableNow) stays open in time: go idle, not to +∞.
    if (!this.spec.source.bounded) this.goIdle()
    if (this.spec.source.bounded && this.emitted < Infinity) {
      // A bounded source has read all there is: no earlier event time can follow, every window may close.
      this.emitted = Infinity
      this.forward(watermark(Infinity))
    }
    this.hooks.onFinished(this)
  }
}

export function sourceFailure(sourceId: string, cause: unknown): WeirError {
  return new WeirError(
    'source-failed',
    `source '${sourceId}' failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    {
      cause,
      retriable: cause instanceof WeirError ? cause.retriable : false,
    },
  )
}
