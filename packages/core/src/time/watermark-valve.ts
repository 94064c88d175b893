import { ConfigError, ProtocolError } from '../errors.js'

/** What the valve asks its owner to emit downstream: a watermark, the Idle status, or nothing (`{}`). */
export interface ValveOutput {
  readonly watermark?: number
  readonly idle?: true
}

const ACTIVE = 0
const IDLE = 1
const ENDED = 2

const NOTHING: ValveOutput = Object.freeze({})
const OUTPUT_IDLE: ValveOutput = Object.freeze({ idle: true })

/**
 * Merges the watermarks of an operator's input channels into one, as Flink's StatusWatermarkValve:
 * the output watermark is the minimum over the *active* channels, emitted only when it rises. An idle
 * channel is left out of the minimum until it speaks again; an ended one for good (+∞). When every
 * channel that has not ended is idle, the output is idle. The valve is a pure state machine: it emits
 * nothing itself but returns what its owner should send on.
 *
 * A channel's watermark never goes back: a lower one than it already sent is ignored. Nothing may
 * follow End on a channel (ProtocolError). When the last channel ends the valve returns `{}` and
 * `ended` turns true: the owner then sends End, which is +∞ downstream, rather than a watermark.
 *
 * @example
 * ```ts
 * const valve = new WatermarkValve(2)
 * valve.onWatermark(0, 10)  // {}  (channel 1 is still at -∞)
 * valve.onWatermark(1, 20)  // { watermark: 10 }
 * valve.onIdle(0)           // { watermark: 20 }  (channel 0 no longer holds it back)
 * valve.onIdle(1)           // { idle: true }
 * valve.onData(0)           // {}  (channel 0 is active again; its next watermark moves things on)
 * ```
 */
export class WatermarkValve {
  private readonly watermarks: Float64Array
  private readonly statuses: Uint8Array
  private emitted = -Infinity
  private outputIdle = false
  private endedCount = 0

  constructor(channels: number) {
    if (!Number.isInteger(channels) || channels < 1) {
      throw new ConfigError(`a watermark valve needs a whole number of input channels >= 1, got ${channels}`)
    }
    this.watermarks = new Float64Array(channels).fill(-Infinity)
    this.statuses = new Uint8Array(channels)
  }

  /** The last watermark emitted; -Infinity before the first. */
  get watermark(): number {
    return this.emitted
  }

  /** Whether the output is idle: every channel that has not ended is idle. */
  get idle(): boolean {
    return this.outputIdle
  }

  /** Whether every channel has ended. */
  get ended(): boolean {
    return this.endedCount === this.statuses.length
  }

  /** A watermark arrived on channel; an idle channel becomes active again. */
  onWatermark(channel: number, time: number): ValveOutput {
    this.checkOpen(channel, 'a watermark')
    if (Number.isNaN(time)) {
      throw new ProtocolError(
        `watermark NaN on input channel ${channel}: a watermark must be a time in ms or ±Infinity`,
      )
    }
    this.activate(channel)
    if (time > this.watermarks[channel]) this.watermarks[channel] = time
    return this.emitIfRisen()
  }

  /** Data arrived on channel: an idle channel becomes active again (its minimum counts from now on). */
  onData(channel: number): ValveOutput {
    this.checkOpen(channel, 'data')
    this.activate(channel)
    return NOTHING
  }

  /** The channel went idle: it stops holding the minimum back until it speaks again. */
  onIdle(channel: number): ValveOutput {
    this.checkOpen(channel, 'Idle')
    if (this.statuses[channel] === IDLE) return NOTHING
    this.statuses[channel] = IDLE
    return this.afterLeaving()
  }

  /** The channel ended: it counts as +∞ and nothing may follow on it. */
  onEnd(channel: number): ValveOutput {
    this.checkOpen(channel, 'End')
    this.statuses[channel] = ENDED
    this.endedCount++
    if (this.ended) return NOTHING
    return this.afterLeaving()
  }

  private activate(channel: number): void {
    if (this.statuses[channel] === IDLE) {
      this.statuses[channel] = ACTIVE
      this.outputIdle = false
    }
  }

  /** After a channel left the minimum: the minimum may rise, or nothing active may remain. */
  private afterLeaving(): ValveOutput {
    if (this.hasActive()) return this.emitIfRisen()
    if (this.outputIdle) return NOTHING
    this.outputIdle = true
    return OUTPUT_IDLE
  }

  private emitIfRisen(): ValveOutput {
    let min = Infinity
    let any = false
    for (let i = 0; i < this.statuses.length; i++) {
      if (this.statuses[i] !== ACTIVE) continue
      any = true
      if (this.watermarks[i] < min) min = this.watermarks[i]
    }
    if (!any || min <= this.emitted) return NOTHING
    this.emitted = min
    return { watermark: min }
  }

  private hasActive(): boolean {
    for (let i = 0; i < this.statuses.length; i++) if (this.statuses[i] === ACTIVE) return true
    return false
  }

  private checkOpen(channel: number, what: string): void {
    if (!Number.isInteger(channel) || channel < 0 || channel >= this.statuses.length) {
      throw new ProtocolError(
        `${what} on input channel ${channel}, but the valve has channels 0..${this.statuses.length - 1}`,
      )
    }
    if (this.statuses[channel] === ENDED) {
      throw new ProtocolError(
        `${what} on input channel ${channel} after its End: nothing may follow End on a channel`,
      )
    }
  }
}
