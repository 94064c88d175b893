import type { InstanceMetrics, SplitMetrics } from '../metrics/job-metrics.js'
import {
  isMainThread,
  MessageChannel,
  parentPort,
  Worker,
  workerData,
  type MessagePort,
} from 'node:worker_threads'
import { WeirError } from '../errors.js'
import type { OperatorSnapshot, Resume } from '../graph/operator.js'
import type { PhysicalPlan } from '../graph/physical-plan.js'
import { keyGroupRange } from '../keys/key-groups.js'
import type { BarrierMessage } from '../messages/messages.js'
import { decodeSnapshot, encodeSnapshot } from '../state/snapshot-codec.js'
import { threadOf } from './placement.js'
import type { SourcePositions, SourceEpochInfo } from './source-instance.js'
import type { Restored } from './thread-instances.js'

/** What a worker thread is given when it starts: which job it joins, as which thread, and what it restores. */
export interface WorkerInit {
  /** The ordinal of the job in the parent (the n-th `Job.start` of the process); the n-th in the worker joins it. */
  readonly job: number
  readonly thread: number
  readonly threads: number
  readonly firstEpoch: number
  readonly availableNow: boolean
  readonly queryId: string | undefined
  /** The restored epoch's positions, key-group state and watermark this thread needs, snapshot-encoded. */
  readonly restore: Uint8Array
  /** The data port to each other thread, by thread number. */
  readonly ports: Readonly<Record<number, MessagePort>>
}

/** Control messages from the main thread (the coordinator) to a worker. */
export type ToWorker =
  | { readonly t: 'inject'; readonly barrier: BarrierMessage }
  | { readonly t: 'commit'; readonly epoch: number }
  | {
      readonly t: 'epoch-committed'
      readonly epoch: number
      readonly sources: readonly { nodeId: string; instance: number; positions: SourcePositions }[]
    }
  | { readonly t: 'caught-up' }
  | { readonly t: 'stop' }
  | { readonly t: 'end' }
  | { readonly t: 'close' }
  | { readonly t: 'fail' }

/** Reports from a worker to the main thread. */
/** What a worker thread's instances report, for the main thread's `Job.counters()` and `metrics()`. */
export interface ThreadMetrics {
  readonly instances: readonly InstanceMetrics[]
  readonly splits: readonly SplitMetrics[]
}

export type FromWorker =
  | { readonly t: 'ready' }
  | {
      readonly t: 'ack'
      readonly nodeId: string
      readonly instance: number
      readonly barrier: BarrierMessage
      readonly snapshot: Uint8Array | undefined
      readonly outputRows?: number
      readonly source?: SourceEpochInfo
    }
  | { readonly t: 'busy' }
  | { readonly t: 'source-finished' }
  | { readonly t: 'sink-ended' }
  /** The sinks committed the epoch; `metrics`: the thread's instances and splits as they stand then. */
  | { readonly t: 'committed'; readonly metrics?: ThreadMetrics }
  /** Every source of the worker caught up; `throttled`: one of them holds data back until a commit. */
  | { readonly t: 'caught-up'; readonly throttled: boolean }
  | { readonly t: 'stopped' }
  | { readonly t: 'closed' }
  | {
      readonly t: 'failed'
      readonly error: { readonly code: string; readonly message: string; readonly stack?: string }
    }

/**
 * Whether this code runs in a worker thread that weir started to run part of a job. The program runs
 * again from its entry in each worker (as Node's `cluster` does), so a program skips here what must
 * happen once: printing an intro, opening a server.
 *
 * @example
 * ```ts
 * if (!isWeirWorker()) console.log('counting words on', workers, 'threads')
 * const query = await words.writeStream({ sink: consoleSink(), workers }).start()
 * ```
 */
export function isWeirWorker(): boolean {
  return weirWorkerInit() !== undefined
}

/** @internal The init of this worker thread, or undefined in the main thread or a thread weir did not start. */
export function weirWorkerInit(): WorkerInit | undefined {
  if (isMainThread) return undefined
  return (workerData as { weir?: WorkerInit } | undefined)?.weir
}

