import { messageOf, OperatorError } from '../errors.js'
import type { StreamRecord } from '../messages/messages.js'
import type { OperatorContext, Output } from './operator.js'

/** What happens when a user function throws on a record. */
export type OnError = 'fail' | 'dead-letter'

/** The side output that `onError: 'dead-letter'` routes failed records to. */
export const DEAD_LETTER = 'dead-letter'

/** A record a user function failed on, with the reason: what a dead-letter output carries. */
export interface DeadLetter {
  readonly operatorId: string
  readonly epoch: number
  readonly error: string
  readonly value: unknown
}

/**
 * Applies `step` to every record of a batch, for operators built on a user function (map, filter,
 * explode). When the function throws: with `fail` the query fails with an error naming the operator,
 * the epoch and the record; with `dead-letter` the record goes to the `dead-letter` side output with the
 * reason, is counted (`numDeadLetters`) and the batch goes on.
 */
export function eachRecord<I>(
  context: OperatorContext,
  records: readonly StreamRecord<I>[],
  onError: OnError,
  out: Output<unknown>,
  step: (record: StreamRecord<I>) => void,
): void {
  let i = 0
  const n = records.length
  while (i < n) {
    try {
      for (; i < n; i++) step(records[i])
    } catch (cause) {
      const failed = records[i]
      if (onError === 'fail') {
        throw new OperatorError({
          operatorId: context.operatorId,
          epoch: context.epoch,
          record: failed.value,
          cause,
        })
      }
      const letter: DeadLetter = {
        operatorId: context.operatorId,
        epoch: context.epoch,
        error: messageOf(cause),
        value: failed.value,
      }
      out.emitTo(DEAD_LETTER, [
        { value: letter, timestamp: failed.timestamp, key: failed.key, window: failed.window },
      ])
      context.counters.add('numDeadLetters')
      i++
    }
  }
}
