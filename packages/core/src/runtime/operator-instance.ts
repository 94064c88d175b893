import { assertNever, OperatorError, WeirError } from '../errors.js'
import type {
  OperatorContext,
  OperatorLogic,
  OperatorSnapshot,
  Output,
  Resume,
  TransformSpec,
} from '../graph/operator.js'
import { MAIN_OUTPUT } from '../graph/stream-graph.js'
import type { BusyTime } from '../metrics/busy-time.js'
import { Counters } from '../metrics/counters.js'
import { data, type BarrierMessage, type Message, type StreamRecord } from '../messages/messages.js'
import type { Clock } from '../time/clock.js'
import type { Emitter } from './emitter.js'
import type { SourceEpochInfo } from './source-instance.js'

/** Where an instance reports what it saw at a barrier. */
export interface BarrierListener {
  /** The instance passed barrier `epoch`; `snapshot` is its state when the barrier asked for one. */
  onBarrier(
    instance: InstanceAddress,
    barrier: BarrierMessage,
    snapshot: OperatorSnapshot | undefined,
    /** From a source instance: what it read in the epoch that ends here. */
    source?: SourceEpochInfo,
  ): void
}

export interface InstanceAddress {
  readonly nodeId: string
  readonly instance: number
}

export interface InstancePlacement {
  readonly instance: number
  readonly parallelism: number
  readonly maxParallelism: number
  readonly keyGroups: { readonly start: number; readonly end: number }
  readonly clock: Clock
  /** The first epoch this instance runs: 0, or one past the restored epoch. */
  readonly firstEpoch: number
  /** Measures the instance's busy time; none: not measured. */
  readonly busyTime?: BusyTime
}

/** Fans a message out to every emitter of one output. */
export function fanOut(emitters: readonly Emitter[]): Emitter {
  if (emitters.length === 1) return emitters[0]
  return { process: (message) => emitters.forEach((e) => e.process(message)) }
}

/**
 * One parallel instance of a transform: the plumbing around the operator's logic. It hands the logic
 * one message at a time, keeps the instance's watermark and epoch, reports barriers, and forwards
 * watermarks, barriers, Idle and End after the logic's hook has run.
 */
export class OperatorInstance implements Emitter, InstanceAddress {
  readonly nodeId: string
  readonly instance: number
  readonly counters = new Counters()
  /** Ms spent handling messages, chained downstream excluded (0 when not measured). */
  busyMs = 0
  private readonly busyTime: BusyTime | undefined
  private currentWatermark = -Infinity
  private currentEpoch: number
  private readonly logic: OperatorLogic<unknown, unknown>
  private readonly main: Emitter
  private readonly side: ReadonlyMap<string, Emitter>
  private readonly output: Output<unknown>

  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an instance runs a spec of any record types
    private readonly spec: TransformSpec<any, any>,
    placement: InstancePlacement,
    outputs: ReadonlyMap<string, readonly Emitter[]>,
    private readonly listener: BarrierListener,
    resume: Resume | undefined,
  ) {
    this.nodeId = spec.id
    this.instance = placement.instance
    this.currentEpoch = placement.firstEpoch
    this.busyTime = placement.busyTime
    this.main = fanOut(outputs.get(MAIN_OUTPUT) ?? [])
    this.side = new Map(
      [...outputs].filter(([tag]) => tag !== MAIN_OUTPUT).map(([tag, e]) => [tag, fanOut(e)]),
    )
    // The context reads the instance's live watermark and epoch through getters.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this
    const context: OperatorContext = {
      operatorId: spec.id,
      instance: placement.instance,
      parallelism: placement.parallelism,
      maxParallelism: placement.maxParallelism,
      keyGroups: placement.keyGroups,
      clock: placement.clock,
      counters: this.counters,
      get watermark() {
        return self.currentWatermark
      },
      get epoch() {
        return self.currentEpoch
      },
    }
    this.output = {
      emit: (records) => {
        if (records.length === 0) return
        this.counters.add('recordsOut', records.length)
        this.main.process(data(records))
      },
      emitTo: (tag, records) => {
        if (records.length === 0) return
        const target = this.side.get(tag)
        if (target) target.process(data(records))
        else if (!spec.sideOutputs.includes(tag)) {
          throw new WeirError(
            'undeclared-side-output',
            `operator '${spec.id}' emitted to undeclared side output '${tag}'`,
          )
        }
        // A declared side output that nobody reads: the operator also counts what it routes there.
      },
    }
    this.logic = this.wrap(() => spec.build(context, resume), undefined)
  }

  get watermark(): number {
    return this.currentWatermark
  }

  get epoch(): number {
    return this.currentEpoch
  }

  process(message: Message): void {
    if (this.busyTime === undefined) return this.wrap(() => this.handle(message), message)
    const start = this.busyTime.enter()
    try {
      this.wrap(() => this.handle(message), message)
    } finally {
      this.busyTime.exit(this, start)
    }
  }

  private handle(message: Message): void {
    switch (message.kind) {
      case 'data':
        this.counters.add('recordsIn', message.records.length)
        this.counters.add('batchesIn')
        this.logic.onData(message.records, this.output)
        return
      case 'watermark':
        if (message.time <= this.currentWatermark) return
        this.currentWatermark = message.time
        this.logic.onWatermark?.(message.time, this.output)
        this.forward(message)
        return
      case 'barrier': {
        this.logic.onBarrier?.(message, this.output)
        const snapshot = message.checkpoint ? this.logic.snapshot?.() : undefined
        this.currentEpoch = message.epoch + 1
        this.listener.onBarrier(this, message, snapshot)
        this.forward(message)
        return
      }
      case 'idle':
        this.logic.onIdle?.(this.output)
        this.forward(message)
        return
      case 'end':
        this.logic.onEnd?.(this.output)
        this.forward(message)
        return
      default:
        assertNever(message)
    }
  }

  /** Control messages go to the main output and to every side output. */
  private forward(message: Message): void {
    this.main.process(message)
    for (const side of this.side.values()) side.process(message)
  }

  /** Errors of this operator's own code get its id and epoch; errors from further down pass through. */
  private wrap<R>(run: () => R, message: Message | undefined): R {
    try {
      return run()
    } catch (cause) {
      if (cause instanceof WeirError) throw cause
      const record = message?.kind === 'data' ? firstRecord(message.records) : undefined
      throw new OperatorError({ operatorId: this.spec.id, epoch: this.currentEpoch, record, cause })
    }
  }
}

function firstRecord(records: readonly StreamRecord[]): unknown {
  return records.length === 1 ? records[0].value : undefined
}
