import { ConfigError } from '../errors.js'
import type { Clock } from '../time/clock.js'
import type { BarrierMessage, StreamRecord } from '../messages/messages.js'
import type { Counters } from '../metrics/counters.js'

/** What an operator instance knows about where it runs. */
export interface OperatorContext {
  readonly operatorId: string
  readonly instance: number
  readonly parallelism: number
  readonly maxParallelism: number
  /** The key groups this instance owns, half-open `[start, end)`. */
  readonly keyGroups: { readonly start: number; readonly end: number }
  readonly clock: Clock
  /** Counters of this instance, read by progress and metrics (add per batch, never per record). */
  readonly counters: Counters
  /** The watermark in force at this instance: -Infinity before any. */
  readonly watermark: number
  /** The epoch now running: the number the next barrier will carry. */
  readonly epoch: number
}

/** Where an operator's results go: the main output, or a named side output (late rows, dead letters). */
export interface Output<T> {
  emit(records: readonly StreamRecord<T>[]): void
  emitTo(tag: string, records: readonly StreamRecord<unknown>[]): void
}

/**
 * The state an instance hands to a snapshot. `keyGroups` is keyed state, one entry per key group, so a
 * snapshot taken at one parallelism restores at another. `union` is instance state that every new
 * instance receives from every old one on restore (Flink's union list state): source positions,
 * a watermark. Once returned, the objects must not be mutated by the operator.
 */
export interface OperatorSnapshot {
  readonly keyGroups?: ReadonlyMap<number, unknown>
  readonly union?: unknown
}

/** What a restored instance is built from: its own key groups, and every old instance's union state. */
export interface Resume {
  readonly epoch: number
  readonly keyGroups: ReadonlyMap<number, unknown>
  readonly union: readonly unknown[]
}

/**
 * The behaviour of one operator instance: an actor that sees one message at a time, in order. Only the
 * hooks it needs are written; forwarding watermarks, barriers, Idle and End downstream is the runtime's job
 * and happens after the hook returns (so rows emitted in `onWatermark` precede the watermark).
 */
export interface OperatorLogic<I, O> {
  onData(records: readonly StreamRecord<I>[], out: Output<O>): void
  onWatermark?(time: number, out: Output<O>): void
  onBarrier?(barrier: BarrierMessage, out: Output<O>): void
  /** The input went idle (Idle comes next downstream): an operator that holds records back emits them here. */
  onIdle?(out: Output<O>): void
  onEnd?(out: Output<O>): void
  snapshot?(): OperatorSnapshot
}

/** A node of the logical graph that transforms records. Built once per parallel instance. */
export interface TransformSpec<I = unknown, O = unknown> {
  readonly kind: 'transform'
  /** Stable id: it keys snapshots, metrics and errors. */
  readonly id: string
  /** The operator's type, e.g. `explode`. */
  readonly name: string
  readonly stateful: boolean
  readonly sideOutputs: readonly string[]
  /**
   * The operator emits only records it created, and keeps none of them: the runtime may then set a
   * downstream key on them in place (see `PhysicalPlan.exclusiveEdges`). Leave it out when records
   * pass through (a filter) or are kept in state.
   */
  readonly freshRecords: boolean
  build(context: OperatorContext, resume: Resume | undefined): OperatorLogic<I, O>
  /** Marker only: never set; carries the types. */
  readonly __types?: (input: I) => O
}

/**
 * The one helper every operator is written on.
 *
 * @example
 * ```ts
 * export function filter<T>(id: string, predicate: (value: T) => boolean): TransformSpec<T, T> {
 *   return defineOperator({ id, name: 'filter', build: (ctx) => ({
 *     onData(records, out) { out.emit(records.filter((r) => predicate(r.value))) },
 *   }) })
 * }
 * ```
 */
export function defineOperator<I, O>(definition: {
  id: string
  name: string
  stateful?: boolean
  sideOutputs?: readonly string[]
  freshRecords?: boolean
  build: (context: OperatorContext, resume: Resume | undefined) => OperatorLogic<I, O>
}): TransformSpec<I, O> {
  checkId(definition.id, definition.name)
  return {
    kind: 'transform',
    id: definition.id,
    name: definition.name,
    stateful: definition.stateful ?? false,
    sideOutputs: definition.sideOutputs ?? [],
    freshRecords: definition.freshRecords ?? false,
    build: definition.build,
  }
}

export function checkId(id: string, what: string): void {
  if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) {
    throw new ConfigError(
      `${what} id ${JSON.stringify(id)} is not valid: use letters, digits, '-', '_' or '.', e.g. 'count-words'`,
    )
  }
}