/** @internal The control port of a worker thread to the main thread. */
export function controlPort(): MessagePort {
  return parentPort!
}

/** The part of a restore that thread `thread` needs, encoded for the trip. */
export function restoreFor(
  plan: PhysicalPlan,
  restored: Restored,
  thread: number,
  threads: number,
): Uint8Array {
  const positions: [string, ReadonlyMap<string, unknown>][] = []
  const resumes: [string, Resume | undefined][] = []
  for (const node of plan.nodes) {
    if (node.spec.kind === 'source') positions.push([node.id, restored.positions(node.id)])
    if (node.spec.kind !== 'transform') continue
    for (let i = 0; i < node.parallelism; i++) {
      if (threadOf(i, threads) !== thread) continue
      resumes.push([
        `${node.id}#${i}`,
        restored.resume(node.id, i, keyGroupRange(i, node.parallelism, plan.maxParallelism)),
      ])
    }
  }
  return encodeSnapshot({ watermark: restored.watermark, positions, resumes })
}

/** A worker's view of what the main thread sent it with `restoreFor`. */
export function restoredFromBytes(bytes: Uint8Array): Restored {
  const decoded = decodeSnapshot<{
    watermark: number | undefined
    positions: [string, ReadonlyMap<string, unknown>][]
    resumes: [string, Resume | undefined][]
  }>(bytes)
  const positions = new Map(decoded.positions)
  const resumes = new Map(decoded.resumes)
  return {
    watermark: decoded.watermark ?? undefined,
    positions: (nodeId) => positions.get(nodeId) ?? new Map(),
    resume: (nodeId, instance) => resumes.get(`${nodeId}#${instance}`) ?? undefined,
  }
}

export function encodeAck(
  address: { nodeId: string; instance: number },
  barrier: BarrierMessage,
  snapshot: OperatorSnapshot | undefined,
  extra: { outputRows?: number; source?: SourceEpochInfo },
): FromWorker {
  return {
    t: 'ack',
    nodeId: address.nodeId,
    instance: address.instance,
    barrier,
    snapshot: snapshot === undefined ? undefined : encodeSnapshot(snapshot),
    ...(extra.outputRows === undefined ? {} : { outputRows: extra.outputRows }),
    ...(extra.source === undefined ? {} : { source: extra.source }),
  }
}

export function decodeAckSnapshot(bytes: Uint8Array | undefined): OperatorSnapshot | undefined {
  return bytes === undefined ? undefined : decodeSnapshot<OperatorSnapshot>(bytes)
}

export function errorForParent(error: unknown): { code: string; message: string; stack?: string } {
  if (error instanceof WeirError) return { code: error.code, message: error.message, stack: error.stack }
  if (error instanceof Error) return { code: 'worker-failed', message: error.message, stack: error.stack }
  return { code: 'worker-failed', message: String(error) }
}

/** How long the main thread waits for a worker to reach `start()` of the job it joins. */
const READY_TIMEOUT_MS = 60_000

export interface WorkerPoolOptions {
  /** The program's entry module: each worker runs it again. */
  readonly entry: string | URL
  readonly argv: readonly string[]
  readonly threads: number
  readonly init: (
    thread: number,
    ports: Record<number, MessagePort>,
  ) => Omit<WorkerInit, 'ports' | 'thread' | 'threads'>
  readonly onMessage: (thread: number, message: FromWorker) => void
  readonly onError: (error: unknown) => void
}

/**
 * The main thread's side of the workers of one job: starts them, relays control messages, and waits
 * for their replies. Thread 0 is the main thread; workers are threads 1 .. threads-1. Returns the main
 * thread's data ports.
 */
export class WorkerPool {
  readonly mainPorts: Map<number, MessagePort> = new Map()
  private readonly workers = new Map<number, Worker>()
  private readonly replies = new Map<string, ((message?: FromWorker) => void)[]>()
  private readonly ready: Promise<void>
  private closing = false
  private failed = false

