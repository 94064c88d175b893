import type { Checkpoint, StateBackend } from './checkpoint.js'
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js'

/**
 * A state backend in memory, for tests and for queries that need no recovery across processes. It
 * stores each epoch encoded with the real codec, so a restore goes through the same bytes LevelDB
 * would hold. Keeps the last `retain` epochs.
 */
export class MemoryStateBackend implements StateBackend {
  private readonly epochs: { epoch: number; bytes: Uint8Array }[] = []

  constructor(private readonly retain = 3) {}

  latest(): Promise<Checkpoint | undefined> {
    const newest = this.epochs.at(-1)
    return Promise.resolve(newest ? decodeSnapshot<Checkpoint>(newest.bytes) : undefined)
  }

  commit(checkpoint: Checkpoint): Promise<void> {
    // Encoding runs in the executor so that state the codec cannot hold (a BigInt past 64 bits) rejects
    // the commit, as from an async backend, instead of throwing.
    return new Promise((resolve) => {
      this.epochs.push({ epoch: checkpoint.epoch, bytes: encodeSnapshot(checkpoint) })
      while (this.epochs.length > this.retain) this.epochs.shift()
      resolve()
    })
  }

  /** Epoch numbers kept, oldest first. */
  get committedEpochs(): number[] {
    return this.epochs.map((e) => e.epoch)
  }

  /** Size in bytes of the newest epoch. */
  get latestSize(): number {
    return this.epochs.at(-1)?.bytes.byteLength ?? 0
  }

  async close(): Promise<void> {}
}
