import { gateChannels, type PhysicalPlan } from '../graph/physical-plan.js'

/**
 * Where instances run when a job is spread over threads: instance `i` of every node on thread
 * `i mod threads`. Chained and forward edges join instances of the same index, so a chain never crosses
 * a thread; only exchanges (hash, rebalance, broadcast) do. Thread 0 is the main thread, which also
 * hosts the coordinator; threads 1.. are `worker_threads`.
 */
export function threadOf(instance: number, threads: number): number {
  return instance % threads
}

/**
 * A number for every channel of every input gate, the same in every thread (it is computed from the
 * plan alone): cross-thread messages are tagged with it.
 */
export class ChannelTable {
  private readonly ids = new Map<string, number>()

  constructor(plan: PhysicalPlan) {
    for (const node of plan.nodes) {
      if (node.exchangeInputs.length === 0) continue
      for (let i = 0; i < node.parallelism; i++) {
        const channels = gateChannels(plan, node, i)
        for (let c = 0; c < channels.length; c++) this.ids.set(`${node.id}#${i}#${c}`, this.ids.size)
      }
    }
  }

  /** The id of channel `channel` of the gate of `nodeId`'s instance `instance`. */
  id(nodeId: string, instance: number, channel: number): number {
    return this.ids.get(`${nodeId}#${instance}#${channel}`)!
  }
}
