import { Subject } from 'rxjs'
import type { OperatorSnapshot, Resume } from '../graph/operator.js'
import { DEAD_LETTER } from '../graph/record-function.js'
import { gateChannels, type PhysicalNode, type PhysicalPlan } from '../graph/physical-plan.js'
import type { SourceReader } from '../io/source.js'
import { keyGroupRange } from '../keys/key-groups.js'
import type { BusyTime } from '../metrics/busy-time.js'
import type { BarrierMessage, Message } from '../messages/messages.js'
import type { Checkpoint } from '../state/checkpoint.js'
import { resumeFrom } from '../state/resume.js'
import type { Clock } from '../time/clock.js'
import type { Backpressure } from './backpressure.js'
import type { Emitter } from './emitter.js'
import { exchangeWriter } from './exchange.js'
import { InputGate } from './input-gate.js'
import { fanOut, OperatorInstance, type InstanceAddress } from './operator-instance.js'
import { ChannelTable, threadOf } from './placement.js'
import type { RemoteChannels } from './remote-channels.js'
import { SinkInstance } from './sink-instance.js'
import { SourceInstance, type SourceEpochInfo } from './source-instance.js'

/** What a thread restores from: the split positions, key-group state and watermark of the restored epoch. */
export interface Restored {
  /** Positions of every split of source `nodeId`, whichever instance read them. */
  positions(nodeId: string): ReadonlyMap<string, unknown>
  /** The state of `nodeId`'s instance that owns key groups `owned`. */
  resume(nodeId: string, instance: number, owned: { start: number; end: number }): Resume | undefined
  readonly watermark: number | undefined
}

/** What the instances of a thread report to whoever counts (the coordinator, or a worker's link to it). */
export interface ThreadHooks {
  acknowledge(
    address: InstanceAddress,
    barrier: BarrierMessage,
    snapshot: OperatorSnapshot | undefined,
    extra: { outputRows?: number; source?: SourceEpochInfo },
  ): void
  sourceFinished(source: SourceInstance): void
  sinkEnded(sink: SinkInstance): void
  fail(error: unknown): void
  /** Whether the job failed: channels drop what arrives after. */
  failed(): boolean
}

export interface ThreadOptions {
  readonly plan: PhysicalPlan
  /** This thread, of `threads` (see `threadOf`): only the instances placed here are built. */
  readonly thread: number
  readonly threads: number
  readonly clock: Clock
  readonly busyTime: BusyTime | undefined
  readonly backpressure: Backpressure
  readonly queryId: string | undefined
  readonly firstEpoch: number
  readonly availableNow: boolean
  readonly restored: Restored
  readonly hooks: ThreadHooks
  /** Channels to the other threads; required when `threads` > 1. */
  readonly remote?: RemoteChannels
  /** Called when a source of this thread emits a batch (a worker tells the main thread it is not quiet). */
  readonly onSourceData?: () => void
}

/**
 * The instances of one thread, wired: chains called synchronously, exchanges between instances of this
 * thread as RxJS subjects into the target's input gate, exchanges to or from another thread through
 * `RemoteChannels`. With one thread this is the whole job.
 */
export class ThreadInstances {
  readonly sources: SourceInstance[] = []
  readonly operators: OperatorInstance[] = []
  readonly sinks: SinkInstance[] = []
  readonly gates: InputGate[] = []
  private readonly channelIds: ChannelTable | undefined

  private constructor(private readonly options: ThreadOptions) {
    this.channelIds = options.threads > 1 ? new ChannelTable(options.plan) : undefined
  }

  static async build(options: ThreadOptions): Promise<ThreadInstances> {
    const thread = new ThreadInstances(options)
    const readers = await thread.createReaders()
    await thread.wire(readers)
    return thread
  }

  private here(instance: number): boolean {
    return threadOf(instance, this.options.threads) === this.options.thread
  }

