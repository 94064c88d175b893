import type { PhysicalPlan } from '../graph/physical-plan.js'
import type { BusyTime } from '../metrics/busy-time.js'
import { snapshotJob } from '../metrics/job-snapshot.js'
import type { Clock } from '../time/clock.js'
import { Backpressure } from './backpressure.js'
import { RemoteChannels } from './remote-channels.js'
import { ThreadInstances } from './thread-instances.js'
import {
  controlPort,
  encodeAck,
  errorForParent,
  restoredFromBytes,
  type FromWorker,
  type ThreadMetrics,
  type ToWorker,
  type WorkerInit,
} from './worker-threads.js'

/**
 * A worker thread's share of a job: builds the instances placed on this thread, runs its sources, and
 * does what the main thread's coordinator says (inject a barrier, commit the sinks, stop, end, close,
 * fail), reporting barrier acks, sink prepares, finished sources and ended sinks back. `done` settles
 * when the main thread closes the job, or rejects when it fails.
 */
export async function joinParentJob(options: {
  readonly plan: PhysicalPlan
  readonly init: WorkerInit
  readonly clock: Clock
  readonly busyTime: BusyTime | undefined
}): Promise<{
  readonly instances: ThreadInstances
  readonly done: Promise<void>
  readonly failed: () => boolean
}> {
  const { plan, init, clock, busyTime } = options
  const port = controlPort()
  const post = (message: FromWorker) => port.postMessage(message)
  const backpressure = new Backpressure()
  let failed = false
  let settle!: { resolve: () => void; reject: (error: unknown) => void }
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
  done.catch(() => undefined)
  let busySent = false
  const ports = new Map(Object.entries(init.ports).map(([thread, p]) => [Number(thread), p]))
  const remote = new RemoteChannels(ports, backpressure, (error) => fail(error, true))
  const instances = await ThreadInstances.build({
    plan,
    thread: init.thread,
    threads: init.threads,
    clock,
    busyTime,
    backpressure,
    queryId: init.queryId,
    firstEpoch: init.firstEpoch,
    availableNow: init.availableNow,
    restored: restoredFromBytes(init.restore),
    remote,
    onSourceData: () => {
      if (busySent) return
      busySent = true
      post({ t: 'busy' })
    },
    hooks: {
      acknowledge: (address, barrier, snapshot, extra) => {
        if (!failed) post(encodeAck(address, barrier, snapshot, extra))
      },
      sourceFinished: () => post({ t: 'source-finished' }),
      sinkEnded: () => post({ t: 'sink-ended' }),
      fail: (error) => fail(error, true),
      failed: () => failed,
    },
  })
  const release = () => {
    remote.close()
    port.off('message', onMessage)
    port.unref()
  }
  function fail(error: unknown, report: boolean): void {
    if (failed) return
    failed = true
    for (const source of instances.sources) source.abort()
    backpressure.releaseAll()
    if (report) post({ t: 'failed', error: errorForParent(error) })
    void Promise.all([
      ...instances.sources.map((s) => s.close().catch(() => undefined)),
      ...instances.sinks.map((s) => s.abort()),
    ]).then(() => {
      release()
      settle.reject(error)
    })
  }
  /** This thread's instances and splits, for the main thread's metrics (sent with each commit). */
  const threadMetrics = (): ThreadMetrics => {
    const { instances: all, splits } = snapshotJob({
      takenAt: clock.now(),
      state: 'running',
      plan,
      sources: instances.sources,
      operators: instances.operators,
      sinks: instances.sinks,
      watermark: -Infinity,
      backpressured: backpressure.pressured,
      timed: busyTime !== undefined,
      // Snapshot sizes are the coordinator's, on the main thread: it fills them in.
      stateBytes: new Map(),
      epochs: { current: 0, completed: 0, inFlight: 0, recent: [] },
    })
    return { instances: all, splits }
  }
  const loops = instances.sources.map((source) => source.run().catch((error: unknown) => fail(error, true)))
  const onMessage = (message: ToWorker) => {
    if (failed) return
    void handle(message).catch((error: unknown) => fail(error, true))
  }
  async function handle(message: ToWorker): Promise<void> {
    switch (message.t) {
      case 'inject':
        busySent = false
        for (const source of instances.sources) source.injectBarrier(message.barrier)
        return
      case 'commit':
        await Promise.all(instances.sinks.map((sink) => sink.commit(message.epoch)))
        post({ t: 'committed', metrics: threadMetrics() })
        return
      case 'epoch-committed':
        for (const { nodeId, instance, positions } of message.sources) {
          instances.sources
            .find((s) => s.nodeId === nodeId && s.instance === instance)
            ?.epochCommitted(message.epoch, positions)
        }
        return
      case 'caught-up':
        await Promise.all(instances.sources.map((s) => s.caughtUp()))
        post({ t: 'caught-up', throttled: instances.sources.some((s) => s.throttled) })
        return
      case 'stop':
        for (const source of instances.sources) source.stop()
        backpressure.releaseAll()
        await Promise.all(loops)
        post({ t: 'stopped' })
        return
      case 'end':
        for (const source of instances.sources) source.end()
        return
      case 'close':
        await Promise.all(instances.sinks.map((sink) => sink.close()))
        await Promise.all(instances.sources.map((s) => s.close().catch(() => undefined)))
        post({ t: 'closed' })
        release()
        settle.resolve()
        return
      case 'fail':
        fail(new Error('the job failed in another thread'), false)
        return
    }
  }
  port.on('message', onMessage)
  remote.start()
  post({ t: 'ready' })
  return { instances, done, failed: () => failed }
}
