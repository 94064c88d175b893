import { ConfigError, preview } from '../errors.js'

const MS_PER: Readonly<Record<string, number>> = {
  millisecond: 1,
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
}

/** Every spelling a unit may take, lower case, mapped to its canonical name. */
const UNIT_NAMES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    millisecond: ['ms', 'milli', 'millis', 'millisecond', 'milliseconds'],
    second: ['s', 'sec', 'secs', 'second', 'seconds'],
    minute: ['m', 'min', 'mins', 'minute', 'minutes'],
    hour: ['h', 'hr', 'hrs', 'hour', 'hours'],
    day: ['d', 'day', 'days'],
    week: ['w', 'wk', 'wks', 'week', 'weeks'],
  }).flatMap(([unit, spellings]) => spellings.map((spelling): [string, string] => [spelling, unit])),
)

/** Largest first, so `formatDuration` picks the largest unit that divides exactly. */
const UNITS_DESCENDING = ['week', 'day', 'hour', 'minute', 'second', 'millisecond'] as const

const PART = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/y

/**
 * Reads a duration as Spark writes one (`'10 minutes'`, `'1 hour 30 minutes'`, `'500ms'`) or as a
 * number of milliseconds, and returns milliseconds. Units are case-insensitive, singular or plural,
 * long or short (`ms`, `s`/`sec`, `m`/`min`, `h`/`hr`, `d`, `w`/`wk`); a leading `interval` is
 * allowed, as in Spark SQL. The result must be a whole number of milliseconds.
 *
 * `what` names the setting in the error, so a user sees which one to fix.
 *
 * @example
 * ```ts
 * parseDuration('5 minutes', 'window size')          // 300_000
 * parseDuration('1 hour 30 minutes', 'window size')  // 5_400_000
 * parseDuration(250, 'idle timeout')                 // 250
 * parseDuration('5 minutos', 'watermark delay')
 * // ConfigError: watermark delay '5 minutos' is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds
 * ```
 */
export function parseDuration(input: string | number, what: string): number {
  if (typeof input === 'number') {
    if (Number.isInteger(input) && input >= 0) return input
    throw new ConfigError(
      `${what} ${input} is not a duration: a number is read as milliseconds and must be a whole number >= 0; write e.g. 300000 or '5 minutes'`,
    )
  }
  if (typeof input !== 'string') {
    throw new ConfigError(
      `${what} ${preview(input)} is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds`,
    )
  }
  const ms = parseText(input)
  if (ms === undefined) {
    throw new ConfigError(
      `${what} '${input}' is not a duration: write e.g. '5 minutes', '10 seconds' or a number of milliseconds`,
    )
  }
  if (!Number.isSafeInteger(ms)) {
    throw new ConfigError(
      `${what} '${input}' is not a whole number of milliseconds (or is too long): write e.g. '1500 milliseconds' or '2 seconds'`,
    )
  }
  return ms
}

/** Milliseconds in `text`, or undefined when it does not read as a duration. */
function parseText(input: string): number | undefined {
  let text = input.trim().toLowerCase()
  if (text.startsWith('interval ')) text = text.slice('interval '.length).trimStart()
  if (text === '') return undefined
  let total = 0
  PART.lastIndex = 0
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text)
    if (match === null) return undefined
    const unit = UNIT_NAMES.get(match[2])
    if (unit === undefined) return undefined
    // Scale in integers where possible so '0.1 seconds' is exactly 100, not 100.00000000000001.
    total += scale(match[1], MS_PER[unit])
  }
  return total
}

function scale(amount: string, msPerUnit: number): number {
  const dot = amount.indexOf('.')
  if (dot === -1) return Number(amount) * msPerUnit
  const decimals = amount.length - dot - 1
  const digits = Number(amount.slice(0, dot) + amount.slice(dot + 1))
  return (digits * msPerUnit) / 10 ** decimals
}

/**
 * Writes milliseconds in the largest unit that divides them exactly, for messages and `describe()`.
 *
 * @example
 * ```ts
 * formatDuration(300_000)  // '5 minutes'
 * formatDuration(60_000)   // '1 minute'
 * formatDuration(90_000)   // '90 seconds'
 * formatDuration(1_500)    // '1500 milliseconds'
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms === 0) return `${ms} milliseconds`
  for (const unit of UNITS_DESCENDING) {
    const per = MS_PER[unit]
    if (ms % per === 0) {
      const count = ms / per
      return `${count} ${unit}${Math.abs(count) === 1 ? '' : 's'}`
    }
  }
  return `${ms} milliseconds`
}
