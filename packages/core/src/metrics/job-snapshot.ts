import type { PhysicalPlan } from '../graph/physical-plan.js'
import type { OperatorInstance } from '../runtime/operator-instance.js'
import type { SinkInstance } from '../runtime/sink-instance.js'
import type { SourceInstance } from '../runtime/source-instance.js'
import type {
  EpochsMetrics,
  InstanceMetrics,
  JobMetrics,
  PhysicalGraphView,
  SplitMetrics,
} from './job-metrics.js'

/** What a job hands over to be snapshotted. */
export interface JobParts {
  readonly takenAt: number
  readonly state: JobMetrics['state']
  readonly plan: PhysicalPlan
  readonly sources: readonly SourceInstance[]
  readonly operators: readonly OperatorInstance[]
  readonly sinks: readonly SinkInstance[]
  readonly watermark: number
  readonly backpressured: boolean
  readonly timed: boolean
  /** Bytes of each node's last snapshot, per instance. */
  readonly stateBytes: ReadonlyMap<string, readonly number[]>
  readonly epochs: EpochsMetrics
}

/** Reads a job's instances into a `JobMetrics`, in the plan's node order, then by instance. */
export function snapshotJob(job: JobParts): JobMetrics {
  const order = new Map(job.plan.nodes.map((n, i) => [n.id, i]))
  const nodes = new Map(job.plan.nodes.map((n) => [n.id, n]))
  const operatorOf = (nodeId: string) => nodes.get(nodeId)!.spec.name
  const instances: InstanceMetrics[] = []
  /** The fields every kind of instance has; `counts` names the counters that are its in, out and batches. */
  const common = (
    i: { nodeId: string; instance: number; watermark: number; busyMs: number },
    kind: InstanceMetrics['kind'],
    counters: Record<string, number>,
    counts: readonly [recordsIn: string, recordsOut: string, batches: string],
  ) => ({
    nodeId: i.nodeId,
    operator: operatorOf(i.nodeId),
    kind,
    instance: i.instance,
    recordsIn: counters[counts[0]] ?? 0,
    recordsOut: counters[counts[1]] ?? 0,
    batches: counters[counts[2]] ?? 0,
    watermark: i.watermark,
    busyMs: i.busyMs,
    counters,
  })
  for (const s of job.sources) {
    const counters = s.counters.toJSON()
    instances.push({
      ...common(s, 'source', counters, ['recordsRead', 'recordsOut', 'batchesOut']),
      backpressuredMs: s.backpressuredMs,
    })
  }
  for (const o of job.operators) {
    const counters = o.counters.toJSON()
    const spec = nodes.get(o.nodeId)!.spec
    const stateful = spec.kind === 'transform' && spec.stateful
    instances.push({
      ...common(o, 'transform', counters, ['recordsIn', 'recordsOut', 'batchesIn']),
      ...(stateful
        ? {
            stateRows: counters.numRowsTotal ?? 0,
            // An operator that knows its own size says so; otherwise the size of its last snapshot.
            stateBytes: counters.stateBytes ?? job.stateBytes.get(o.nodeId)?.[o.instance] ?? 0,
          }
        : {}),
    })
  }
  for (const k of job.sinks) {
    const counters = k.counters.toJSON()
    instances.push({
      ...common(k, 'sink', counters, ['recordsIn', 'rowsWritten', 'batchesIn']),
      queueFill: k.queueFill,
    })
  }
  instances.sort((a, b) => order.get(a.nodeId)! - order.get(b.nodeId)! || a.instance - b.instance)

  const splits: SplitMetrics[] = []
  for (const s of job.sources) {
    for (const split of s.splitMetrics()) splits.push({ nodeId: s.nodeId, instance: s.instance, ...split })
  }
  splits.sort(
    (a, b) =>
      order.get(a.nodeId)! - order.get(b.nodeId)! ||
      a.instance - b.instance ||
      (a.split < b.split ? -1 : a.split > b.split ? 1 : 0),
  )

  return {
    takenAt: job.takenAt,
    state: job.state,
    // What reached every sink: idle source instances are left out there (the valve), not in the sources' minimum.
    watermark: job.sinks.length > 0 ? Math.min(...job.sinks.map((k) => k.watermark)) : job.watermark,
    backpressured: job.backpressured,
    timed: job.timed,
    instances,
    splits,
    epochs: job.epochs,
    graph: graphView(job.plan),
  }
}

/** The physical graph as plain data, for drawing. */
export function graphView(plan: PhysicalPlan): PhysicalGraphView {
  return {
    nodes: plan.nodes.map((n) => ({
      id: n.id,
      operator: n.spec.name,
      kind: n.spec.kind,
      parallelism: n.parallelism,
      stateful: n.spec.kind === 'transform' && n.spec.stateful,
    })),
    edges: plan.nodes.flatMap((n) =>
      n.outputs.map((e) => ({
        from: e.from,
        to: e.to,
        tag: e.tag,
        partitioner: e.partitioner.kind,
        chained: plan.nodes.find((t) => t.id === e.to)?.chainedInput === e,
      })),
    ),
  }
}

/**
 * A job's snapshot with the instances and splits of its worker threads added (each as its thread's
 * last commit reported it), in plan order; the sizes of their snapshots come from the coordinator
 * (`stateBytes`), and the watermark that reached every sink counts their sinks too.
 */
export function withThreads(
  local: JobMetrics,
  plan: PhysicalPlan,
  threads: readonly {
    readonly instances: readonly InstanceMetrics[]
    readonly splits: readonly SplitMetrics[]
  }[],
  stateBytes: ReadonlyMap<string, readonly number[]>,
): JobMetrics {
  if (threads.length === 0) return local
  const order = new Map(plan.nodes.map((n, i) => [n.id, i]))
  const byPlace = <T extends { nodeId: string; instance: number }>(a: T, b: T) =>
    order.get(a.nodeId)! - order.get(b.nodeId)! || a.instance - b.instance
  const remote = threads.flatMap((t) => t.instances)
  const instances = [
    ...local.instances,
    ...remote.map((i) =>
      i.stateBytes === 0 && i.counters.stateBytes === undefined
        ? { ...i, stateBytes: stateBytes.get(i.nodeId)?.[i.instance] ?? 0 }
        : i,
    ),
  ].sort(byPlace)
  const splits = [...local.splits, ...threads.flatMap((t) => t.splits)].sort(
    (a, b) => byPlace(a, b) || (a.split < b.split ? -1 : a.split > b.split ? 1 : 0),
  )
  const remoteSinks = remote.filter((i) => i.kind === 'sink')
  const watermark =
    remoteSinks.length === 0
      ? local.watermark
      : Math.min(local.watermark, ...remoteSinks.map((i) => i.watermark))
  return { ...local, instances, splits, watermark }
}
