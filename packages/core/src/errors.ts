/**
 * One error hierarchy for weir. Callers branch on `code`, never on message text.
 *
 * @example
 * ```ts
 * try { job.start() } catch (e) {
 *   if (e instanceof WeirError && e.code === 'config') console.error(e.message)
 * }
 * ```
 */
export class WeirError extends Error {
  /** A stable, machine-readable code such as `config` or `operator-failed`. */
  readonly code: string
  /** Whether trying the same thing again may succeed (a broker away, a full disk). */
  readonly retriable: boolean

  constructor(code: string, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.retriable = options.retriable ?? false
  }
}

/** Wrong configuration: raised before anything runs, with a message that says what to write instead. */
export class ConfigError extends WeirError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('config', message, options)
  }
}

/** A user function or an operator failed on a record: names the operator, the epoch and the record. */
export class OperatorError extends WeirError {
  readonly operatorId: string
  readonly epoch: number
  readonly record: unknown

  constructor(options: { operatorId: string; epoch: number; record?: unknown; cause: unknown }) {
    const what = options.record === undefined ? '' : ` on record ${preview(options.record)}`
    super(
      'operator-failed',
      `operator '${options.operatorId}' failed in epoch ${options.epoch}${what}: ${messageOf(options.cause)}`,
      { cause: options.cause },
    )
    this.operatorId = options.operatorId
    this.epoch = options.epoch
    this.record = options.record
  }
}

/** The runtime saw a message that breaks the protocol (a barrier out of order, data after End). */
export class ProtocolError extends WeirError {
  constructor(message: string) {
    super('protocol', message)
  }
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** A short, single-line rendering of a value for error messages (never the whole of a huge record). */
export function preview(value: unknown, max = 200): string {
  let text: string
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value))
  } catch {
    text = String(value)
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text
}

/** Exhaustiveness check for `switch (msg.kind)`: adding a kind is a compile error where it is forgotten. */
export function assertNever(value: never): never {
  throw new WeirError('unreachable', `unexpected value ${preview(value)}`)
}
