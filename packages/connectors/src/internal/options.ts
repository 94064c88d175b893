import { ConfigError } from '@weir/core'

/**
 * Refuses option names a connector does not know (a typo such as `numrows` would otherwise be ignored
 * in silence), naming the ones it does.
 */
export function checkOptionNames(
  connector: string,
  options: object | undefined,
  known: readonly string[],
): void {
  for (const name of Object.keys(options ?? {})) {
    if (!known.includes(name)) {
      throw new ConfigError(
        `${connector}: unknown option '${name}'; the options are ${known.map((k) => `'${k}'`).join(', ')}`,
      )
    }
  }
}

/** A whole number >= min, or a ConfigError that shows a value to write instead. */
export function checkWholeNumber(
  connector: string,
  name: string,
  value: number,
  min: number,
  example: number,
): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(
      `${connector}: ${name} ${String(value)} must be a whole number >= ${min}, e.g. ${example}`,
    )
  }
}

/** A finite number > 0, or a ConfigError that shows a value to write instead. */
export function checkPositive(connector: string, name: string, value: number, example: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${connector}: ${name} ${String(value)} must be a number > 0, e.g. ${example}`)
  }
}
