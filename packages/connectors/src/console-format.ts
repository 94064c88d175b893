import { ConfigError } from '@weir/core'

/** How `formatBatch` lays out a table: Spark's `Dataset.show(numRows, truncate)` options. */
export interface FormatOptions {
  /** Rows shown at most; more make the footer `only showing top N rows`. Default 20. */
  readonly numRows?: number
  /** `true` (default) cuts cells to 20 characters, a number to that many; `false` or 0 cuts nothing. */
  readonly truncate?: boolean | number
  /** The time zone timestamps are shown in: `'UTC'` (default) or an IANA name such as `'Europe/Madrid'`. */
  readonly timeZone?: string
  /** Column names in order; default: the keys of the first row (`value` for rows that are not objects). */
  readonly columns?: readonly string[]
}

const RULE = '-------------------------------------------'
/** Spark sets a minimum column width of 3. */
const MIN_WIDTH = 3

/**
 * One epoch as Spark's console sink prints it: a rule, `Batch: N`, a rule, then the table of
 * `Dataset.showString`, then a blank line. With `truncate` cells longer than the limit are cut to
 * limit - 3 characters and `...`, and every cell is right-aligned; without it cells are left-aligned.
 * Cells read as Spark casts them to strings: `null`, timestamps `yyyy-MM-dd HH:mm:ss[.SSS]` in the time
 * zone, structs `{a, b}`, arrays `[a, b]`, maps `{k -> v}`.
 *
 * @example
 * ```ts
 * formatBatch(3, [{ word: 'the', count: 42 }, { word: '', count: 7 }])
 * // -------------------------------------------
 * // Batch: 3
 * // -------------------------------------------
 * // +----+-----+
 * // |word|count|
 * // +----+-----+
 * // | the|   42|
 * // |    |    7|
 * // +----+-----+
 * //
 * ```
 */
export function formatBatch(epoch: number, rows: readonly unknown[], options: FormatOptions = {}): string {
  return `${RULE}\nBatch: ${epoch}\n${RULE}\n${showString(rows, options)}\n`
}

/** The table alone, as Spark's `Dataset.showString`: it ends with a newline. */
export function showString(rows: readonly unknown[], options: FormatOptions = {}): string {
  const { numRows, truncate, timeZone } = checkFormatOptions(options)
  const columns = options.columns ?? (rows.length > 0 ? columnsOf(rows[0]) : [])
  const formatTime = timestampFormatter(timeZone)
  const shown = rows
    .slice(0, numRows)
    .map((row) =>
      columns.map((column) => cut(escapeMeta(renderCell(cellOf(row, column), formatTime)), truncate)),
    )
  const table = [columns.map(escapeMeta), ...shown]
  const widths = columns.map(() => MIN_WIDTH)
  for (const cells of table)
    for (let i = 0; i < cells.length; i++) widths[i] = Math.max(widths[i], halfWidth(cells[i]))
  const rule = `+${widths.map((w) => '-'.repeat(w)).join('+')}+\n`
  const line = (cells: readonly string[]) =>
    `|${cells.map((cell, i) => (truncate > 0 ? pad(cell, widths[i], 'left') : pad(cell, widths[i], 'right'))).join('|')}|\n`
  let text = rule + line(table[0]) + rule
  for (const cells of shown) text += line(cells)
  text += rule
  if (rows.length > numRows) text += `only showing top ${numRows} ${numRows === 1 ? 'row' : 'rows'}\n`
  return text
}

/** The columns a row shows: its keys when it is an object with fields, else Spark's single `value`. */
export function columnsOf(row: unknown): string[] {
  return isStruct(row) ? Object.keys(row) : ['value']
}

function cellOf(row: unknown, column: string): unknown {
  return isStruct(row) ? row[column] : column === 'value' ? row : undefined
}

/** A cell as Spark casts it to a string (`CAST(x AS STRING)` of structs, arrays, maps, timestamps). */
function renderCell(value: unknown, formatTime: (date: Date) => string): string {
  if (value === null || value === undefined) return 'null'
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value)
    case 'object': {
      const render = (v: unknown) => renderCell(v, formatTime)
      if (value instanceof Date) return formatTime(value)
      if (value instanceof Uint8Array)
        return `[${[...value].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ')}]`
      if (Array.isArray(value)) return `[${value.map(render).join(', ')}]`
      if (value instanceof Map)
        return `{${[...value].map(([k, v]) => `${render(k)} -> ${render(v)}`).join(', ')}}`
      return `{${Object.values(value).map(render).join(', ')}}`
    }
    case 'symbol':
      return value.toString()
    default:
      return 'null'
  }
}

