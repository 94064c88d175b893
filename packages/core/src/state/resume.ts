import type { OperatorSnapshot, Resume } from '../graph/operator.js'

/**
 * What a restored instance is built from: the key groups it owns now, out of the snapshots of every
 * instance of the run that took them (whatever that run's parallelism), and every old instance's union
 * state. The one rule a restore follows, in a job and in the test harness alike.
 *
 * @example
 * ```ts
 * resumeFrom(checkpoint.nodes.counts.instances, keyGroupRange(i, parallelism, 128), checkpoint.epoch)
 * ```
 */
export function resumeFrom(
  snapshots: readonly (OperatorSnapshot | undefined)[],
  owned: { readonly start: number; readonly end: number },
  epoch: number,
): Resume {
  const keyGroups = new Map<number, unknown>()
  const union: unknown[] = []
  for (const snapshot of snapshots) {
    if (!snapshot) continue
    if (snapshot.union !== undefined) union.push(snapshot.union)
    for (const [group, state] of snapshot.keyGroups ?? []) {
      if (group >= owned.start && group < owned.end) keyGroups.set(group, state)
    }
  }
  return { epoch, keyGroups, union }
}
