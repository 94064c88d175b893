import { open, type FileHandle } from 'node:fs/promises'

const CHUNK_BYTES = 64 * 1024

/**
 * Reads a text file line by line through a fixed-size buffer, so memory stays bounded by one chunk
 * plus one line whatever the file's size. Bytes that are not UTF-8 become replacement characters;
 * `\r\n` endings lose their `\r`. `lineNumber` counts every physical line taken, blank ones included:
 * it is the index of the next line, the position a restore resumes from.
 *
 * A `complete` file ends at its last byte (a last line without a newline is a line). An incomplete
 * one is still being appended to: a last line without a newline is held back until its newline comes,
 * and reading at its end later picks up what was appended.
 */
export class LineReader {
  /** Physical lines taken so far: the index of the next one. */
  lineNumber = 0
  private handle: FileHandle | undefined
  private offset = 0
  private readonly decoder = new TextDecoder('utf-8')
  private partial = ''
  private buffer: string[] = []
  private next = 0
  private eof = false
  private readonly chunk = new Uint8Array(CHUNK_BYTES)

  constructor(
    readonly path: string,
    private readonly complete: boolean,
  ) {}

  /** Every line of a complete file is taken. */
  get done(): boolean {
    return this.eof && this.next >= this.buffer.length
  }

  /**
   * Takes lines until `max` non-blank ones are collected or no more are there now; blank lines are
   * taken (counted) but not returned.
   */
  async take(max: number): Promise<string[]> {
    const lines: string[] = []
    while (lines.length < max) {
      if (this.next < this.buffer.length) {
        const line = this.buffer[this.next++]
        this.lineNumber++
        if (line.trim() !== '') lines.push(line)
      } else if (!(await this.fill())) {
        break
      }
    }
    // Find out now whether that was the end, so the last batch of a file says so (and none comes empty).
    if (this.complete && this.next >= this.buffer.length) await this.fill()
    return lines
  }

  /** Takes lines without returning them until `lineNumber` is `line` (or the file has no more now). */
  async skipTo(line: number): Promise<void> {
    while (this.lineNumber < line) {
      if (this.next < this.buffer.length) {
        const skip = Math.min(this.buffer.length - this.next, line - this.lineNumber)
        this.next += skip
        this.lineNumber += skip
      } else if (!(await this.fill())) {
        return
      }
    }
  }

  async close(): Promise<void> {
    const handle = this.handle
    this.handle = undefined
    await handle?.close()
  }

  /** Reads the next chunk into the buffer. False when nothing more is there now. */
  private async fill(): Promise<boolean> {
    if (this.eof) return false
    this.handle ??= await open(this.path, 'r')
    const { bytesRead } = await this.handle.read(this.chunk, 0, CHUNK_BYTES, this.offset)
    if (bytesRead === 0) {
      if (!this.complete) return false
      this.eof = true
      await this.close()
      const last = this.partial + this.decoder.decode()
      this.partial = ''
      this.buffer = last === '' ? [] : [stripCr(last)]
      this.next = 0
      return this.buffer.length > 0
    }
    this.offset += bytesRead
    const pieces = (
      this.partial + this.decoder.decode(this.chunk.subarray(0, bytesRead), { stream: true })
    ).split('\n')
    this.partial = pieces.pop()!
    this.buffer = pieces.map(stripCr)
    this.next = 0
    return true
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}