function isStruct(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Date) &&
    !(value instanceof Map) &&
    !(value instanceof Uint8Array) &&
    !Array.isArray(value)
  )
}

/** `yyyy-MM-dd HH:mm:ss`, then the milliseconds without trailing zeros when there are any (`.1`, `.123`). */
function timestampFormatter(timeZone: string): (date: Date) => string {
  const fields =
    timeZone === 'UTC'
      ? (d: Date) => [
          d.getUTCFullYear(),
          d.getUTCMonth() + 1,
          d.getUTCDate(),
          d.getUTCHours(),
          d.getUTCMinutes(),
          d.getUTCSeconds(),
        ]
      : zonedFields(timeZone)
  return (date) => {
    if (Number.isNaN(date.getTime())) return 'null'
    const [year, month, day, hour, minute, second] = fields(date).map((n) => String(n).padStart(2, '0'))
    const ms = date.getUTCMilliseconds()
    const fraction = ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`
    return `${year.padStart(4, '0')}-${month}-${day} ${hour}:${minute}:${second}${fraction}`
  }
}

function zonedFields(timeZone: string): (date: Date) => number[] {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  })
  const order = ['year', 'month', 'day', 'hour', 'minute', 'second']
  return (date) => {
    const parts = format.formatToParts(date)
    return order.map((type) => Number(parts.find((p) => p.type === type)?.value))
  }
}

/** Spark cuts a cell longer than the limit to limit - 3 characters and `...` (or to the limit when it is < 4). */
function cut(cell: string, limit: number): string {
  if (limit <= 0 || cell.length <= limit) return cell
  const keep = limit < 4 ? limit : limit - 3
  // Never split a surrogate pair: that would print a lone half as a replacement character.
  const end = isHighSurrogate(cell.charCodeAt(keep - 1)) ? keep - 1 : keep
  return cell.slice(0, end) + (limit < 4 ? '' : '...')
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

/** Spark escapes control characters so that a cell cannot break the table's lines. */
function escapeMeta(text: string): string {
  return text.replace(/[\n\r\t\f\b\v]/g, (c) => META[c] ?? c).replaceAll('\u0007', '\\a')
}

const META: Record<string, string> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\f': '\\f',
  '\b': '\\b',
  '\v': '\\v',
}

/** Spark's `Utils.stringHalfWidth`: full-width characters (CJK, full-width forms) take two columns. */
const FULL_WIDTH =
  /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE10-\uFE19\uFE30-\uFE6F\uFF00-\uFF60\uFFE0-\uFFE6]/g

function halfWidth(text: string): number {
  return text.length + (text.match(FULL_WIDTH)?.length ?? 0)
}

function pad(cell: string, width: number, side: 'left' | 'right'): string {
  const spaces = ' '.repeat(Math.max(0, width - halfWidth(cell)))
  return side === 'left' ? spaces + cell : cell + spaces
}

/** Checks the options and fills in Spark's defaults. */
export function checkFormatOptions(options: FormatOptions): {
  numRows: number
  truncate: number
  timeZone: string
} {
  const numRows = options.numRows ?? 20
  if (!Number.isSafeInteger(numRows) || numRows < 0) {
    throw new ConfigError(`console: numRows ${String(numRows)} must be a whole number of rows >= 0, e.g. 20`)
  }
  const truncate =
    options.truncate === true || options.truncate === undefined
      ? 20
      : options.truncate === false
        ? 0
        : options.truncate
  if (!Number.isSafeInteger(truncate) || truncate < 0) {
    throw new ConfigError(
      `console: truncate ${String(options.truncate)} must be true, false or a whole number of characters >= 0, e.g. 20`,
    )
  }
  const timeZone = options.timeZone ?? 'UTC'
  if (timeZone !== 'UTC') {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone })
    } catch (cause) {
      throw new ConfigError(
        `console: unknown time zone '${timeZone}': write 'UTC' or an IANA name such as 'Europe/Madrid'`,
        { cause },
      )
    }
  }
  return { numRows, truncate, timeZone }
}
