import { assertNever, WeirError } from '../errors.js'
import type { SinkSpec } from '../graph/specs.js'
import type { SinkWriter } from '../io/sink.js'
import { performance } from 'node:perf_hooks'
import { Counters } from '../metrics/counters.js'
import type { BarrierMessage, Message } from '../messages/messages.js'
import type { Backpressure } from './backpressure.js'
import type { Emitter } from './emitter.js'
import type { InstanceAddress } from './operator-instance.js'

export interface SinkInstanceHooks {
  /** The writer prepared epoch `barrier.epoch`: every row of it (`rows` of them) is written. */
  onPrepared(instance: SinkInstance, barrier: BarrierMessage, rows: number): void
  /** End arrived: no more rows. The job closes the writer once the last epoch is committed. */
  onEnd(instance: SinkInstance): void
  onError(error: unknown): void
}

/**
 * One parallel instance of a sink: an asynchronous boundary. Rows, prepares and commits are queued and
 * handed to the writer one call at a time, in order; while more than `capacity` rows wait, the queue
 * reports itself full and the sources hold back. At a barrier the writer prepares the epoch; it commits
 * it when the job says the epoch is durable (two phases, as Flink's exactly-once sinks).
 */
export class SinkInstance implements Emitter, InstanceAddress {
  readonly nodeId: string
  readonly counters = new Counters()
  /** Ms the writer spent in write, prepare and commit calls, awaits included (0 when not measured). */
  busyMs = 0
  private currentWatermark = -Infinity
  /** Whether busy time is measured. */
  private readonly timed: boolean
  private queue: Promise<void> = Promise.resolve()
  private pendingRows = 0
  private epoch: number
  private epochRows = 0
  private failed = false

  constructor(
    private readonly spec: SinkSpec,
    readonly instance: number,
    private readonly writer: SinkWriter<unknown>,
    private readonly hooks: SinkInstanceHooks,
    private readonly backpressure: Backpressure,
    firstEpoch: number,
    options: { readonly timed?: boolean } = {},
  ) {
    this.timed = options.timed ?? false
    this.nodeId = spec.id
    this.epoch = firstEpoch
  }

  /** Rows handed to the sink and not yet written. */
  get queuedRows(): number {
    return this.pendingRows
  }

  /** Queued rows over the capacity: 1 or more means full, and the sources are held back. */
  get queueFill(): number {
    return this.pendingRows / this.spec.capacity
  }

  /** The watermark that reached the sink: -Infinity before any, +Infinity after End. */
  get watermark(): number {
    return this.currentWatermark
  }

  process(message: Message): void {
    switch (message.kind) {
      case 'data': {
        const rows = message.records.map((r) => r.value)
        const epoch = this.epoch
        this.counters.add('recordsIn', rows.length)
        this.counters.add('batchesIn')
        this.epochRows += rows.length
        this.pendingRows += rows.length
        this.updatePressure()
        this.enqueue(async () => {
          await this.timedCall(() => this.writer.write(rows, epoch))
          this.pendingRows -= rows.length
          this.counters.add('rowsWritten', rows.length)
          this.updatePressure()
        })
        return
      }
      case 'barrier': {
        this.epoch = message.epoch + 1
        const rows = this.epochRows
        this.epochRows = 0
        this.enqueue(async () => {
          await this.timedCall(() => this.writer.prepare?.(message.epoch))
          this.hooks.onPrepared(this, message, rows)
        })
        return
      }
      case 'end':
        this.currentWatermark = Infinity
        this.enqueue(() => Promise.resolve(this.hooks.onEnd(this)))
        return
      case 'watermark':
        if (message.time > this.currentWatermark) this.currentWatermark = message.time
        return
      case 'idle':
        return
      default:
        assertNever(message)
    }
  }

  /** Makes epoch `epoch` visible: every instance prepared it and its checkpoint is committed. */
  commit(epoch: number): Promise<void> {
    this.enqueue(async () => {
      await this.timedCall(() => this.writer.commit(epoch))
      this.counters.set('lastCommittedEpoch', epoch)
    })
    return this.queue
  }

  /**
   * Closes the writer after a failure of the job, once the call in progress (if any) has settled:
   * nothing else queued runs. Never rejects.
   */
  async abort(): Promise<void> {
    this.failed = true
    await this.queue
    try {
      await this.writer.close()
    } catch {
      // The job has failed already; this failure adds nothing a user could act on.
    }
  }

  /** Closes the writer, after everything queued. */
  close(): Promise<void> {
    this.enqueue(async () => {
      await this.writer.close()
    })
    return this.queue
  }

  private async timedCall(call: () => unknown): Promise<void> {
    if (!this.timed) {
      await call()
      return
    }
    const start = performance.now()
    try {
      await call()
    } finally {
      this.busyMs += performance.now() - start
    }
  }

  private enqueue(step: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.failed) return
      try {
        await step()
      } catch (cause) {
        this.failed = true
        this.backpressure.set(this, false)
        this.hooks.onError(
          cause instanceof WeirError
            ? cause
            : new WeirError(
                'sink-failed',
                `sink '${this.spec.id}' (${this.spec.name}) failed: ${String((cause as Error)?.message ?? cause)}`,
                { cause },
              ),
        )
      }
    })
  }

  private updatePressure(): void {
    this.backpressure.set(this, this.pendingRows > this.spec.capacity)
  }
}