  private async createReaders(): Promise<Map<string, SourceReader<unknown>[]>> {
    const { plan, clock, availableNow, restored } = this.options
    const readers = new Map<string, SourceReader<unknown>[]>()
    for (const node of plan.nodes) {
      if (node.spec.kind !== 'source') continue
      const spec = node.spec
      const list: SourceReader<unknown>[] = []
      for (let i = 0; i < node.parallelism; i++) {
        if (!this.here(i)) continue
        list[i] = await spec.source.createReader({
          sourceId: node.id,
          instance: i,
          parallelism: node.parallelism,
          clock,
          restored: restored.positions(node.id),
          availableNow,
        })
      }
      readers.set(node.id, list)
    }
    return readers
  }

  /** Creates instances from the sinks back to the sources, so each one's outputs exist when it is built. */
  private async wire(readers: Map<string, SourceReader<unknown>[]>): Promise<void> {
    const { plan, hooks, firstEpoch, clock, busyTime, backpressure, restored } = this.options
    const instances = new Map<string, Emitter[]>()
    const gateOf = new Map<string, { gate: InputGate; index: Map<string, number> }>()
    const listener = {
      onBarrier: (
        a: InstanceAddress,
        b: BarrierMessage,
        s: OperatorSnapshot | undefined,
        source?: SourceEpochInfo,
      ) => hooks.acknowledge(a, b, s, { source }),
    }
    for (const node of [...plan.nodes].reverse()) {
      const list: Emitter[] = []
      for (let i = 0; i < node.parallelism; i++) {
        if (!this.here(i)) continue
        const outputs = this.outputsOf(node, i, instances, gateOf)
        const range = keyGroupRange(i, node.parallelism, plan.maxParallelism)
        let instance: Emitter
        switch (node.spec.kind) {
          case 'source': {
            const source = new SourceInstance({
              spec: node.spec,
              instance: i,
              reader: readers.get(node.id)![i],
              downstream: this.watched(fanOut(outputs.get('main') ?? [])),
              deadLetters: outputs.has(DEAD_LETTER) ? fanOut(outputs.get(DEAD_LETTER)!) : undefined,
              hooks: { ...listener, onFinished: (s) => hooks.sourceFinished(s) },
              backpressure,
              clock,
              restored: restored.positions(node.id),
              firstEpoch,
              restoredWatermark: restored.watermark,
              busyTime,
            })
            this.sources.push(source)
            instance = { process: () => undefined }
            break
          }
          case 'transform': {
            const operator = new OperatorInstance(
              node.spec,
              {
                instance: i,
                parallelism: node.parallelism,
                maxParallelism: plan.maxParallelism,
                keyGroups: range,
                clock,
                firstEpoch,
                busyTime,
              },
              outputs,
              listener,
              restored.resume(node.id, i, range),
            )
            this.operators.push(operator)
            instance = operator
            break
          }
          case 'sink': {
            const writer = await node.spec.sink.createWriter({
              sinkId: node.id,
              instance: i,
              parallelism: node.parallelism,
              queryId: this.options.queryId,
              firstEpoch,
              ...(node.spec.columns === undefined ? {} : { columns: node.spec.columns }),
            })
            const sink = new SinkInstance(
              node.spec,
              i,
              writer,
              {
                onPrepared: (s, b, rows) => hooks.acknowledge(s, b, undefined, { outputRows: rows }),
                onEnd: (s) => hooks.sinkEnded(s),
                onError: (e) => hooks.fail(e),
              },
              backpressure,
              firstEpoch,
              { timed: busyTime !== undefined },
            )
            this.sinks.push(sink)
            instance = sink
            break
          }
        }
        if (node.exchangeInputs.length > 0) {
          const channels = gateChannels(plan, node, i)
          const gate = new InputGate(channels.length, instance)
          this.gates.push(gate)
          const index = new Map(
            channels.map((c, n) => [channelKey(node.exchangeInputs.indexOf(c.edge), c.upstreamInstance), n]),
          )
          gateOf.set(`${node.id}#${i}`, { gate, index })
          channels.forEach((c, n) => {
            if (!this.here(c.upstreamInstance))
              this.options.remote!.receiver(this.channelIds!.id(node.id, i, n), gate, n)
          })
        }
        list[i] = instance
      }
      instances.set(node.id, list)
    }
  }

