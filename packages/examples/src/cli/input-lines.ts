import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * How many records a file source will read from `path` (a JSON-lines file, or a directory of `.jsonl`
 * files, those whose names start with `.` or `_` left out, as `fileSource` does): its non-blank lines.
 * The files are streamed, never held in memory. For a progress bar's total.
 *
 * @example
 * ```ts
 * const { files, lines } = await countInputLines('data/tweets/')
 * ```
 */
export async function countInputLines(path: string): Promise<{ files: number; lines: number }> {
  const info = await stat(path)
  const files = info.isDirectory()
    ? (await readdir(path))
        .filter((name) => name.endsWith('.jsonl') && !name.startsWith('.') && !name.startsWith('_'))
        .map((name) => join(path, name))
    : [path]
  let lines = 0
  for (const file of files) lines += await nonBlankLines(file)
  return { files: files.length, lines }
}

async function nonBlankLines(file: string): Promise<number> {
  let lines = 0
  let blank = true
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]
      if (byte === 0x0a) {
        if (!blank) lines++
        blank = true
      } else if (blank && byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) {
        blank = false
      }
    }
  }
  return blank ? lines : lines + 1
}
