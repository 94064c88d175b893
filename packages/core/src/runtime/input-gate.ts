import { assertNever, ProtocolError } from '../errors.js'
import { barrier as barrierMessage, END, IDLE, watermark, type Message } from '../messages/messages.js'
import type { ValveOutput } from '../time/watermark-valve.js'
import { WatermarkValve } from '../time/watermark-valve.js'
import { BarrierAligner } from './barrier-aligner.js'
import type { Emitter } from './emitter.js'

type Handled = (() => void) | undefined

/**
 * The input side of an instance with exchange inputs: merges its channels into the one ordered stream
 * the instance sees. Watermarks go through the valve (the minimum over non-idle channels, forwarded only
 * when it rises); barriers are aligned (a channel that delivered barrier N waits, buffered, until N
 * came on every channel); End is forwarded once every channel ended. It is also the actor's mailbox:
 * a message that arrives while one is being handled waits its turn.
 */
export class InputGate {
  private readonly valve: WatermarkValve
  private readonly aligner: BarrierAligner
  private readonly blocked: [Message, Handled][][]
  private readonly mailbox: [number, Message, Handled][] = []
  private delivering = false
  private endSent = false
  private buffered = 0
  private pendingCheckpoint = false

  constructor(
    readonly channels: number,
    private readonly downstream: Emitter,
  ) {
    this.valve = new WatermarkValve(channels)
    this.aligner = new BarrierAligner(channels)
    this.blocked = Array.from({ length: channels }, () => [])
  }

  /** Messages waiting behind a barrier: counted by the runtime's backpressure. */
  get bufferedMessages(): number {
    return this.buffered
  }

  /**
   * Takes a message of channel `channel`. `handled` is called once the message has gone through, not
   * while it waits behind a barrier or in the mailbox: a channel from another thread returns its credit
   * then, so what alignment holds is bounded by the credits as well.
   */
  receive(channel: number, message: Message, handled?: () => void): void {
    if (this.delivering) {
      this.mailbox.push([channel, message, handled])
      return
    }
    this.delivering = true
    try {
      this.route(channel, message, handled)
      while (this.mailbox.length > 0) {
        const [c, m, h] = this.mailbox.shift()!
        this.route(c, m, h)
      }
    } finally {
      this.delivering = false
    }
  }

  private route(channel: number, message: Message, handled: Handled): void {
    if (this.aligner.isBlocked(channel)) {
      this.blocked[channel].push([message, handled])
      this.buffered++
      return
    }
    this.handle(channel, message)
    handled?.()
  }

  private handle(channel: number, message: Message): void {
    if (this.endSent)
      throw new ProtocolError(`a message (${message.kind}) arrived on channel ${channel} after End`)
    switch (message.kind) {
      case 'data':
        this.emitValve(this.valve.onData(channel))
        this.downstream.process(message)
        return
      case 'watermark':
        this.emitValve(this.valve.onWatermark(channel, message.time))
        return
      case 'idle':
        this.emitValve(this.valve.onIdle(channel))
        return
      case 'barrier': {
        this.pendingCheckpoint ||= message.checkpoint
        const { aligned } = this.aligner.onBarrier(channel, message.epoch)
        if (aligned !== undefined) this.release(aligned)
        return
      }
      case 'end': {
        this.emitValve(this.valve.onEnd(channel))
        const { aligned } = this.aligner.onEnd(channel)
        if (aligned !== undefined) this.release(aligned)
        if (this.valve.ended && !this.endSent) {
          this.endSent = true
          this.downstream.process(END)
        }
        return
      }
      default:
        assertNever(message)
    }
  }

  /** Barrier `epoch` came on every channel: pass it on, then replay what waited behind it. */
  private release(epoch: number): void {
    this.downstream.process(barrierMessage(epoch, { checkpoint: this.pendingCheckpoint }))
    this.pendingCheckpoint = false
    for (let c = 0; c < this.channels; c++) {
      const queue = this.blocked[c]
      while (queue.length > 0 && !this.aligner.isBlocked(c)) {
        this.buffered--
        const [message, handled] = queue.shift()!
        this.handle(c, message)
        handled?.()
      }
    }
  }

  private emitValve(output: ValveOutput): void {
    if (output.watermark !== undefined) this.downstream.process(watermark(output.watermark))
    if (output.idle) this.downstream.process(IDLE)
  }
}
