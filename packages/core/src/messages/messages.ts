import type { Key } from '../keys/key-groups.js'

/**
 * One record on an edge. Records are immutable once emitted: an operator that changes one emits a
 * new object. `timestamp` is the event time in ms since the epoch, or `null` when the record has none
 * (its time did not parse); `key` is set by a `hash` edge (`keyBy`); `window` by window assignment.
 */
export interface StreamRecord<T = unknown> {
  readonly value: T
  readonly timestamp: number | null
  readonly key?: Key
  /** The window slice this record falls in (see `WindowAssigner.sliceOf`), once windows are assigned. */
  readonly window?: Window
}

/** A half-open interval of event time, `[start, end)`, in ms. */
export interface Window {
  readonly start: number
  readonly end: number
}

/** A batch of records. Data always moves in batches: RxJS overhead is paid per batch, not per record. */
export interface DataMessage<T = unknown> {
  readonly kind: 'data'
  readonly records: readonly StreamRecord<T>[]
}

/** No record with an event time earlier than `time` will follow on this channel. */
export interface WatermarkMessage {
  readonly kind: 'watermark'
  readonly time: number
}

/**
 * The end of epoch `epoch`. Every message before it belongs to the epoch. `checkpoint` says whether
 * operators snapshot their state at this barrier (a trigger may end epochs more often than it snapshots).
 */
export interface BarrierMessage {
  readonly kind: 'barrier'
  readonly epoch: number
  readonly checkpoint: boolean
}

/** This channel has nothing to say for now: leave it out of the watermark minimum until it speaks again. */
export interface IdleMessage {
  readonly kind: 'idle'
}

/** The channel is finished: nothing follows. For the watermark minimum it counts as +∞. */
export interface EndMessage {
  readonly kind: 'end'
}

/** Everything that travels on an edge, in band, in order. */
export type Message<T = unknown> =
  DataMessage<T> | WatermarkMessage | BarrierMessage | IdleMessage | EndMessage

export const IDLE: IdleMessage = Object.freeze({ kind: 'idle' })
export const END: EndMessage = Object.freeze({ kind: 'end' })

export function data<T>(records: readonly StreamRecord<T>[]): DataMessage<T> {
  return { kind: 'data', records }
}

export function watermark(time: number): WatermarkMessage {
  return { kind: 'watermark', time }
}

export function barrier(epoch: number, options: { checkpoint?: boolean } = {}): BarrierMessage {
  return { kind: 'barrier', epoch, checkpoint: options.checkpoint ?? true }
}

/** A record with an event time and no key: the shape sources emit. */
export function record<T>(value: T, timestamp: number | null = null): StreamRecord<T> {
  return { value, timestamp }
}
