// An independent computation of what Spark Structured Streaming outputs for the tutorial's three queries,
// micro-batch by micro-batch: plain loops over the parsed lines, written from Spark's documented
// semantics, sharing no code with weir. The tests compare every epoch of weir with it.
//
// One weir epoch is compared with one Spark micro-batch *and* the no-data batch Spark runs right after
// it when the watermark moved (spark.sql.streaming.noDataMicroBatches.enabled, on by default): weir
// moves the watermark after each polled batch, before the epoch's barrier, so both happen in one epoch.

/** A line as `from_json(value, 'creation_time TIMESTAMP, tweet_text STRING')` reads it in PERMISSIVE mode. */
export interface ParsedTweet {
  /** Epoch ms, or null when missing, null or malformed. */
  readonly time: number | null
  readonly text: string | null
  /** Whether the record is malformed (Spark sets `_corrupt_record`); the fields that parsed are kept. */
  readonly malformed: boolean
}

/** A window as `{start, end}` in ms. */
export interface Span {
  readonly start: number
  readonly end: number
}

export interface WindowCount extends Span {
  readonly count: number
}

export interface WordCount {
  readonly word: string
  readonly count: number
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/

/**
 * Parses one line; undefined for a blank one (Spark's JSON source skips them). Keys outside the schema
 * are ignored; a missing or null field is null and not malformed; a field that does not convert is null
 * and makes the record malformed, the other fields kept (Spark 3's partial results); text that is not a
 * JSON object is malformed with every field null. Timestamps: the ISO-8601 UTC form the fixture uses,
 * or a number of seconds.
 */
export function parseLine(line: string): ParsedTweet | undefined {
  if (line.trim() === '') return undefined
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch {
    return { time: null, text: null, malformed: true }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { time: null, text: null, malformed: true }
  const record = json as Record<string, unknown>
  let malformed = false
  let time: number | null = null
  const rawTime = Object.hasOwn(record, 'creation_time') ? record.creation_time : null
  if (typeof rawTime === 'string') {
    const m = ISO_UTC.exec(rawTime)
    if (m) {
      const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ]
      time = Date.UTC(y, mo - 1, d, h, mi, s, Number((m[7] ?? '0').padEnd(3, '0')))
    } else malformed = true
  } else if (typeof rawTime === 'number') {
    time = Math.round(rawTime * 1000)
  } else if (rawTime !== null && rawTime !== undefined) {
    malformed = true
  }
  let text: string | null = null
  const rawText = Object.hasOwn(record, 'tweet_text') ? record.tweet_text : null
  if (typeof rawText === 'string') text = rawText
  else if (rawText !== null && rawText !== undefined) malformed = true
  return { time, text, malformed }
}

/** Spark's `split(str, ' ')` (limit -1): every separator splits, empty tokens kept, leading and trailing. */
export function sparkSplit(text: string): string[] {
  const tokens: string[] = []
  let token = ''
  for (const c of text) {
    if (c === ' ') {
      tokens.push(token)
      token = ''
    } else token += c
  }
  tokens.push(token)
  return tokens
}

/** Spark's string order: by UTF-8 bytes, which is code point order (not UTF-16 code units). */
export function compareUtf8(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!)
  const y = [...b].map((c) => c.codePointAt(0)!)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i]
  return x.length - y.length
}

/**
 * Every sliding window that contains t, earliest first: starts `t - ((t - offset) mod slide) - k*slide`
 * for k = 0, 1, ... while `start > t - size`.
 */
export function windowsOf(t: number, size: number, slide: number, offset = 0): Span[] {
  const mod = (((t - offset) % slide) + slide) % slide
  const windows: Span[] = []
  for (let start = t - mod; start > t - size; start -= slide) windows.push({ start, end: start + size })
  return windows.reverse()
}

/** Query 1 in complete mode: per micro-batch, the whole table sorted by count descending, then word. */
export function wordCountsReference(
  batches: readonly (readonly ParsedTweet[])[],
  limit = Infinity,
): WordCount[][] {
  const counts = new Map<string, number>()
  return batches.map((batch) => {
    for (const tweet of batch) {
      if (tweet.text === null) continue // explode(split(null)) yields no row
      for (const word of sparkSplit(tweet.text)) counts.set(word, (counts.get(word) ?? 0) + 1)
    }
    return [...counts]
      .map(([word, count]) => ({ word, count }))
      .sort((a, b) => b.count - a.count || compareUtf8(a.word, b.word))
      .slice(0, limit)
  })
}

export interface WindowedOptions {
  readonly size: number
  readonly slide: number
  /** withWatermark's delay; none: no watermark (nothing is late, nothing is evicted). */
  readonly delay?: number
  readonly mode: 'append' | 'update' | 'complete'
}