  private outputsOf(
    node: PhysicalNode,
    i: number,
    instances: Map<string, Emitter[]>,
    gateOf: Map<string, { gate: InputGate; index: Map<string, number> }>,
  ): Map<string, Emitter[]> {
    const { plan } = this.options
    const outputs = new Map<string, Emitter[]>()
    for (const edge of node.outputs) {
      const target = plan.nodes.find((n) => n.id === edge.to)!
      let emitter: Emitter
      if (target.chainedInput === edge) {
        emitter = instances.get(target.id)![i]!
      } else {
        const targets = edge.partitioner.kind === 'forward' ? [i] : range(target.parallelism)
        const input = target.exchangeInputs.indexOf(edge)
        const channels = targets.map((j) => {
          if (!this.here(j)) {
            // The target's gate numbers its channels as gateChannels does: find this one's place there.
            const n = gateChannels(plan, target, j).findIndex(
              (c) => c.edge === edge && c.upstreamInstance === i,
            )
            return this.options.remote!.sender(
              threadOf(j, this.options.threads),
              this.channelIds!.id(target.id, j, n),
            )
          }
          const { gate, index } = gateOf.get(`${target.id}#${j}`)!
          return this.channel(gate, index.get(channelKey(input, i))!)
        })
        emitter = exchangeWriter(edge.partitioner, channels, plan.maxParallelism, {
          exclusive: plan.exclusiveEdges.has(edge),
        })
      }
      const list = outputs.get(edge.tag) ?? []
      list.push(emitter)
      outputs.set(edge.tag, list)
    }
    return outputs
  }

  private watched(downstream: Emitter): Emitter {
    const onData = this.options.onSourceData
    if (!onData) return downstream
    return {
      process: (message) => {
        if (message.kind === 'data') onData()
        downstream.process(message)
      },
    }
  }

  /** One channel of an exchange within this thread: an RxJS subject that the downstream gate subscribes to. */
  private channel(gate: InputGate, index: number): Emitter {
    const { hooks } = this.options
    const subject = new Subject<Message>()
    subject.subscribe((message) => {
      if (hooks.failed()) return
      try {
        gate.receive(index, message)
      } catch (error) {
        hooks.fail(error)
      }
    })
    return { process: (message) => subject.next(message) }
  }
}

/**
 * A gate channel by its input edge (its place among the target's exchange inputs, not its `from` and
 * tag: a stream unioned with itself reaches the target twice) and its upstream instance.
 */
function channelKey(input: number, upstream: number): string {
  return `${input}#${upstream}`
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

/** Restores from a checkpoint read on this thread (or from none). */
export function restoredFrom(checkpoint: Checkpoint | undefined, firstEpoch: number): Restored {
  return {
    watermark: checkpoint?.watermark,
    positions: (nodeId) => restoredPositions(checkpoint, nodeId),
    resume: (nodeId, _instance, owned) => resumeOf(checkpoint, nodeId, owned, firstEpoch),
  }
}

function restoredPositions(checkpoint: Checkpoint | undefined, nodeId: string): ReadonlyMap<string, unknown> {
  const positions = new Map<string, unknown>()
  for (const snapshot of checkpoint?.nodes[nodeId]?.instances ?? []) {
    const union = snapshot?.union
    if (union instanceof Map) for (const [split, position] of union) positions.set(split as string, position)
  }
  return positions
}

function resumeOf(
  checkpoint: Checkpoint | undefined,
  nodeId: string,
  owned: { start: number; end: number },
  firstEpoch: number,
): Resume | undefined {
  const node = checkpoint?.nodes[nodeId]
  return node ? resumeFrom(node.instances, owned, firstEpoch - 1) : undefined
}
