import { statSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import {
  ConfigError,
  type Source,
  type SourceBatch,
  type SourceReader,
  type SourceReaderContext,
} from '@weir/core'
import {
  claimedSplits,
  DirectoryProgress,
  directorySplit,
  type DirectoryPosition,
  type FilePosition,
} from './internal/directory-progress.js'
import { LineReader } from './internal/line-reader.js'
import { checkOptionNames, checkPositive, checkWholeNumber } from './internal/options.js'
import { Sleeper } from './internal/sleep.js'

export interface FileSourceOptions {
  /**
   * New files per epoch (Spark's option): a directory reader opens no more files until the epoch that
   * read them is committed, and each file is one whole batch. Shared among the source's instances: each
   * may have `ceil(maxFilesPerTrigger / parallelism)` files in an epoch. Default: no limit, batches of
   * `batchSize` lines.
   */
  readonly maxFilesPerTrigger?: number
  /** Non-blank lines per polled batch when `maxFilesPerTrigger` is not set. Default 1000. */
  readonly batchSize?: number
  /** How often a directory is listed for new files (or a tailed file read for new lines). Default 500 ms. */
  readonly pollIntervalMs?: number
  /** Default: a file is bounded (read to its end), a directory is not (new files are picked up). */
  readonly bounded?: boolean
}

export type { DirectoryPosition, FilePosition }

/**
 * Reads JSON-lines text: each value is one raw line (a string; blank lines are skipped). Parsing is the
 * query's job, so bad JSON never fails the source, and bytes that are not UTF-8 become replacement
 * characters. Files are streamed in 64 KiB chunks, so a large file is never held in memory.
 *
 * - A file is bounded by default: read to its end, then `end` (its watermark goes to +∞). With
 *   `bounded: false` it is tailed: lines appended later are read, a last line waits for its newline.
 * - A directory's `.jsonl` files (not those whose names start with `.` or `_`) are read in name order.
 *   Unbounded by default: it is listed every `pollIntervalMs`, and new files whose names sort after the
 *   last one read are picked up, so put files in whole (write elsewhere, then rename) and name them so
 *   that they sort in arrival order (e.g. by time). With `bounded: true`, or the `availableNow`
 *   trigger, the files present at start are read, then `end`.
 *
 * Timestamps and watermarks: the source knows no event times; they come from the parsed rows
 * (`withWatermark`, or a source node's `timestamp` extractor). A batch never spans two files, and with
 * `maxFilesPerTrigger: 1` a batch is one whole file, so the watermark moves once per file.
 *
 * `maxFilesPerTrigger` caps each epoch as Spark caps each micro-batch: a reader that has opened its share
 * of files since the last committed epoch holds the others back until the next commit, and says so
 * (`throttled`), so `processAllAvailable` ends epochs until every file present is read, as Spark runs
 * batches until none is left.
 *
 * Parallelism and restores: a single file is read by instance 0 (split `files-0`, position
 * `{ file, line }`, the next unread line); the other instances end at once. A directory's files are dealt
 * to instances by a hash of their name (`hashKey(name) mod parallelism`, stable as files come and go);
 * instance i reads its files in name order as one split, `files-i`, so its watermark moves with them.
 * Its position says which files were read when it started (whoever read them) and how far it has read
 * its own since (see `DirectoryPosition`): it stays small however many files are read, a restore
 * resumes exactly at the line, and a checkpoint written at one parallelism restores at any other.
 *
 * @example
 * ```ts
 * const tweets = readStream(fileSource('data/tweets/', { maxFilesPerTrigger: 1 }))
 *   .parse(tweetSchema)
 *   .withWatermark('creation_time', '1 minute')
 * ```
 */
export function fileSource(path: string, options: FileSourceOptions = {}): Source<string> {
  checkOptionNames('fileSource', options, ['maxFilesPerTrigger', 'batchSize', 'pollIntervalMs', 'bounded'])
  if (options.maxFilesPerTrigger !== undefined)
    checkWholeNumber('fileSource', 'maxFilesPerTrigger', options.maxFilesPerTrigger, 1, 1)
  if (options.batchSize !== undefined) checkWholeNumber('fileSource', 'batchSize', options.batchSize, 1, 1000)
  if (options.pollIntervalMs !== undefined)
    checkPositive('fileSource', 'pollIntervalMs', options.pollIntervalMs, 500)
  if (options.bounded !== undefined && typeof options.bounded !== 'boolean') {
    throw new ConfigError(`fileSource: bounded ${String(options.bounded)} must be true or false`)
  }
  const full = resolve(path)
  const source = {
    name: 'file',
    /** Names the source in a query's progress, as Spark's does. */
    description: `FileStreamSource[file:${full}]`,
    get bounded() {
      return options.bounded ?? kindOfSync(full) !== 'directory'
    },
    createReader: (context: SourceReaderContext) => FileReader.open(full, options, context),
  }
  return source
}

class FileReader implements SourceReader<string> {
  private queue: string[] = []
  private current: { readonly name: string; readonly lines: LineReader } | undefined
  /** Files that sort at or before this one are read (or being read). */
  private after: string | undefined
  /** A single file: where it resumes, and how far it is read. */
  private resume: FilePosition | undefined
  private last: FilePosition | undefined
  /** A directory: which files are whose and which are read. */
  private progress: DirectoryProgress | undefined
  /** Old readers' splits this one reports until its first batch says where it is (see `claimedSplits`). */
  private claimed: string[] = []
  private nextListAt = 0
  /** With `maxFilesPerTrigger`: files this reader may open in an epoch. */
  private readonly filesPerEpoch: number
  /** Files opened that the last committed epoch had not read to their end, in the order opened. */
  private uncommitted: string[] = []
  /** `idle` was said once since the budget ran out: the next polls wait for a commit. */
  private throttleSaid = false
  private readonly sleeper: Sleeper
  private readonly batchSize: number
  private readonly pollIntervalMs: number

  private constructor(
    private readonly dir: string,
    /** A directory that is listed for new files; otherwise a single file. */
    private readonly listed: boolean,
    private readonly split: string | undefined,
    /** Reads only what is there now, then ends. */
    private readonly finite: boolean,
    /** Files are whole when read (a tailed file is not). */
    private readonly complete: boolean,
    private readonly options: FileSourceOptions,
    private readonly context: SourceReaderContext,
  ) {
    this.sleeper = new Sleeper(context.clock)
    this.batchSize = options.batchSize ?? 1000
    this.pollIntervalMs = options.pollIntervalMs ?? 500
    const max = options.maxFilesPerTrigger
    this.filesPerEpoch =
      max === undefined || !listed ? Infinity : Math.max(1, Math.ceil(max / context.parallelism))
  }

  static async open(
    path: string,
    options: FileSourceOptions,
    context: SourceReaderContext,
  ): Promise<FileReader> {
    const kind = await kindOf(path)
    if (kind === undefined || kind === 'other') {
      throw new ConfigError(
        `fileSource: no file or directory at ${path}: write the path of a .jsonl file or a directory of them`,
      )
    }
    const { instance, parallelism, availableNow, restored, sourceId } = context
    if (kind === 'file') {
      const bounded = options.bounded ?? true
      const owned = instance === 0
      const reader = new FileReader(
        dirname(path),
        false,
        owned ? 'files-0' : undefined,
        bounded || availableNow,
        bounded,
        options,
        context,
      )
      if (owned) {
        const name = basename(path)
        reader.queue = [name]
        const resume = restoredPosition(context, 'files-0')
        if (resume?.file === name) reader.resume = resume
      }
      return reader
    }
    const reader = new FileReader(
      path,
      true,
      directorySplit(instance),
      options.bounded === true || availableNow,
      true,
      options,
      context,
    )
    reader.claimed = claimedSplits(restored, instance, parallelism, sourceId)
    const names = await listNames(path)
    reader.progress = DirectoryProgress.restore({ instance, parallelism, restored, names, sourceId })
    reader.queue = reader.ownUnread(names)
    reader.nextListAt = context.clock.now() + reader.pollIntervalMs
    return reader
  }

  async poll(): Promise<SourceBatch<string> | 'idle' | 'end'> {
    if (this.split === undefined) return 'end'
    if (this.claimed.length > 0) {
      // Say where this reader is before anything else: from then on its position holds what the old
      // readers it stands in for had read.
      this.claimed = []
      return { split: this.split, values: [], position: this.position() }
    }
    let batch = await this.read()
    while (!batch && this.throttled()) {
      // Its share of files is read: say so at once (it has caught up for this epoch), then wait for the
      // commit that frees the budget (`commit` wakes it) and read on.
      if (!this.throttleSaid) {
        this.throttleSaid = true
        return 'idle'
      }
      await this.sleeper.sleep(this.pollIntervalMs)
      if (this.throttled()) return 'idle'
      batch = await this.read()
    }
    this.throttleSaid = false
    if (batch) return batch
    if (this.finite) return 'end'
    if (this.listed && this.context.clock.now() >= this.nextListAt) {
      await this.list()
      const found = await this.read()
      if (found) return found
    }
    await this.sleeper.sleep(this.listed ? this.nextListAt - this.context.clock.now() : this.pollIntervalMs)
    return 'idle'
  }

  splits(): readonly string[] {
    return this.split === undefined ? [] : [this.split, ...this.claimed]
  }

  /** An epoch is committed: the files its position shows read no longer count against the next one's. */
  commit(positions: ReadonlyMap<string, unknown>): void {
    if (this.filesPerEpoch === Infinity || this.split === undefined) return
    const position = positions.get(this.split) as DirectoryPosition | undefined
    const through = position?.ownThrough
    if (through === undefined || through === null) return
    this.uncommitted = this.uncommitted.filter((name) => name > through)
    this.sleeper.wake()
  }

  /** Its share of files for this epoch is opened, and more are queued (see `SourceReader.throttled`). */
  throttled(): boolean {
    return (
      this.current === undefined && this.queue.length > 0 && this.uncommitted.length >= this.filesPerEpoch
    )
  }

  async close(): Promise<void> {
    this.sleeper.close()
    await this.current?.lines.close()
  }

  /** The next batch from the files queued, or undefined when nothing more is there now. */
  private async read(): Promise<SourceBatch<string> | undefined> {
    const perFile = this.options.maxFilesPerTrigger
    const values: string[] = []
    let progressed = false
    let files = 0
    for (;;) {
      if (!this.current && (this.throttled() || !(await this.openNext()))) break
      const { name, lines } = this.current!
      const before = lines.lineNumber
      const taken = await lines.take(perFile === undefined ? this.batchSize - values.length : Infinity)
      for (const line of taken) values.push(line)
      if (lines.lineNumber > before || lines.done) progressed = true
      this.last = { file: name, line: lines.lineNumber }
      if (!lines.done) break
      this.progress?.finished(name)
      this.current = undefined
      files++
      if (perFile === undefined || files >= perFile) break
    }
    if (!progressed) return undefined
    const splitEnded = this.finite && this.current === undefined && this.queue.length === 0
    return { split: this.split!, values, position: this.position(), ...(splitEnded ? { splitEnded } : {}) }
  }

  /** A single file's `{ file, line }`, or a directory reader's `DirectoryPosition`. */
  private position(): FilePosition | DirectoryPosition {
    if (!this.progress) return this.last!
    return this.progress.position(
      this.current ? { file: this.current.name, line: this.current.lines.lineNumber } : null,
    )
  }

  private async openNext(): Promise<boolean> {
    const name = this.queue.shift()
    if (name === undefined) return false
    const lines = new LineReader(join(this.dir, name), this.complete)
    this.current = { name, lines }
    if (this.filesPerEpoch !== Infinity) this.uncommitted.push(name)
    this.after = name
    const line = this.progress
      ? this.progress.resumeLine(name)
      : this.resume?.file === name
        ? this.resume.line
        : 0
    if (line > 0) await lines.skipTo(line)
    this.resume = undefined
    return true
  }

  /** Queues the files that are this reader's, unread, and sort after the last one it opened. */
  private async list(): Promise<void> {
    this.nextListAt = this.context.clock.now() + this.pollIntervalMs
    this.queue = this.ownUnread(await listNames(this.dir))
  }

  private ownUnread(names: readonly string[]): string[] {
    const progress = this.progress!
    const mark = this.after
    return names.filter((n) => progress.owns(n) && !progress.wasRead(n) && (mark === undefined || n > mark))
  }
}

/** The `.jsonl` files of a directory (not hidden, not `_temporary`), in name order. */
async function listNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.endsWith('.jsonl') && !/^[._]/.test(e.name))
    .map((e) => e.name)
    .sort()
}

function restoredPosition(context: SourceReaderContext, split: string): FilePosition | undefined {
  const position = context.restored.get(split)
  if (position === undefined) return undefined
  const { file, line } = (position ?? {}) as Partial<FilePosition>
  if (typeof file !== 'string' || !Number.isSafeInteger(line) || line! < 0) {
    throw new ConfigError(
      `fileSource '${context.sourceId}': the checkpoint holds ${JSON.stringify(position)} for split '${split}', not a { file, line } position: ` +
        `was it written by another source? Use a new checkpoint location`,
    )
  }
  return { file, line: line! }
}

type PathKind = 'file' | 'directory' | 'other' | undefined

async function kindOf(path: string): Promise<PathKind> {
  try {
    const stats = await stat(path)
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other'
  } catch {
    return undefined
  }
}

function kindOfSync(path: string): PathKind {
  const stats = statSync(path, { throwIfNoEntry: false })
  return stats === undefined
    ? undefined
    : stats.isFile()
      ? 'file'
      : stats.isDirectory()
        ? 'directory'
        : 'other'
}