export interface WindowedBatch {
  /** The rows the sink gets, by window start. */
  readonly rows: WindowCount[]
  /** The watermark after the batch (-Infinity before any event time, or without a watermark). */
  readonly watermark: number
  /** Rows dropped because every window they fall in had closed (end <= the watermark in force). */
  readonly late: number
  /** Rows with no event time: in no window. */
  readonly withoutTime: number
  /** Windows still held in state after the batch. */
  readonly windowsHeld: number
  /**
   * weir's state rows after the batch: it keeps one accumulator per slice (gcd(size, slide) long) that
   * an open window still needs, not one per window.
   */
  readonly slicesHeld: number
}

/**
 * Queries 2 and 3: `groupBy(window(creation_time, size, slide)).count()`, optionally behind
 * `withWatermark(creation_time, delay)`, in an output mode. The watermark in force for a batch is the
 * one computed after the previous batch (max event time seen so far - delay), so rows of one batch are
 * never late against each other. A row is dropped when every window it falls in has `end <= watermark`;
 * otherwise it counts in its windows that are still open. `update` emits the windows the batch changed,
 * with cumulative counts; `append` emits a window once, in the batch after which the watermark passed
 * its end, with its final count; `complete` the whole table. Windows behind the watermark are evicted,
 * except in complete mode, where (as Spark) the watermark drops nothing and evicts nothing.
 */
export function windowedCountsReference(
  batches: readonly (readonly ParsedTweet[])[],
  options: WindowedOptions,
): WindowedBatch[] {
  const { size, slide, delay, mode } = options
  const sliceLength = gcd(size, slide)
  const enforced = delay !== undefined && mode !== 'complete'
  const counts = new Map<number, number>()
  const slices = new Set<number>()
  let maxTime = -Infinity
  let watermark = -Infinity
  return batches.map((batch) => {
    const inForce = watermark
    const changed = new Set<number>()
    let late = 0
    let withoutTime = 0
    for (const tweet of batch) {
      if (tweet.time === null) {
        withoutTime++
        continue
      }
      maxTime = Math.max(maxTime, tweet.time)
      const open = windowsOf(tweet.time, size, slide).filter((w) => !enforced || w.end > inForce)
      if (open.length === 0) {
        late++
        continue
      }
      for (const w of open) {
        counts.set(w.start, (counts.get(w.start) ?? 0) + 1)
        changed.add(w.start)
      }
      slices.add(tweet.time - (tweet.time % sliceLength))
    }
    if (delay !== undefined && maxTime > -Infinity) watermark = Math.max(watermark, maxTime - delay)
    const row = (start: number): WindowCount => ({ start, end: start + size, count: counts.get(start)! })
    let starts: number[]
    if (mode === 'complete') starts = [...counts.keys()]
    else if (mode === 'update') starts = [...changed]
    else starts = [...counts.keys()].filter((start) => start + size <= watermark)
    const rows = starts.sort((a, b) => a - b).map(row)
    if (enforced) {
      for (const start of [...counts.keys()]) if (start + size <= watermark) counts.delete(start)
      for (const slice of [...slices]) if (lastEnd(slice, size, slide) <= watermark) slices.delete(slice)
    }
    return { rows, watermark, late, withoutTime, windowsHeld: counts.size, slicesHeld: slices.size }
  })
}

/** The end of the last window that contains the slice starting at `start`. */
function lastEnd(start: number, size: number, slide: number): number {
  return start - (((start % slide) + slide) % slide) + size
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}

/**
 * Which batches (files) each epoch read, from the rows each epoch read. With a timer-driven trigger
 * (availableNow, processing time) an epoch ends between two polled batches wherever the trigger fell,
 * so it holds whole files, but how many is timing; the watermark still moves after each file.
 */
export function batchesOfEpochs(
  rowsPerEpoch: readonly number[],
  rowsPerBatch: readonly number[],
): number[][] {
  const groups: number[][] = []
  let next = 0
  for (const rows of rowsPerEpoch) {
    const group: number[] = []
    let taken = 0
    while (taken < rows && next < rowsPerBatch.length) {
      taken += rowsPerBatch[next]
      group.push(next++)
    }
    if (taken !== rows)
      throw new Error(
        `epochs of ${rowsPerEpoch.join(', ')} rows do not end between files of ${rowsPerBatch.join(', ')} rows`,
      )
    groups.push(group)
  }
  return groups
}

/**
 * What an epoch that read several batches emits, from what Spark emits for each of them: in complete
 * mode the table after its last batch (after the previous epoch's, for an epoch that read nothing); in
 * update and append modes each window's (or key's) last row, in `order`.
 */
export function epochRows<R>(
  perBatch: readonly (readonly R[])[],
  groups: readonly (readonly number[])[],
  options: {
    readonly mode: 'append' | 'update' | 'complete'
    readonly key: (row: R) => unknown
    readonly order: (a: R, b: R) => number
  },
): R[][] {
  let last = -1
  return groups.map((group) => {
    if (options.mode === 'complete') {
      last = group.at(-1) ?? last
      return last === -1 ? [] : [...perBatch[last]]
    }
    const rows = new Map<unknown, R>()
    for (const batch of group) for (const row of perBatch[batch]) rows.set(options.key(row), row)
    return [...rows.values()].sort(options.order)
  })
}
