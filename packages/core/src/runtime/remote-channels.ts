import type { MessagePort } from 'node:worker_threads'
import { assertNever, ProtocolError } from '../errors.js'
import { barrier, data, END, IDLE, watermark, type Message, type StreamRecord } from '../messages/messages.js'
import type { Backpressure } from './backpressure.js'
import type { Emitter } from './emitter.js'
import type { InputGate } from './input-gate.js'

/** Batches one channel may have in flight to another thread before the sending thread's sources hold back. */
export const CHANNEL_CREDITS = 8

const DATA = 0
const WATERMARK = 1
const BARRIER = 2
const IDLE_KIND = 3
const END_KIND = 4
/** In place of the keys column: every record's key is its value (a stream keyed by itself, as words are). */
const KEYS_ARE_VALUES = 0

/**
 * What travels on a port for a message of channel `c`, as the port's structured clone copies it (in C++,
 * no JSON or msgpack pass in JS). A data batch goes by columns: the values, the keys (or
 * `KEYS_ARE_VALUES`), and event times and window bounds as `Float64Array`s (NaN for none; null when no
 * record has one), whose buffers are transferred.
 */
export type PortMessage =
  | readonly [
      c: number,
      kind: typeof DATA,
      values: unknown[],
      keys: unknown[] | typeof KEYS_ARE_VALUES,
      times: Float64Array | null,
      starts: Float64Array | null,
      ends: Float64Array | null,
    ]
  | readonly [c: number, kind: typeof WATERMARK, time: number]
  | readonly [c: number, kind: typeof BARRIER, epoch: number, checkpoint: boolean]
  | readonly [c: number, kind: typeof IDLE_KIND | typeof END_KIND]

/**
 * Encodes a message of channel `channel` for another thread, with the buffers to transfer. Values and keys
 * must be structured-cloneable (plain data: objects, arrays, Maps, Dates, typed arrays; class instances
 * arrive as plain objects).
 */
export function encodeMessage(
  channel: number,
  message: Message,
): { message: PortMessage; transfer: ArrayBuffer[] } {
  switch (message.kind) {
    case 'data': {
      const records = message.records
      const n = records.length
      const values: unknown[] = new Array(n)
      let keysAreValues = true
      let times: Float64Array | null = null
      let starts: Float64Array | null = null
      let ends: Float64Array | null = null
      for (let i = 0; i < n; i++) {
        const r = records[i]
        values[i] = r.value
        if (keysAreValues && r.key !== r.value) keysAreValues = false
        if (r.timestamp !== null) {
          if (times === null) times = new Float64Array(n).fill(NaN)
          times[i] = r.timestamp
        }
        if (r.window !== undefined) {
          if (starts === null) {
            starts = new Float64Array(n).fill(NaN)
            ends = new Float64Array(n).fill(NaN)
          }
          starts[i] = r.window.start
          ends![i] = r.window.end
        }
      }
      let keys: unknown[] | typeof KEYS_ARE_VALUES = KEYS_ARE_VALUES
      if (!keysAreValues) {
        keys = new Array(n)
        for (let i = 0; i < n; i++) keys[i] = records[i].key
      }
      const transfer: ArrayBuffer[] = []
      for (const column of [times, starts, ends])
        if (column !== null) transfer.push(column.buffer as ArrayBuffer)
      return { message: [channel, DATA, values, keys, times, starts, ends], transfer }
    }
    case 'watermark':
      return { message: [channel, WATERMARK, message.time], transfer: [] }
    case 'barrier':
      return { message: [channel, BARRIER, message.epoch, message.checkpoint], transfer: [] }
    case 'idle':
      return { message: [channel, IDLE_KIND], transfer: [] }
    case 'end':
      return { message: [channel, END_KIND], transfer: [] }
    default:
      return assertNever(message)
  }
}

export function decodeMessage(message: PortMessage): Message {
  switch (message[1]) {
    case DATA: {
      const [, , values, keys, times, starts, ends] = message
      const n = values.length
      const records = new Array<StreamRecord>(n)
      for (let i = 0; i < n; i++) {
        const value = values[i]
        const t = times === null ? NaN : times[i]
        const start = starts === null ? NaN : starts[i]
        records[i] = {
          value,
          timestamp: t === t ? t : null,
          key: (keys === KEYS_ARE_VALUES ? value : keys[i]) as StreamRecord['key'],
          window: start === start ? { start, end: ends![i] } : undefined,
        }
      }
      return data(records)
    }
    case WATERMARK:
      return watermark(message[2])
    case BARRIER:
      return barrier(message[2], { checkpoint: message[3] })
    case IDLE_KIND:
      return IDLE
    case END_KIND:
      return END
    default:
      throw new ProtocolError(
        `a cross-thread message of unknown kind ${String((message as unknown[])[1])} arrived`,
      )
  }
}

/**
 * The exchange channels between this thread and the others: one MessagePort per pair of threads, each
 * message tagged with its channel's id. A port is FIFO, so every channel keeps its in-band order
 * (watermarks, barriers, Idle, End behind the data before them) and the receiving gate aligns barriers
 * as in one thread. Each channel has `CHANNEL_CREDITS` data batches of credit, returned as the receiving
 * gate passes each batch on (not while barrier alignment holds it); while a channel has used them all,
 * the sending thread's backpressure holds its sources back.
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
        const { message: encoded, transfer } = encodeMessage(channel, message)
        if (message.kind === 'data') {
          const n = this.inFlight.get(channel)! + 1
          this.inFlight.set(channel, n)
          if (n >= CHANNEL_CREDITS) this.backpressure.set(key, true)
        }
        port.postMessage(encoded, transfer)
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
        const channel = message[0]
        const target = this.receivers.get(channel)
        if (!target)
          return this.onError(
            new ProtocolError(`a message for channel ${channel} arrived on a thread that has none`),
          )
        try {
          const decoded = decodeMessage(message)
          // The credit goes back once the batch has gone through the gate, not while alignment holds it.
          target.gate.receive(
            target.index,
            decoded,
            decoded.kind === 'data'
              ? () => {
                  if (!this.closed) port.postMessage(channel)
                }
              : undefined,
          )
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
