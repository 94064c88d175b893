import { access, mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ConfigError, type Sink, type SinkWriter, type SinkWriterContext } from '@weir/core'
import { checkOptionNames } from './internal/options.js'

export interface FileSinkOptions {
  /**
   * The field that carries the epoch, added first in each object (`{"batch":3,"word":"the",...}`), or
   * `false` for the rows as they are. Default `'batch'`. A row's own field of that name wins.
   */
  readonly batchField?: string | false
}

/**
 * Writes JSON lines: each committed epoch of each instance becomes one file,
 * `dir/part-<epoch, 8 digits>-<instance>.jsonl`, one row per line (`JSON.stringify`: dates as ISO
 * strings; bigints as strings). Rows go to a hidden file as they come, synced at the epoch's barrier
 * (prepare) and renamed into place when the epoch's checkpoint is committed (commit), so a reader of
 * `dir` never sees half an epoch, nor an epoch that a restore will replay; an epoch with no rows writes
 * no file.
 *
 * Exactly-once across restores: a staged epoch that the checkpoint covers is renamed into place when the
 * query restarts; a staged later epoch is dropped and written again by the replay; an epoch whose file
 * is already there is skipped when it is delivered again. A restore at another parallelism finishes the
 * staged files of instances that are gone too.
 *
 * @example
 * ```ts
 * counts.to(sink('out', fileSink('out/counts')))
 * // out/counts/part-00000003-0.jsonl: {"batch":3,"word":"the","count":42}
 * ```
 */
export function fileSink<T = unknown>(dir: string, options: FileSinkOptions = {}): Sink<T> {
  checkOptionNames('fileSink', options, ['batchField'])
  const batchField = options.batchField ?? 'batch'
  if (batchField !== false && (typeof batchField !== 'string' || batchField === '')) {
    throw new ConfigError(
      `fileSink: batchField ${JSON.stringify(batchField)} must be a field name such as 'batch', or false`,
    )
  }
  const root = resolve(dir)
  const toLine = (row: unknown, epoch: number): string => {
    const value =
      batchField === false
        ? row
        : isObject(row)
          ? { [batchField]: epoch, ...row }
          : { [batchField]: epoch, value: row }
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
  }
  const sink = {
    name: 'file',
    /** Names the sink in a query's progress, as Spark's does. */
    description: `FileSink[${root}]`,
    async createWriter({ instance, parallelism, firstEpoch }: SinkWriterContext): Promise<SinkWriter<T>> {
      await mkdir(root, { recursive: true })
      const fileOf = (epoch: number) => `part-${String(epoch).padStart(8, '0')}-${instance}.jsonl`
      const staged = /^\.(part-(\d{8,})-(\d+)\.jsonl)\.tmp$/
      // Files staged by an earlier run: an epoch before `firstEpoch` was prepared by every instance and
      // its checkpoint committed, so only its rename was cut short: finish it. Later epochs are replayed.
      // This instance sees to its own files and to those of instances the run no longer has (it ran at a
      // higher parallelism), so that none is left behind.
      for (const name of await readdir(root)) {
        const match = staged.exec(name)
        const writer = Number(match?.[3])
        if (!match || (writer !== instance && (writer < parallelism || writer % parallelism !== instance)))
          continue
        if (Number(match[2]) < firstEpoch && !(await exists(join(root, match[1])))) {
          await rename(join(root, name), join(root, match[1]))
        } else {
          await rm(join(root, name), { force: true })
        }
      }
      const open_ = new Map<number, { final: string; temp: string; skip: boolean; handle?: FileHandle }>()
      const epochFile = async (epoch: number) => {
        let file = open_.get(epoch)
        if (!file) {
          const final = join(root, fileOf(epoch))
          file = { final, temp: join(root, `.${fileOf(epoch)}.tmp`), skip: await exists(final) }
          open_.set(epoch, file)
        }
        return file
      }
      return {
        async write(rows, epoch) {
          const file = await epochFile(epoch)
          if (file.skip || rows.length === 0) return
          file.handle ??= await open(file.temp, 'w')
          let text = ''
          for (const row of rows) text += toLine(row, epoch) + '\n'
          await file.handle.write(text)
        },
        async prepare(epoch) {
          const file = open_.get(epoch)
          if (!file?.handle) return
          await file.handle.sync()
          await file.handle.close()
          file.handle = undefined
        },
        async commit(epoch) {
          const file = open_.get(epoch)
          open_.delete(epoch)
          if (!file || file.skip || !(await exists(file.temp))) return
          await rename(file.temp, file.final)
        },
        async close() {
          // An epoch still being written is replayed after a restart: drop its file. A prepared one
          // stays: the checkpoint may cover it, and the next run renames it into place if so.
          for (const file of open_.values()) {
            if (!file.handle) continue
            await file.handle.close()
            await rm(file.temp, { force: true })
          }
          open_.clear()
        },
      }
    },
  }
  return sink
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

function isObject(row: unknown): row is Record<string, unknown> {
  return typeof row === 'object' && row !== null && !Array.isArray(row) && !(row instanceof Date)
}
