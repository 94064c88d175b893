import { sizeOf, type KafkaRecord } from './kafka-record.js'

/** Records of one partition taken from the hand-off, and where the partition resumes after them. */
export interface HandOffPart {
  readonly split: string
  readonly records: KafkaRecord[]
  readonly position: number
}

interface Entry {
  readonly split: string
  readonly records: KafkaRecord[]
  /** Index of the first record not taken yet. */
  next: number
  /** Where the partition resumes once the whole entry is taken (control records included). */
  readonly end: number
}

/**
 * The bounded queue between kafkajs, which pushes fetched batches, and weir, which polls: batches
 * wait here in arrival order until `take`. It never refuses a batch (one that is fetched is in memory
 * already); it says when it is `full`, and the source then pauses its partitions, so what waits stays
 * under the limits plus what was in flight, and kafkajs keeps its heartbeats going meanwhile.
 */
export class HandOff {
  private readonly queue: Entry[] = []
  private recordCount = 0
  private byteCount = 0

  constructor(private readonly limits: { readonly maxRecords: number; readonly maxBytes: number }) {}

  get records(): number {
    return this.recordCount
  }

  get bytes(): number {
    return this.byteCount
  }

  get isEmpty(): boolean {
    return this.queue.length === 0
  }

  /** At or over a limit: time to pause. */
  get full(): boolean {
    return this.recordCount >= this.limits.maxRecords || this.byteCount >= this.limits.maxBytes
  }

  /** At most half of each limit: paused partitions may resume. */
  get drained(): boolean {
    return this.recordCount <= this.limits.maxRecords / 2 && this.byteCount <= this.limits.maxBytes / 2
  }

  /** Adds a partition's fetched records; `end` is where the partition resumes after all of them. */
  push(split: string, records: KafkaRecord[], end: number): void {
    this.queue.push({ split, records, next: 0, end })
    this.recordCount += records.length
    for (const record of records) this.byteCount += sizeOf(record)
  }

  /** Up to `limit` records of the oldest entry (an entry of no records, which only moves a position, is taken whole). */
  take(limit: number): HandOffPart | undefined {
    const entry = this.queue[0]
    if (!entry) return undefined
    const left = entry.records.length - entry.next
    if (left > 0 && limit < 1) return undefined
    const count = Math.min(left, limit)
    const records = entry.records.slice(entry.next, entry.next + count)
    entry.next += count
    this.recordCount -= count
    for (const record of records) this.byteCount -= sizeOf(record)
    if (entry.next === entry.records.length) {
      this.queue.shift()
      return { split: entry.split, records, position: entry.end }
    }
    return { split: entry.split, records, position: records[records.length - 1].offset + 1 }
  }

  /** Forgets what waits for the given splits (partitions revoked from this consumer). */
  drop(splits: ReadonlySet<string>): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const entry = this.queue[i]
      if (!splits.has(entry.split)) continue
      for (const record of entry.records.slice(entry.next)) {
        this.recordCount--
        this.byteCount -= sizeOf(record)
      }
      this.queue.splice(i, 1)
    }
  }
}
