import type { MessagePort } from 'node:worker_threads'
import { Packr } from 'msgpackr'
import { assertNever, ProtocolError } from '../errors.js'
import { barrier, data, END, IDLE, watermark, type Message, type StreamRecord } from '../messages/messages.js'
import type { Backpressure } from './backpressure.js'
import type { Emitter } from './emitter.js'
import type { InputGate } from './input-gate.js'

/** Batches one channel may have in flight to another thread before the sending thread's sources hold back. */
export const CHANNEL_CREDITS = 8

const packr = new Packr({ mapsAsObjects: false, moreTypes: true })

const DATA = 0
const WATERMARK = 1
const BARRIER = 2
const IDLE_KIND = 3
const END_KIND = 4

/**
 * Encodes a message for another thread. Records travel as compact tuples `[value, timestamp, key,
 * windowStart, windowEnd]`; the bytes are copied out of msgpackr's shared buffer so they can be transferred.
 */
export function encodeMessage(message: Message): Uint8Array {
  let tuple: unknown[]
  switch (message.kind) {
    case 'data': {
      const records = message.records
      const flat: unknown[] = new Array(records.length * 5)
      for (let i = 0, o = 0; i < records.length; i++, o += 5) {
        const r = records[i]!
        flat[o] = r.value
        flat[o + 1] = r.timestamp
        flat[o + 2] = r.key
        flat[o + 3] = r.window?.start
        flat[o + 4] = r.window?.end
      }
      tuple = [DATA, flat]
      break
    }
    case 'watermark':
      tuple = [WATERMARK, message.time]
      break
    case 'barrier':
      tuple = [BARRIER, message.epoch, message.checkpoint]
      break
    case 'idle':
      tuple = [IDLE_KIND]
      break
    case 'end':
      tuple = [END_KIND]
      break
    default:
      return assertNever(message)
  }
  return Uint8Array.prototype.slice.call(packr.pack(tuple))
}

export function decodeMessage(bytes: Uint8Array): Message {
  const tuple = packr.unpack(bytes) as unknown[]
  switch (tuple[0]) {
    case DATA: {
      const flat = tuple[1] as unknown[]
      const records: StreamRecord[] = new Array(flat.length / 5)
      for (let i = 0, o = 0; o < flat.length; i++, o += 5) {
        const start = flat[o + 3] as number | undefined
        records[i] = {
          value: flat[o],
          timestamp: flat[o + 1] as number | null,
          key: flat[o + 2] as StreamRecord['key'],
          window: start === undefined ? undefined : { start, end: flat[o + 4] as number },
        }
      }
      return data(records)
    }
    case WATERMARK:
      return watermark(tuple[1] as number)
    case BARRIER:
      return barrier(tuple[1] as number, { checkpoint: tuple[2] as boolean })
    case IDLE_KIND:
      return IDLE
    case END_KIND:
      return END
    default:
      throw new ProtocolError(`a cross-thread message of unknown kind ${String(tuple[0])} arrived`)
  }
}

/** What travels on a port: a message for channel `c`, or (a bare number) a credit returned for channel `n`. */
interface PortMessage {
  readonly c: number
  readonly b: Uint8Array
}

/**
 * The exchange channels between this thread and the others: one MessagePort per pair of threads, each
 * message tagged with its channel's id. A port is FIFO, so every channel keeps its in-band order
 * (watermarks, barriers, Idle, End behind the data before them) and the receiving gate aligns barriers
 * as in one thread. Each channel has `CHANNEL_CREDITS` data batches of credit; while a channel has used
 * them all, the sending thread's backpressure holds its sources back.
 */
export class RemoteChannels {
  private readonly inFlight = new Map<number, number>()
  private readonly keys = new Map<number, object>()
  private readonly receivers = new Map<number, { gate: InputGate; index: number }>()
  private closed = false

  constructor(
    private readonly ports: ReadonlyMap<number, MessagePort>,
    private readonly backpressure: Backpressure,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The writing end of channel `channel`, whose gate lives on thread `thread`. */
  sender(thread: number, channel: number): Emitter {
    const port = this.ports.get(thread)
    if (!port) throw new ProtocolError(`no port to thread ${thread}`)
    const key = {}
    this.keys.set(channel, key)
    this.inFlight.set(channel, 0)
    return {
      process: (message) => {
        if (this.closed) return
        const bytes = encodeMessage(message)
        if (message.kind === 'data') {
          const n = this.inFlight.get(channel)! + 1
          this.inFlight.set(channel, n)
          if (n >= CHANNEL_CREDITS) this.backpressure.set(key, true)
        }
        port.postMessage({ c: channel, b: bytes } satisfies PortMessage, [bytes.buffer as ArrayBuffer])
      },
    }
  }

  /** Channel `channel` arrives here, as channel `index` of `gate`. */
  receiver(channel: number, gate: InputGate, index: number): void {
    this.receivers.set(channel, { gate, index })
  }

  /** Starts listening on every port: call once every sender and receiver is set. */
  start(): void {
    for (const port of this.ports.values()) {
      port.on('message', (message: PortMessage | number) => {
        if (this.closed) return
        if (typeof message === 'number') return this.credit(message)
        const target = this.receivers.get(message.c)
        if (!target) return this.onError(new ProtocolError(`a message for channel ${message.c} arrived on a thread that has none`))
        try {
          const decoded = decodeMessage(message.b)
          target.gate.receive(target.index, decoded)
          if (decoded.kind === 'data') port.postMessage(message.c)
        } catch (error) {
          this.onError(error)
        }
      })
    }
  }

  /** Stops sending and receiving; the ports no longer keep the thread alive. */
  close(): void {
    this.closed = true
    for (const port of this.ports.values()) port.close()
  }

  private credit(channel: number): void {
    const n = this.inFlight.get(channel)! - 1
    this.inFlight.set(channel, n)
    if (n < CHANNEL_CREDITS) this.backpressure.set(this.keys.get(channel)!, false)
  }
}
