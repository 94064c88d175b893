import type { DecodeContext, Key, Source, SourceBatch, SourceReader, SourceReaderContext } from '@weir/core'
import { decodeRecord } from './repartition-record.js'

/** A record of a repartition topic as the downstream sub-topology sees it. */
export interface RepartitionData {
  readonly key: Key
  /** Event time, ms. */
  readonly t: number | null
  readonly value: unknown
}

/** A record of a repartition topic that is not a repartition message: why, and its bytes. */
export interface RepartitionRejected {
  readonly rejected: string
  /** The whole Kafka record's value, base64 (empty for a tombstone). */
  readonly raw: string
}

/** What the repartition source reads: pass `decodeRepartitioned` as the source's `decode`. */
export type RepartitionInput = RepartitionData | RepartitionRejected

/**
 * The `decode` of a repartition source: a record that is no repartition message goes to the source's
 * dead letters with its reason (counted as `numDeadLetters`), never silently away.
 */
export function decodeRepartitioned(
  input: RepartitionInput,
  context: DecodeContext,
): RepartitionData | undefined {
  if ('rejected' in input) {
    context.deadLetter(input.raw, `not a repartition message: ${input.rejected}`)
    return undefined
  }
  return input
}

/** Where a repartition partition resumes: the next offset, and what it knows of each upstream writer. */
export interface RepartitionPosition {
  readonly offset: number
  /** Per writer: its highest watermark, and the highest place taken (data at or below it is a replay). */
  readonly writers: Readonly<Record<string, RepartitionWriterPosition>>
}

/**
 * How far a partition has heard one writer: its highest `watermark` (-∞ before the first), and the
 * `offset` and `index` (`-1`, `-1` before the first) of the highest data taken, compared as a pair:
 * input offset first, then index among that input record's rows.
 */
export interface RepartitionWriterPosition {
  readonly watermark: number
  readonly offset: number
  readonly index: number
}

/** Raw records of the partitions a process owns, fed by its consumer (see `RepartitionTasks`). */
export interface RepartitionFeed {
  /** Takes what has been fetched for `partition` (offset order), or nothing. */
  take(partition: number): readonly { readonly offset: number; readonly value: Buffer | null }[]
  /** Resolves when something arrives, or after `ms`. */
  wait(ms: number): Promise<void>
}

/**
 * The downstream half of a keyed exchange: reads the given partitions of a repartition topic from
 * `feed`. Per partition it keeps, for every upstream writer named in `writers`, the highest watermark
 * that writer's control messages carried and the highest (input offset, index) of its data taken; a
 * data message whose pair is not higher is a replay (an upstream task re-reading after a rebalance or
 * a crash) and is dropped. The split's watermark (`SourceBatch.watermark`) is the minimum over all
 * writers, a writer not heard of yet holding it at -∞: writers are the input topic's partitions,
 * which never go away, so none has to be declared gone. Positions carry both tables, so a restore
 * resumes the exact same decisions.
 *
 * With `idleTimeoutMs` (the query's `idleTimeout`), a writer not heard of on a partition for that long
 * (wall clock; data or watermark) stops holding the partition's watermark back until it is heard again,
 * as an idle source partition does in one process (Flink's idleness); when every writer is idle the
 * watermark stays where it was. Rows such a writer sends later may then be late, as in one process.
 *
 * @example
 * ```ts
 * graph.from(defineSource('source', repartitionSource({ topic, partitions: [0, 2], writers, feed }), { timestamp: (r) => r.t, watermark: { delay: 0 } }))
 * ```
 */
export function repartitionSource(options: {
  readonly topic: string
  readonly partitions: readonly number[]
  readonly writers: readonly string[]
  readonly feed: RepartitionFeed
  readonly idleTimeoutMs?: number
}): Source<RepartitionInput> & { readonly description: string } {
  return {
    name: 'kafka-repartition',
    description: `RepartitionSource[${options.topic}: ${options.partitions.join(',')}]`,
    bounded: false,
    createReader: (context) => new RepartitionReader(options, context),
  }
}

interface PartitionState {
  readonly partition: number
  readonly split: string
  offset: number
  readonly writers: Map<string, WriterState>
  /** Wall-clock ms each writer was last heard of on this partition (the reader's start for those never heard). */
  readonly heard: Map<string, number>
  /** The highest watermark handed to the core for this split. */
  supplied: number
}

/** A `RepartitionWriterPosition` as the reader updates it. */
interface WriterState {
  watermark: number
  offset: number
  index: number
}

class RepartitionReader implements SourceReader<RepartitionInput> {
  private readonly states: PartitionState[]
  private next = 0
  private closed = false
  private readonly clock: SourceReaderContext['clock']

