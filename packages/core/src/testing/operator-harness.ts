import type { OperatorSnapshot, Resume, TransformSpec } from '../graph/operator.js'
import { MAIN_OUTPUT } from '../graph/stream-graph.js'
import { DEFAULT_MAX_PARALLELISM, keyGroupRange } from '../keys/key-groups.js'
import type { Counters } from '../metrics/counters.js'
import { barrier, data, END, IDLE, watermark, type Message, type StreamRecord } from '../messages/messages.js'
import { OperatorInstance } from '../runtime/operator-instance.js'
import type { Emitter } from '../runtime/emitter.js'
import { resumeFrom } from '../state/resume.js'
import { decodeSnapshot, encodeSnapshot } from '../state/snapshot-codec.js'
import { ManualClock, type Clock } from '../time/clock.js'

export interface HarnessOptions {
  readonly instance?: number
  readonly parallelism?: number
  readonly maxParallelism?: number
  readonly clock?: Clock
}

/**
 * Runs one operator instance by hand, as Flink's operator test harness does: feed records, watermarks
 * and barriers, read exactly what came out, snapshot through the real codec and restore elsewhere.
 *
 * @example
 * ```ts
 * const h = OperatorHarness.open(explode('words', (s: string) => s.split(' ')))
 * h.processRecords([record('a b', 1000)])
 * t.deepEqual(h.takeOutput(), [data([record('a', 1000), record('b', 1000)])])
 * ```
 */
export class OperatorHarness<I, O> {
  private readonly main: Message<O>[] = []
  private readonly sides = new Map<string, Message[]>()
  private lastSnapshot: OperatorSnapshot | undefined
  private readonly instance: OperatorInstance

  private constructor(
    readonly spec: TransformSpec<I, O>,
    options: HarnessOptions,
    resume: Resume | undefined,
  ) {
    const parallelism = options.parallelism ?? 1
    const maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM
    const index = options.instance ?? 0
    const outputs = new Map<string, Emitter[]>([
      [MAIN_OUTPUT, [{ process: (m) => this.main.push(m as Message<O>) }]],
    ])
    for (const tag of spec.sideOutputs) {
      const list: Message[] = []
      this.sides.set(tag, list)
      outputs.set(tag, [{ process: (m) => list.push(m) }])
    }
    this.instance = new OperatorInstance(
      spec,
      {
        instance: index,
        parallelism,
        maxParallelism,
        keyGroups: keyGroupRange(index, parallelism, maxParallelism),
        clock: options.clock ?? new ManualClock(),
        firstEpoch: resume ? resume.epoch + 1 : 0,
      },
      outputs,
      { onBarrier: (_address, _barrier, snapshot) => (this.lastSnapshot = snapshot) },
      resume,
    )
  }

  static open<I, O>(spec: TransformSpec<I, O>, options: HarnessOptions = {}): OperatorHarness<I, O> {
    return new OperatorHarness(spec, options, undefined)
  }

  /**
   * Builds a fresh instance from encoded snapshots (one per instance of the run that took them), keeping
   * only the key groups this instance owns, as a restore at any parallelism does.
   */
  static restore<I, O>(
    spec: TransformSpec<I, O>,
    snapshots: Uint8Array | readonly Uint8Array[],
    options: HarnessOptions & { epoch?: number } = {},
  ): OperatorHarness<I, O> {
    const list = (snapshots instanceof Uint8Array ? [snapshots] : snapshots).map((b) =>
      decodeSnapshot<OperatorSnapshot>(b),
    )
    const parallelism = options.parallelism ?? 1
    const maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM
    const owned = keyGroupRange(options.instance ?? 0, parallelism, maxParallelism)
    return new OperatorHarness(spec, options, resumeFrom(list, owned, options.epoch ?? 0))
  }

  get counters(): Counters {
    return this.instance.counters
  }

  get watermark(): number {
    return this.instance.watermark
  }

  process(message: Message<I>): this {
    this.instance.process(message)
    return this
  }

  processRecords(records: readonly StreamRecord<I>[]): this {
    return this.process(data(records))
  }

  processWatermark(time: number): this {
    return this.process(watermark(time))
  }

  processBarrier(epoch: number, options: { checkpoint?: boolean } = {}): this {
    return this.process(barrier(epoch, options))
  }

  processIdle(): this {
    return this.process(IDLE)
  }

  processEnd(): this {
    return this.process(END)
  }

  /** Every main-output message since the last take, in order. */
  takeOutput(): Message<O>[] {
    return this.main.splice(0)
  }

  /** The values of every record in the main output since the last take (control messages dropped). */
  takeValues(): O[] {
    return this.takeOutput().flatMap((m) => (m.kind === 'data' ? m.records.map((r) => r.value) : []))
  }

  takeSideOutput(tag: string): Message[] {
    return this.sides.get(tag)?.splice(0) ?? []
  }

  /** The snapshot of the last checkpoint barrier, encoded with the real codec. */
  snapshotBytes(): Uint8Array {
    return encodeSnapshot(this.lastSnapshot ?? {})
  }
}
