import { ConfigError, ProtocolError } from '../errors.js'

/** `aligned` is set when an epoch's barrier has now come on every channel that has not ended. */
export type AlignerOutput = { readonly aligned?: number }

const NOTHING: AlignerOutput = Object.freeze({})

/**
 * Aligns checkpoint barriers over an instance's input channels (Chandy-Lamport, as Flink's aligned
 * checkpoints). After a barrier arrives on a channel, that channel is blocked: its owner holds back
 * the channel's later messages until the barrier has come on every channel, then forwards the
 * barrier once and releases them. A pure state machine: it returns when alignment completes.
 *
 * A channel that ended no longer holds alignment back. Barriers come in increasing epochs, one per
 * channel per epoch; anything else is a ProtocolError.
 *
 * @example
 * ```ts
 * const aligner = new BarrierAligner(2)
 * aligner.onBarrier(0, 1)  // {}  channel 0 is now blocked
 * aligner.isBlocked(0)     // true
 * aligner.onBarrier(1, 1)  // { aligned: 1 }  both unblocked: forward barrier 1, release held messages
 * ```
 */
export class BarrierAligner {
  private readonly blocked: boolean[]
  private readonly endedChannels: boolean[]
  private blockedCount = 0
  private endedCount = 0
  private pending: number | undefined = undefined
  private lastAligned = -Infinity

  constructor(channels: number) {
    if (!Number.isInteger(channels) || channels < 1) {
      throw new ConfigError(`a barrier aligner needs a whole number of input channels >= 1, got ${channels}`)
    }
    this.blocked = new Array<boolean>(channels).fill(false)
    this.endedChannels = new Array<boolean>(channels).fill(false)
  }

  /** A barrier arrived on channel. After it, that channel is blocked until alignment completes. */
  onBarrier(channel: number, epoch: number): AlignerOutput {
    this.checkChannel(channel, `barrier ${epoch}`)
    if (this.endedChannels[channel]) {
      throw new ProtocolError(
        `barrier ${epoch} on input channel ${channel} after its End: nothing may follow End on a channel`,
      )
    }
    if (!Number.isSafeInteger(epoch)) {
      throw new ProtocolError(`barrier epoch ${epoch} on input channel ${channel} is not a whole number`)
    }
    if (this.blocked[channel]) {
      throw new ProtocolError(
        `barrier ${epoch} on input channel ${channel}, which is still blocked by barrier ${this.pending}: ` +
          'a channel carries one barrier per epoch, and the next only after the epoch has aligned',
      )
    }
    if (epoch <= this.lastAligned) {
      throw new ProtocolError(
        `barrier ${epoch} on input channel ${channel}, but epoch ${this.lastAligned} has already aligned: epochs must increase`,
      )
    }
    if (this.pending !== undefined && epoch !== this.pending) {
      throw new ProtocolError(
        `barrier ${epoch} on input channel ${channel} while barrier ${this.pending} is aligning: ` +
          `every channel must carry barrier ${this.pending} before any later one`,
      )
    }
    this.pending = epoch
    this.blocked[channel] = true
    this.blockedCount++
    return this.alignIfComplete()
  }

  /** The channel ended: it no longer holds alignment back (may complete a pending alignment). */
  onEnd(channel: number): AlignerOutput {
    this.checkChannel(channel, 'End')
    if (this.endedChannels[channel]) {
      throw new ProtocolError(`End on input channel ${channel} after its End: a channel ends once`)
    }
    this.endedChannels[channel] = true
    this.endedCount++
    // A barrier that came before End still counts for its epoch; the channel just stops waiting.
    if (this.blocked[channel]) {
      this.blocked[channel] = false
      this.blockedCount--
    }
    return this.alignIfComplete()
  }

  /** Whether messages from channel must be held back until the pending epoch aligns. */
  isBlocked(channel: number): boolean {
    this.checkChannel(channel, 'isBlocked')
    return this.blocked[channel]
  }

  /** The epoch whose barrier has come on some channels but not yet all; undefined when none. */
  get pendingEpoch(): number | undefined {
    return this.pending
  }

  private alignIfComplete(): AlignerOutput {
    if (this.pending === undefined || this.blockedCount + this.endedCount < this.blocked.length)
      return NOTHING
    const epoch = this.pending
    this.blocked.fill(false)
    this.blockedCount = 0
    this.pending = undefined
    this.lastAligned = epoch
    return { aligned: epoch }
  }

  private checkChannel(channel: number, what: string): void {
    if (!Number.isInteger(channel) || channel < 0 || channel >= this.blocked.length) {
      throw new ProtocolError(
        `${what} on input channel ${channel}, but the aligner has channels 0..${this.blocked.length - 1}`,
      )
    }
  }
}
