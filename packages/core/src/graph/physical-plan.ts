import { ConfigError } from '../errors.js'
import type { NodeSpec } from './specs.js'
import { MAIN_OUTPUT, type GraphEdge, type StreamGraph } from './stream-graph.js'

/**
 * The logical graph expanded for execution: each node becomes `parallelism` instances; each edge is
 * either *chained* (forward, equal parallelism, the target's only input: instance i calls instance i
 * synchronously, as Flink chains operators) or an *exchange* (channels from upstream instances into
 * the target instance's input gate, routed by the edge's partitioner).
 */
export interface PhysicalPlan {
  readonly maxParallelism: number
  /** In topological order: every node after the nodes it reads. */
  readonly nodes: readonly PhysicalNode[]
  /**
   * Edges whose records nobody else holds: they leave a node that makes fresh records (a source, or an
   * operator defined with `freshRecords`) by its only output. A hash exchange on such an edge sets each
   * record's key in place instead of copying it (on the hot path of every `keyBy`).
   */
  readonly exclusiveEdges: ReadonlySet<GraphEdge>
}

export interface PhysicalNode {
  readonly id: string
  readonly spec: NodeSpec
  readonly parallelism: number
  /** The edge this node is chained to, if any: then it has no input gate. */
  readonly chainedInput: GraphEdge | undefined
  /** Edges that reach this node through an exchange, in order: they make up its gate's channels. */
  readonly exchangeInputs: readonly GraphEdge[]
  readonly outputs: readonly GraphEdge[]
}

/** One channel of an instance's input gate: which edge, and which upstream instance writes it. */
export interface GateChannel {
  readonly edge: GraphEdge
  readonly upstreamInstance: number
}

export function isChained(
  edge: GraphEdge,
  graph: { node(id: string): { parallelism: number } },
  inputCount: number,
) {
  return (
    edge.partitioner.kind === 'forward' &&
    inputCount === 1 &&
    graph.node(edge.from).parallelism === graph.node(edge.to).parallelism
  )
}

export function buildPhysicalPlan(graph: StreamGraph): PhysicalPlan {
  const nodes = graph.nodes
  if (!nodes.some((n) => n.spec.kind === 'source'))
    throw new ConfigError('the graph has no source: start it with graph.from(source)')
  const nodesOut: PhysicalNode[] = []
  for (const node of nodes) {
    const inputs = graph.edges.filter((e) => e.to === node.id)
    const outputs = graph.edges.filter((e) => e.from === node.id)
    if (node.spec.kind !== 'sink' && !outputs.some((e) => e.tag === MAIN_OUTPUT)) {
      throw new ConfigError(
        `'${node.id}' has no downstream: end the stream with a sink, e.g. .to(defineSink(...))`,
      )
    }
    for (const edge of inputs) {
      const from = graph.node(edge.from)
      if (edge.partitioner.kind === 'forward' && from.parallelism !== node.parallelism) {
        throw new ConfigError(
          `'${edge.from}' (parallelism ${from.parallelism}) feeds '${node.id}' (parallelism ${node.parallelism}) ` +
            `one to one: call rebalance() or keyBy() between them, or give them the same parallelism`,
        )
      }
    }
    const chained = inputs.length === 1 && isChained(inputs[0], graph, 1) ? inputs[0] : undefined
    nodesOut.push({
      id: node.id,
      spec: node.spec,
      parallelism: node.parallelism,
      chainedInput: chained,
      exchangeInputs: chained ? [] : inputs,
      outputs,
    })
  }
  const exclusiveEdges = new Set<GraphEdge>()
  for (const node of nodesOut) {
    const fresh = node.spec.kind === 'source' || (node.spec.kind === 'transform' && node.spec.freshRecords)
    if (fresh && node.outputs.length === 1) exclusiveEdges.add(node.outputs[0])
  }
  return { maxParallelism: graph.maxParallelism, nodes: nodesOut, exclusiveEdges }
}

/** The channels of instance `instance`'s input gate, in the order the gate numbers them. */
export function gateChannels(plan: PhysicalPlan, node: PhysicalNode, instance: number): GateChannel[] {
  const channels: GateChannel[] = []
  for (const edge of node.exchangeInputs) {
    if (edge.partitioner.kind === 'forward') {
      channels.push({ edge, upstreamInstance: instance })
    } else {
      const upstream = plan.nodes.find((n) => n.id === edge.from)!
      for (let u = 0; u < upstream.parallelism; u++) channels.push({ edge, upstreamInstance: u })
    }
  }
  return channels
}

/** A one-line-per-node description, e.g. `count [3] <=hash= words [2]`, for logs and docs. */
export function describePlan(plan: PhysicalPlan): string {
  return plan.nodes
    .map((n) => {
      const inputs = n.chainedInput
        ? [`<-chained- ${n.chainedInput.from}`]
        : n.exchangeInputs.map(
            (e) => `<=${e.partitioner.kind}${e.tag === MAIN_OUTPUT ? '' : `(${e.tag})`}= ${e.from}`,
          )
      return `${n.id} (${n.spec.kind === 'transform' ? n.spec.name : n.spec.kind}) [${n.parallelism}]${inputs.length ? ' ' + inputs.join(', ') : ''}`
    })
    .join('\n')
}
