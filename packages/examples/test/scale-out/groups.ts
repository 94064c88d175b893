import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { kcatAvailable, startKafkaMockCluster, type KafkaMockCluster } from '@weir/connectors'
import test from 'ava'

/**
 * A mock cluster and a scratch directory (`prepare` puts what the tests read there) for the serial
 * tests of one file (skipped without kcat): started before them, stopped and removed after.
 */
export function useScaleOutCluster(
  prefix: string,
  prepare: (dir: string) => Promise<void> = () => Promise.resolve(),
): {
  readonly serial: typeof test.serial | typeof test.serial.skip
  readonly cluster: () => KafkaMockCluster
  readonly dir: () => string
} {
  let cluster: KafkaMockCluster | undefined
  let dir = ''
  if (kcatAvailable()) {
    test.before(async () => {
      cluster = await startKafkaMockCluster()
      dir = await mkdtemp(join(tmpdir(), prefix))
      await prepare(dir)
    })
    test.after.always(async () => {
      await cluster?.stop()
      if (dir) await rm(dir, { recursive: true, force: true })
    })
  }
  return {
    serial: kcatAvailable() ? test.serial : test.serial.skip,
    cluster: () => cluster!,
    dir: () => dir,
  }
}

/**
 * How many partitions the last of `lines` that names them gives (`joined group … with partitions t-1,
 * t-3`, or `runs partitions 1, 3 of …`, as `pattern` captures the list).
 */
export function lastOwned(lines: readonly string[], pattern: RegExp): number {
  const list = lines
    .map((l) => pattern.exec(l)?.[1])
    .filter((m) => m !== undefined)
    .at(-1)
  return list === undefined ? 0 : list.split(', ').length
}