  constructor(private readonly options: WorkerPoolOptions) {
    const { threads } = options
    const portsOf: Record<number, MessagePort>[] = Array.from({ length: threads }, () => ({}))
    for (let a = 0; a < threads; a++) {
      for (let b = a + 1; b < threads; b++) {
        const { port1, port2 } = new MessageChannel()
        portsOf[a][b] = port1
        portsOf[b][a] = port2
      }
    }
    for (const [peer, port] of Object.entries(portsOf[0])) this.mainPorts.set(Number(peer), port)
    const readies: Promise<void>[] = []
    for (let thread = 1; thread < threads; thread++) {
      const ports = portsOf[thread]
      const init: WorkerInit = { ...options.init(thread, ports), thread, threads, ports }
      const worker = new Worker(options.entry, {
        argv: [...options.argv],
        workerData: { weir: init },
        transferList: Object.values(ports),
        execArgv: process.execArgv,
      })
      this.workers.set(thread, worker)
      readies.push(this.expect(thread, 'ready').then(() => undefined))
      worker.on('message', (message: FromWorker) => {
        const waiting = this.replies.get(`${thread}:${message.t}`)
        if (waiting && waiting.length > 0) waiting.shift()!(message)
        else options.onMessage(thread, message)
      })
      worker.on('error', (error) =>
        options.onError(
          new WeirError('worker-failed', `worker thread ${thread} failed: ${error.message}`, {
            cause: error,
          }),
        ),
      )
      worker.on('exit', (code) => {
        if (!this.closing) {
          options.onError(
            new WeirError(
              'worker-exited',
              `worker thread ${thread} exited (code ${code}) before the job ended: the program must reach the same ` +
                `start() in a worker as in the main thread (skip only side effects there, with isWeirWorker())`,
            ),
          )
        }
      })
    }
    let timer: NodeJS.Timeout | undefined
    this.ready = Promise.race([
      Promise.all(readies).then(() => undefined),
      new Promise<void>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new WeirError(
                'worker-timeout',
                `the worker threads did not join the job within ${READY_TIMEOUT_MS / 1000} s: each runs the entry module ` +
                  `${String(options.entry)} again and must start the same queries in the same order`,
              ),
            ),
          READY_TIMEOUT_MS,
        )
      }),
    ]).finally(() => clearTimeout(timer))
  }

  /** Resolves when every worker has built its instances. */
  whenReady(): Promise<void> {
    return this.ready
  }

  post(message: ToWorker): void {
    for (const worker of this.workers.values()) worker.postMessage(message)
  }

  /**
   * Posts `message` to every worker and resolves with each one's reply `reply` (undefined for a worker
   * that could not reply because the job failed).
   */
  async request(message: ToWorker, reply: FromWorker['t']): Promise<(FromWorker | undefined)[]> {
    if (this.failed) return []
    const replies = [...this.workers.keys()].map((thread) => this.expect(thread, reply))
    this.post(message)
    return Promise.all(replies)
  }

  /** Closes the workers' instances; the workers then end when their program does. */
  async close(): Promise<void> {
    this.closing = true
    await this.request({ t: 'close' }, 'closed')
    for (const port of this.mainPorts.values()) port.close()
    for (const worker of this.workers.values()) worker.unref()
  }

  /** The job failed: the workers abort, and are terminated shortly after. */
  fail(): void {
    if (this.failed) return
    this.failed = true
    this.closing = true
    this.post({ t: 'fail' })
    for (const port of this.mainPorts.values()) port.close()
    for (const worker of this.workers.values()) {
      setTimeout(() => void worker.terminate(), 1000).unref()
      worker.unref()
    }
    for (const waiting of this.replies.values()) for (const wake of waiting.splice(0)) wake()
  }

  private expect(thread: number, reply: FromWorker['t']): Promise<FromWorker | undefined> {
    return new Promise((resolve) => {
      const key = `${thread}:${reply}`
      const list = this.replies.get(key) ?? []
      list.push(resolve)
      this.replies.set(key, list)
    })
  }
}
