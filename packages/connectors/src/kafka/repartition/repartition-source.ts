import type { DecodeContext, Source, SourceBatch, SourceReader, SourceReaderContext } from '@weir/core'
import { decodeRecord } from './repartition-record.js'

/** A record of a repartition topic as the downstream sub-topology sees it. */
export interface RepartitionData {
  readonly key: string
  /** Event time, ms. */
  readonly t: number
  readonly value: unknown
}

/** A record of a repartition topic that is not a repartition message: why, and its text. */
export interface RepartitionRejected {
  readonly rejected: string
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
  /** Per writer: its highest watermark and the highest sequence number taken (lower ones are replays). */
  readonly writers: Readonly<Record<string, { readonly wm: number; readonly seq: number }>>
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
 * that writer's control records carried and the highest sequence number taken; a data record whose
 * sequence number is not higher is a replay (an upstream task re-reading after a rebalance or a
 * crash) and is dropped. The split's watermark (`SourceBatch.watermark`) is the minimum over all
 * writers, a writer not heard of yet holding it at -∞: writers are the input topic's partitions,
 * which never go away, so none has to be declared gone. Positions carry both tables, so a restore
 * resumes the exact same decisions.
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
  readonly writers: Map<string, { wm: number; seq: number }>
}

class RepartitionReader implements SourceReader<RepartitionInput> {
  private readonly states: PartitionState[]
  private next = 0
  private closed = false

  constructor(
    private readonly options: Parameters<typeof repartitionSource>[0],
    context: SourceReaderContext,
  ) {
    // One instance reads every partition the process owns (the sub-topology's source has parallelism 1).
    const mine = options.partitions.filter((_, i) => i % context.parallelism === context.instance)
    this.states = mine.map((partition) => {
      const split = `${options.topic}-${partition}`
      const restored = context.restored.get(split) as RepartitionPosition | undefined
      return {
        partition,
        split,
        offset: restored?.offset ?? 0,
        writers: new Map(Object.entries(restored?.writers ?? {}).map(([w, s]) => [w, { ...s }])),
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
      if (attempt === 0) await this.options.feed.wait(100)
    }
    return 'idle'
  }

  private batchOf(
    state: PartitionState,
    messages: readonly { offset: number; value: Buffer | null }[],
  ): SourceBatch<RepartitionInput> {
    const values: RepartitionInput[] = []
    const timestamps: (number | null)[] = []
    for (const { offset, value } of messages) {
      if (offset < state.offset) continue
      state.offset = offset + 1
      const raw = value === null ? '' : value.toString()
      const messages = value === null ? ['no value (a tombstone)'] : decodeRecord(raw)
      messages.forEach((message, i) => {
        if (typeof message === 'string') {
          const where = messages.length > 1 ? `offset ${offset}, message ${i}` : `offset ${offset}`
          values.push({ rejected: `${message} (${where})`, raw })
          timestamps.push(null)
          return
        }
        const writer = state.writers.get(message.w) ?? { wm: -Infinity, seq: -1 }
        state.writers.set(message.w, writer)
        if (message.k === 'w') {
          if (message.wm > writer.wm) writer.wm = message.wm
        } else if (message.s > writer.seq) {
          writer.seq = message.s
          values.push({ key: message.key, t: message.t, value: message.v })
          timestamps.push(message.t)
        }
      })
    }
    let watermark = Infinity
    for (const w of this.options.writers)
      watermark = Math.min(watermark, state.writers.get(w)?.wm ?? -Infinity)
    const position: RepartitionPosition = {
      offset: state.offset,
      writers: Object.fromEntries([...state.writers].map(([w, s]) => [w, { ...s }])),
    }
    return { split: state.split, values, position, timestamps, watermark }
  }

  splits(): readonly string[] {
    return this.states.map((s) => s.split)
  }

  close(): Promise<void> {
    this.closed = true
    return Promise.resolve()
  }
}