  constructor(
    private readonly options: Parameters<typeof repartitionSource>[0],
    context: SourceReaderContext,
  ) {
    this.clock = context.clock
    const now = context.clock.now()
    // One instance reads every partition the process owns (the sub-topology's source has parallelism 1).
    const mine = options.partitions.filter((_, i) => i % context.parallelism === context.instance)
    this.states = mine.map((partition) => {
      const split = `${options.topic}-${partition}`
      const restored = context.restored.get(split) as RepartitionPosition | undefined
      return {
        partition,
        split,
        offset: restored?.offset ?? 0,
        writers: new Map(Object.entries(restored?.writers ?? {}).map(([w, s]) => [w, writerOf(s)])),
        heard: new Map(options.writers.map((w) => [w, now])),
        supplied: -Infinity,
      }
    })
  }

  /** Where each owned partition starts: the consumer seeks there. */
  get starts(): ReadonlyMap<number, number> {
    return new Map(this.states.map((s) => [s.partition, s.offset]))
  }

  async poll(): Promise<SourceBatch<RepartitionInput> | 'idle' | 'end'> {
    for (let attempt = 0; attempt < 2 && !this.closed; attempt++) {
      for (let i = 0; i < this.states.length; i++) {
        const state = this.states[(this.next + i) % this.states.length]
        const messages = this.options.feed.take(state.partition)
        if (messages.length === 0) continue
        this.next = (this.next + i + 1) % this.states.length
        return this.batchOf(state, messages)
      }
      // Nothing came: a writer that went idle may let a partition's watermark move on.
      if (this.options.idleTimeoutMs !== undefined) {
        for (const state of this.states) {
          const watermark = this.watermarkOf(state)
          if (watermark > state.supplied) {
            state.supplied = watermark
            return { split: state.split, values: [], position: positionOf(state), watermark }
          }
        }
      }
      if (attempt === 0) await this.options.feed.wait(100)
    }
    return 'idle'
  }

  /** The minimum over the writers that are not idle, never lower than what was supplied. */
  private watermarkOf(state: PartitionState): number {
    const { idleTimeoutMs } = this.options
    const now = this.clock.now()
    let watermark = Infinity
    let active = 0
    for (const w of this.options.writers) {
      if (idleTimeoutMs !== undefined && now - (state.heard.get(w) ?? now) >= idleTimeoutMs) continue
      active++
      watermark = Math.min(watermark, state.writers.get(w)?.watermark ?? -Infinity)
    }
    if (active === 0) return state.supplied
    return Math.max(watermark, state.supplied)
  }

  private batchOf(
    state: PartitionState,
    messages: readonly { offset: number; value: Buffer | null }[],
  ): SourceBatch<RepartitionInput> {
    const values: RepartitionInput[] = []
    const timestamps: (number | null)[] = []
    const now = this.clock.now()
    for (const { offset, value } of messages) {
      if (offset < state.offset) continue
      state.offset = offset + 1
      const messages = value === null ? ['no value (a tombstone)'] : decodeRecord(value)
      let raw: string | undefined
      messages.forEach((message, i) => {
        if (typeof message === 'string') {
          const where = messages.length > 1 ? `offset ${offset}, message ${i}` : `offset ${offset}`
          raw ??= value === null ? '' : value.toString('base64')
          values.push({ rejected: `${message} (${where})`, raw })
          timestamps.push(null)
          return
        }
        const writer: WriterState = state.writers.get(message.w) ?? {
          watermark: -Infinity,
          offset: -1,
          index: -1,
        }
        state.writers.set(message.w, writer)
        state.heard.set(message.w, now)
        if (message.k === 'w') {
          if (message.wm > writer.watermark) writer.watermark = message.wm
        } else if (message.s > writer.offset || (message.s === writer.offset && message.i > writer.index)) {
          writer.offset = message.s
          writer.index = message.i
          values.push({ key: message.key, t: message.t, value: message.v })
          timestamps.push(message.t)
        }
      })
    }
    const watermark = this.watermarkOf(state)
    state.supplied = watermark
    return { split: state.split, values, position: positionOf(state), timestamps, watermark }
  }

  splits(): readonly string[] {
    return this.states.map((s) => s.split)
  }

  close(): Promise<void> {
    this.closed = true
    return Promise.resolve()
  }
}

function positionOf(state: PartitionState): RepartitionPosition {
  return {
    offset: state.offset,
    writers: Object.fromEntries([...state.writers].map(([w, s]) => [w, { ...s }])),
  }
}

/**
 * A restored writer position as the reader keeps it. A checkpoint of version 1 of the topic holds
 * `{ wm, seq }` with `seq = offset * 64 + index`: read as the same place, so the dedup goes on unchanged.
 */
function writerOf(restored: RepartitionWriterPosition | { wm: number; seq: number }): WriterState {
  if ('seq' in restored) {
    return { watermark: restored.wm, offset: Math.floor(restored.seq / 64), index: restored.seq % 64 }
  }
  return { ...restored }
}
