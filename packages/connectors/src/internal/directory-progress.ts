import { ConfigError, hashKey, preview } from '@weir/core'

/** Where a split of a single file resumes: the file and the index of its next unread line. */
export interface FilePosition {
  readonly file: string
  readonly line: number
}

/**
 * Where one reader of a directory stands (the position of split `files-<reader>`): the files that were
 * read when it started, whoever read them, and how far it has read its own files since. Compact by
 * construction: its size depends on how unevenly the previous run's readers had progressed, never on how
 * many files have been read.
 */
export interface DirectoryPosition {
  /** Written by instance `reader` of `readers`, which reads the files whose name hashes to it. */
  readonly reader: number
  readonly readers: number
  /** Every file whose name sorts at or before this one was read when the reader started (null: none). */
  readonly doneThrough: string | null
  /** Files sorting after `doneThrough` that were read when the reader started. */
  readonly doneAlso: readonly string[]
  /** Files that were half read when the reader started, and the line each resumes at. */
  readonly partlyRead: readonly FilePosition[]
  /** The reader's own files that sort at or before this one are read (null: none yet). */
  readonly ownThrough: string | null
  /** The own file the reader is in the middle of, and the index of its next unread line. */
  readonly reading: FilePosition | null
}

/**
 * Which files of a directory are whose, and which are read: the file source's bookkeeping, so that a
 * checkpoint written by p readers restores into any number of them.
 *
 * A file belongs to instance `hashKey(name) mod parallelism`: a stable rule, so a file never changes hands
 * while the parallelism stays, whatever files come and go. Each reader reads its files in name order, so
 * its own progress is one name (`ownThrough`) and the line of the file it is in. On restore every reader
 * sees the positions of all old readers and works out, for the files listed now, which are read (their
 * union) and where a half-read one resumes; it keeps that as a name below which all is read plus the few
 * read files above it, and reads on the files that are its own under the new parallelism.
 */
export class DirectoryProgress {
  private ownThrough: string | null = null

  private constructor(
    readonly reader: number,
    readonly readers: number,
    private readonly doneThrough: string | null,
    private readonly doneAlso: ReadonlySet<string>,
    /** Files an old reader left half read, by the line to resume at. */
    private readonly partial: ReadonlyMap<string, number>,
  ) {}

  /** The progress of reader `instance` of `parallelism`, from the positions of every old reader. */
  static restore(options: {
    readonly instance: number
    readonly parallelism: number
    readonly restored: ReadonlyMap<string, unknown>
    /** The directory's files now, in name order. */
    readonly names: readonly string[]
    readonly sourceId: string
  }): DirectoryProgress {
    const old = [...options.restored].map(([split, position]) => {
      const p = directoryPosition(options.sourceId, split, position)
      return { ...p, doneAlso: new Set(p.doneAlso) }
    })
    const done = (name: string) => old.some((p) => covers(p, name))
    let through: string | null = null
    for (const p of old)
      if (p.doneThrough !== null && (through === null || p.doneThrough > through)) through = p.doneThrough
    for (const name of options.names) {
      if (through !== null && name <= through) continue
      if (!done(name)) break
      through = name
    }
    const also = new Set(options.names.filter((name) => (through === null || name > through) && done(name)))
    const partial = new Map<string, number>()
    for (const p of old) {
      for (const { file, line } of p.reading === null ? p.partlyRead : [...p.partlyRead, p.reading]) {
        if (!done(file)) partial.set(file, Math.max(partial.get(file) ?? 0, line))
      }
    }
    return new DirectoryProgress(options.instance, options.parallelism, through, also, partial)
  }

  /** Whether this reader reads `name` (under the current parallelism). */
  owns(name: string): boolean {
    return ownerOf(name, this.readers) === this.reader
  }

  /** Whether `name` was read before this reader started. */
  wasRead(name: string): boolean {
    return (this.doneThrough !== null && name <= this.doneThrough) || this.doneAlso.has(name)
  }

  /** The line to resume `name` at: where an old reader left it, or 0. */
  resumeLine(name: string): number {
    return this.partial.get(name) ?? 0
  }

  /** An own file is read to its end. */
  finished(name: string): void {
    if (this.ownThrough === null || name > this.ownThrough) this.ownThrough = name
  }

  /** The position to snapshot: a fresh object, never changed afterwards. */
  position(reading: FilePosition | null): DirectoryPosition {
    return {
      reader: this.reader,
      readers: this.readers,
      doneThrough: this.doneThrough,
      doneAlso: [...this.doneAlso],
      partlyRead: [...this.partial].map(([file, line]) => ({ file, line })),
      ownThrough: this.ownThrough,
      reading,
    }
  }
}

/** The split a directory reader snapshots its position under. */
export function directorySplit(instance: number): string {
  return `files-${instance}`
}

/**
 * The old readers' splits that reader `instance` of `parallelism` reports until it has said where it is
 * itself: those of old instances that no longer exist, dealt round-robin. Until then, a checkpoint still
 * holds what they had read.
 */
export function claimedSplits(
  restored: ReadonlyMap<string, unknown>,
  instance: number,
  parallelism: number,
  sourceId: string,
): string[] {
  const claimed: string[] = []
  for (const split of restored.keys()) {
    const old = /^files-(\d+)$/.exec(split)
    if (!old) {
      throw new ConfigError(
        `fileSource '${sourceId}': the checkpoint holds split '${split}', which a directory source does not write ` +
          `(it was written by another source, or by an older weir): use a new checkpoint location`,
      )
    }
    const j = Number(old[1])
    if (j >= parallelism && j % parallelism === instance) claimed.push(split)
  }
  return claimed
}

function ownerOf(name: string, readers: number): number {
  return hashKey(name) % readers
}

function covers(
  position: Omit<DirectoryPosition, 'doneAlso'> & { doneAlso: ReadonlySet<string> },
  name: string,
): boolean {
  if (position.doneThrough !== null && name <= position.doneThrough) return true
  if (position.doneAlso.has(name)) return true
  return (
    position.ownThrough !== null &&
    name <= position.ownThrough &&
    ownerOf(name, position.readers) === position.reader &&
    position.reading?.file !== name
  )
}

function directoryPosition(sourceId: string, split: string, position: unknown): DirectoryPosition {
  const p = (position ?? {}) as Partial<Record<keyof DirectoryPosition, unknown>>
  const name = (v: unknown) => v === null || typeof v === 'string'
  const valid =
    Number.isSafeInteger(p.readers) &&
    (p.readers as number) >= 1 &&
    Number.isSafeInteger(p.reader) &&
    (p.reader as number) >= 0 &&
    (p.reader as number) < (p.readers as number) &&
    name(p.doneThrough) &&
    name(p.ownThrough) &&
    Array.isArray(p.doneAlso) &&
    p.doneAlso.every((n) => typeof n === 'string') &&
    Array.isArray(p.partlyRead) &&
    p.partlyRead.every(isFilePosition) &&
    (p.reading === null || isFilePosition(p.reading))
  if (!valid) {
    throw new ConfigError(
      `fileSource '${sourceId}': the checkpoint holds ${preview(position, 120)} for split '${split}', not the position of a directory reader: ` +
        `was it written by another source, or by fileSource on a single file? Use a new checkpoint location`,
    )
  }
  return position as DirectoryPosition
}

function isFilePosition(value: unknown): value is FilePosition {
  const { file, line } = (value ?? {}) as Partial<FilePosition>
  return typeof file === 'string' && Number.isSafeInteger(line) && line! >= 0
}
