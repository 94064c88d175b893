import { ConfigError } from '../errors.js'

/**
 * When epochs end. Each end of epoch is a barrier injected into every source.
 * - `processingTime`: every `intervalMs` (0: as soon as the previous epoch is done and new input came).
 * - `availableNow`: read what is there now, in epochs, then finish.
 * - `continuous`: a barrier as soon as the previous epoch is done, with no minimum pause.
 * - `manual`: only `job.triggerEpoch()` ends an epoch (tests, embedding apps that drive epochs).
 */
export type Trigger =
  | { readonly kind: 'processingTime'; readonly intervalMs: number }
  | { readonly kind: 'availableNow' }
  | { readonly kind: 'continuous' }
  | { readonly kind: 'manual' }

export function validateTrigger(trigger: Trigger): Trigger {
  if (
    trigger.kind === 'processingTime' &&
    !(Number.isFinite(trigger.intervalMs) && trigger.intervalMs >= 0)
  ) {
    throw new ConfigError(
      `trigger interval ${trigger.intervalMs} is not a duration: write e.g. { kind: 'processingTime', intervalMs: 1000 }`,
    )
  }
  return trigger
}
